"""The CLI's shared pieces: the typer app, common options, loading, sessions, the lock, confirmation."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Literal, Optional

import typer

from ..errors import EXIT_ERROR, ProvisionError
from ._group import JSON_META, TOLD_META, ProvisionGroup, get_current_context

LogFormat = Literal["console", "json"]
Format = Literal["text", "json", "markdown"]
Color = Literal["auto", "always", "never"]

if TYPE_CHECKING:
    from ..config import DesiredState
    from ..context import Context
    from ..model import Plan, Resource

app = typer.Typer(
    cls=ProvisionGroup,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

FileOpt = typer.Option("desired_state.toml", "-f", "--file", metavar="PATH", envvar="PROVISION_FILE", show_envvar=True,
                       help="Desired state file.")
ProfileOpt = typer.Option(None, "--profile", metavar="NAME", envvar=["PROVISION_PROFILE", "AWS_PROFILE"],
                          show_envvar=True, help="AWS profile (default: the standard credential chain).")
RegionOpt = typer.Option(None, "--region", metavar="REGION",
                         help="AWS region for regional clients (default: the file's stack.region).")
# Choices are typed Literal[...] where used (typer makes them a choice: a bad value is a usage error).
LogOpt = typer.Option("console", "--log-format",
                      envvar="PROVISION_LOG_FORMAT", show_envvar=True,
                      help="Logs on stderr: console lines, or JSON lines for cron/CI.")
JsonOpt = typer.Option(False, "--json", help="Machine-readable output on stdout (short for --format json).")
FormatOpt = typer.Option(None, "--format",
                         help="What to print on stdout: text (default), json, or markdown (PR comments, job summaries).")
ReportOpt = typer.Option(None, "--report", metavar="PATH",
                         help="Also write the report to PATH, in the format its extension names (.json, .md, .txt). "
                              "Repeatable.")
ColorOpt = typer.Option("auto", "--color",
                        help="Colour: auto (a terminal, unless NO_COLOR is set or TERM=dumb), always or never.")
LockTimeoutOpt = typer.Option(0.0, "--lock-timeout", metavar="SECONDS", envvar="PROVISION_LOCK_TIMEOUT",
                              show_envvar=True, help="Seconds to wait for another apply/destroy of this stack "
                                                     "to finish (default 0: fail at once, naming the holder).")
BreakLockOpt = typer.Option(False, "--break-lock", help="Break the stack's apply lock first (a run that died).")
PruneOpt = typer.Option(False, "--prune", help="Also delete orphans: resources tagged as this stack's that the desired "
                                               "state no longer names and its apply record proves ours (never buckets).")
AdoptOpt = typer.Option(None, "--adopt", metavar="PATTERN",
                        help="Adopt on purpose the foreign resources this address glob names (repeatable; '*' for all), "
                             "besides the desired state's [adopt] resources.")


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"provision {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit (`provision version` says more)."),
) -> None:
    """Build and keep in shape the AWS infrastructure of the Slurm Factory Spack buildcache.

    Exit codes: 0 no changes / no drift / success, 2 changes / drift found, 1 error (usage errors too).
    """


def _echo(msg: str = "", err: bool = False, color: bool | None = None) -> None:
    """Every line the CLI prints. Control characters (text from AWS, the lock) are shown escaped, but
    for the colour codes we wrote ourselves when ``color`` is set (logs.color_enabled decided on it)."""
    from ..safe_text import for_terminal

    typer.echo(for_terminal(msg, bool(color)), err=err, color=color)


def _fail(e: BaseException) -> "typer.Exit":
    """Tell a failure: every line on stderr (all of a file's config errors), and, for a JSON run or
    one with --report files, the JSON error object too. Exit 1."""
    from ._output import current

    for err in getattr(e, "errors", None) or [e]:
        _echo(f"Error: {err}", err=True)
    out = current()
    if out is not None:
        out.fail(e)
    elif (ctx := get_current_context(silent=True)) is not None and ctx.meta.get(JSON_META):
        from ..render import error_json, to_json

        _echo(to_json(error_json(e)))
    ctx = get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[TOLD_META] = True
    return typer.Exit(EXIT_ERROR)


def _setup(log_format: str, color: str = "auto") -> None:
    from ..logs import configure

    if log_format not in ("console", "json"):
        raise ProvisionError(f"--log-format: expected 'console' or 'json', found {log_format!r}")
    configure(log_format, color=color)


def _load(file: str) -> DesiredState:
    from .. import config

    return config.load(file)


def _session(desired: DesiredState, profile: Optional[str], region: Optional[str], *,
             wait: bool = True, adopt: Optional[list[str]] = None) -> tuple[Context, list[Resource], list[str]]:
    from ..aws import Aws
    from ..config.adopt import ADOPT_RE
    from ..engine import Context
    from ..reconcilers import build

    for pattern in adopt or ():
        if not ADOPT_RE.match(pattern):
            raise ProvisionError(f"--adopt: expected an address pattern like 'iam_role.github_actions', "
                                 f"'route53_record.*' or '*', found {pattern!r}")
    aws = Aws(profile=profile, region=region or desired.stack.region)
    ctx = Context(desired, aws, wait=wait)
    ctx.adopt = tuple(dict.fromkeys([*desired.adopt, *(adopt or ())]))
    resources, unmanaged = build(desired)
    return ctx, resources, unmanaged


StrictOpt = typer.Option(False, "--strict", help="Exit 1 while any risk finding is not accepted in [risks].")
SensitiveOpt = typer.Option(False, "--show-sensitive", help="Show e-mail addresses (masked by default).")


def _risks(desired: DesiredState, strict: bool, err: bool, quiet: bool = False) -> None:
    """Print the desired state's risk findings; with --strict, refuse (exit 1) while any is not accepted."""
    from ..config import risks

    found = risks.findings(desired)
    if found and not quiet:
        _echo(risks.text(found), err=err)
    for rid in risks.stale(desired) if not quiet else ():
        _echo(f"  (risks.accept: {rid} is accepted but no longer raised; the acceptance can go)", err=err)
    if strict and any(f.accepted is None for f in found):
        raise ProvisionError("--strict: risk findings not accepted in [risks]: "
                             + ", ".join(sorted({f.id for f in found if f.accepted is None})))


def _require_account(desired: DesiredState) -> None:
    """apply and destroy change things: only in the account the desired state names."""
    if not desired.stack.account_id:
        from ..errors import ConfigError

        raise ConfigError(desired.source, "stack.account_id", "a 12-digit AWS account id (apply and destroy refuse "
                          "to run without it: a wrong profile would aim them at another account)", has_found=False)


def _check_account(ctx: Context) -> None:
    want = ctx.desired.stack.account_id
    if want:
        from ..errors import StepError

        try:
            got = ctx.aws.account_id()
        except Exception as e:  # noqa: BLE001 - no credentials, no endpoint: one message shape
            raise StepError("checking", "the caller's account (sts:GetCallerIdentity)", e) from e
        if got != want:
            raise ProvisionError(f"credentials are for account {got}, but {ctx.desired.source} says stack.account_id = {want}")


def _locked(ctx: Context, command: str, timeout: float, force: bool) -> Any:
    """The stack's apply lock (provisioner/lock.py), held while apply/destroy change things."""
    from .. import lock

    return lock.held(ctx.aws, ctx.desired, command, timeout=timeout, force=force)


def _run_plan(file: str, profile: Optional[str], region: Optional[str], log_format: str,
              strict: Optional[bool] = None, quiet: bool = False,
              color: str = "auto", adopt: Optional[list[str]] = None, *,
              prune: bool = False) -> tuple[Context, list[Resource], Plan]:
    from .. import engine

    _setup(log_format, color)
    desired = _load(file)
    if strict is not None:  # plan: the findings on stderr, before any AWS call (not with --json: one document)
        _risks(desired, strict, err=True, quiet=quiet)
    ctx, resources, unmanaged = _session(desired, profile, region, adopt=adopt)
    _check_account(ctx)
    return ctx, resources, engine.plan(ctx, resources, unmanaged, prune=prune)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm(question: str, flag: str) -> None:
    if not _interactive():
        raise ProvisionError(f"refusing without confirmation: no terminal; pass {flag}")
    answer = typer.prompt(f"{question} Only 'yes' is accepted", default="", show_default=False)
    if answer.strip() != "yes":
        _echo("Cancelled.")
        raise typer.Exit(EXIT_ERROR)


