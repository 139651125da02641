"""The reconcile engine: dependency order, concurrent live reads, plan, apply, destroy, waits.

    plan():   every resource is read as soon as the resources it depends on have been read
              (graphlib, a thread pool), normalised, diffed against its desired value -> Plan.
    apply():  resources in dependency order; a resource is touched only when the plan changes it
              or a dependency changed during this apply. Each step re-reads right before it
              writes and reads again after (read-after-write) to publish fresh outputs.

``plan`` and ``drift`` are the same computation; nothing here branches on "dry run".
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from graphlib import CycleError, TopologicalSorter
from typing import Any, Callable

import structlog

from . import applied
from .config import DesiredState
from .context import Context, Progress
from .errors import PreconditionError, ProvisionError, StepError
from .model import (
    CREATE,
    DELETE,
    NOOP,
    READ,
    UPDATE,
    Change,
    FieldChange,
    Plan,
    Resource,
    Unknown,
    decided_view,
    fingerprint,
    has_unknown,
    undeclared_changes,
)

log = structlog.get_logger("provision")

READ_WORKERS = int(os.environ.get("PROVISION_READ_WORKERS", "16"))


def order(resources: list[Resource]) -> list[Resource]:
    by_addr = {r.address: r for r in resources}
    if len(by_addr) != len(resources):
        raise ProvisionError("two resources share an address (a bug)")
    ts = TopologicalSorter({r.address: [d for d in r.depends_on if d in by_addr] for r in resources})
    try:
        return [by_addr[a] for a in ts.static_order()]
    except CycleError as e:  # pragma: no cover - a bug in the reconcilers
        raise ProvisionError(f"dependency cycle: {e.args[1]}") from None


def desired_hash(desired: DesiredState) -> str:
    return hashlib.sha256(json.dumps(desired.raw, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _read_one(ctx: Context, r: Resource) -> None:
    try:
        live = r.read(ctx)
    except ProvisionError:
        raise
    except Exception as e:  # noqa: BLE001 - one message shape for every AWS failure
        raise StepError("reading", _label(r), e) from e
    ctx.live[r.address] = live
    ctx.outs[r.address] = r.outputs(ctx, live) if live is not None else {}


def _read_deps(r: Resource) -> tuple[str, ...]:
    return r.depends_on if r.read_after is None else r.read_after


def read_all(ctx: Context, resources: list[Resource]) -> None:
    """Read every resource, each as soon as what its read needs is read (the critical path only)."""
    by_addr = {r.address: r for r in resources}
    ts = TopologicalSorter({r.address: [d for d in _read_deps(r) if d in by_addr] for r in resources})
    ts.prepare()
    errors: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="read") as pool:
        running: dict[Future, str] = {}
        while ts.is_active():
            if not errors:
                for addr in ts.get_ready():
                    running[pool.submit(_read_one, ctx, by_addr[addr])] = addr
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in done:
                addr = running.pop(f)
                exc = f.exception()
                if exc is not None:
                    errors.append(exc)
                else:
                    ts.done(addr)
    if errors:
        raise errors[0]


def _label(r: Resource) -> str:
    return f"{r.service} ({r.address})" if r.service else r.address


ACCEPTED = "accepted by [drift] ignore: left in place"


def all_changes(ctx: Context, r: Resource, desired: dict, live: dict) -> list[FieldChange]:
    """The declared differences (``r.diff``) and the UNEXPECTED things ``live`` carries. An
    UNEXPECTED item that ``[drift] ignore`` names is accepted on purpose: reported, never removed."""
    from dataclasses import replace

    from .config import ignore_matches

    out = list(r.diff(desired, live))
    for f in undeclared_changes(live):
        if not f.report_only and ignore_matches(ctx.desired.drift_ignore, r.address, f.path):
            f = replace(f, report_only=ACCEPTED)
        out.append(f)
    return out


def _to_apply(ctx: Context, r: Resource, desired: dict, live: dict) -> tuple[FieldChange, ...]:
    return tuple(f for f in all_changes(ctx, r, desired, live) if not f.report_only)


def _change_for(ctx: Context, r: Resource) -> Change:
    live = ctx.live.get(r.address)
    if r.data_source:
        return Change(r.address, READ if live is None else NOOP, fingerprint=fingerprint(live))
    desired = r.desired(ctx)
    fp = fingerprint(decided_view(live, desired))
    if live is None:
        fields = tuple(FieldChange(f.path, None, f.new, "ADD") for f in r.diff(desired, {}))
        return Change(r.address, CREATE, fields, fingerprint=fp)
    fields = tuple(all_changes(ctx, r, desired, live))
    replaces = any(f.kind == "NOTE" and f.path == "replace" for f in fields)  # a "replace" note: destructive
    acting = any(not f.report_only for f in fields)  # report-only findings alone change nothing
    return Change(r.address, UPDATE if acting else NOOP, fields, destructive=replaces, fingerprint=fp)


def last_record(ctx: Context) -> dict | None:
    """The last apply's record (``applied``), read once per plan step and only when needed."""
    return ctx.memo("applied:last-apply", lambda: applied.read(ctx.aws, ctx.desired))


def plan(ctx: Context, resources: list[Resource], unmanaged: list[str] | None = None, *, prune: bool = False) -> Plan:
    """Read everything, diff it, find orphans (``prune``: the ones prune may delete become deletions)."""
    from .reconcilers import coverage, orphans

    ordered = order(resources)
    ctx.resources = {r.address: r for r in ordered}
    read_all(ctx, ordered)
    changes = []
    for r in ordered:
        try:
            changes.append(_change_for(ctx, r))
        except ProvisionError:
            raise
        except Exception as e:  # noqa: BLE001
            raise StepError("planning", _label(r), e) from e
    found = orphans.find(ctx, lambda: applied.owned_arns(last_record(ctx)))
    if prune:
        changes += [Change(o.address, DELETE, destructive=True, note=f"orphan: {o.why}", fingerprint=o.arn)
                    for o in orphans.prune_order(found) if o.deletable]
    return Plan(changes=changes, unmanaged=list(unmanaged or []), source=ctx.desired.source,
                desired_hash=desired_hash(ctx.desired), orphans=found, prune=prune,
                coverage=coverage.of(ctx, ordered))


def destroy_plan(ctx: Context, resources: list[Resource]) -> Plan:
    ordered = order(resources)
    ctx.resources = {r.address: r for r in ordered}
    read_all(ctx, ordered)
    changes = []
    for r in reversed(ordered):
        live = ctx.live.get(r.address)
        owned = live is not None and not r.data_source and r.owned(ctx, live)
        # what a destroy plan decides on: existence and ownership, not the live values
        fp = fingerprint(None if live is None else {"exists": True, "owned": owned})
        if r.data_source or live is None:
            note = "data source: never deleted" if r.data_source else "does not exist"
            changes.append(Change(r.address, NOOP, note=note, fingerprint=fp))
        elif r.retain_on_destroy:
            changes.append(Change(r.address, NOOP, note="retained (retention policy)", fingerprint=fp))
        elif not owned:
            changes.append(Change(r.address, NOOP, note="retained (not tagged as ours)", fingerprint=fp))
        else:
            changes.append(Change(r.address, DELETE, destructive=True, fingerprint=fp))
    return Plan(changes=changes, source=ctx.desired.source, desired_hash=desired_hash(ctx.desired), mode="destroy")


class ApplyResult:
    def __init__(self) -> None:
        self.done: list[tuple[str, str]] = []  # (address, action)
        self.unconverged: list[Change] = []
        # --no-wait: what was left for a later apply -> why (a settle not waited for, or the
        # values that depend on one)
        self.deferred: dict[str, str] = {}
        self.pruned: dict[str, str] = {}  # orphan address -> "" (deleted) or why it was kept (apply --prune)


def apply(ctx: Context, the_plan: Plan, resources: list[Resource]) -> ApplyResult:
    ordered = order(resources)
    ctx.resources = {r.address: r for r in ordered}
    planned = {c.address: c for c in the_plan.changes}
    result = ApplyResult()
    if the_plan.mode == "destroy":
        for r in reversed(ordered):
            c = planned.get(r.address)
            if c is None or c.action != DELETE:
                continue
            ctx.forget()
            live = r.read(ctx)
            if live is None:
                continue
            _step(ctx, r, "deleting", functools.partial(r.delete, ctx, live))
            result.done.append((r.address, DELETE))
        return result

    changed: set[str] = set()
    for r in ordered:
        c = planned.get(r.address)
        if r.data_source:
            continue
        deps_changed = any(d in changed for d in r.depends_on)
        if (c is None or c.action == NOOP) and not deps_changed:
            continue
        ctx.forget()
        live = _step(ctx, r, "reading", lambda: r.read(ctx))
        if live is not None:  # publish fresh outputs even when the re-read shows nothing to do
            ctx.live[r.address] = live  # (e.g. acm_validation: absent at plan time, ISSUED by now)
            ctx.outs[r.address] = r.outputs(ctx, live)
        desired = r.desired(ctx)
        if has_unknown(desired) and not ctx.wait and ctx.deferred:
            # --no-wait skipped a settle (e.g. certificate ISSUED) that this resource's values come
            # from: leave it to a later apply, which resumes here (README: `apply --no-wait`).
            result.deferred[r.address] = "needs " + ", ".join(_unknowns(desired))
            continue
        if has_unknown(desired):
            raise StepError("applying", _label(r), f"a value it depends on is still unknown: {_unknowns(desired)}")
        if live is None:
            log.info("creating", resource=r.address)
            _step(ctx, r, "creating", lambda: r.create(ctx, desired))
            action = CREATE
        else:
            fields = _to_apply(ctx, r, desired, live)
            if not fields:
                continue
            log.info("updating", resource=r.address, fields=[f.path for f in fields])
            _step(ctx, r, "updating", lambda: r.update(ctx, desired, live, fields))
            action = UPDATE
        changed.add(r.address)
        result.done.append((r.address, action))
        ctx.forget()
        _step(ctx, r, "reading", lambda: _read_one(ctx, r))  # read-after-write: fresh outputs for dependents
        after = ctx.live.get(r.address)
        if after is None and r.address in ctx.deferred:
            result.deferred[r.address] = f"not waited for: {ctx.deferred[r.address]}"
            continue
        left = _to_apply(ctx, r, desired, after) if after is not None else [FieldChange("(resource)", None, "exists", "ADD")]
        if left:
            log.warning("not converged yet", resource=r.address, fields=[f.path for f in left])
            result.unconverged.append(Change(r.address, UPDATE, tuple(left)))
    _prune(ctx, the_plan, planned, result)
    return result


def _prune(ctx: Context, the_plan: Plan, planned: dict[str, Change], result: ApplyResult) -> None:
    """apply --prune: delete the orphans the plan plans to delete (each confirmed right before)."""
    from .reconcilers import orphans

    doomed = [o for o in the_plan.orphans if (c := planned.get(o.address)) is not None and c.action == DELETE]
    for o in orphans.prune_order(doomed):
        log.info("pruning orphan", resource=o.address, arn=o.arn)
        try:
            why = orphans.delete(ctx, o)
        except Exception as e:  # noqa: BLE001 - one message shape
            raise StepError("deleting", f"orphan {o.type} ({o.address})", e) from e
        result.pruned[o.address] = why
        if why:
            log.warning("orphan kept", resource=o.address, reason=why)
        else:
            result.done.append((o.address, DELETE))


def _unknowns(value: Any) -> list[str]:
    out = []
    if isinstance(value, Unknown):
        out.append(value.ref)
    elif isinstance(value, dict):
        for v in value.values():
            out.extend(_unknowns(v))
    elif isinstance(value, (list, tuple)):
        for v in value:
            out.extend(_unknowns(v))
    return out


def _step(ctx: Context, r: Resource, action: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except ProvisionError:
        raise
    except Exception as e:  # noqa: BLE001 - one message shape: "creating S3 bucket (s3_bucket.x): cause"
        raise StepError(action, _label(r), e) from e
    finally:
        ctx.progress.finish()  # a wait drawn on the terminal ends with its step, done or not


def outputs(ctx: Context) -> dict[str, Any]:
    """The desired state's named outputs, from live outputs read by plan()."""
    result: dict[str, Any] = {}
    for name, ref in ctx.desired.outputs:
        addr, _, key = ref.rpartition(".")
        v = ctx.outs.get(addr, {}).get(key)
        result[name] = v
    return result


__all__ = ["Context", "Progress", "plan", "apply", "destroy_plan", "outputs", "order", "read_all", "PreconditionError"]
