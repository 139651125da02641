"""Policy differences described field by field: ``diff`` lines and plan ``field_changes``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._common import _LIST_FIELDS, _LIST_FIELDS_LOWER, _PRINCIPAL_FIELDS
from .normalise import _canon_parts, _stmt_key

_ABSENT = "(absent)"


# --------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------


def _j(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _j_list(value: Any) -> str:
    # Lists keep the ", " separator for readability: ["a", "b"].
    return json.dumps(value, sort_keys=True)


def _label(stmt: dict, index: int) -> str:
    sid = stmt.get("Sid")
    return f"Statement[Sid={sid}]" if sid else f"Statement[{index}]"


def _field_count(d: dict, l: dict) -> int:
    return sum(1 for k in set(d) | set(l) if d.get(k, _ABSENT) != l.get(k, _ABSENT))


def _diff_set(path: str, new: list[str], old: list[str]) -> list[str]:
    lines = [f"{path}: + {x}" for x in new if x not in old]
    lines += [f"{path}: - {x}" for x in old if x not in new]
    return lines


def _diff_principal(path: str, new: Any, old: Any) -> list[str]:
    if new == old:
        return []
    if not isinstance(new, dict) or not isinstance(old, dict):
        return [f"{path}: {_j(old)} -> {_j(new)}"]
    lines: list[str] = []
    for ptype in sorted(set(new) | set(old)):
        if ptype not in old:
            lines.append(f"{path}.{ptype}: {_ABSENT} -> {_j_list(new[ptype])}")
        elif ptype not in new:
            lines.append(f"{path}.{ptype}: {_j_list(old[ptype])} -> {_ABSENT}")
        else:
            lines += _diff_set(f"{path}.{ptype}", new[ptype], old[ptype])
    return lines


def _diff_condition(path: str, new: dict, old: dict) -> list[str]:
    lines: list[str] = []
    for op in sorted(set(new) | set(old)):
        if op not in old:
            lines.append(f"{path}.{op}: {_ABSENT} -> {_j(new[op])}")
            continue
        if op not in new:
            lines.append(f"{path}.{op}: {_j(old[op])} -> {_ABSENT}")
            continue
        for key in sorted(set(new[op]) | set(old[op])):
            before = _j_list(old[op][key]) if key in old[op] else _ABSENT
            after = _j_list(new[op][key]) if key in new[op] else _ABSENT
            if before != after:
                lines.append(f"{path}.{op}.{key}: {before} -> {after}")
    return lines


def _diff_statement(label: str, d: dict, l: dict) -> list[str]:
    lines: list[str] = []
    order = ["Sid", "Effect", *_PRINCIPAL_FIELDS, *_LIST_FIELDS_LOWER, *_LIST_FIELDS, "Condition"]
    keys = order + sorted((set(d) | set(l)) - set(order))
    for key in keys:
        if key not in d and key not in l:
            continue
        new: Any = d.get(key)  # Any: a list, principal or condition, by key
        old: Any = l.get(key)
        if new == old:
            continue
        path = f"{label}.{key}"
        if key in ("Sid", "Effect"):
            lines.append(f"{path}: {old if old is not None else _ABSENT} -> "
                         f"{new if new is not None else _ABSENT}")
        elif key not in d or key not in l:
            before = _j_list(old) if key in l else _ABSENT
            after = _j_list(new) if key in d else _ABSENT
            lines.append(f"{path}: {before} -> {after}")
        elif key in _LIST_FIELDS_LOWER or key in _LIST_FIELDS:
            lines += _diff_set(path, new, old)
        elif key in _PRINCIPAL_FIELDS:
            lines += _diff_principal(path, new, old)
        elif key == "Condition":
            lines += _diff_condition(path, new, old)
        else:
            lines.append(f"{path}: {_j(old)} -> {_j(new)}")
    return lines


def _pair_statements(
    desired: list[dict], live: list[dict]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    d_left = list(range(len(desired)))
    l_left = list(range(len(live)))
    pairs: list[tuple[int, int]] = []

    def take(di: int, li: int) -> None:
        d_left.remove(di)
        l_left.remove(li)
        pairs.append((di, li))

    # 1. identical statements
    for di in list(d_left):
        for li in l_left:
            if desired[di] == live[li]:
                take(di, li)
                break
    # 2. same Sid
    for di in list(d_left):
        sid = desired[di].get("Sid")
        if not sid:
            continue
        for li in l_left:
            if live[li].get("Sid") == sid:
                take(di, li)
                break

    def who(s: dict) -> str:
        return _j([s.get("Effect"), s.get("Principal"), s.get("NotPrincipal")])

    # 3. same (Effect, Principal): best match
    for di in list(d_left):
        cands = [li for li in l_left if who(live[li]) == who(desired[di])]
        if cands:
            best = min(cands, key=lambda li: (_field_count(desired[di], live[li]), li))
            take(di, best)
    # 4. leftovers differing in exactly one top-level field
    for di in list(d_left):
        cands = [
            li for li in l_left
            if _field_count(desired[di], live[li]) <= 1
        ]
        if cands:
            take(di, cands[0])
    return pairs, d_left, l_left


def _top_text(top: dict, key: str) -> str:
    if key not in top:
        return _ABSENT
    value = top[key]
    return value if isinstance(value, str) else _j(value)


def diff(
    desired: Any, live: Any, principal_aliases: Mapping[str, str] | None = None
) -> list[str]:
    """Field-level differences (what applying *desired* changes in *live*).

    Empty iff ``equivalent(desired, live, principal_aliases)``.
    """
    d_top, d_stmts = _canon_parts(desired, principal_aliases)
    l_top, l_stmts = _canon_parts(live, principal_aliases)
    lines: list[str] = []
    order = ["Version", "Id"]
    for key in order + sorted((set(d_top) | set(l_top)) - set(order)):
        if key not in d_top and key not in l_top:
            continue
        if d_top.get(key) != l_top.get(key):
            before = _top_text(l_top, key)
            after = _top_text(d_top, key)
            lines.append(f"{key}: {before} -> {after}")

    pairs, missing, unexpected = _pair_statements(d_stmts, l_stmts)
    for di, li in sorted(pairs):
        lines += _diff_statement(_label(d_stmts[di], di), d_stmts[di], l_stmts[li])
    for di in missing:
        lines.append(f"{_label(d_stmts[di], di)}: missing {_j(d_stmts[di])}")
    for li in unexpected:
        lines.append(f"{_label(l_stmts[li], li)}: unexpected {_j(l_stmts[li])}")

    # the canonical forms from the parts computed above (``equivalent`` would canonicalise both again)
    if not lines and (d_top, sorted(d_stmts, key=_stmt_key)) != (l_top, sorted(l_stmts, key=_stmt_key)):  # pragma: no cover
        lines.append("policy documents differ (unclassified difference)")
    return lines


def field_changes(path: str, desired: Any, live: Any) -> list:
    """The difference as plan field changes: one ``NOTE`` per statement/field, never two blobs.

    A live statement that pairs with none of ours is ``UNEXPECTED`` (its canonical form as the
    actual value): a grant nobody declared."""
    from ..model import UNEXPECTED, FieldChange

    out = []
    for line in diff(desired, live):
        where, _, what = line.partition(": ")
        if what.startswith("unexpected {"):
            out.append(FieldChange(f"{path}.{where}", json.loads(what[len("unexpected "):]), None, UNEXPECTED))
            continue
        out.append(FieldChange(f"{path}.{where}", None, what, "NOTE"))
    return out
