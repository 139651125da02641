"""Markdown for pull-request comments and GitHub job summaries: plans, drift, outputs, show.

A report is: a marker comment (``<!-- provision:plan stack=NAME -->``, for tools that update one
comment in place), a title, a summary line, a table per action (plan) or per drift kind, values
too long for a cell in collapsed ``<details>`` blocks, and a footer naming the stack, account,
region, desired file and its hash, the commit and the tool version.
"""

from __future__ import annotations

import html
import json
from typing import Any

from ..model import ADOPT, CREATE, DELETE, FOREIGN, NOOP, UPDATE, Change, FieldChange, Plan, jsonable
from .drift import KINDS, drift_items
from .meta import ReportMeta

LONG = 60  # a value longer than this (in one line of JSON) goes to a collapsed details block
HEAD = "| resource | field | expected | actual |\n| --- | --- | --- | --- |"
ACTIONS = ((FOREIGN, "! exists, not owned by this stack (blocks apply until adopted)"),
           (ADOPT, "> adopt (not owned by this stack, adopted on purpose)"), (CREATE, "+ create"),
           (UPDATE, "~ update in place"), (DELETE, "- delete"))
KIND_TITLES = {
    "MISSING": "Missing in AWS (MISSING): declared, not found",
    "NOT_OWNED": "Not owned (NOT_OWNED): exists under our name, not owned by this stack",
    "CHANGE": "Changed (CHANGE): live value differs",
    "ADD": "Absent in AWS (ADD): a declared field AWS does not have",
    "REMOVE": "Only in AWS (REMOVE): a field AWS has that the desired state does not declare",
    "UNEXPECTED": "Undeclared (UNEXPECTED): present in AWS, not in the desired state",
    "NOTE": "Described differences (NOTE)",
}


class _Details:
    """The long values of one report, numbered in order, rendered after the table that cites them."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str, list[tuple[str, Any]]]] = []
        self.n = 0

    def cell(self, value: Any, label: str, side: str, pair: list[tuple[str, Any]]) -> str:
        """The cell for ``value``: inline code when short, else a reference to a details block."""
        if jsonable(value) is None:
            return "(none)"
        text = _one_line(value)
        if len(text) <= LONG:
            return _code(text)
        if not self.items or self.items[-1][1] != label:
            self.n += 1
            self.items.append((self.n, label, pair))
        return f"[{self.n}] (long: see below)"

    def flush(self, out: list[str]) -> None:
        for n, label, pair in self.items:
            out += ["", f"<details><summary>[{n}] {label}</summary>", ""]
            for side, value in pair:
                out += [f"{side}:", "", *_fenced(value), ""]
            out.append("</details>")
        self.items = []


def _one_line(value: Any) -> str:
    v = jsonable(value)
    if v is None:
        return "(none)"
    if v == "(known after apply)":
        return v
    return json.dumps(v, sort_keys=True, default=str)


def _code(text: str) -> str:
    if "`" in text or "\n" in text:
        return "<code>" + html.escape(text).replace("|", "&#124;").replace("\n", " ") + "</code>"
    return "`" + text.replace("|", "\\|") + "`"


def _plain(text: str) -> str:
    return html.escape(text).replace("|", "&#124;").replace("\n", " ")


def _fenced(value: Any) -> list[str]:
    v = jsonable(value)
    body = v if isinstance(v, str) else json.dumps(v, sort_keys=True, indent=2, default=str)
    fence = "~~~~" if "```" in body else "```"
    return [fence + ("json" if not isinstance(v, str) else ""), body, fence]


def _field_row(d: _Details, address_cell: str, address: str, f: FieldChange, created: bool) -> str:
    label = f"<code>{html.escape(address)}</code> <code>{html.escape(f.path)}</code>"
    if f.kind == "NOTE":
        return f"| {address_cell} | {_code(f.path)} | {_plain(str(f.new))} | |"
    if created or f.kind == "ADD":
        pair = [("expected", f.new)]
        return f"| {address_cell} | {_code(f.path)} | {d.cell(f.new, label, 'expected', pair)} | (none) |"
    pair = [("expected", f.new), ("actual", f.old)]
    return (f"| {address_cell} | {_code(f.path)} | {d.cell(f.new, label, 'expected', pair)} | "
            f"{d.cell(f.old, label, 'actual', pair)} |")


def _address_cell(c: Change) -> str:
    cell = _code(c.address)
    if c.destructive:
        cell += " **⚠️ DESTRUCTIVE**"
    if c.note:
        cell += f" <br>_{_plain(c.note)}_"
    if c.owner_note and c.action in (ADOPT, FOREIGN):
        cell += f" <br>_{_plain(c.owner_note)}_"
    return cell


def plan_markdown(plan: Plan, meta: ReportMeta | None = None) -> str:
    what = "destroy plan" if plan.mode == "destroy" else "plan"
    out = _title(f"provision:{'destroy' if plan.mode == 'destroy' else 'plan'}", f"provision {what}", meta)
    n = plan.counts()
    adopt = f", {n[ADOPT]} to adopt" if n[ADOPT] else ""
    if plan.has_changes:
        summary = f"**Plan: {n[CREATE]} to add, {n[UPDATE]} to change, {n[DELETE]} to destroy{adopt}.**"
        destructive = [c.address for c in plan.actionable if c.destructive]
        if destructive:
            summary += f" ⚠️ {len(destructive)} destructive: " + ", ".join(_code(a) for a in destructive)
    elif not plan.blocked:
        summary = ("**No changes.** Live AWS matches the desired state." if plan.mode == "apply"
                   else "**Nothing to destroy.**")
    else:
        summary = ""
    if plan.blocked:
        summary += (" " if summary else "") + (
            f"**Blocked: {len(plan.blocked)} resource(s) exist but are not owned by this stack.** Nothing is "
            "changed while they are not adopted (`[adopt] resources` or `--adopt PATTERN`).")
    out.append(summary)
    d = _Details()
    for action, title in ACTIONS:
        changes = [c for c in plan.changes if c.action == action]
        if not changes:
            continue
        out += ["", f"### {title} ({len(changes)})", "", HEAD]
        for c in changes:
            cell = _address_cell(c)
            if not c.fields:
                expected, actual = ("(absent)", "exists") if action == DELETE else ("exists", "(absent)")
                if action in (ADOPT, FOREIGN):
                    expected, actual = "owned by this stack", "exists, not owned"
                out.append(f"| {cell} | | {expected} | {actual} |")
            for f in c.fields:
                out.append(_field_row(d, cell, c.address, f, action == CREATE))
        d.flush(out)
    unchanged = [c for c in plan.changes if c.action == NOOP]
    if unchanged:
        out += ["", f"{len(unchanged)} resource(s) unchanged."]
        kept = [c for c in unchanged if c.note and plan.mode == "destroy"]
        out += [f"- {_code(c.address)}: {_plain(c.note)}" for c in kept]
    if plan.unmanaged:
        out += ["", "Not yet managed (parsed and validated; no reconciler yet): "
                + ", ".join(_code(s) for s in plan.unmanaged)]
    return "\n".join(out + _footer(meta, plan))


def drift_markdown(plan: Plan, ignored: list[str] | None = None, meta: ReportMeta | None = None) -> str:
    out = _title("provision:drift", "provision drift", meta)
    items = drift_items(plan)
    drifted = len(plan.drifted)
    if drifted or plan.orphans:
        out.append(f"**DRIFT: {drifted} of {len(plan.changes)} resources differ from {_code(plan.source)}"
                   + (f"; {len(plan.orphans)} orphan(s)" if plan.orphans else "") + ".**")
    else:
        out.append(f"**No drift:** {len(plan.changes)} resources match {_code(plan.source)}.")
    d = _Details()
    for kind in KINDS:
        rows = [i for i in items if i["kind"] == kind]
        if not rows:
            continue
        out += ["", f"### {KIND_TITLES[kind]} ({len(rows)})", "", HEAD]
        for i in rows:
            cell = _code(i["resource"])
            if kind == "MISSING":
                out.append(f"| {cell} | | exists | (absent) |")
                continue
            if kind == "NOT_OWNED":
                out.append(f"| {cell} | | owned by this stack | {_plain(str(i['actual']))} |")
                continue
            out.append(_field_row(d, cell, i["resource"], FieldChange(i["path"], i["actual"], i["expected"], kind),
                                  False))
        d.flush(out)
    if plan.orphans:
        out += ["", f"### Orphans ({len(plan.orphans)}): tagged as this stack's, no longer in the desired state", "",
                "| resource | type | name | why | prune |", "|---|---|---|---|---|"]
        out += [f"| {_code(o.address)} | {_plain(o.type)} | {_code(o.name)} | {_plain(o.why)} | "
                f"{'apply --prune deletes it' if o.deletable else _plain('kept: ' + o.kept)} |" for o in plan.orphans]
    if ignored:
        out += ["", f"Ignored by `[drift] ignore` ({len(ignored)}): " + ", ".join(_code(i) for i in ignored)]
    if plan.unmanaged:
        out += ["", "Not checked (not yet managed): " + ", ".join(_code(s) for s in plan.unmanaged)]
    return "\n".join(out + _footer(meta, plan))


def outputs_markdown(values: dict[str, Any], meta: ReportMeta | None = None) -> str:
    out = _title("provision:outputs", "provision outputs", meta)
    missing = [k for k, v in values.items() if v is None]
    out.append(f"**{len(values) - len(missing)} of {len(values)} outputs have a value.**"
               + (" Not created yet: " + ", ".join(_code(k) for k in missing) if missing else ""))
    out += ["", "| output | value |", "| --- | --- |"]
    out += [f"| {_code(k)} | {'(not created)' if v is None else _code(str(v))} |" for k, v in values.items()]
    return "\n".join(out + _footer(meta, None))


def show_markdown(data: dict[str, Any], meta: ReportMeta | None = None) -> str:
    out = _title("provision:show", "provision show: the resolved desired state", meta)
    resources = data["resources"]
    out += [f"**{len(resources)} resources**" + ("" if data["resolved"] else
            " (offline: values from other resources show as `(known after apply)`)"), "",
            "| resource | service | state |", "| --- | --- | --- |"]
    for item in resources:
        state = "" if item["exists"] is None else ("exists" if item["exists"] else "not created")
        out.append(f"| {_code(item['address'])} | {_plain(item['service'] or '')} | {state} |")
    for item in resources:
        body = item["outputs"] if item.get("data_source") else item["desired"]
        what = "looked up (data source)" if item.get("data_source") else "desired"
        out += ["", f"<details><summary><code>{html.escape(item['address'])}</code>: {what}</summary>", "",
                *_fenced(body or {}), "", "</details>"]
    return "\n".join(out + _footer(meta, None))


def _title(marker: str, title: str, meta: ReportMeta | None) -> list[str]:
    stack = meta.stack if meta is not None and meta.stack else None
    return [f"<!-- {marker} stack={stack or '?'} -->", f"## {title}" + (f": `{stack}`" if stack else ""), ""]


def _footer(meta: ReportMeta | None, plan: Plan | None) -> list[str]:
    m = meta or ReportMeta()
    source = m.source or (plan.source if plan is not None else None)
    digest = m.desired_hash or (plan.desired_hash if plan is not None else None)
    parts = [f"stack {_code(m.stack)}" if m.stack else None,
             f"account {_code(m.account)}" if m.account else "account (unknown)",
             f"region {_code(m.region)}" if m.region else None,
             f"desired {_code(source)}" + (f" sha256 {_code(digest[:12])}" if digest else "") if source else None,
             f"commit {_code(m.commit[:12])}" if m.commit else None,
             f"provision {m.tool_version}",
             m.generated_at]
    return ["", "---", "<sub>" + " · ".join(p for p in parts if p) + "</sub>", ""]
