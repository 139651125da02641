"""The human (Terraform-style) text of plans and drift reports, coloured on a terminal when asked."""

from __future__ import annotations

import json
from typing import Any

from .. import ownership as own
from ..model import ADOPT, CREATE, DELETE, FOREIGN, NOOP, UPDATE, Change, Plan, jsonable
from .drift import drifted

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
            if verbose or (c.note and plan.mode == "destroy"):
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
        for f in c.fields:
            if f.kind == "NOTE":
                lines.append(f"      {_sym(fsym, color)} {f.path}: {f.new}")
            elif c.action == CREATE or f.kind == "ADD":
                lines.append(f"      {_sym('+', color)} {f.path} = {_v(f.new)}")
            elif f.kind == "REMOVE":
                lines.append(f"      {_sym('-', color)} {f.path} = {_v(f.old)}")
            else:
                lines.append(f"      {_sym('~', color)} {f.path}: {_v(f.old)} -> {_v(f.new)}")
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


def _drift_text(plan: Plan, color: bool) -> str:
    differ = drifted(plan)
    if not differ:
        return f"{paint('no drift', 'ok', color)}: {len(plan.changes)} resources match {plan.source}"
    lines = [f"{paint('DRIFT', '!', color)}: {len(differ)} of {len(plan.changes)} resources differ from {plan.source}"]
    for c in differ:
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
