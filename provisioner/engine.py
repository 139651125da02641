"""The reconcile engine: dependency order, concurrent live reads, plan, apply, destroy, waits.

    plan():   every resource is read as soon as the resources it depends on have been read
              (graphlib, a thread pool), normalised, diffed against its desired value -> Plan.
    apply():  resources in dependency order; a resource is touched only when the plan changes it
              or a dependency changed during this apply. Each step re-reads right before it
              writes and reads again after (read-after-write) to publish fresh outputs.

``plan`` and ``drift`` are the same computation; nothing here branches on "dry run".

Ownership (``provisioner.ownership``): every existing resource is ours, shared, or foreign. A
foreign one is planned as ``foreign`` (plan exits 1; apply refuses before its first write) unless
the desired state's ``[adopt]`` globs or ``--adopt`` name it: then ``adopt``, the field changes
plus the ownership mark. Apply re-checks ownership right before every write (a thing that became
foreign since the plan is refused, never claimed); destroy deletes only what is ours.

Invariant (expand, switch, contract): no apply ever cuts users off. At every moment of an apply,
after every single mutating request, the distribution the alias resolves to is granted
``s3:GetObject`` by the buildcache bucket policy, for the origin access it uses now and, while it
deploys a change, for the one it used before. How:
  - expand: a resource with ``expand_before = (X,)`` applies its ``expand_desired`` right before X
    (the distribution) is changed: the bucket policy gets the new origin access's grant while it
    keeps every grant a live distribution uses;
  - switch: X changes (OAI <-> OAC, a new certificate attached) and is waited for until deployed;
  - contract: the resource's own desired value at its place after X in the dependency order,
    which still keeps any grant a live distribution's origin uses (``s3.S3BucketPolicy``: all of
    them while a distribution of the bucket is not yet deployed, e.g. with --no-wait);
  - DNS is pointed at the distribution only after its grant (alias records depend on the policy);
  - an adopted role gets our inline policy before the previous owner's extra policies go, and is
    tagged ours last; a replaced certificate is attached before the old one could be deleted
    (apply never deletes it). tests/test_adoption.py checks it after every mutating request.
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

from . import ownership as own
from .config import DesiredState
from .context import Context, Progress
from .errors import PreconditionError, ProvisionError, StepError
from .model import (
    ADOPT,
    CREATE,
    DELETE,
    FOREIGN,
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


def _change_for(ctx: Context, r: Resource) -> Change:
    live = ctx.live.get(r.address)
    if r.data_source:
        return Change(r.address, READ if live is None else NOOP, fingerprint=fingerprint(live))
    desired = r.desired(ctx)
    fp = fingerprint(decided_view(live, desired))
    if live is None:
        fields = tuple(FieldChange(f.path, None, f.new, "ADD") for f in r.diff(desired, {}))
        return Change(r.address, CREATE, fields, fingerprint=fp, owner=own.ABSENT)
    o = r.ownership(ctx, live)
    fields = tuple(r.diff(desired, live))
    replaces = any(f.kind == "NOTE" and f.path == "replace" for f in fields)  # a "replace" note: destructive
    if o.state == own.FOREIGN:  # never changed silently: adopted on purpose, or it blocks
        action = ADOPT if ctx.adopts(r.address, o) else FOREIGN
        return Change(r.address, action, fields, destructive=replaces, fingerprint=fp, owner=o.state,
                      owner_note=o.detail)
    return Change(r.address, UPDATE if fields else NOOP, fields, destructive=replaces, fingerprint=fp,
                  owner=o.state, owner_note=o.detail)


def plan(ctx: Context, resources: list[Resource], unmanaged: list[str] | None = None) -> Plan:
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
    return Plan(changes=changes, unmanaged=list(unmanaged or []), source=ctx.desired.source,
                desired_hash=desired_hash(ctx.desired), adopt=list(ctx.adopt))


def refuse_blocked(ctx: Context | None, the_plan: Plan) -> None:
    """PreconditionError naming every foreign resource not adopted (apply's first check)."""
    blocked = the_plan.blocked
    if not blocked:
        return
    who = f"stack {ctx.desired.stack.name}" if ctx is not None else "the stack"
    lines = [f"{c.address} ({c.owner_note})" if c.owner_note else c.address for c in blocked]
    raise PreconditionError(
        f"refusing to apply: {len(blocked)} resource(s) exist but are not owned by {who}; nothing "
        "was changed. Review them in `provision plan`, then adopt them on purpose ([adopt] resources = [...] "
        "in the desired state, or --adopt PATTERN; --adopt '*' for all):\n  " + "\n  ".join(lines))


def destroy_plan(ctx: Context, resources: list[Resource]) -> Plan:
    stack = ctx.desired.stack.name
    ordered = order(resources)
    ctx.resources = {r.address: r for r in ordered}
    read_all(ctx, ordered)
    changes = []
    for r in reversed(ordered):
        live = ctx.live.get(r.address)
        o = r.ownership(ctx, live) if live is not None and not r.data_source else own.Ownership(own.ABSENT)
        owned = o.state == own.OURS and r.owned(ctx, live or {})  # owned(): may add checks (still in use)
        # what a destroy plan decides on: existence and ownership, not the live values
        fp = fingerprint(None if live is None else {"exists": True, "owned": owned})
        if r.data_source or live is None or o.state == own.ABSENT:
            note = "data source: never deleted" if r.data_source else "does not exist"
            changes.append(Change(r.address, NOOP, note=note, fingerprint=fp))
        elif r.retain_on_destroy:
            changes.append(Change(r.address, NOOP, note="retained (retention policy)", fingerprint=fp, owner=o.state))
        elif not owned:
            why = ("shared: never deleted" if o.state == own.SHARED else "still in use by others" if o.state == own.OURS
                   else own.not_owned_message(stack, o.detail))
            changes.append(Change(r.address, NOOP, note=f"retained ({why})", fingerprint=fp, owner=o.state,
                                  owner_note=o.detail))
        else:
            changes.append(Change(r.address, DELETE, destructive=True, fingerprint=fp, owner=o.state))
    return Plan(changes=changes, source=ctx.desired.source, desired_hash=desired_hash(ctx.desired), mode="destroy")


class ApplyResult:
    def __init__(self) -> None:
        self.done: list[tuple[str, str]] = []  # (address, action)
        self.unconverged: list[Change] = []
        # --no-wait: what was left for a later apply -> why (a settle not waited for, or the
        # values that depend on one)
        self.deferred: dict[str, str] = {}


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
            fields = tuple(r.diff(desired, live))
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
        left = r.diff(desired, after) if after is not None else [FieldChange("(resource)", None, "exists", "ADD")]
        if left:
            log.warning("not converged yet", resource=r.address, fields=[f.path for f in left])
            result.unconverged.append(Change(r.address, UPDATE, tuple(left)))
    return result


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


def outputs(ctx: Context) -> dict[str, Any]:
    """The desired state's named outputs, from live outputs read by plan()."""
    result: dict[str, Any] = {}
    for name, ref in ctx.desired.outputs:
        addr, _, key = ref.rpartition(".")
        v = ctx.outs.get(addr, {}).get(key)
        result[name] = v
    return result


__all__ = ["Context", "Progress", "plan", "apply", "destroy_plan", "outputs", "order", "read_all", "PreconditionError",
           "refuse_blocked"]
