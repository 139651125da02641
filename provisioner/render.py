"""Human (Terraform-style) and JSON renderings of plans, drift reports and outputs.

JSON plan shape (``format_version`` 1, stable; documented in README.md):
    {"format_version": 1, "mode": "apply"|"destroy", "source": str, "desired_hash": str,
     "has_changes": bool, "summary": {"create": n, "update": n, "delete": n, "adopt": n},
     "changes": [{"address": str, "action": "create"|"update"|"delete"|"no-op",
                  "destructive": bool, "note": str, "fingerprint": str,
                  "owner": "absent"|"ours"|"foreign"|"shared"|"", "owner_note": str,
                  "fields": [{"path": str, "expected": any, "actual": any,
                              "kind": "ADD"|"REMOVE"|"CHANGE"|"NOTE"}]}],
     "unmanaged": [section, ...], "adopt": [glob, ...], "blocked": [address, ...]}
    action "adopt": a foreign resource adopted on purpose; "foreign": one not adopted (blocks).
"""

from __future__ import annotations

import json
from typing import Any

from . import ownership as own
from .model import ADOPT, CREATE, DELETE, FOREIGN, NOOP, UPDATE, Change, Plan, jsonable

SYMBOL = {CREATE: "+", UPDATE: "~", DELETE: "-", ADOPT: ">", FOREIGN: "!"}


def _v(value: Any, indent: int = 8) -> str:
    """A value on one line when short; long structures as indented JSON (never truncated)."""
    value = jsonable(value)
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value == "(known after apply)" else json.dumps(value)
    s = json.dumps(value, sort_keys=True, default=str)
    if len(s) <= 110:
        return s
    pretty = json.dumps(value, sort_keys=True, default=str, indent=2)
    return pretty.replace("\n", "\n" + " " * indent)


def _verb(c: Change, stack: str) -> str:
    if c.action == FOREIGN:
        return own.not_owned_message(stack, c.owner_note)
    if c.action == ADOPT:
        return "will be adopted" + (f" ({c.owner_note})" if c.owner_note else "") + (
            " and updated in place" if c.fields else "")
    if c.action == UPDATE and c.owner == own.SHARED:
        return "will be extended in place (shared: not owned by this stack; nothing of others is removed)"
    return {CREATE: "will be created", UPDATE: "will be updated in place", DELETE: "will be DELETED"}.get(
        c.action, c.action)


def plan_text(plan: Plan, *, verbose: bool = False, stack: str = "") -> str:
    lines: list[str] = []
    for c in plan.changes:
        if c.action == NOOP:
            if verbose or (c.note and plan.mode == "destroy"):
                shared = "  (shared: not owned by this stack)" if c.owner == own.SHARED and not c.note else ""
                lines.append(f"  = {c.address}" + (f"  ({c.note})" if c.note else shared))
            continue
        sym = SYMBOL.get(c.action, "?")
        tag = "  # DESTRUCTIVE" if c.destructive else ""
        lines.append(f"  {sym} {c.address}  {_verb(c, stack)}{tag}" + (f"  ({c.note})" if c.note else ""))
        if c.action == FOREIGN and c.fields:
            lines.append("      adopting it would change:")
        fsym = "~" if c.action in (ADOPT, FOREIGN) else sym
        for f in c.fields:
            if f.kind == "NOTE":
                lines.append(f"      {fsym} {f.path}: {f.new}")
            elif c.action == CREATE or f.kind == "ADD":
                lines.append(f"      + {f.path} = {_v(f.new)}")
            elif f.kind == "REMOVE":
                lines.append(f"      - {f.path} = {_v(f.old)}")
            else:
                lines.append(f"      ~ {f.path}: {_v(f.old)} -> {_v(f.new)}")
    for section in plan.unmanaged:
        lines.append(f"  ! {section}: not yet managed (parsed and validated; no reconciler yet)")
    n = plan.counts()
    adopt = f", {n[ADOPT]} to adopt" if n[ADOPT] else ""
    if plan.has_changes:
        lines.append(f"Plan: {n[CREATE]} to add, {n[UPDATE]} to change, {n[DELETE]} to destroy{adopt}.")
    elif not plan.blocked:
        lines.append("No changes. Live AWS matches the desired state." if plan.mode == "apply"
                     else "Nothing to destroy.")
    if plan.blocked:
        who = f"stack {stack}" if stack else "this stack"
        lines.append(
            f"Blocked: {len(plan.blocked)} resource(s) exist but are not owned by {who} (marked !). Nothing will "
            "be changed while they are not adopted: review what adopting would change, then adopt them on "
            "purpose with [adopt] resources = [...] in the desired state or --adopt PATTERN (--adopt '*' for all).")
    return "\n".join(lines)


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


def drift_text(plan: Plan, ignored: list[str] | None = None) -> str:
    text = _drift_text(plan)
    if ignored:
        text += "\n" + "\n".join(f"  (ignored by [drift] ignore: {i})" for i in ignored)
    return text


def _drifted(plan: Plan) -> list[Change]:
    return plan.actionable + plan.blocked


def _drift_text(plan: Plan) -> str:
    drifted = _drifted(plan)
    if not drifted:
        return f"no drift: {len(plan.changes)} resources match {plan.source}"
    lines = [f"DRIFT: {len(drifted)} of {len(plan.changes)} resources differ from {plan.source}"]
    for c in drifted:
        if c.action == CREATE:
            lines.append(f"  {c.address}: missing (expected to exist)")
            continue
        if c.action in (FOREIGN, ADOPT):
            lines.append(f"  {c.address}: exists, not owned by this stack" + (f" ({c.owner_note})" if c.owner_note else "")
                         + ("; to be adopted" if c.action == ADOPT else ""))
        for f in c.fields:
            if f.kind == "NOTE":
                lines.append(f"  {c.address}  {f.path}: {f.new}")
            else:
                lines.append(f"  {c.address}  {f.path}: expected {_v(f.new)}, actual {_v(f.old)}")
    for section in plan.unmanaged:
        lines.append(f"  ({section}: not yet managed, not checked)")
    return "\n".join(lines)


def drift_json(plan: Plan, ignored: list[str] | None = None) -> dict:
    items = []
    for c in _drifted(plan):
        if c.action == CREATE:
            items.append({"resource": c.address, "path": "", "kind": "MISSING", "expected": "exists",
                          "actual": None})
        if c.action in (FOREIGN, ADOPT):
            items.append({"resource": c.address, "path": "", "kind": "NOT_OWNED", "expected": "owned by this stack",
                          "actual": c.owner_note or "not owned"})
        for f in c.fields if c.action != CREATE else ():
            items.append({"resource": c.address, "path": f.path, "kind": f.kind, "expected": jsonable(f.new),
                          "actual": jsonable(f.old)})
    return {
        "format_version": 1,
        "source": plan.source,
        "drifted": bool(items),
        "resources_checked": len(plan.changes),
        "resources_drifted": len(_drifted(plan)),
        "drift": items,
        "ignored": list(ignored or []),
        "unmanaged": list(plan.unmanaged),
    }


def to_json(data: Any) -> str:
    return json.dumps(jsonable(data), indent=2, sort_keys=False, default=str)
