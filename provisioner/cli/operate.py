"""The operator's verbs around a stack: unlock, history, outputs, show, preflight, policy, version."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import EXIT_CHANGES, EXIT_ERROR, ProvisionError
from ._common import (
    FileOpt,
    Format,
    FormatOpt,
    JsonOpt,
    LogFormat,
    LogOpt,
    ProfileOpt,
    RegionOpt,
    ReportOpt,
    _check_account,
    _echo,
    _fail,
    _load,
    _run_plan,
    _session,
    _setup,
    app,
)


@app.command()
def unlock(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    force: bool = typer.Option(False, "--force", help="Really break the lock (without it: only show the holder)."),
    log_format: LogFormat = LogOpt,
) -> None:
    """Break the stack's apply lock left by a run that died (SIGKILL, lost machine).

    Without --force: show who holds it (exit 1 if held). Make sure the holder is really gone first.
    """
    from .. import lock

    try:
        _setup(log_format)
        desired = _load(file)
        ctx, _resources, _unmanaged = _session(desired, profile, region)
        _check_account(ctx)
        client, name = lock.client_for(ctx.aws, desired), lock.name_for(desired.stack.name)
        cur = lock.Lock(client, name, "unlock").current()
        if cur is None:
            _echo(f"{name}: not locked.")
            return
        info = cur[1]
        who = f"{info.get('holder', '?')} ({info.get('command', '?')}) since {info.get('since', '?')}"
        if not force:
            raise ProvisionError(f"{name} is held by {who}; pass --force to break it")
        lock.break_lock(client, name)
    except ProvisionError as e:
        raise _fail(e) from None
    _echo(f"{name}: lock broken (it was held by {who}).")


@app.command()
def history(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, log_format: str = LogOpt,
    limit: int = typer.Option(20, "-n", "--limit", min=1, help="How many of the last applies to list."),
) -> None:
    """The last applies of the stack, newest first: when, who, commit, what changed. Read-only.

    From the apply record's version history (SSM /provision/<stack>/last-apply, 100 versions kept).
    """
    from .. import applied, render
    from .. import history as hist

    try:
        _setup(log_format)
        desired = _load(file)
        ctx, _resources, _unmanaged = _session(desired, profile, region)
        _check_account(ctx)
        items = hist.rows(applied.history(ctx.aws, desired), limit)
    except ProvisionError as e:
        raise _fail(e) from None
    _echo(render.to_json({"format_version": 1, "stack": desired.stack.name, "applies": items}) if json_out
          else hist.text(items))


@app.command()
def outputs(
    name: Optional[str] = typer.Argument(None, metavar="[NAME]", help="Print only this output's value (for scripts)."),
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, fmt: Optional[Format] = FormatOpt, reports: Optional[list[Path]] = ReportOpt,
    log_format: LogFormat = LogOpt,
) -> None:
    """The desired state's [outputs], read from live AWS. Read-only.

    Exit 0: every output has a value; 2: some resource is not created yet (null / "(not created)"); 1: error.
    JSON is the plain {name: value} map (one value with NAME), for scripts: it has no header.
    """
    from .. import engine
    from ..ops import outputs_text
    from ._output import Report, lazy_meta, output

    sink = output("outputs", json_out, fmt, reports)
    try:
        ctx, _res, _p = _run_plan(file, profile, region, log_format)
        values = engine.outputs(ctx)
        if name is not None and name not in values:
            raise ProvisionError(f"no output {name!r}; outputs are: {', '.join(values) or '(none)'}")
        if name is not None:
            values = {name: values[name]}
        meta = lazy_meta(ctx)

        def markdown() -> str:
            from ..render.markdown import outputs_markdown

            return outputs_markdown(values, meta())

        one = values[name] if name is not None else None
        sink.emit(Report(text=lambda _c: ("" if one is None else str(one)) if name is not None else outputs_text(values),
                         json=lambda: one if name is not None else values, markdown=markdown))
    except ProvisionError as e:
        raise _fail(e) from None
    if any(v is None for v in values.values()):
        raise typer.Exit(EXIT_CHANGES)


@app.command()
def show(
    plan_file: Optional[str] = typer.Argument(
        None, metavar="[PLANFILE]", help="A plan saved with `provision plan -o PLANFILE`: render it (text, json, "
                                         "markdown) without applying it; no AWS call."),
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, fmt: Optional[Format] = FormatOpt, reports: Optional[list[Path]] = ReportOpt,
    log_format: LogFormat = LogOpt,
    offline: bool = typer.Option(False, "--offline", help="No AWS call: values from other resources show as "
                                                          "(known after apply)."),
) -> None:
    """The fully resolved desired state (the seed's synth): every value as it will be sent. Read-only.

    With PLANFILE: that saved plan, as `plan` shows it (the desired file is not read).
    """
    from .. import render
    from ..ops import show_data, show_text
    from ._output import Report, lazy_meta, output, plan_report

    sink = output("show", json_out, fmt, reports)
    try:
        if plan_file is not None:
            from ..ops import read_saved_plan

            _setup(log_format)
            saved, data = read_saved_plan(plan_file)
            meta = lazy_meta(None, source=saved.source, desired_hash=saved.desired_hash, saved=data)
            sink.emit(plan_report(saved, meta))
            return
        if offline:
            _setup(log_format)
            desired = _load(file)
            from ..engine import Context
            from ..reconcilers import build

            resources, _un = build(desired)
            ctx = Context(desired, None)
            ctx.resources = {r.address: r for r in resources}
        else:
            ctx, resources, _p = _run_plan(file, profile, region, log_format)
        data = show_data(ctx, resources, offline=offline)
        meta = lazy_meta(ctx)

        def markdown() -> str:
            from ..render.markdown import show_markdown

            return show_markdown(data, meta())

        sink.emit(Report(text=lambda _c: show_text(data).rstrip("\n"), json=lambda: render.with_header(data, meta()),
                         markdown=markdown))
    except ProvisionError as e:
        raise _fail(e) from None


@app.command()
def preflight(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, log_format: LogFormat = LogOpt,
) -> None:
    """Check before any change (the seed's bootstrap): credentials, account, region, hosted zone.

    Read-only. Exit 0: all checks pass, 1: a check failed.
    """
    from .. import render
    from ..ops import checks_text
    from ..ops import preflight as run_checks
    from ._output import output

    output("preflight", json_out)
    try:
        _setup(log_format)
        desired = _load(file)
        ctx, _resources, unmanaged = _session(desired, profile, region)
        checks = run_checks(desired, ctx.aws, unmanaged)
    except ProvisionError as e:
        raise _fail(e) from None
    ok = all(c.ok for c in checks)
    if json_out:
        _echo(render.to_json({"format_version": 1, "ok": ok, "checks": [c.to_json() for c in checks]}))
    else:
        _echo(checks_text(checks))
    if not ok:
        raise typer.Exit(EXIT_ERROR)


@app.command()
def policy(
    read_only: bool = typer.Option(False, "--read-only", help="What plan, drift (with --publish-metric), "
                                                              "outputs, show and preflight need."),
    apply_: bool = typer.Option(False, "--apply", help="What apply and destroy need (includes --read-only)."),
    file: str = FileOpt,
) -> None:
    """Print the least-privilege IAM policy (JSON) for running provision. No AWS call is made."""
    from .. import iam_actions, render
    from ._output import output

    output("policy", True)  # its output is JSON: a failure says so in JSON too
    if read_only == apply_:
        raise _fail(ProvisionError("choose one of --read-only or --apply"))
    try:
        desired = _load(file)
        doc = iam_actions.policy_document(desired, "apply" if apply_ else "read-only")
    except ProvisionError as e:
        raise _fail(e) from None
    _echo(render.to_json(doc))


@app.command()
def version(json_out: bool = JsonOpt) -> None:
    """The tool's version and what it runs on (Python, boto3, botocore, typer). Also: provision --version."""
    from .. import render

    info = versions()
    if json_out:
        _echo(render.to_json({"format_version": render.FORMAT_VERSION, "tool": "provision", **info}))
    else:
        _echo("\n".join(f"{k.removesuffix('_version').replace('tool', 'provision')} {v or '(not installed)'}"
                         for k, v in info.items()))


def versions() -> dict[str, str | None]:
    import platform
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    from .. import __version__

    def of(dist: str) -> str | None:
        try:
            return dist_version(dist)
        except PackageNotFoundError:
            return None

    return {"tool_version": __version__, "python_version": platform.python_version(),
            "boto3_version": of("boto3"), "botocore_version": of("botocore"), "typer_version": of("typer")}
