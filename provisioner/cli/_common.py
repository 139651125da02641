"""The CLI's shared pieces: the typer app, common options, loading, sessions, the lock, confirmation."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Optional

import typer

from ..errors import EXIT_ERROR, ProvisionError

if TYPE_CHECKING:
    from ..config import DesiredState
    from ..context import Context
    from ..model import Plan, Resource

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Build and keep in shape the AWS infrastructure of the Slurm Factory Spack buildcache.",
)

FileOpt = typer.Option("desired_state.toml", "-f", "--file", help="Desired state file.")
ProfileOpt = typer.Option(None, "--profile", help="AWS profile (default: the standard credential chain).")
RegionOpt = typer.Option(None, "--region", help="AWS region for regional clients (default: the file's stack.region).")
LogOpt = typer.Option("console", "--log-format", help="console or json (json for cron/CI).")
JsonOpt = typer.Option(False, "--json", help="Machine-readable output on stdout.")
LockTimeoutOpt = typer.Option(0.0, "--lock-timeout", help="Seconds to wait for another apply/destroy of this stack "
                                                          "to finish (default 0: fail at once, naming the holder).")
BreakLockOpt = typer.Option(False, "--break-lock", help="Break the stack's apply lock first (a run that died).")
AdoptOpt = typer.Option(None, "--adopt", metavar="PATTERN",
                        help="Adopt on purpose the foreign resources this address glob names (repeatable; '*' for all), "
                             "besides the desired state's [adopt] resources.")


def _echo(msg: str = "", err: bool = False) -> None:
    typer.echo(msg, err=err)


def _fail(e: BaseException) -> "typer.Exit":
    _echo(f"Error: {e}", err=True)
    return typer.Exit(EXIT_ERROR)


def _setup(log_format: str) -> None:
    from ..logs import configure

    if log_format not in ("console", "json"):
        raise ProvisionError(f"--log-format: expected 'console' or 'json', found {log_format!r}")
    configure(log_format)


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


def _check_account(ctx: Context) -> None:
    want = ctx.desired.stack.account_id
    if want:
        got = ctx.aws.account_id()
        if got != want:
            raise ProvisionError(f"credentials are for account {got}, but {ctx.desired.source} says stack.account_id = {want}")


def _locked(ctx: Context, command: str, timeout: float, force: bool) -> Any:
    """The stack's apply lock (provisioner/lock.py), held while apply/destroy change things."""
    from .. import lock

    return lock.held(ctx.aws, ctx.desired, command, timeout=timeout, force=force)


def _run_plan(file: str, profile: Optional[str], region: Optional[str],
              log_format: str, adopt: Optional[list[str]] = None) -> tuple[Context, list[Resource], Plan]:
    from .. import engine

    _setup(log_format)
    desired = _load(file)
    ctx, resources, unmanaged = _session(desired, profile, region, adopt=adopt)
    _check_account(ctx)
    return ctx, resources, engine.plan(ctx, resources, unmanaged)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm(question: str, flag: str) -> None:
    if not _interactive():
        raise ProvisionError(f"refusing without confirmation: no terminal; pass {flag}")
    answer = typer.prompt(f"{question} Only 'yes' is accepted", default="", show_default=False)
    if answer.strip() != "yes":
        _echo("Cancelled.")
        raise typer.Exit(EXIT_ERROR)


