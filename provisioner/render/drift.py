"""Drift is the plan told as drift: ``[drift] ignore`` filtering and the list of drift items."""

from __future__ import annotations

from typing import Any

from ..model import ADOPT, CREATE, FOREIGN, NOOP, Plan, jsonable

#: drift item kinds, in report order: a resource missing, one not owned by the stack, then field
#: differences by kind; UNEXPECTED is what AWS has and the desired state does not declare (an extra
#: grant, a CORS rule nobody wrote)
KINDS = ("MISSING", "NOT_OWNED", "CHANGE", "ADD", "REMOVE", "UNEXPECTED", "NOTE")

#: why a drift item drifted (``history.annotate``, from the last apply's record), in report order
CAUSE_HEADINGS = {
    "out-of-band": "changed in AWS by hand since the last apply (out-of-band):",
    "unapplied": "in the repository, not applied yet (unapplied):",
    "both": "changed in the repository and in AWS since the last apply (both):",
    "unknown": "cause unknown (no record of the last apply covers it):",
}


def apply_ignores(plan: Plan, patterns: tuple[str, ...] | list[str]) -> tuple[Plan, list[str]]:
    """Drop the differences that ``[drift] ignore`` accepts; return the rest and what was ignored.

    A pattern is ``address`` (the whole resource) or ``address:field`` (``config.ignore_matches``:
    fnmatch on both parts; a field pattern also matches the fields below it, and the path
    literally). Ignored items stay visible in the report; so do ignored orphans.
    """
    from dataclasses import replace

    from ..config import ignore_matches

    if not patterns:
        return plan, []

    def hit(address: str, path: str | None) -> bool:
        return ignore_matches(patterns, address, path)

    ignored: list[str] = []
    changes = []
    for c in plan.changes:
        if c.action == NOOP and not c.fields:
            changes.append(c)
        elif hit(c.address, None):
            ignored.append(c.address)
            changes.append(replace(c, action=NOOP, fields=(), note="ignored by [drift] ignore"))
        elif c.action == FOREIGN:  # not owned is never quieted field by field
            changes.append(c)
        else:
            keep = tuple(f for f in c.fields if not hit(c.address, f.path))
            ignored.extend(f"{c.address}:{f.path}" for f in c.fields if f not in keep)
            if c.fields and not keep and c.action != CREATE:
                changes.append(replace(c, action=NOOP, fields=(), note="ignored by [drift] ignore"))
            else:
                changes.append(replace(c, fields=keep) if c.action != CREATE else c)
    orphans = [o for o in plan.orphans if not hit(o.address, None)]
    ignored.extend(o.address for o in plan.orphans if o not in orphans)
    return replace(plan, changes=changes, orphans=orphans), ignored


def drift_items(plan: Plan) -> list[dict[str, Any]]:
    """One item per difference: resource, path, kind (``KINDS``), expected, actual; ``cause`` when
    the last apply's record tells it, ``report_only`` when apply leaves the item in place."""
    items: list[dict[str, Any]] = []
    for c in plan.drifted:
        if c.action == CREATE:
            item: dict[str, Any] = {"resource": c.address, "path": "", "kind": "MISSING", "expected": "exists",
                                    "actual": None}
            cause = next((f.cause for f in c.fields if f.cause), "")
            items.append({**item, "cause": cause} if cause else item)
            continue
        if c.action in (FOREIGN, ADOPT):
            items.append({"resource": c.address, "path": "", "kind": "NOT_OWNED", "expected": "owned by this stack",
                          "actual": c.owner_note or "not owned", "adopt": c.action == ADOPT})
        for f in c.fields:
            item = {"resource": c.address, "path": f.path, "kind": f.kind, "expected": jsonable(f.new),
                    "actual": jsonable(f.old)}
            if f.report_only:
                item["report_only"] = f.report_only
            if f.cause:
                item["cause"] = f.cause
            items.append(item)
    return items
