"""IAM / resource policy documents in canonical form, plus a statement-level diff.

Why this exists
---------------
The provisioner is imperative: before calling ``put_role_policy``,
``update_assume_role_policy``, ``put_bucket_policy`` and friends it reads the
live document and only writes when the desired one is *actually* different.
A naive ``desired == live`` comparison is wrong in both directions, because
AWS hands documents back in a different shape from the one that was written.
This module turns any document into one deterministic *canonical* form, so
two documents that IAM treats as the same compare equal, and it explains the
differences between two documents field by field rather than as two blobs.

Standard library only; nothing here talks to AWS.

Input forms (``parse``)
-----------------------
* a ``dict`` (deep-copied, never mutated);
* a JSON string or bytes -- e.g. S3 ``get_bucket_policy()["Policy"]``;
* a URL-encoded JSON string -- IAM ``GetRole`` (``AssumeRolePolicyDocument``),
  ``GetRolePolicy``, ``GetUserPolicy``, ``GetGroupPolicy`` and
  ``GetPolicyVersion`` return the document URL-encoded per RFC 3986 (see the
  IAM API reference for those actions).  Plain JSON is tried first; if that
  fails the string is ``urllib.parse.unquote``-d and parsed again.

Anything else (not JSON, JSON that is not an object, a document without a
``Statement``, a statement without a valid ``Effect`` ...) raises
:class:`PolicyError`, a ``ValueError`` subclass, with a message saying what
was wrong.

Canonicalisation rules (``canonical``) and the IAM behaviour behind them
------------------------------------------------------------------------
References are to the *IAM JSON policy elements reference*
(docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).

* ``Version`` -- kept verbatim; ``"2012-10-17"`` when missing.  A missing
  Version is *not* strictly the same as 2012-10-17 for IAM (it falls back to
  2008-10-17 semantics, where ``${...}`` policy variables are literal text);
  the default follows this project's convention that documents are written
  with 2012-10-17 and a missing Version is an omission, not a choice.
  ``"2008-10-17"`` is preserved, so 2008 vs 2012 is a difference.
* ``Id`` -- kept verbatim when present (an empty ``Id`` is dropped).
* ``Statement`` -- the element may hold a single statement object or an
  array of statements; a single dict becomes a one-element list.  Statement
  order has no meaning in policy evaluation (every matching statement is
  evaluated; an explicit Deny wins), so statements are sorted by the JSON
  dump (``sort_keys=True``) of their canonical form.  Identical duplicate
  statements are *kept*, not merged, so a duplicate shows up as a difference
  (the conservative side: at worst one redundant write).
* ``Sid`` -- kept when present; an empty ``Sid`` is the same as none.
* ``Effect`` -- kept; must be ``"Allow"`` or ``"Deny"``.
* ``Action`` / ``NotAction`` -- a single string is the same as a one-element
  array; order and duplicates do not matter.  The service prefix and action
  name are case-insensitive (``s3:GetObject`` == ``s3:getobject``), so the
  canonical form lowercases them and stores a sorted, de-duplicated list.  Lowercased actions
  are accepted by AWS, so ``dumps()`` output is fine to send.
* ``Resource`` / ``NotResource`` -- string -> sorted unique list.  ARNs are
  (partly) case-sensitive, so case is preserved.
* ``Principal`` / ``NotPrincipal`` -- ``"*"`` stays the string ``"*"``
  (``{"AWS": "*"}`` is kept distinct: it is a different spelling that AWS
  returns as written, and reporting it as a difference is the safe side).
  ``{"AWS": "arn"}`` -> ``{"AWS": ["arn"]}``; every principal type's values
  become a sorted unique list.  An AWS principal given as a bare 12-digit
  account id is rewritten to ``arn:aws:iam::<id>:root``: IAM accepts the
  bare id and stores/returns the root-ARN form.
* ``Condition`` -- operator -> condition key -> values.  A single value is
  the same as a one-element array, and values are sorted and de-duplicated
  (multiple values for one key are ORed, so order cannot matter).  JSON
  booleans and numbers become their JSON text (``true`` -> ``"true"``),
  because IAM evaluates condition values as strings.  Condition key names
  are case-insensitive, so keys are lowercased; operator names keep their
  case and values keep theirs (``StringEquals`` is case-sensitive on values).
  Empty operator blocks and an empty ``Condition`` are dropped (they impose
  nothing).  Two keys in one operator block that differ only by case are
  ambiguous and raise :class:`PolicyError` rather than being merged.
* Unknown statement or document keys are kept unchanged.

Principal rewriting by S3 and friends (``principal_aliases``)
-------------------------------------------------------------
Some services store a principal in a different form than the one written.
S3, for example, relates a CloudFront origin access identity written as
``arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWR...``
to its ``{"CanonicalUser": "<64 hex chars>"}`` form, and either may come
back; IAM replaces the ARN of a deleted role by its unique id (``AROA...``).
``canonical()`` cannot know these mappings, so callers that do may pass
``principal_aliases``: a mapping from an alternative principal string to the
preferred one, e.g. ``{"<canonical user id>": "arn:aws:iam::cloudfront:user/
CloudFront Origin Access Identity E2QWR..."}``.  It is applied to principal
values of every type; when an aliased value's target is an ARN (starts with
``arn:``), the value moves under the ``"AWS"`` principal type (except under
``"Federated"``, whose identity-provider ARNs stay there).  Aliases are
applied (one level, not transitively) before the account-id -> root-ARN
rewrite.

Diff (``diff``)
---------------
``diff(desired, live)`` returns human-readable lines describing what applying
*desired* would change in *live*; it is empty iff ``equivalent(desired,
live)``.  Conventions: ``old -> new`` is ``live -> desired``; ``+ x`` means x
is in desired but not live (would be added), ``- x`` the reverse;
``(absent)`` marks an element present on one side only.

Statements are paired in this order: identical canonical statements first
(they produce no output); then by ``Sid`` when both sides carry the same Sid;
then, among the rest, by equal ``(Effect, Principal, NotPrincipal)``, picking
the live statement with the fewest differing fields; finally, leftovers that
differ in exactly one top-level field (e.g. only the Effect or only the
Principal changed) are paired.  What is still unpaired is reported as
``Statement[...]: missing ...`` (desired only) or ``Statement[...]:
unexpected ...`` (live only).  Labels are ``Statement[Sid=X]`` when the
statement has a Sid, otherwise ``Statement[i]`` with ``i`` the position in
the document as given (desired's position, or live's for unexpected ones).

Examples::

    Version: 2008-10-17 -> 2012-10-17
    Statement[Sid=AllowPublish].Action: + s3:putobjectacl
    Statement[Sid=Trust].Condition.StringLike.token.actions.githubusercontent.com:sub: ["*"] -> ["repo:org/repo:*"]
    Statement[2]: missing {"Action":["s3:getobject"],"Effect":"Allow","Resource":["*"]}
"""

from __future__ import annotations

import copy
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_VERSION",
    "PolicyError",
    "canonical",
    "diff",
    "dumps",
    "equivalent",
    "parse",
]

DEFAULT_VERSION = "2012-10-17"

_LIST_FIELDS_LOWER = ("Action", "NotAction")
_LIST_FIELDS = ("Resource", "NotResource")
_PRINCIPAL_FIELDS = ("Principal", "NotPrincipal")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ABSENT = "(absent)"


class PolicyError(ValueError):
    """A policy document could not be parsed or is structurally invalid."""


# --------------------------------------------------------------------------
# parse
# --------------------------------------------------------------------------


def _snippet(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse(doc: Any) -> dict:
    """Return the policy document as a fresh ``dict``.

    Accepts a dict, a JSON string/bytes, or a URL-encoded JSON string (as
    returned by IAM).  Raises :class:`PolicyError` on anything else.
    """
    if isinstance(doc, Mapping):
        return copy.deepcopy(dict(doc))
    if isinstance(doc, (bytes, bytearray)):
        try:
            doc = bytes(doc).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"policy document bytes are not UTF-8: {exc}") from None
    if not isinstance(doc, str):
        raise PolicyError(
            f"policy document must be a dict or a (URL-encoded) JSON string, "
            f"got {type(doc).__name__}"
        )
    text = doc.strip()
    if not text:
        raise PolicyError("policy document is an empty string")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as plain_err:
        decoded = urllib.parse.unquote(text)
        if decoded == text:
            raise PolicyError(
                f"policy document is not valid JSON ({plain_err.msg} at char "
                f"{plain_err.pos}): {_snippet(text)}"
            ) from None
        try:
            value = json.loads(decoded)
        except json.JSONDecodeError as enc_err:
            raise PolicyError(
                f"policy document is neither JSON nor URL-encoded JSON "
                f"(after URL-decoding: {enc_err.msg} at char {enc_err.pos}): "
                f"{_snippet(text)}"
            ) from None
    if not isinstance(value, dict):
        raise PolicyError(
            f"policy document must be a JSON object, got JSON {type(value).__name__}: "
            f"{_snippet(text)}"
        )
    return value


# --------------------------------------------------------------------------
# canonical
# --------------------------------------------------------------------------


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise PolicyError(f"{where} must be a string or a list of strings, got {value!r}")


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)  # true -> "true", 5 -> "5"
    raise PolicyError(
        f"{where} values must be strings, booleans or numbers, got {value!r}"
    )


def _canon_principal(
    value: Any, where: str, aliases: Mapping[str, str]
) -> str | dict[str, list[str]]:
    if isinstance(value, str):
        if value == "*":
            return "*"
        raise PolicyError(
            f'{where} must be "*" or an object like {{"AWS": [...]}}, got {value!r}'
        )
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where} must be \"*\" or an object, got {value!r}")
    out: dict[str, set[str]] = {}
    for ptype, raw in value.items():
        if not isinstance(ptype, str) or not ptype:
            raise PolicyError(f"{where} has an invalid principal type {ptype!r}")
        items = _str_list(raw, f"{where}.{ptype}")
        if not items:
            out.setdefault(ptype, set())  # keep an (invalid) empty list visible
        for item in items:
            target_type = ptype
            if item in aliases:
                item = aliases[item]
                # e.g. CanonicalUser -> OAI user ARN: ARNs live under "AWS"
                # (federated identity-provider ARNs stay "Federated").
                if item.startswith("arn:") and ptype != "Federated":
                    target_type = "AWS"
            if target_type == "AWS" and _ACCOUNT_ID.match(item):
                item = f"arn:aws:iam::{item}:root"
            out.setdefault(target_type, set()).add(item)
    return {ptype: sorted(vals) for ptype, vals in out.items()}


def _canon_condition(value: Any, where: str) -> dict[str, dict[str, list[str]]]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where} must be an object, got {value!r}")
    out: dict[str, dict[str, list[str]]] = {}
    for op, block in value.items():
        if not isinstance(op, str) or not op:
            raise PolicyError(f"{where} has an invalid operator {op!r}")
        if not isinstance(block, Mapping):
            raise PolicyError(f"{where}.{op} must be an object of key -> values, got {block!r}")
        keys: dict[str, list[str]] = {}
        for key, raw in block.items():
            if not isinstance(key, str) or not key:
                raise PolicyError(f"{where}.{op} has an invalid condition key {key!r}")
            lkey = key.lower()
            if lkey in keys:
                raise PolicyError(
                    f"{where}.{op} has condition key {key!r} twice (keys are "
                    f"case-insensitive); merge them explicitly"
                )
            items = raw if isinstance(raw, list) else [raw]
            keys[lkey] = sorted({_scalar_text(v, f"{where}.{op}.{key}") for v in items})
        if keys:
            out[op] = keys
    return out


def _canon_statement(stmt: Any, where: str, aliases: Mapping[str, str]) -> dict:
    if not isinstance(stmt, Mapping):
        raise PolicyError(f"{where} must be an object, got {stmt!r}")
    out: dict[str, Any] = {}
    for key, value in stmt.items():
        if key == "Sid":
            if value in (None, ""):
                continue
            if not isinstance(value, str):
                raise PolicyError(f"{where}.Sid must be a string, got {value!r}")
            out["Sid"] = value
        elif key == "Effect":
            if value not in ("Allow", "Deny"):
                raise PolicyError(f'{where}.Effect must be "Allow" or "Deny", got {value!r}')
            out["Effect"] = value
        elif key in _LIST_FIELDS_LOWER:
            out[key] = sorted({a.lower() for a in _str_list(value, f"{where}.{key}")})
        elif key in _LIST_FIELDS:
            out[key] = sorted(set(_str_list(value, f"{where}.{key}")))
        elif key in _PRINCIPAL_FIELDS:
            out[key] = _canon_principal(value, f"{where}.{key}", aliases)
        elif key == "Condition":
            cond = _canon_condition(value, f"{where}.Condition")
            if cond:
                out["Condition"] = cond
        else:
            out[key] = copy.deepcopy(value)
    if "Effect" not in out:
        raise PolicyError(f"{where} has no Effect")
    return out


def _stmt_key(stmt: dict) -> str:
    return json.dumps(stmt, sort_keys=True)


def _canon_parts(
    doc: Any, principal_aliases: Mapping[str, str] | None
) -> tuple[dict, list[dict]]:
    """Canonical top-level fields (without Statement) and the canonical
    statements in the order the document gave them."""
    raw = parse(doc)
    aliases = dict(principal_aliases or {})
    for k, v in aliases.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise PolicyError(f"principal_aliases must map str -> str, got {k!r}: {v!r}")
    if "Statement" not in raw:
        raise PolicyError("policy document has no Statement")
    stmts = raw["Statement"]
    if isinstance(stmts, Mapping):
        stmts = [stmts]
    if not isinstance(stmts, list):
        raise PolicyError(f"Statement must be an object or a list, got {stmts!r}")
    top: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "Statement":
            continue
        if key == "Version":
            if not isinstance(value, str) or not value:
                raise PolicyError(f"Version must be a non-empty string, got {value!r}")
            top["Version"] = value
        elif key == "Id":
            if value in (None, ""):
                continue
            top["Id"] = value
        else:
            top[key] = copy.deepcopy(value)
    top.setdefault("Version", DEFAULT_VERSION)
    canon = [
        _canon_statement(s, f"Statement[{i}]", aliases) for i, s in enumerate(stmts)
    ]
    return top, canon


def canonical(doc: Any, principal_aliases: Mapping[str, str] | None = None) -> dict:
    """Deterministic canonical form of a policy document (see module docs)."""
    top, stmts = _canon_parts(doc, principal_aliases)
    out = dict(top)
    out["Statement"] = sorted(stmts, key=_stmt_key)
    return out


def equivalent(a: Any, b: Any, principal_aliases: Mapping[str, str] | None = None) -> bool:
    """True iff both documents have the same canonical form."""
    return canonical(a, principal_aliases) == canonical(b, principal_aliases)


def dumps(doc: Any, principal_aliases: Mapping[str, str] | None = None) -> str:
    """Compact canonical JSON, stable for hashing and fine to send to AWS."""
    return json.dumps(
        canonical(doc, principal_aliases), separators=(",", ":"), sort_keys=True
    )


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
        new, old = d.get(key), l.get(key)
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

    if not lines and not equivalent(desired, live, principal_aliases):  # pragma: no cover
        lines.append("policy documents differ (unclassified difference)")
    return lines


def field_changes(path: str, desired: Any, live: Any) -> list:
    """The difference as plan field changes: one ``NOTE`` per statement/field, never two blobs."""
    from .model import FieldChange

    out = []
    for line in diff(desired, live):
        where, _, what = line.partition(": ")
        out.append(FieldChange(f"{path}.{where}", None, what, "NOTE"))
    return out
