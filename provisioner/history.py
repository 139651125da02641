"""Why it drifted: the apply record each apply writes, the cause of each drift item, `provision history`.

After an apply that changed something, ``record`` writes (``applied.write``) per resource the hash
of its desired value and the fingerprint of the live value the apply left (per top-level field too),
with the desired file's hash, the git commit when the file is in a git work tree, the caller's ARN
and the time. ``annotate`` then gives each drift item a cause, by comparing now with that record:

- ``out-of-band``: the live value changed since the last apply, the desired value did not
  (someone changed AWS by hand);
- ``unapplied``: the desired value changed since the last apply and live is as applied (the
  repository changed and was not applied yet), or the resource is new in the desired state;
- ``both``: both changed (the same field, or, without per-field hashes, the same resource);
- ``unknown``: no record covers it (never applied with a record, or neither side moved, e.g. an
  apply that did not converge).

An UNEXPECTED thing (not declared) was put there by hand unless the desired value changed and live
did not: ``out-of-band`` (also when it predates the last apply, which left it, e.g. on a shared
resource), ``unapplied`` when only the desired value moved (a setting the file stopped declaring).
Field hashes are 3 hex digits per side: a change hides behind a collision with odds of 1 in 4096,
which can only misname a cause, never hide drift (drift compares the values themselves).
"""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import applied
from .model import CREATE, UNEXPECTED, Plan, decided_view, fingerprint

if TYPE_CHECKING:
    from .context import Context
    from .engine import ApplyResult
    from .model import Resource

OUT_OF_BAND, UNAPPLIED, BOTH, UNKNOWN = "out-of-band", "unapplied", "both", "unknown"
UNDECLARED_SLOT = "undeclared"


def _h(value: Any, n: int) -> str:
    return fingerprint(value)[:n]


def slot_of(path: str) -> str:
    """The top-level field a drift path is under (``trust_policy.Statement[...]`` -> ``trust_policy``)."""
    return path.split(".", 1)[0].split("[", 1)[0]


def _slots(desired: dict, live: dict | None) -> str:
    live = live or {}
    parts = [f"{k}={_h(desired.get(k), 3)}{_h(live.get(k), 3)}" for k in sorted(desired)]
    parts.append(f"{UNDECLARED_SLOT}={_h(None, 3)}{_h(live.get(UNDECLARED_SLOT) or None, 3)}")
    return ";".join(parts)


def entry(desired: dict, live: dict | None, arn: str) -> list[str]:
    """[desired hash, live fingerprint, per-field hashes, arn] of one resource."""
    return [_h(desired, 10), _h(decided_view(live, desired), 10), _slots(desired, live), arn]


def git_info(path: str) -> tuple[str | None, bool]:
    """(commit of the work tree holding ``path``, the file differs from it) or (None, False)."""
    where = os.path.dirname(os.path.abspath(path))
    try:
        commit = subprocess.run(["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        if not commit:
            return None, False
        status = subprocess.run(["git", "-C", where, "status", "--porcelain", "--", os.path.abspath(path)],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, False
    return commit, bool(status)


def _arn(ctx: Context, address: str) -> str:
    for source in (ctx.outs.get(address) or {}, ctx.live.get(address) or {}):
        arn = source.get("arn") if isinstance(source, dict) else None
        if isinstance(arn, str):
            return arn
    return ""


def build(ctx: Context, resources: list[Resource], plan: Plan, result: ApplyResult, *, caller: str,
          previous: dict | None = None, present: set[str] | None = None, command: str = "apply") -> dict:
    """The record of this apply: what it left, from the live values it read last.

    ``owned`` carries what the ``previous`` record proved ours and this apply no longer manages
    (a replaced certificate, a renamed topic), as long as it is still ``present`` (tagged as ours),
    and the orphans the plan found ours; minus what this apply pruned."""
    commit, dirty = git_info(ctx.desired.source)
    entries: dict[str, list[str]] = {}
    for r in resources:
        if r.data_source:
            continue
        try:
            desired = r.desired(ctx)
        except Exception:  # noqa: BLE001 - a value that cannot be resolved: no entry (cause "unknown")
            continue
        entries[r.address] = entry(desired, ctx.live.get(r.address), _arn(ctx, r.address))
    deleted = {o.arn for o in plan.orphans if result.pruned.get(o.address) == ""}
    managed = {e[3] for e in entries.values() if e[3]}
    carried = (applied.owned_arns(previous) or set()) & (present or set())
    owned = sorted((carried | {o.arn for o in plan.orphans if o.ours}) - deleted - managed)
    return {
        "v": 1, "command": command,
        "at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "by": caller, "commit": commit, "dirty": dirty, "file": ctx.desired.source,
        "desired_hash": plan.desired_hash,
        "changed": [[a, action] for a, action in result.done],
        "pruned": sorted(deleted), "r": entries, "owned": owned,
    }


def record(ctx: Context, resources: list[Resource], plan: Plan, result: ApplyResult) -> dict:
    """Write the record of an apply that changed something (caller identity: one STS call)."""
    try:
        caller = ctx.aws.client("sts").get_caller_identity().get("Arn", "")
    except Exception:  # noqa: BLE001 - the record says who when it can
        caller = ""
    from .reconcilers import tag_index

    ctx.forget()  # what is tagged as ours now (after this apply), and the record it replaces
    rec = build(ctx, resources, plan, result, caller=caller, previous=applied.read(ctx.aws, ctx.desired),
                present=set(tag_index.everything(ctx)))
    applied.write(ctx.aws, ctx.desired, rec)
    return rec


# -- causes -------------------------------------------------------------------------------------

def _decide(desired_moved: bool, live_moved: bool) -> str:
    if desired_moved and live_moved:
        return BOTH
    if desired_moved:
        return UNAPPLIED
    if live_moved:
        return OUT_OF_BAND
    return UNKNOWN


def cause(rec: dict | None, address: str, path: str, kind: str, desired: dict | None, live: dict | None) -> str:
    """The cause of one drift item (``kind`` MISSING for a missing resource)."""
    if rec is None:
        return UNKNOWN
    e = (rec.get("r") or {}).get(address)
    if not e:
        # new in the desired state since the last apply (which recorded every resource it had)
        return UNAPPLIED if kind == "MISSING" and not rec.get("shrunk") else UNKNOWN
    desired_moved = desired is not None and _h(desired, 10) != e[0]
    if kind == "MISSING":
        return _decide(desired_moved, _h(None, 10) != e[1])
    live = live or {}
    slots = dict(p.split("=", 1) for p in e[2].split(";") if "=" in p) if len(e) > 2 and e[2] else {}
    slot = slot_of(path)
    if kind == UNEXPECTED and slot not in (desired or {}):
        slot = UNDECLARED_SLOT
    if slot in slots and desired is not None:
        was = slots[slot]
        if slot == UNDECLARED_SLOT:  # nothing declares it: the resource's desired value says if the file moved
            d_moved, l_moved = desired_moved, _h(live.get(slot) or None, 3) != was[3:]
        else:
            d_moved, l_moved = _h(desired.get(slot), 3) != was[:3], _h(live.get(slot), 3) != was[3:]
    else:  # no per-field hashes: the whole resource
        d_moved, l_moved = desired_moved, _h(decided_view(live, desired or {}), 10) != e[1]
    if kind == UNEXPECTED:
        # not declared: by hand, unless only the desired state moved (the file stopped declaring it)
        return UNAPPLIED if d_moved and not l_moved else OUT_OF_BAND
    return _decide(d_moved, l_moved)


def annotate(ctx: Context, plan: Plan, rec: dict | None) -> Plan:
    """The plan with a cause on every drifted field (a missing resource's fields: the resource's)."""
    changes = []
    for c in plan.changes:
        r = ctx.resources.get(c.address)
        if not c.fields or r is None or r.data_source:
            changes.append(c)
            continue
        try:
            desired: dict | None = r.desired(ctx)
        except Exception:  # noqa: BLE001
            desired = None
        live = ctx.live.get(c.address)
        if c.action == CREATE:
            why = cause(rec, c.address, "", "MISSING", desired, None)
            changes.append(replace(c, fields=tuple(replace(f, cause=why) for f in c.fields)))
        else:
            changes.append(replace(c, fields=tuple(
                replace(f, cause=cause(rec, c.address, f.path, f.kind, desired, live)) for f in c.fields)))
    return replace(plan, changes=changes)


# -- provision history ------------------------------------------------------------------------------

def rows(records: list[dict], limit: int) -> list[dict]:
    out = []
    for rec in records[:limit]:
        out.append({"version": rec.get("version"), "at": rec.get("at"), "by": rec.get("by"),
                    "commit": rec.get("commit"), "dirty": bool(rec.get("dirty")), "file": rec.get("file"),
                    "desired_hash": rec.get("desired_hash"), "changed": [list(x) for x in rec.get("changed") or []],
                    "pruned": list(rec.get("pruned") or [])})
    return out


def text(items: list[dict]) -> str:
    if not items:
        return "no recorded applies (the record is written by an apply that changes something)"
    lines = []
    for i in items:
        commit = (i["commit"][:12] if i["commit"] else "no git commit") + (" (uncommitted changes)" if i["dirty"] else "")
        lines.append(f"#{i['version']}  {i['at']}  {i['by'] or '?'}  {commit}  {i['file']}")
        for address, action in i["changed"]:
            lines.append(f"    {action:<6} {address}")
        for arn in i["pruned"]:
            lines.append(f"    pruned {arn}")
    return "\n".join(lines)
