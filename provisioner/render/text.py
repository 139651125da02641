"""The human (Terraform-style) text of plans and drift reports, coloured on a terminal when asked."""

from __future__ import annotations

import json
from typing import Any

from .. import ownership as own
from ..model import ADOPT, CREATE, DELETE, FOREIGN, NOOP, UNEXPECTED, UPDATE, Change, FieldChange, Orphan, Plan, jsonable
from .drift import CAUSE_HEADINGS, drift_items

SYMBOL = {CREATE: "+", UPDATE: "~", DELETE: "-", ADOPT: ">", FOREIGN: "!"}

# ANSI SGR codes: the CLI decides whether to colour (logs.color_enabled: --color, NO_COLOR, TERM, a tty)
_SGR = {"+": "32", "~": "33", "-": "31", ">": "36", "!": "31;1", "bold": "1", "ok": "32"}


def paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if color else text


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


def _field_line(sym: str, action: str, f: FieldChange, color: bool) -> str:
    if f.kind == UNEXPECTED:
        if f.report_only:
            return f"      {_sym('!', color)} {f.path} = {_v(f.old)}  (unexpected, not changed: {f.report_only})"
        return f"      {_sym('-', color)} {f.path} = {_v(f.old)}  (unexpected: not in the desired state; removed)"
    if f.kind == "NOTE":
        return f"      {_sym(sym, color)} {f.path}: {f.new}"
    if action == CREATE or f.kind == "ADD":
        return f"      {_sym('+', color)} {f.path} = {_v(f.new)}"
    if f.kind == "REMOVE":
        return f"      {_sym('-', color)} {f.path} = {_v(f.old)}"
    return f"      {_sym('~', color)} {f.path}: {_v(f.old)} -> {_v(f.new)}"


def _orphan_line(o: Orphan, prune: bool) -> str:
    what = "apply --prune deletes it" if o.deletable else f"kept: {o.kept}"
    if prune and o.deletable:
        what = "deleted by this apply --prune"
    return f"  ? {o.address}  orphan ({o.type} {o.name}): {o.why}; {what}"


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


def plan_text(plan: Plan, *, verbose: bool = False, color: bool = False, stack: str = "") -> str:
    lines: list[str] = []
    for c in plan.changes:
        if c.action == NOOP:
            if c.fields:  # report-only findings: shown, not changed
                lines.append(f"  {_sym('!', color)} {c.address}  reported, not changed" + (f"  ({c.note})" if c.note else ""))
                lines.extend(_field_line("!", c.action, f, color) for f in c.fields)
            elif verbose or (c.note and plan.mode == "destroy"):
                shared = "  (shared: not owned by this stack)" if c.owner == own.SHARED and not c.note else ""
                lines.append(f"  = {c.address}" + (f"  ({c.note})" if c.note else shared))
            continue
        sym = SYMBOL.get(c.action, "?")
        tag = "  " + paint("# DESTRUCTIVE", "!", color) if c.destructive else ""
        lines.append(f"  {_sym(sym, color)} {paint(c.address, 'bold', color)}  {_verb(c, stack)}{tag}"
                     + (f"  ({c.note})" if c.note else ""))
        if c.action == FOREIGN and c.fields:
            lines.append("      adopting it would change:")
        fsym = "~" if c.action in (ADOPT, FOREIGN) else sym
        lines.extend(_field_line(fsym, c.action, f, color) for f in c.fields)
    planned = {c.address for c in plan.changes}
    lines.extend(_orphan_line(o, plan.prune) for o in plan.orphans if o.address not in planned)
    for section in plan.unmanaged:
        lines.append(f"  ! {section}: not yet managed (parsed and validated; no reconciler yet)")
    n = plan.counts()
    adopt = f", {n[ADOPT]} to adopt" if n[ADOPT] else ""
    if plan.has_changes:
        lines.append(paint(f"Plan: {n[CREATE]} to add, {n[UPDATE]} to change, {n[DELETE]} to destroy{adopt}.",
                           "bold", color))
    elif not plan.blocked:
        lines.append("No changes. Live AWS matches the desired state." if plan.mode == "apply"
                     else "Nothing to destroy.")
    if plan.blocked:
        who = f"stack {stack}" if stack else "this stack"
        lines.append(paint(
            f"Blocked: {len(plan.blocked)} resource(s) exist but are not owned by {who} (marked !). Nothing will "
            "be changed while they are not adopted: review what adopting would change, then adopt them on "
            "purpose with [adopt] resources = [...] in the desired state or --adopt PATTERN (--adopt '*' for all).",
            "!", color))
    return "\n".join(lines)


def _sym(sym: str, color: bool) -> str:
    return paint(sym, sym, color) if sym in _SGR else sym


def drift_text(plan: Plan, ignored: list[str] | None = None, *, color: bool = False) -> str:
    text = _drift_text(plan, color)
    if ignored:
        text += "\n" + "\n".join(f"  (ignored by [drift] ignore: {i})" for i in ignored)
    return text


def _item_line(i: dict) -> str:
    if i["kind"] == "MISSING":
        return f"  {i['resource']}: missing (expected to exist)"
    if i["kind"] == "NOT_OWNED":
        note = f" ({i['actual']})" if i["actual"] != "not owned" else ""
        return f"  {i['resource']}: exists, not owned by this stack{note}" + ("; to be adopted" if i.get("adopt") else "")
    if i["kind"] == "NOTE":
        return f"  {i['resource']}  {i['path']}: {i['expected']}"
    if i["kind"] == UNEXPECTED:
        left = f"; not removed: {i['report_only']}" if i.get("report_only") else ""
        return f"  {i['resource']}  {i['path']}: UNEXPECTED (not in the desired state{left}): {_v(i['actual'])}"
    return f"  {i['resource']}  {i['path']}: expected {_v(i['expected'])}, actual {_v(i['actual'])}"


def _drift_text(plan: Plan, color: bool) -> str:
    drifted = plan.drifted
    if not drifted and not plan.orphans:
        return f"{paint('no drift', 'ok', color)}: {len(plan.changes)} resources match {plan.source}"
    head = f"{paint('DRIFT', '!', color)}: {len(drifted)} of {len(plan.changes)} resources differ from {plan.source}"
    lines = [head + (f"; {len(plan.orphans)} orphan(s)" if plan.orphans else "")]
    items = drift_items(plan)
    if any(i.get("cause") for i in items):
        for cause, heading in CAUSE_HEADINGS.items():
            group = [i for i in items if (i.get("cause") or "unknown") == cause]
            if group:
                lines.append(heading)
                lines.extend(_item_line(i) for i in group)
    else:
        lines.extend(_item_line(i) for i in items)
    if plan.orphans:
        lines.append("orphans (tagged as this stack's, no longer in the desired state):")
        lines.extend(_orphan_line(o, False) for o in plan.orphans)
    for section in plan.unmanaged:
        lines.append(f"  ({section}: not yet managed, not checked)")
    return "\n".join(lines)
