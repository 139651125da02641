"""The `provision` command line. Exit codes: 0 no changes/no drift, 2 changes/drift, 1 error.

Heavy modules (boto3, the reconcilers) are imported inside the commands so `--help` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, ProvisionError

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


def _echo(msg: str = "", err: bool = False) -> None:
    typer.echo(msg, err=err)


def _fail(e: BaseException) -> "typer.Exit":
    _echo(f"Error: {e}", err=True)
    return typer.Exit(EXIT_ERROR)


def _setup(log_format: str) -> None:
    from .logs import configure

    if log_format not in ("console", "json"):
        raise ProvisionError(f"--log-format: expected 'console' or 'json', found {log_format!r}")
    configure(log_format)


def _load(file: str):
    from . import config

    return config.load(file)


def _session(desired, profile: Optional[str], region: Optional[str], *, wait: bool = True):
    from .aws import Aws
    from .engine import Context
    from .reconcilers import build

    aws = Aws(profile=profile, region=region or desired.stack.region)
    ctx = Context(desired, aws, wait=wait)
    resources, unmanaged = build(desired)
    return ctx, resources, unmanaged


def _check_account(ctx) -> None:
    want = ctx.desired.stack.account_id
    if want:
        got = ctx.aws.account_id()
        if got != want:
            raise ProvisionError(f"credentials are for account {got}, but {ctx.desired.source} says stack.account_id = {want}")


def _run_plan(file, profile, region, log_format):
    from . import engine

    _setup(log_format)
    desired = _load(file)
    ctx, resources, unmanaged = _session(desired, profile, region)
    _check_account(ctx)
    return ctx, resources, engine.plan(ctx, resources, unmanaged)


@app.command()
def validate(file: str = FileOpt, log_format: str = LogOpt) -> None:
    """Check the desired state file. No AWS call is made."""
    try:
        _setup(log_format)
        d = _load(file)
    except ProvisionError as e:
        raise _fail(e)
    _echo(f"{file}: valid (stack {d.stack.name!r}, region {d.stack.region})")


@app.command()
def plan(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, out: Optional[Path] = typer.Option(None, "-o", "--out", help="Save the plan (JSON) for `apply PLAN`."),
    log_format: str = LogOpt, verbose: bool = typer.Option(False, "-v", "--verbose", help="Also list unchanged resources."),
    expect_no_changes: bool = typer.Option(False, "--expect-no-changes", help="Exit 1 (not 2) when there are changes."),
) -> None:
    """Show what apply would change. Read-only. Exit 0: no changes, 2: changes, 1: error."""
    from . import render

    try:
        _ctx, _res, p = _run_plan(file, profile, region, log_format)
    except ProvisionError as e:
        raise _fail(e)
    if out is not None:
        out.write_text(render.to_json(p.to_json()) + "\n")
    _echo(render.to_json(p.to_json()) if json_out else render.plan_text(p, verbose=verbose))
    if p.has_changes:
        raise typer.Exit(EXIT_ERROR if expect_no_changes else EXIT_CHANGES)


@app.command()
def drift(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, log_format: str = LogOpt,
) -> None:
    """Compare live AWS with the desired state (cron). Read-only. Exit 0: none, 2: drift, 1: error."""
    from . import render

    try:
        _ctx, _res, p = _run_plan(file, profile, region, log_format)
    except ProvisionError as e:
        raise _fail(e)
    _echo(render.to_json(render.drift_json(p)) if json_out else render.drift_text(p))
    if p.has_changes:
        raise typer.Exit(EXIT_CHANGES)


@app.command()
def apply(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask for confirmation."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Do not wait for certificate issue / CDN deploy; a later apply resumes."),
    log_format: str = LogOpt,
) -> None:
    """Make live AWS match the desired state: shows the plan, asks, applies in dependency order."""
    from . import engine, render

    try:
        _setup(log_format)
        desired = _load(file)
        ctx, resources, unmanaged = _session(desired, profile, region, wait=not no_wait)
        _check_account(ctx)
        p = engine.plan(ctx, resources, unmanaged)
        _echo(render.plan_text(p))
        if not p.has_changes:
            return
        if not auto_approve:
            if not sys.stdin.isatty():
                raise ProvisionError("refusing to apply without confirmation: no terminal; pass --auto-approve")
            answer = typer.prompt("Apply these changes? Only 'yes' is accepted", default="", show_default=False)
            if answer.strip() != "yes":
                _echo("Apply cancelled.")
                raise typer.Exit(EXIT_ERROR)
        result = engine.apply(ctx, p, resources)
    except ProvisionError as e:
        raise _fail(e)
    _echo(f"Apply complete: {len(result.done)} resources changed.")
    if result.unconverged:
        _echo("Warning: not converged yet (AWS may still be propagating): "
              + ", ".join(c.address for c in result.unconverged), err=True)


def main() -> None:  # console script
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        _echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
