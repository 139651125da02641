"""Human (Terraform-style) and JSON renderings of plans, drift reports and outputs.

JSON plan shape (``format_version`` 1, stable; documented in README.md):
    {"format_version": 1, "mode": "apply"|"destroy", "source": str, "desired_hash": str,
     "has_changes": bool, "summary": {"create": n, "update": n, "delete": n},
     "changes": [{"address": str, "action": "create"|"update"|"delete"|"no-op",
                  "destructive": bool, "note": str, "fingerprint": str,
                  "fields": [{"path": str, "expected": any, "actual": any,
                              "kind": "ADD"|"REMOVE"|"CHANGE"|"NOTE"|"UNEXPECTED",
                              "report_only": why (only when apply leaves it)}]}],
     "unmanaged": [section, ...], "orphans": [orphan, ...], "prune": bool}
"""

from __future__ import annotations

import json
from typing import Any

from .model import CREATE, DELETE, NOOP, UNEXPECTED, UPDATE, FieldChange, Orphan, Plan, jsonable

SYMBOL = {CREATE: "+", UPDATE: "~", DELETE: "-"}


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


def _field_line(sym: str, action: str, f: FieldChange) -> str:
    if f.kind == UNEXPECTED:
        if f.report_only:
            return f"      ! {f.path} = {_v(f.old)}  (unexpected, not changed: {f.report_only})"
        return f"      - {f.path} = {_v(f.old)}  (unexpected: not in the desired state; removed)"
    if f.kind == "NOTE":
        return f"      {sym} {f.path}: {f.new}"
    if action == CREATE or f.kind == "ADD":
        return f"      + {f.path} = {_v(f.new)}"
    if f.kind == "REMOVE":
        return f"      - {f.path} = {_v(f.old)}"
    return f"      ~ {f.path}: {_v(f.old)} -> {_v(f.new)}"


def _orphan_line(o: Orphan, prune: bool) -> str:
    what = "apply --prune deletes it" if o.deletable else f"kept: {o.kept}"
    if prune and o.deletable:
        what = "deleted by this apply --prune"
    return f"  ? {o.address}  orphan ({o.type} {o.name}): {o.why}; {what}"


def plan_text(plan: Plan, *, verbose: bool = False) -> str:
    lines: list[str] = []
    for c in plan.changes:
        if c.action == NOOP:
            if c.fields:  # report-only findings: shown, not changed
                lines.append(f"  ! {c.address}  reported, not changed" + (f"  ({c.note})" if c.note else ""))
                lines.extend(_field_line("!", c.action, f) for f in c.fields)
            elif verbose or (c.note and plan.mode == "destroy"):
                lines.append(f"  = {c.address}" + (f"  ({c.note})" if c.note else ""))
            continue
        sym = SYMBOL.get(c.action, "?")
        tag = "  # DESTRUCTIVE" if c.destructive else ""
        verb = {CREATE: "will be created", UPDATE: "will be updated in place", DELETE: "will be DELETED"}.get(
            c.action, c.action)
        lines.append(f"  {sym} {c.address}  {verb}{tag}" + (f"  ({c.note})" if c.note else ""))
        lines.extend(_field_line(sym, c.action, f) for f in c.fields)
    planned = {c.address for c in plan.changes}
    lines.extend(_orphan_line(o, plan.prune) for o in plan.orphans if o.address not in planned)
    for section in plan.unmanaged:
        lines.append(f"  ! {section}: not yet managed (parsed and validated; no reconciler yet)")
    n = plan.counts()
    if plan.has_changes:
        lines.append(f"Plan: {n[CREATE]} to add, {n[UPDATE]} to change, {n[DELETE]} to destroy.")
    else:
        lines.append("No changes. Live AWS matches the desired state." if plan.mode == "apply"
                     else "Nothing to destroy.")
    return "\n".join(lines)


def apply_ignores(plan: Plan, patterns: tuple[str, ...] | list[str]) -> tuple[Plan, list[str]]:
    """Drop the differences that ``[drift] ignore`` accepts; return the rest and what was ignored.

    A pattern is ``address`` (the whole resource) or ``address:field`` (``config.ignore_matches``:
    fnmatch on both parts; a field pattern also matches the fields below it, and the path
    literally). Ignored items stay visible in the report.
    """
    from dataclasses import replace

    from .config import ignore_matches

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


CAUSE_HEADINGS = {
    "out-of-band": "changed in AWS by hand since the last apply (out-of-band):",
    "unapplied": "in the repository, not applied yet (unapplied):",
    "both": "changed in the repository and in AWS since the last apply (both):",
    "unknown": "cause unknown (no record of the last apply covers it):",
}


def drift_items(plan: Plan) -> list[dict]:
    """One item per drifted field (or missing resource), as the JSON report lists them."""
    items = []
    for c in plan.drifted:
        if c.action == CREATE:
            item = {"resource": c.address, "path": "", "kind": "MISSING", "expected": "exists", "actual": None}
            cause = next((f.cause for f in c.fields if f.cause), "")
            items.append({**item, "cause": cause} if cause else item)
            continue
        for f in c.fields:
            item = {"resource": c.address, "path": f.path, "kind": f.kind, "expected": jsonable(f.new),
                    "actual": jsonable(f.old)}
            if f.report_only:
                item["report_only"] = f.report_only
            if f.cause:
                item["cause"] = f.cause
            items.append(item)
    return items


def _item_line(i: dict) -> str:
    if i["kind"] == "MISSING":
        return f"  {i['resource']}: missing (expected to exist)"
    if i["kind"] == "NOTE":
        return f"  {i['resource']}  {i['path']}: {i['expected']}"
    if i["kind"] == UNEXPECTED:
        left = f"; not removed: {i['report_only']}" if i.get("report_only") else ""
        return f"  {i['resource']}  {i['path']}: UNEXPECTED (not in the desired state{left}): {_v(i['actual'])}"
    return f"  {i['resource']}  {i['path']}: expected {_v(i['expected'])}, actual {_v(i['actual'])}"


def drift_text(plan: Plan, ignored: list[str] | None = None) -> str:
    text = _drift_text(plan)
    if ignored:
        text += "\n" + "\n".join(f"  (ignored by [drift] ignore: {i})" for i in ignored)
    return text


def _drift_text(plan: Plan) -> str:
    drifted = plan.drifted
    if not drifted and not plan.orphans:
        return f"no drift: {len(plan.changes)} resources match {plan.source}"
    head = f"DRIFT: {len(drifted)} of {len(plan.changes)} resources differ from {plan.source}"
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


def drift_json(plan: Plan, ignored: list[str] | None = None) -> dict:
    items = drift_items(plan)
    out = {
        "format_version": 1,
        "source": plan.source,
        "drifted": bool(items or plan.orphans),
        "resources_checked": len(plan.changes),
        "resources_drifted": len(plan.drifted),
        "drift": items,
        "orphans": [o.to_json() for o in plan.orphans],
        "ignored": list(ignored or []),
        "unmanaged": list(plan.unmanaged),
    }
    out.update(coverage_json(plan))
    return out


def coverage_json(plan: Plan) -> dict:
    """``checked`` (per resource: the fields and sub-resources read) and ``not_checked`` (what is
    known to exist and is not read, with the reason)."""
    checked: list[dict] = []
    not_checked: list[dict] = []
    for address, cov in plan.coverage.items():
        checked.append({"resource": address, "fields": list(cov.get("fields", [])),
                        "sub_resources": list(cov.get("sub_resources", []))})
        not_checked.extend({"resource": address, "what": what, "reason": why}
                           for what, why in (cov.get("not_checked") or {}).items())
    return {"checked": checked, "not_checked": not_checked}


def to_json(data: Any) -> str:
    return json.dumps(jsonable(data), indent=2, sort_keys=False, default=str)
