"""Policy documents read (``parse``) and put in canonical form (``canonical``, ``equivalent``, ``dumps``)."""

from __future__ import annotations

import copy
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from ._common import _LIST_FIELDS, _LIST_FIELDS_LOWER, _PRINCIPAL_FIELDS, DEFAULT_VERSION, PolicyError

_ACCOUNT_ID = re.compile(r"^\d{12}$")


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
