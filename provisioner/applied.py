"""The apply record: what the last apply left, kept in AWS next to the apply lock.

An SSM parameter ``/provision/<stack>/last-apply`` in the stack's region, written by every apply
that changed something (under the lock, after the last write). Its version history
(``GetParameterHistory``, the last 100 versions) is the log ``provision history`` lists. The value
is one JSON document (``v`` 1):

    {"v": 1, "command": "apply", "at": ISO time, "by": caller identity ARN,
     "commit": git commit of the desired file's work tree or null, "dirty": the file differs from it,
     "file": the desired file as given, "desired_hash": its hash (the plan's desired_hash),
     "changed": [[address, action], ...], "pruned": [arn, ...],
     "r": {address: [desired hash, live fingerprint, "slot=DDDLLL;...", arn or ""]},
     "owned": [arn, ...]}

``r`` holds, per managed resource, the hash of its desired value and the fingerprint of the live
value apply left (``model.fingerprint`` of what the plan decides on, undeclared things included),
plus a short hash per top-level field ("slot": 3 hex digits of the desired value, 3 of the live
one), from which drift tells "changed in AWS by hand" from "changed in the repository, not applied
yet" field by field. ``owned`` lists the ARNs of tagged things this stack made and no longer names
(orphans not pruned yet): with ``r``'s ARNs it is the ownership record ``apply --prune`` trusts, so a
foreign resource with our tag copied onto it is never deleted.

Size: SSM standard parameters hold 4 KB, advanced ones 8 KB. The value is plain JSON when it fits
4 KB, else ``z1:`` + base64(zlib(JSON)); the parameter is written with
``Tier="Intelligent-Tiering"`` (standard when it fits, advanced otherwise). A record that does not
fit 8 KB even compressed drops the per-field hashes (causes per resource only), then the per
resource entries (causes "unknown"), and says so in the log.

IAM: ``ssm:PutParameter``, ``ssm:GetParameter``, ``ssm:GetParameterHistory`` on
``arn:aws:ssm:*:*:parameter/provision/<stack>/*`` (``provision policy``). Calls on ``/provision/``
parameters are bookkeeping, not changes to the stack (``aws.Call.lock``).
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

import structlog

from .aws import error_code
from .errors import ProvisionError

log = structlog.get_logger("provision.applied")

STANDARD_MAX = 4096
ADVANCED_MAX = 8192
PREFIX = "z1:"


def name_for(stack: str) -> str:
    return f"/provision/{stack}/last-apply"


def encode(record: dict) -> str:
    """The parameter value for ``record``: plain JSON within 4 KB, else compressed; shrunk to 8 KB."""
    for shrink in (None, "slots", "resources"):
        rec = _shrunk(record, shrink)
        text = json.dumps(rec, separators=(",", ":"), sort_keys=True)
        if len(text.encode()) <= STANDARD_MAX:
            return text
        packed = PREFIX + base64.b64encode(zlib.compress(text.encode(), 9)).decode()
        if len(packed) <= ADVANCED_MAX:
            if shrink:
                log.warning("apply record too large for SSM: shrunk", dropped=shrink, bytes=len(packed))
            return packed
    raise ProvisionError("the apply record does not fit an SSM parameter even without its per-resource entries")


def _shrunk(record: dict, what: str | None) -> dict:
    if what is None:
        return record
    rec = dict(record)
    if what == "slots":
        rec["r"] = {a: [e[0], e[1], "", e[3]] for a, e in (record.get("r") or {}).items()}
    else:
        rec["r"] = {}
        rec["shrunk"] = True
    return rec


def decode(value: str) -> dict | None:
    try:
        if value.startswith(PREFIX):
            value = zlib.decompress(base64.b64decode(value[len(PREFIX):])).decode()
        data = json.loads(value)
    except (ValueError, zlib.error):
        return None
    return data if isinstance(data, dict) and data.get("v") == 1 else None


def _ssm(aws: Any, desired: Any) -> Any:
    return aws.client("ssm", desired.stack.region)


def read(aws: Any, desired: Any) -> dict | None:
    """The last apply's record, or None (never applied with a record, or unreadable)."""
    try:
        value = _ssm(aws, desired).get_parameter(Name=name_for(desired.stack.name))["Parameter"]["Value"]
    except Exception as e:  # noqa: BLE001
        if error_code(e) == "ParameterNotFound":
            return None
        raise ProvisionError(f"reading the apply record {name_for(desired.stack.name)}: {e}") from e
    return decode(value)


def write(aws: Any, desired: Any, record: dict) -> None:
    value = encode(record)
    try:
        _ssm(aws, desired).put_parameter(
            Name=name_for(desired.stack.name), Value=value, Type="String", Overwrite=True, Tier="Intelligent-Tiering",
            Description="provision: what the last apply left (its version history is the apply log)")
    except Exception as e:  # noqa: BLE001
        raise ProvisionError(f"writing the apply record {name_for(desired.stack.name)}: {e}") from e


def history(aws: Any, desired: Any) -> list[dict]:
    """Every recorded apply still in the parameter's history (SSM keeps 100), newest first."""
    ssm = _ssm(aws, desired)
    out: list[dict] = []
    kwargs: dict[str, Any] = {"Name": name_for(desired.stack.name), "MaxResults": 50}
    try:
        while True:
            page = ssm.get_parameter_history(**kwargs)
            for p in page.get("Parameters", []):
                rec = decode(p.get("Value", ""))
                if rec is not None:
                    out.append({**rec, "version": p.get("Version")})
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    except Exception as e:  # noqa: BLE001
        if error_code(e) == "ParameterNotFound":
            return []
        raise ProvisionError(f"reading the apply history {name_for(desired.stack.name)}: {e}") from e
    return sorted(out, key=lambda r: r.get("version") or 0, reverse=True)


def owned_arns(record: dict | None) -> set[str] | None:
    """The ARNs the record proves ours (managed at that apply, or made and not pruned yet)."""
    if record is None:
        return None
    arns = {e[3] for e in (record.get("r") or {}).values() if len(e) > 3 and e[3]}
    return arns | set(record.get("owned") or [])


__all__ = ["name_for", "encode", "decode", "read", "write", "history", "owned_arns", "STANDARD_MAX", "ADVANCED_MAX"]
