"""Where a command's report goes: stdout in one ``--format``, ``--report PATH`` files (format from
the extension), and the GitHub job summary (``GITHUB_STEP_SUMMARY``) for plan and drift.

A command builds a :class:`Report` (how to render itself as text, JSON and markdown, each made only
when asked for) and calls :meth:`Output.emit`; on failure ``_common._fail`` calls
:meth:`Output.fail`, so the JSON run and the report files say what went wrong too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import typer

from ..errors import ProvisionError
from ._group import JSON_META, BadParameter, UsageError, get_current_context

if TYPE_CHECKING:
    from ..context import Context
    from ..model import Plan
    from ..render.meta import ReportMeta

FORMATS = ("text", "json", "markdown")
OUTPUT_META = "provision.output"
EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}


def report_format(path: Path) -> str:
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise BadParameter(f"{str(path)!r}: the format comes from the extension: one of "
                                 + ", ".join(EXTENSIONS), param_hint="'--report'")
    return fmt


@dataclass
class Report:
    """One result, renderable three ways; ``json`` returns the data (with its header)."""

    text: Callable[[bool], str]  # color -> text
    json: Callable[[], Any]
    markdown: Callable[[], str]
    _made: dict[str, str] = field(default_factory=dict)

    def render(self, fmt: str, color: bool = False) -> str:
        key = f"{fmt}:{color}"
        if key not in self._made:
            if fmt == "json":
                from ..render import to_json

                self._made[key] = to_json(self.json())
            else:
                self._made[key] = self.markdown() if fmt == "markdown" else self.text(color)
        return self._made[key]


@dataclass
class Output:
    fmt: str = "text"
    reports: list[Path] = field(default_factory=list)
    summary: bool = False  # append markdown to GITHUB_STEP_SUMMARY (plan, drift)
    command: str = ""
    sensitive: bool = False  # --show-sensitive: e-mail addresses not masked

    def clean(self, text: str, color: bool = False) -> str:
        """What any report says, wherever it goes: control characters escaped, e-mails masked."""
        from ..safe_text import for_terminal, mask_emails

        text = for_terminal(text, color)
        return text if self.sensitive else mask_emails(text)

    def emit(self, report: Report) -> None:
        from ..logs import color_enabled

        for path in self.reports:  # first: a file that cannot be written fails the run before stdout says anything
            _write(path, self.clean(report.render(report_format(path))) + "\n")
        color = self.fmt == "text" and color_enabled()
        typer.echo(self.clean(report.render(self.fmt, color=color), color), color=color or None)
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if self.summary and step_summary:
            _append(Path(step_summary), self.clean(report.render("markdown")) + "\n")

    def fail(self, e: BaseException) -> None:
        """Tell the JSON run (stdout), the report files and the job summary that the command failed."""
        from ..render import error_json, to_json

        data = to_json(error_json(e))
        if self.fmt == "json":
            typer.echo(data)
        md = f"## provision {self.command}: failed\n\n```\n{e}\n```\n"
        for path in self.reports:
            fmt = EXTENSIONS.get(path.suffix.lower(), "text")
            try:
                _write(path, data + "\n" if fmt == "json" else md if fmt == "markdown" else f"Error: {e}\n")
            except ProvisionError as why:  # the failure may be this very file: said once, on stderr
                if why is not e and str(why) != str(e):
                    typer.echo(f"Error: {why}", err=True)
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if self.summary and step_summary:
            _append(Path(step_summary), md)


def output(command: str, json_out: bool = False, fmt: str | None = None, reports: list[Path] | None = None, *,
           summary: bool = False, sensitive: bool = False) -> Output:
    """This run's output, checked (a bad combination is a usage error: exit 1) and remembered."""
    if json_out and fmt not in (None, "json"):
        raise UsageError(f"--json is short for --format json: it cannot go with --format {fmt}")
    out = Output("json" if json_out else (fmt or "text"), list(reports or []), summary, command, sensitive)
    for path in out.reports:
        report_format(path)
    ctx = get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[JSON_META] = out.fmt == "json"
        ctx.meta[OUTPUT_META] = out
    return out


def current() -> Output | None:
    ctx = get_current_context(silent=True)
    return ctx.meta.get(OUTPUT_META) if ctx is not None else None


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ProvisionError(f"--report {path}: {e.strerror or e}") from None


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError as e:  # the summary is a courtesy: never fail the command for it
        typer.echo(f"Warning: could not append to GITHUB_STEP_SUMMARY ({path}): {e.strerror or e}", err=True)


# --- the reports --------------------------------------------------------------------------------------


def plan_report(p: Plan, meta: Callable[[], ReportMeta], verbose: bool = False, stack: str = "") -> Report:
    from .. import render

    def markdown() -> str:
        from ..render.markdown import plan_markdown

        return plan_markdown(p, meta())

    return Report(text=lambda color: render.plan_text(p, verbose=verbose, color=color, stack=stack),
                  json=lambda: render.plan_json(p, meta()), markdown=markdown)


def drift_report(p: Plan, ignored: list[str], meta: Callable[[], ReportMeta]) -> Report:
    from .. import render

    def markdown() -> str:
        from ..render.markdown import drift_markdown

        return drift_markdown(p, ignored, meta())

    return Report(text=lambda color: render.drift_text(p, ignored, color=color),
                  json=lambda: render.drift_json(p, ignored, meta()), markdown=markdown)


# --- what a report says about its run ----------------------------------------------------------------


def lazy_meta(ctx: Context | None, **kw: Any) -> Callable[[], ReportMeta]:
    """:func:`meta_for`, computed at the first report that needs it (text needs none: no STS call)."""
    made: list[ReportMeta] = []

    def get() -> ReportMeta:
        if not made:
            made.append(meta_for(ctx, **kw))
        return made[0]

    return get



def meta_for(ctx: Context | None, *, source: str | None = None, desired_hash: str | None = None,
             saved: dict[str, Any] | None = None) -> ReportMeta:
    """Stack, account, region, time, desired file and hash, commit. The account is the pinned
    ``stack.account_id`` (checked against the credentials) or else asked of STS once."""
    from datetime import datetime, timezone

    from ..render.meta import ReportMeta

    now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    if saved is not None:  # a saved plan: what its header says about the run that made it
        return ReportMeta(stack=saved.get("stack"), account=saved.get("account"), region=saved.get("region"),
                          generated_at=saved.get("generated_at") or now, source=source, desired_hash=desired_hash,
                          commit=saved.get("commit"))
    account = region = stack = None
    if ctx is not None:
        stack = ctx.desired.stack.name
        source = source or ctx.desired.source
        account = ctx.desired.stack.account_id
        region = ctx.desired.stack.region
        if ctx.aws is not None:
            region = ctx.aws.region
            if account is None:
                try:
                    account = ctx.aws.account_id()
                except Exception:  # noqa: BLE001 - the header says "unknown" rather than fail the report
                    account = None
    return ReportMeta(stack=stack, account=account, region=region, generated_at=now, source=source,
                      desired_hash=desired_hash, commit=commit_of(source))


def commit_of(source: str | None) -> str | None:
    """The commit the desired state comes from: ``GITHUB_SHA`` in Actions, else git's HEAD, else None."""
    sha = os.environ.get("GITHUB_SHA")
    if sha:
        return sha
    if not source:
        return None
    import subprocess

    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(source).resolve().parent, capture_output=True,
                           text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    out = r.stdout.strip()
    return out if r.returncode == 0 and len(out) >= 40 else None
