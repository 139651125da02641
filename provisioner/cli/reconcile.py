"""The reconcile verbs: validate, plan, drift, apply, destroy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from ..errors import EXIT_CHANGES, EXIT_ERROR, ConfigError, ProvisionError
from ._common import (
    AdoptOpt,
    BreakLockOpt,
    Color,
    ColorOpt,
    FileOpt,
    Format,
    FormatOpt,
    JsonOpt,
    LockTimeoutOpt,
    LogFormat,
    LogOpt,
    ProfileOpt,
    PruneOpt,
    RegionOpt,
    ReportOpt,
    SensitiveOpt,
    StrictOpt,
    _check_account,
    _confirm,
    _echo,
    _fail,
    _load,
    _locked,
    _require_account,
    _risks,
    _run_plan,
    _session,
    _setup,
    app,
)

if TYPE_CHECKING:
    from ..context import Context
    from ..engine import ApplyResult
    from ..model import Plan, Resource


@app.command()
def validate(file: str = FileOpt, json_out: bool = JsonOpt, log_format: LogFormat = LogOpt,
             strict: bool = StrictOpt) -> None:
    """Check the desired state file: every error it has (file, key path, expected, found), and its risk
    findings. No AWS call.

    Exit 0: valid, 1: invalid (each error on stderr; with --json, all of them in "errors"), or a
    finding not accepted with --strict.
    """
    from .. import render
    from ._output import output

    out = output("validate", json_out)
    try:
        _setup(log_format)
        d = _load(file)
    except ConfigError as e:
        for err in e.errors:
            _echo(f"Error: {err}", err=True)
        _echo(f"{file}: invalid: {len(e.errors)} error{'s' if len(e.errors) != 1 else ''}", err=True)
        if out.fmt == "json":
            _echo(render.to_json({**render.error_json(e), "file": file, "valid": False}))
        raise typer.Exit(EXIT_ERROR) from None
    except ProvisionError as e:
        raise _fail(e) from None
    if out.fmt == "json":
        _echo(render.to_json({**render.header(None), "file": file, "valid": True, "stack": d.stack.name,
                              "region": d.stack.region, "errors": []}))
    else:
        _echo(f"{file}: valid (stack {d.stack.name!r}, region {d.stack.region})")
    try:
        _risks(d, strict, err=out.fmt == "json")  # findings (stderr with --json: stdout is one document)
    except ProvisionError as e:
        raise _fail(e) from None


@app.command()
def plan(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, fmt: Optional[Format] = FormatOpt, reports: Optional[list[Path]] = ReportOpt,
    out: Optional[Path] = typer.Option(None, "-o", "--out", metavar="PATH", help="Save the plan (JSON) for `apply PLAN`."),
    log_format: LogFormat = LogOpt, color: Color = ColorOpt,
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Also list unchanged resources."),
    expect_no_changes: bool = typer.Option(False, "--expect-no-changes", help="Exit 1 (not 2) when there are changes."),
    strict: bool = StrictOpt, show_sensitive: bool = SensitiveOpt, prune: bool = PruneOpt,
    adopt: Optional[list[str]] = AdoptOpt,
) -> None:
    """Show what apply would change. Read-only. Exit 0: no changes, 2: changes, 1: error, or a
    resource that exists but is not owned by the stack and is not adopted (marked !).

    Orphans (tagged as this stack's, no longer named) are listed; with --prune the ones prune may
    delete are deletions.

    With GITHUB_STEP_SUMMARY set (GitHub Actions), the markdown plan is appended to the job summary.
    """
    from .. import render
    from ._output import lazy_meta, output, plan_report

    sink = output("plan", json_out, fmt, reports, summary=True, sensitive=show_sensitive)
    try:
        ctx, _res, p = _run_plan(file, profile, region, log_format, strict=strict, quiet=sink.fmt == "json",
                                 color=color, adopt=adopt, prune=prune)
        report = plan_report(p, lazy_meta(ctx, desired_hash=p.desired_hash), verbose, stack=ctx.desired.stack.name)
        if out is not None:
            out.write_text(render.to_json(report.json()) + "\n")
        sink.emit(report)
    except ProvisionError as e:
        raise _fail(e) from None
    if p.blocked:
        raise typer.Exit(EXIT_ERROR)
    if p.has_changes:
        raise typer.Exit(EXIT_ERROR if expect_no_changes else EXIT_CHANGES)


@app.command()
def drift(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    json_out: bool = JsonOpt, fmt: Optional[Format] = FormatOpt, reports: Optional[list[Path]] = ReportOpt,
    log_format: LogFormat = LogOpt, color: Color = ColorOpt,
    publish_metric: bool = typer.Option(
        False, "--publish-metric",
        help="Also put the count of drifted resources to CloudWatch (Provision/Drift DriftedResources, "
             "dimension Stack); the only write drift ever makes."),
    show_sensitive: bool = SensitiveOpt,
) -> None:
    """Compare live AWS with the desired state (cron). Read-only. Exit 0: none, 2: drift, 1: error.

    Quiet when clean: one summary line. On drift: resource, field, expected, actual, grouped by
    cause (changed in AWS by hand / in the repository, not applied yet: from the last apply's
    record); UNEXPECTED things nobody declared; orphans. With GITHUB_STEP_SUMMARY set (GitHub
    Actions), the markdown report is appended to the job summary.
    """
    from .. import engine, history, render
    from ._output import drift_report, lazy_meta, output

    sink = output("drift", json_out, fmt, reports, summary=True, sensitive=show_sensitive)
    try:
        ctx, _res, p = _run_plan(file, profile, region, log_format, color=color)
        p, ignored = render.apply_ignores(p, ctx.desired.drift_ignore)
        if p.drifted:  # why: only then is the last apply's record read (one request)
            p = history.annotate(ctx, p, engine.last_record(ctx))
        if publish_metric:
            from ..ops import publish_drift_metric

            publish_drift_metric(ctx, p)
        sink.emit(drift_report(p, ignored, lazy_meta(ctx, desired_hash=p.desired_hash)))
    except ProvisionError as e:
        raise _fail(e) from None
    if p.has_drift:
        raise typer.Exit(EXIT_CHANGES)


@app.command()
def apply(
    plan_file: Optional[str] = typer.Argument(
        None, metavar="[PLAN]", help="A plan saved with `provision plan -o PLAN`: apply exactly it (no question); "
                                     "refused if the desired file or live state moved since."),
    file: Optional[str] = typer.Option(None, "-f", "--file", metavar="PATH", envvar="PROVISION_FILE", show_envvar=True,
                                       help="Desired state file (default: the saved plan's, or desired_state.toml)."),
    profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask for confirmation."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Do not wait for certificate issue / CDN deploy; a later apply resumes."),
    log_format: LogFormat = LogOpt, color: Color = ColorOpt, lock_timeout: float = LockTimeoutOpt,
    break_lock: bool = BreakLockOpt, prune: bool = PruneOpt,
    adopt: Optional[list[str]] = AdoptOpt,
) -> None:
    """Make live AWS match the desired state: shows the plan, asks, applies in dependency order.

    Refused (exit 1, before any write) while a resource exists that is not owned by the stack and
    is not adopted ([adopt] resources, --adopt PATTERN). Afterwards the apply record
    (/provision/<stack>/last-apply) says what it left (`provision history`)."""
    from contextlib import ExitStack

    from .. import engine, render
    from ..logs import color_enabled

    held = ExitStack()
    try:
        _setup(log_format, color)
        saved = None
        if plan_file is not None:
            from ..ops import load_saved_plan

            saved = load_saved_plan(plan_file)
            if adopt:
                raise ProvisionError("--adopt cannot change a saved plan: make a new plan with --adopt")
            engine.refuse_blocked(None, saved)
        desired = _load(file or (saved.source if saved is not None and saved.source else "desired_state.toml"))
        _require_account(desired)
        ctx, resources, unmanaged = _session(desired, profile, region, wait=not no_wait,
                                             adopt=list(saved.adopt) if saved is not None else adopt)
        _check_account(ctx)
        locked = None
        if saved is not None or break_lock:  # a saved plan is checked against live state under the lock
            locked = held.enter_context(_locked(ctx, "apply", lock_timeout, break_lock))
        prune = prune or (saved is not None and saved.prune)
        if saved is not None and saved.mode == "destroy":
            p = engine.destroy_plan(ctx, resources)
        else:
            p = engine.plan(ctx, resources, unmanaged, prune=prune)
        if saved is not None:
            from ..ops import stale_reasons

            moved = stale_reasons(saved, p)
            if moved:
                raise ProvisionError(
                    f"refusing to apply {plan_file}: it is stale; make a new plan.\n  " + "\n  ".join(moved))
            p = saved
        stack = ctx.desired.stack.name
        busy = None  # nothing to do takes no lock (a crashed run's lock here is cleared), unless
        if not p.has_changes and locked is None:  # another run holds it: its apply may be half done
            from ..lock import other_holder

            busy = other_holder(ctx.aws, ctx.desired)
        if busy is None:  # else the plan is shown once that run is gone (or we fail at once)
            _echo(render.plan_text(p, stack=stack, color=color_enabled()), color=color_enabled() or None)
        engine.refuse_blocked(ctx, p)  # before the lock and any other write
        if not p.has_changes:
            if busy is None:
                return
            locked = held.enter_context(_locked(ctx, "apply", lock_timeout, break_lock))
            locked.contended = True  # wait for it as for any apply, then plan again
        if saved is None:
            # Locked from here to the end. A run that changed things between our plan and the lock
            # is harmless: apply re-reads each resource right before writing and skips what matches.
            if locked is None:
                locked = held.enter_context(_locked(ctx, "apply", lock_timeout, break_lock))
            if locked.contended:  # another run was applying: show what is left to do now
                ctx.forget()
                p = engine.plan(ctx, resources, unmanaged, prune=prune)
                _echo("Another run held the lock; the plan now that it is released:")
                _echo(render.plan_text(p, stack=stack, color=color_enabled()), color=color_enabled() or None)
                engine.refuse_blocked(ctx, p)
                if not p.has_changes:
                    return
            if not auto_approve:
                _confirm("Apply these changes?", "--auto-approve")
        result = engine.apply(ctx, p, resources)
        recorded = _record(ctx, resources, p, result)
    except ProvisionError as e:
        raise _fail(e) from None
    finally:
        held.close()
    from collections import Counter

    done = Counter(action for _addr, action in result.done)
    summary = ", ".join(f"{n} {a}ed" if a == "adopt" else f"{n} {a}d"
                        for a, n in (("create", done["create"]), ("update", done["update"]),
                                     ("delete", done["delete"]), ("adopt", done["adopt"])) if n) or "nothing changed"
    matched = len([c for c in p.actionable if c.address not in result.pruned]) - \
        len([a for a, _ in result.done if a not in result.pruned])
    if matched > 0:  # e.g. a certificate issued by the time its wait came up, or another run's work
        summary += f"; {matched} already matched when re-read"
    _echo(f"Apply complete: {summary}.")
    if result.deferred:
        _echo("Deferred to a later `provision apply` (--no-wait):")
        for addr, why in result.deferred.items():
            _echo(f"  {addr}: {why}")
    for address, why in result.pruned.items():
        if why:
            _echo(f"  orphan {address} kept: {why}")
    if result.unconverged:
        _echo("Warning: not converged yet (AWS may still be propagating): "
              + ", ".join(c.address for c in result.unconverged), err=True)
    if recorded:
        _echo(f"Warning: {recorded}", err=True)


def _record(ctx: Context, resources: list[Resource], p: Plan, result: ApplyResult) -> str:
    """Write the apply record when the apply changed something; -> a warning when it could not."""
    from .. import history

    if not result.done or p.mode != "apply":
        return ""
    try:
        history.record(ctx, resources, p, result)
    except ProvisionError as e:  # the apply itself succeeded: say so, and why causes will be unknown
        return f"{e}; drift causes will say 'unknown' until an apply records again"
    return ""


@app.command()
def destroy(
    file: str = FileOpt, profile: Optional[str] = ProfileOpt, region: Optional[str] = RegionOpt,
    force: bool = typer.Option(False, "--force", help="Do not ask for confirmation."),
    log_format: LogFormat = LogOpt, color: Color = ColorOpt, lock_timeout: float = LockTimeoutOpt,
    break_lock: bool = BreakLockOpt,
) -> None:
    """Delete what this stack owns, in reverse dependency order. Shows the plan and asks.

    Always retained: the buildcache bucket and its data (retention policy), anything not owned by
    the stack (not tagged provision:stack=<stack name>, nor in its ownership registry), shared
    things (the OIDC provider others may use), and the hosted zone. Exit 0: done or nothing to do,
    1: refused/error.
    """
    from contextlib import ExitStack

    from .. import engine, render
    from ..logs import color_enabled

    held = ExitStack()
    try:
        _setup(log_format, color)
        desired = _load(file)
        _require_account(desired)
        ctx, resources, _unmanaged = _session(desired, profile, region)
        _check_account(ctx)
        if break_lock:  # asked for explicitly: break (and hold) it whatever there is to do
            held.enter_context(_locked(ctx, "destroy", lock_timeout, break_lock))
        p = engine.destroy_plan(ctx, resources)
        _echo(render.plan_text(p, stack=desired.stack.name, color=color_enabled()), color=color_enabled() or None)
        if not p.has_changes:
            return  # nothing to delete: no lock taken
        if not break_lock:
            locked = held.enter_context(_locked(ctx, "destroy", lock_timeout, break_lock))
            if locked.contended:
                ctx.forget()
                p = engine.destroy_plan(ctx, resources)
                _echo("Another run held the lock; the plan now that it is released:")
                _echo(render.plan_text(p, stack=desired.stack.name, color=color_enabled()), color=color_enabled() or None)
                if not p.has_changes:
                    return
        if not force:
            _confirm(f"Destroy {p.counts()['delete']} resources of stack {desired.stack.name!r}?", "--force")
        result = engine.apply(ctx, p, resources)
    except ProvisionError as e:
        raise _fail(e) from None
    finally:
        held.close()
    _echo(f"Destroy complete: {len(result.done)} resources deleted.")
