"""JSON renderings: plans, drift reports, errors. Every report starts with the header (meta.header).

JSON plan shape (``format_version`` 1, stable; every field documented in README.md):
    {<header>, "mode": "apply"|"destroy", "source": str, "desired_hash": str,
     "has_changes": bool, "summary": {"create": n, "update": n, "delete": n, "adopt": n},
     "changes": [{"address": str, "action": "create"|"update"|"delete"|"no-op"|"adopt"|"foreign",
                  "destructive": bool, "note": str, "fingerprint": str,
                  "owner": "absent"|"ours"|"foreign"|"shared"|"", "owner_note": str,
                  "fields": [{"path": str, "expected": any, "actual": any,
                              "kind": "ADD"|"REMOVE"|"CHANGE"|"NOTE"|"UNEXPECTED",
                              "report_only": why (only when apply leaves it)}]}],
     "unmanaged": [section, ...], "orphans": [orphan, ...], "prune": bool,
     "adopt": [glob, ...], "blocked": [address, ...]}
    action "adopt": a foreign resource adopted on purpose; "foreign": one not adopted (blocks).
header: {"format_version": 1, "tool": "provision", "tool_version": str, "stack": str|null,
         "account": str|null, "region": str|null, "generated_at": str|null, "commit": str|null}
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConfigError, PreconditionError, ProvisionError, StepError
from ..model import Plan, jsonable
from .drift import drift_items
from .meta import FORMAT_VERSION, ReportMeta, header, with_header


def to_json(data: Any) -> str:
    return json.dumps(jsonable(data), indent=2, sort_keys=False, default=str)


def plan_json(plan: Plan, meta: ReportMeta | None = None) -> dict[str, Any]:
    return with_header(plan.to_json(), meta)


def drift_json(plan: Plan, ignored: list[str] | None = None, meta: ReportMeta | None = None) -> dict[str, Any]:
    items = drift_items(plan)
    return with_header({
        "format_version": FORMAT_VERSION,
        "source": plan.source,
        "desired_hash": plan.desired_hash,
        "drifted": bool(items or plan.orphans),
        "resources_checked": len(plan.changes),
        "resources_drifted": len(plan.drifted),
        "drift": items,
        "orphans": [o.to_json() for o in plan.orphans],
        "ignored": list(ignored or []),
        "unmanaged": list(plan.unmanaged),
        **coverage_json(plan),
    }, meta)


def coverage_json(plan: Plan) -> dict[str, Any]:
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


def config_error_json(e: ConfigError) -> dict[str, Any]:
    return {"file": e.file, "key_path": e.path, "expected": e.expected, "found": e.found_text, "message": str(e)}


def error_kind(e: BaseException) -> str:
    if isinstance(e, ConfigError):
        return "config"
    if isinstance(e, StepError):
        return "aws"
    if isinstance(e, PreconditionError):
        return "precondition"
    if isinstance(e, ProvisionError):
        return "error"
    return "internal"  # a bug: the traceback is on stderr


def error_json(e: BaseException, *, kind: str | None = None, message: str | None = None) -> dict[str, Any]:
    """The error object a ``--json`` run prints on stdout when it fails (exit 1). ``kind``: config,
    aws, precondition, error, usage (a bad command line; the CLI says so) or internal."""
    err = {
        "message": message if message is not None else str(e),
        "kind": kind or error_kind(e),
        "resource": getattr(e, "address", None) if isinstance(e, StepError) else None,
        "key_path": e.path or None if isinstance(e, ConfigError) else None,
    }
    from datetime import datetime, timezone

    out = header(ReportMeta(generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")))
    out["error"] = err
    if isinstance(e, ConfigError):
        out["errors"] = [config_error_json(x) for x in e.errors]
    return out
