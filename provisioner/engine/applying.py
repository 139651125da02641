"""Applying a plan: concurrent writes in dependency order, settles beside them (``scheduling``), expand,
switch, contract; destroy in reverse order. See the package docstring."""


from __future__ import annotations

import functools
import threading
from typing import Any, Callable

import structlog

from .. import ownership as own
from ..batching import Batched
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
from . import scheduling
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
    try:
        if the_plan.mode == "destroy":
            _destroy(ctx, ordered, planned, result)
            return result
        refuse_blocked(ctx, the_plan)
        _Writes(ctx, ordered, planned, result).run()
        _prune(ctx, the_plan, planned, result)
        return result
    finally:
        ctx.progress.finish()  # every wait drawn on the terminal ends with the apply, done or not


def _destroy(ctx: Context, ordered: list[Resource], planned: dict[str, Change], result: ApplyResult) -> None:
    """Reverse dependency order, one at a time; each delete settled (a record's INSYNC) before the next."""
    for r in reversed(ordered):
        c = planned.get(r.address)
        if c is None or c.action != DELETE:
            continue
        ctx.forget()
        live = r.read(ctx)
        if live is None or not r.owned(ctx, live):  # gone, or no longer ours since the plan: kept
            continue
        _step(ctx, r, "deleting", functools.partial(r.delete, ctx, live))
        _step(ctx, r, "deleting", functools.partial(r.settle, ctx))
        result.done.append((r.address, DELETE))


class _Writes:
    """One apply's writes, run by ``scheduling.run``: each resource written once what it needs is
    written (and settled where it says so), settles beside the writes."""

    def __init__(self, ctx: Context, ordered: list[Resource], planned: dict[str, Change], result: ApplyResult):
        self.ctx, self.ordered, self.planned, self.result = ctx, ordered, planned, result
        self.changed: set[str] = set()
        self.expanders = [e for e in ordered if e.expand_before]
        self._lock = threading.Lock()

    def run(self) -> None:
        scheduling.run(self.ordered, scheduling.Steps(
            wanted=self.wanted, write=self.write, settle=self.settle,
            needs_settled=lambda r: tuple(_step(self.ctx, r, "planning", lambda: r.needs_settled(self.ctx))),
            batch_key=lambda r: r.batch_key(self.ctx) if isinstance(r, Batched) else None,
            write_batch=self.write_batch))
        # completion order varies between runs: report in dependency order
        rank = {r.address: i for i, r in enumerate(self.ordered)}
        self.result.done.sort(key=lambda d: rank.get(d[0], len(rank)))
        self.result.unconverged.sort(key=lambda c: rank.get(c.address, len(rank)))
        deferred = sorted(self.result.deferred.items(), key=lambda kv: rank.get(kv[0], len(rank)))
        self.result.deferred.clear()
        self.result.deferred.update(deferred)

    def wanted(self, r: Resource) -> bool:
        c = self.planned.get(r.address)
        if r.data_source:
            return False
        return not ((c is None or c.action == NOOP) and not any(d in self.changed for d in r.depends_on))

    def _done(self, r: Resource, action: str) -> None:
        with self._lock:
            self.changed.add(r.address)
            self.result.done.append((r.address, action))

    def settle(self, r: Resource) -> None:
        _step(self.ctx, r, "waiting for", lambda: r.settle(self.ctx))

    def write(self, r: Resource) -> bool:
        """Write ``r`` if it differs (re-read right before); True when a write was made."""
        then = self._write(r)
        return then() if callable(then) else then

    def write_batch(self, rs: list[Resource]) -> list[bool]:
        """Write resources whose writes share one request (``batching``): each one's write queues
        its part, one request carries them all, then each is read after its write as alone."""
        with self.ctx.batches.collect() as queue:
            thens = [self._write(r) for r in rs]
            try:
                queue.flush()
            except Exception as e:  # noqa: BLE001 - one message shape, naming every resource of the request
                labels = ", ".join(_label(r) for r, t in zip(rs, thens, strict=True) if callable(t))
                raise StepError("writing", labels, e) from e
        return [t() if callable(t) else t for t in thens]

    def _write(self, r: Resource) -> bool | Callable[[], bool]:
        """The write of ``r`` up to its request: -> the result (nothing written), or what follows
        the request (recording it, the read after the write), called once the request is sent."""
        ctx, result = self.ctx, self.result
        for e in self.expanders:  # expand before the switch
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
            return False
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
                    self._done(r, ADOPT)
                return False
            log.info("updating", resource=r.address, fields=[f.path for f in fields])
            _step(ctx, r, "updating", lambda: r.update(ctx, desired, live, fields))
            action = ADOPT if adopting else UPDATE
        return functools.partial(self._after, r, action, desired)

    def _after(self, r: Resource, action: str, desired: dict) -> bool:
        """After ``r``'s write request: record it, read it back (fresh outputs for dependents)."""
        ctx, result = self.ctx, self.result
        self._done(r, action)
        ctx.forget()
        _step(ctx, r, "reading", lambda: _read_one(ctx, r))  # read-after-write: fresh outputs for dependents
        after = ctx.live.get(r.address)
        if after is None and r.address in ctx.deferred:
            result.deferred[r.address] = f"not waited for: {ctx.deferred[r.address]}"
            return True
        left = _to_apply(ctx, r, desired, after) if after is not None else [FieldChange("(resource)", None, "exists", "ADD")]
        if left:
            log.warning("not converged yet", resource=r.address, fields=[f.path for f in left])
            with self._lock:
                result.unconverged.append(Change(r.address, UPDATE, tuple(left)))
        return True


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
