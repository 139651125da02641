"""Planning: dependency order, concurrent live reads, the diff with ownership and UNEXPECTED items, orphans,
the destroy plan and the stack outputs. See the package docstring."""


from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from graphlib import CycleError, TopologicalSorter
from typing import Any

import structlog

from .. import applied
from .. import ownership as own
from ..config import DesiredState
from ..context import Context
from ..errors import PreconditionError, ProvisionError, StepError
from ..model import (
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
    decided_view,
    fingerprint,
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

    from ..config import ignore_matches

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
        return Change(r.address, CREATE, fields, fingerprint=fp, owner=own.ABSENT)
    o = r.ownership(ctx, live)
    fields = tuple(all_changes(ctx, r, desired, live))
    replaces = any(f.kind == "NOTE" and f.path == "replace" for f in fields)  # a "replace" note: destructive
    if o.state == own.FOREIGN:  # never changed silently: adopted on purpose, or it blocks
        action = ADOPT if ctx.adopts(r.address, o) else FOREIGN
        return Change(r.address, action, fields, destructive=replaces, fingerprint=fp, owner=o.state,
                      owner_note=o.detail)
    acting = any(not f.report_only for f in fields)  # report-only findings alone change nothing
    return Change(r.address, UPDATE if acting else NOOP, fields, destructive=replaces, fingerprint=fp,
                  owner=o.state, owner_note=o.detail)


def last_record(ctx: Context) -> dict | None:
    """The last apply's record (``applied``), read once per plan step and only when needed."""
    return ctx.memo("applied:last-apply", lambda: applied.read(ctx.aws, ctx.desired))


def plan(ctx: Context, resources: list[Resource], unmanaged: list[str] | None = None, *, prune: bool = False) -> Plan:
    """Read everything, diff it, find orphans (``prune``: the ones prune may delete become deletions)."""
    from ..reconcilers import coverage, orphans

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
                coverage=coverage.of(ctx, ordered), adopt=list(ctx.adopt))


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


def outputs(ctx: Context) -> dict[str, Any]:
    """The desired state's named outputs, from live outputs read by plan()."""
    result: dict[str, Any] = {}
    for name, ref in ctx.desired.outputs:
        addr, _, key = ref.rpartition(".")
        v = ctx.outs.get(addr, {}).get(key)
        result[name] = v
    return result
