"""Drift is the plan told as drift: ``[drift] ignore`` filtering and the list of drift items."""

from __future__ import annotations

from typing import Any

from ..model import ADOPT, CREATE, FOREIGN, NOOP, Change, Plan, jsonable

#: drift item kinds, in report order: a resource missing, one not owned by the stack, then field
#: differences by kind
KINDS = ("MISSING", "NOT_OWNED", "CHANGE", "ADD", "REMOVE", "NOTE")


def drifted(plan: Plan) -> list[Change]:
    """What differs, in plan order: the actionable changes and the foreign resources not adopted (blocked)."""
    differ = {id(c) for c in plan.actionable + plan.blocked}
    return [c for c in plan.changes if id(c) in differ]


def apply_ignores(plan: Plan, patterns: tuple[str, ...] | list[str]) -> tuple[Plan, list[str]]:
    """Drop the differences that ``[drift] ignore`` accepts; return the rest and what was ignored.

    A pattern is ``address`` (the whole resource) or ``address:field`` (fnmatch on both parts; a
    field pattern also matches the fields below it). Ignored items stay visible in the report.
    """
    import fnmatch
    from dataclasses import replace

    if not patterns:
        return plan, []

    def hit(address: str, path: str | None) -> bool:
        for p in patterns:
            addr_pat, _, field_pat = p.partition(":")
            if not fnmatch.fnmatchcase(address, addr_pat):
                continue
            if not field_pat:
                return True
            if path is not None and (fnmatch.fnmatchcase(path, field_pat) or path.startswith(field_pat + ".")):
                return True
        return False

    ignored: list[str] = []
    changes = []
    for c in plan.changes:
        if c.action == NOOP:
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
    return replace(plan, changes=changes), ignored


def drift_items(plan: Plan) -> list[dict[str, Any]]:
    """One item per difference: resource, path, kind (MISSING / NOT_OWNED / CHANGE / ADD / REMOVE /
    NOTE), expected, actual."""
    items: list[dict[str, Any]] = []
    for c in drifted(plan):
        if c.action == CREATE:
            items.append({"resource": c.address, "path": "", "kind": "MISSING", "expected": "exists",
                          "actual": None})
            continue
        if c.action in (FOREIGN, ADOPT):
            items.append({"resource": c.address, "path": "", "kind": "NOT_OWNED", "expected": "owned by this stack",
                          "actual": c.owner_note or "not owned"})
        for f in c.fields:
            items.append({"resource": c.address, "path": f.path, "kind": f.kind, "expected": jsonable(f.new),
                          "actual": jsonable(f.old)})
    return items
