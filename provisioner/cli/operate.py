"""The operator's verbs around a stack: unlock, history, outputs, show, preflight, policy."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import EXIT_CHANGES, EXIT_ERROR, ProvisionError
from ._common import FileOpt, JsonOpt, LogOpt, ProfileOpt, RegionOpt, _check_account, _echo, _fail, _load, _run_plan, _session, _setup, app


@app.command()
def unlock(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    force: bool = typer.Option(False, "--force", help="Really break the lock (without it: only show the holder)."),
    log_format: str = LogOpt,
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
    name: Optional[str] = typer.Argument(None, help="Print only this output's value (for scripts)."),
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, log_format: str = LogOpt,
) -> None:
    """The desired state's [outputs], read from live AWS. Read-only.

    Exit 0: every output has a value; 2: some resource is not created yet (null / "(not created)"); 1: error.
    """
    from .. import engine, render
    from ..ops import outputs_text

    try:
        ctx, _res, _p = _run_plan(file, profile, region, log_format)
        values = engine.outputs(ctx)
        if name is not None and name not in values:
            raise ProvisionError(f"no output {name!r}; outputs are: {', '.join(values) or '(none)'}")
    except ProvisionError as e:
        raise _fail(e) from None
    if name is not None:
        values = {name: values[name]}
        _echo(render.to_json(values[name]) if json_out else ("" if values[name] is None else str(values[name])))
    else:
        _echo(render.to_json(values) if json_out else outputs_text(values))
    if any(v is None for v in values.values()):
        raise typer.Exit(EXIT_CHANGES)


@app.command()
def show(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, log_format: str = LogOpt,
    offline: bool = typer.Option(False, "--offline", help="No AWS call: values from other resources show as "
                                                          "(known after apply)."),
) -> None:
    """The fully resolved desired state (the seed's synth): every value as it will be sent. Read-only."""
    from .. import render
    from ..ops import show_data, show_text

    try:
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
    except ProvisionError as e:
        raise _fail(e) from None
    _echo(render.to_json(data) if json_out else show_text(data).rstrip("\n"))


@app.command()
def preflight(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, log_format: str = LogOpt,
) -> None:
    """Check before any change (the seed's bootstrap): credentials, account, region, hosted zone.

    Read-only. Exit 0: all checks pass, 1: a check failed.
    """
    from .. import render
    from ..ops import checks_text
    from ..ops import preflight as run_checks

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

    if read_only == apply_:
        raise _fail(ProvisionError("choose one of --read-only or --apply"))
    try:
        desired = _load(file)
    except ProvisionError as e:
        raise _fail(e) from None
    _echo(render.to_json(iam_actions.policy_document(desired, "apply" if apply_ else "read-only")))
