"""The `provision` command line. Exit codes: 0 no changes/no drift, 2 changes/drift, 1 error.

Heavy modules (boto3, the reconcilers) are imported inside the commands so `--help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import EXIT_CHANGES, EXIT_ERROR, ProvisionError

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


def _locked(ctx, command: str, timeout: float, force: bool):
    """The stack's apply lock (provisioner/lock.py), held while apply/destroy change things."""
    from . import lock

    return lock.held(ctx.aws, ctx.desired, command, timeout=timeout, force=force)


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
    publish_metric: bool = typer.Option(
        False, "--publish-metric",
        help="Also put the count of drifted resources to CloudWatch (Provision/Drift DriftedResources, "
             "dimension Stack); the only write drift ever makes."),
) -> None:
    """Compare live AWS with the desired state (cron). Read-only. Exit 0: none, 2: drift, 1: error.

    Quiet when clean: one summary line. On drift: resource, field, expected, actual.
    """
    from . import render

    try:
        ctx, _res, p = _run_plan(file, profile, region, log_format)
        p, ignored = render.apply_ignores(p, ctx.desired.drift_ignore)
        if publish_metric:
            from .ops import publish_drift_metric

            publish_drift_metric(ctx, p)
    except ProvisionError as e:
        raise _fail(e)
    _echo(render.to_json(render.drift_json(p, ignored)) if json_out else render.drift_text(p, ignored))
    if p.has_changes:
        raise typer.Exit(EXIT_CHANGES)


@app.command()
def apply(
    plan_file: Optional[str] = typer.Argument(
        None, metavar="[PLAN]", help="A plan saved with `provision plan -o PLAN`: apply exactly it (no question); "
                                     "refused if the desired file or live state moved since."),
    file: Optional[str] = typer.Option(None, "-f", "--file",
                                       help="Desired state file (default: desired_state.toml, or the saved plan's)."),
    profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask for confirmation."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Do not wait for certificate issue / CDN deploy; a later apply resumes."),
    log_format: str = LogOpt, lock_timeout: float = LockTimeoutOpt, break_lock: bool = BreakLockOpt,
) -> None:
    """Make live AWS match the desired state: shows the plan, asks, applies in dependency order."""
    from contextlib import ExitStack

    from . import engine, render

    held = ExitStack()
    try:
        _setup(log_format)
        saved = None
        if plan_file is not None:
            from .ops import load_saved_plan

            saved = load_saved_plan(plan_file)
        desired = _load(file or (saved.source if saved is not None and saved.source else "desired_state.toml"))
        ctx, resources, unmanaged = _session(desired, profile, region, wait=not no_wait)
        _check_account(ctx)
        locked = None
        if saved is not None or break_lock:  # a saved plan is checked against live state under the lock
            locked = held.enter_context(_locked(ctx, "apply", lock_timeout, break_lock))
        if saved is not None and saved.mode == "destroy":
            p = engine.destroy_plan(ctx, resources)
        else:
            p = engine.plan(ctx, resources, unmanaged)
        if saved is not None:
            from .ops import stale_reasons

            moved = stale_reasons(saved, p)
            if moved:
                raise ProvisionError(
                    f"refusing to apply {plan_file}: it is stale; make a new plan.\n  " + "\n  ".join(moved))
            p = saved
        _echo(render.plan_text(p))
        if not p.has_changes:
            if locked is None:  # nothing to do: no lock taken (a crashed run's lock here is cleared)
                from .lock import clear_if_dead

                clear_if_dead(ctx.aws, ctx.desired)
            return
        if saved is None:
            # Locked from here to the end. A run that changed things between our plan and the lock
            # is harmless: apply re-reads each resource right before writing and skips what matches.
            if locked is None:
                locked = held.enter_context(_locked(ctx, "apply", lock_timeout, break_lock))
            if locked.contended:  # another run was applying: show what is left to do now
                ctx.forget()
                p = engine.plan(ctx, resources, unmanaged)
                _echo("Another run held the lock; the plan now that it is released:")
                _echo(render.plan_text(p))
                if not p.has_changes:
                    return
            if not auto_approve:
                _confirm("Apply these changes?", "--auto-approve")
        result = engine.apply(ctx, p, resources)
    except ProvisionError as e:
        raise _fail(e)
    finally:
        held.close()
    from collections import Counter

    done = Counter(action for _addr, action in result.done)
    summary = ", ".join(f"{n} {a}d" for a, n in (("create", done["create"]), ("update", done["update"]),
                                                  ("delete", done["delete"])) if n) or "nothing changed"
    matched = len(p.actionable) - len(result.done)
    if matched > 0:  # e.g. a certificate issued by the time its wait came up, or another run's work
        summary += f"; {matched} already matched when re-read"
    _echo(f"Apply complete: {summary}.")
    if result.unconverged:
        _echo("Warning: not converged yet (AWS may still be propagating): "
              + ", ".join(c.address for c in result.unconverged), err=True)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm(question: str, flag: str) -> None:
    if not _interactive():
        raise ProvisionError(f"refusing without confirmation: no terminal; pass {flag}")
    answer = typer.prompt(f"{question} Only 'yes' is accepted", default="", show_default=False)
    if answer.strip() != "yes":
        _echo("Cancelled.")
        raise typer.Exit(EXIT_ERROR)


@app.command()
def destroy(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    force: bool = typer.Option(False, "--force", help="Do not ask for confirmation."),
    log_format: str = LogOpt, lock_timeout: float = LockTimeoutOpt, break_lock: bool = BreakLockOpt,
) -> None:
    """Delete what this stack owns, in reverse dependency order. Shows the plan and asks.

    Always retained: the buildcache bucket and its data (retention policy), anything not tagged
    provision:stack=<stack name>, and the hosted zone. Exit 0: done or nothing to do, 1: refused/error.
    """
    from contextlib import ExitStack

    from . import engine, render

    held = ExitStack()
    try:
        _setup(log_format)
        desired = _load(file)
        ctx, resources, _unmanaged = _session(desired, profile, region)
        _check_account(ctx)
        if break_lock:  # asked for explicitly: break (and hold) it whatever there is to do
            held.enter_context(_locked(ctx, "destroy", lock_timeout, break_lock))
        p = engine.destroy_plan(ctx, resources)
        _echo(render.plan_text(p))
        if not p.has_changes:
            return  # nothing to delete: no lock taken
        if not break_lock:
            locked = held.enter_context(_locked(ctx, "destroy", lock_timeout, break_lock))
            if locked.contended:
                ctx.forget()
                p = engine.destroy_plan(ctx, resources)
                _echo("Another run held the lock; the plan now that it is released:")
                _echo(render.plan_text(p))
                if not p.has_changes:
                    return
        if not force:
            _confirm(f"Destroy {p.counts()['delete']} resources of stack {desired.stack.name!r}?", "--force")
        result = engine.apply(ctx, p, resources)
    except ProvisionError as e:
        raise _fail(e)
    finally:
        held.close()
    _echo(f"Destroy complete: {len(result.done)} resources deleted.")


@app.command()
def unlock(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    force: bool = typer.Option(False, "--force", help="Really break the lock (without it: only show the holder)."),
    log_format: str = LogOpt,
) -> None:
    """Break the stack's apply lock left by a run that died (SIGKILL, lost machine).

    Without --force: show who holds it (exit 1 if held). Make sure the holder is really gone first.
    """
    from . import lock

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
        raise _fail(e)
    _echo(f"{name}: lock broken (it was held by {who}).")


@app.command()
def outputs(
    name: Optional[str] = typer.Argument(None, help="Print only this output's value (for scripts)."),
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, log_format: str = LogOpt,
) -> None:
    """The desired state's [outputs], read from live AWS. Read-only.

    Exit 0: every output has a value; 2: some resource is not created yet (null / "(not created)"); 1: error.
    """
    from . import engine, render
    from .ops import outputs_text

    try:
        ctx, _res, _p = _run_plan(file, profile, region, log_format)
        values = engine.outputs(ctx)
        if name is not None and name not in values:
            raise ProvisionError(f"no output {name!r}; outputs are: {', '.join(values) or '(none)'}")
    except ProvisionError as e:
        raise _fail(e)
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
    from . import render
    from .ops import show_data, show_text

    try:
        if offline:
            _setup(log_format)
            desired = _load(file)
            from .engine import Context
            from .reconcilers import build

            resources, _un = build(desired)
            ctx = Context(desired, None)
            ctx.resources = {r.address: r for r in resources}
        else:
            ctx, resources, _p = _run_plan(file, profile, region, log_format)
        data = show_data(ctx, resources, offline=offline)
    except ProvisionError as e:
        raise _fail(e)
    _echo(render.to_json(data) if json_out else show_text(data).rstrip("\n"))


@app.command()
def preflight(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, log_format: str = LogOpt,
) -> None:
    """Check before any change (the seed's bootstrap): credentials, account, region, hosted zone.

    Read-only. Exit 0: all checks pass, 1: a check failed.
    """
    from . import render
    from .ops import checks_text
    from .ops import preflight as run_checks

    try:
        _setup(log_format)
        desired = _load(file)
        ctx, _resources, unmanaged = _session(desired, profile, region)
        checks = run_checks(desired, ctx.aws, unmanaged)
    except ProvisionError as e:
        raise _fail(e)
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
    from . import iam_actions, render

    if read_only == apply_:
        raise _fail(ProvisionError("choose one of --read-only or --apply"))
    try:
        desired = _load(file)
    except ProvisionError as e:
        raise _fail(e)
    _echo(render.to_json(iam_actions.policy_document(desired, "apply" if apply_ else "read-only")))


@app.command()
def sandbox(
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (default: a free one)."),
    zone: str = typer.Option("vantagecompute.ai", "--zone", help="Hosted zone to create as a fixture."),
) -> None:
    """Run the AWS-faithful sandbox (patched moto) on 127.0.0.1 until SIGINT/SIGTERM.

    Prints the `export ...` lines that point this tool (and any AWS SDK) at it.
    """
    import signal
    import threading

    from .sandbox import SandboxError, Server, create_fixtures, sandbox_env

    try:
        server = Server(port=port).start()
    except SandboxError as e:
        raise _fail(e)
    stop = threading.Event()

    def _stop(_signum, _frame) -> None:
        stop.set()

    old = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        zone_id = create_fixtures(server.url, zone)
        _echo(f"# provision sandbox: patched moto on {server.url} (hosted zone {zone}: {zone_id})")
        for k, v in sandbox_env(server.url).items():
            _echo(f"export {k}={v}")
        _echo("# serving until Ctrl-C (SIGINT) or SIGTERM")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        server.stop()
    _echo("# sandbox stopped", err=True)


@app.command()
def demo(
    file: str = typer.Option("", "-f", "--file", help="Desired state file (default: the repository's desired_state.toml)."),
) -> None:
    """The whole workflow in one run against an embedded sandbox: plan, apply, plan (no changes),
    an out-of-band change, drift (exit 2), apply to repair, drift clean, outputs.

    Never touches real AWS. Exit 0 when every step behaved as expected, 1 otherwise.
    """
    from .sandbox.demo import run

    raise typer.Exit(run(app, file or None))


def _import_structlog_without_rich() -> None:
    """Import structlog with ``rich`` hidden: structlog imports rich (when installed) only to draw
    exception tracebacks, which this tool never logs, and that import is ~70 ms of every command
    (BENCHMARKS.md). Without rich, structlog uses its plain traceback formatter."""
    if "structlog" in sys.modules or "rich" in sys.modules:
        return
    sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` raises ImportError
    try:
        import structlog  # noqa: F401
    finally:
        del sys.modules["rich"]


def main() -> None:  # console script
    argv = sys.argv[1:]
    if argv and not {"--help", "-h"} & set(argv):  # help needs no logging: keep `--help` light
        _import_structlog_without_rich()
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        _echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
