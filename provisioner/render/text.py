"""The human (Terraform-style) text of plans and drift reports, coloured on a terminal when asked."""

from __future__ import annotations

import json
from typing import Any

from ..model import CREATE, DELETE, NOOP, UPDATE, Plan, jsonable

SYMBOL = {CREATE: "+", UPDATE: "~", DELETE: "-"}

# ANSI SGR codes: the CLI decides whether to colour (logs.color_enabled: --color, NO_COLOR, TERM, a tty)
_SGR = {"+": "32", "~": "33", "-": "31", "!": "31;1", "bold": "1", "ok": "32"}


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


def plan_text(plan: Plan, *, verbose: bool = False, color: bool = False) -> str:
    lines: list[str] = []
    for c in plan.changes:
        if c.action == NOOP:
            if verbose or (c.note and plan.mode == "destroy"):
                lines.append(f"  = {c.address}" + (f"  ({c.note})" if c.note else ""))
            continue
        sym = SYMBOL.get(c.action, "?")
        tag = "  " + paint("# DESTRUCTIVE", "!", color) if c.destructive else ""
        verb = {CREATE: "will be created", UPDATE: "will be updated in place", DELETE: "will be DELETED"}.get(
            c.action, c.action)
        lines.append(f"  {_sym(sym, color)} {paint(c.address, 'bold', color)}  {verb}{tag}"
                     + (f"  ({c.note})" if c.note else ""))
        for f in c.fields:
            if f.kind == "NOTE":
                lines.append(f"      {_sym(sym, color)} {f.path}: {f.new}")
            elif c.action == CREATE or f.kind == "ADD":
                lines.append(f"      {_sym('+', color)} {f.path} = {_v(f.new)}")
            elif f.kind == "REMOVE":
                lines.append(f"      {_sym('-', color)} {f.path} = {_v(f.old)}")
            else:
                lines.append(f"      {_sym('~', color)} {f.path}: {_v(f.old)} -> {_v(f.new)}")
    for section in plan.unmanaged:
        lines.append(f"  ! {section}: not yet managed (parsed and validated; no reconciler yet)")
    n = plan.counts()
    if plan.has_changes:
        lines.append(paint(f"Plan: {n[CREATE]} to add, {n[UPDATE]} to change, {n[DELETE]} to destroy.", "bold", color))
    else:
        lines.append("No changes. Live AWS matches the desired state." if plan.mode == "apply"
                     else "Nothing to destroy.")
    return "\n".join(lines)


def _sym(sym: str, color: bool) -> str:
    return paint(sym, sym, color) if sym in _SGR else sym


def drift_text(plan: Plan, ignored: list[str] | None = None, *, color: bool = False) -> str:
    text = _drift_text(plan, color)
    if ignored:
        text += "\n" + "\n".join(f"  (ignored by [drift] ignore: {i})" for i in ignored)
    return text


def _drift_text(plan: Plan, color: bool) -> str:
    drifted = plan.actionable
    if not drifted:
        return f"{paint('no drift', 'ok', color)}: {len(plan.changes)} resources match {plan.source}"
    lines = [f"{paint('DRIFT', '!', color)}: {len(drifted)} of {len(plan.changes)} resources differ from {plan.source}"]
    for c in drifted:
        if c.action == CREATE:
            lines.append(f"  {c.address}: missing (expected to exist)")
            continue
        for f in c.fields:
            if f.kind == "NOTE":
                lines.append(f"  {c.address}  {f.path}: {f.new}")
            else:
                lines.append(f"  {c.address}  {f.path}: expected {_v(f.new)}, actual {_v(f.old)}")
    for section in plan.unmanaged:
        lines.append(f"  ({section}: not yet managed, not checked)")
    return "\n".join(lines)
