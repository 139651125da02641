"""Applying a plan in dependency order (expand, switch, contract). See the package docstring."""


from __future__ import annotations

import functools
from typing import Any, Callable

import structlog

from .. import ownership as own
from ..context import Context
from ..errors import ProvisionError, StepError
from ..model import (
    ADOPT,
    CREATE,
    DELETE,
    NOOP,
    UPDATE,
    Change,
    FieldChange,
    Plan,
    Resource,
    Unknown,
    has_unknown,
)
from .planning import _label, _read_one, _to_apply, order, refuse_blocked

log = structlog.get_logger("provision")


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
            if live is None or not r.owned(ctx, live):  # gone, or no longer ours since the plan: kept
                continue
            _step(ctx, r, "deleting", functools.partial(r.delete, ctx, live))
            result.done.append((r.address, DELETE))
        return result

    refuse_blocked(ctx, the_plan)
    changed: set[str] = set()
    expanders = [e for e in ordered if e.expand_before]
    for r in ordered:
        c = planned.get(r.address)
        if r.data_source:
            continue
        deps_changed = any(d in changed for d in r.depends_on)
        if (c is None or c.action == NOOP) and not deps_changed:
            continue
        for e in expanders:  # expand before the switch
            if r.address in e.expand_before:
                _expand(ctx, e)
        ctx.forget()
        live = _step(ctx, r, "reading", lambda: r.read(ctx))
        ctx.live[r.address] = live  # what desired() may look at (a policy's grants in use) is fresh
        adopting = False
        if live is not None:  # re-checked right before the write: never claim what is not ours
            _step(ctx, r, "checking ownership of", lambda: r.check_ours(ctx, live))
            adopting = r.ownership(ctx, live).state == own.FOREIGN
        if live is not None:  # publish fresh outputs even when the re-read shows nothing to do
            ctx.outs[r.address] = r.outputs(ctx, live)  # (e.g. acm_validation: absent at plan time, ISSUED by now)
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
            if adopting:
                log.info("adopting", resource=r.address)
                _step(ctx, r, "adopting", lambda: r.adopt(ctx, live))
            fields = _to_apply(ctx, r, desired, live)
            if not fields:
                if adopting:
                    changed.add(r.address)
                    result.done.append((r.address, ADOPT))
                continue
            log.info("updating", resource=r.address, fields=[f.path for f in fields])
            _step(ctx, r, "updating", lambda: r.update(ctx, desired, live, fields))
            action = ADOPT if adopting else UPDATE
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
    from ..reconcilers import orphans

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


def _expand(ctx: Context, r: Resource) -> None:
    """Apply ``r``'s expanded value (what is there plus what the coming change needs), if it differs."""
    ctx.forget()
    live = _step(ctx, r, "reading", lambda: r.read(ctx))
    ctx.live[r.address] = live
    if live is not None:
        _step(ctx, r, "checking ownership of", lambda: r.check_ours(ctx, live))
    wanted = _step(ctx, r, "expanding", lambda: r.expand_desired(ctx))
    if wanted is None:
        return
    if live is None:
        log.info("expanding", resource=r.address)
        _step(ctx, r, "expanding", lambda: r.create(ctx, wanted))
        return
    fields = tuple(r.diff(wanted, live))
    if fields:
        log.info("expanding", resource=r.address, fields=[f.path for f in fields])
        _step(ctx, r, "expanding", lambda: r.update(ctx, wanted, live, fields))


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
