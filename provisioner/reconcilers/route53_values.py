"""Route53 record values: names and values the way Route 53 stores and compares them (pure
functions, no AWS calls), used by the record reconciler (``route53``) and its tests."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

_ESCAPE = re.compile(r"\\(\d{3})")


def fqdn(name: str) -> str:
    """Route53's canonical record name: lowercase, trailing dot, octal escapes (``\\052``) decoded."""
    n = _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name).lower()
    return n if n.endswith(".") else n + "."


def _show(name: str) -> str:
    return name.rstrip(".")


TXT_STRING_MAX = 255  # characters in one TXT character-string (Route 53 / RFC 1035)


def txt_value(value: str) -> str:
    """A TXT/SPF value the way Route 53 stores it: one or more double-quoted strings of at most 255
    characters ("Value should be enclosed in quotation marks" otherwise; docs/aws-behaviour.md).
    A value already quoted is taken as written; plain text is quoted (``\\`` and ``"`` escaped) and
    split into 255-character strings, so ``v=spf1 -all`` and ``"v=spf1 -all"`` are the same record."""
    if value.lstrip().startswith('"'):
        return value.strip()
    chunks = [value[i:i + TXT_STRING_MAX] for i in range(0, len(value), TXT_STRING_MAX)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def _norm_value(rtype: str, value: str) -> str:
    if rtype in ("CNAME", "NS"):
        return fqdn(value)
    if rtype in ("TXT", "SPF"):
        return txt_value(value)
    if rtype in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value
    return value


def normalise(rrset: dict) -> dict:
    """A live record set in the shape desired values use."""
    alias = rrset.get("AliasTarget")
    if alias:  # an alias carries no TTL of its own (the sandbox echoes "TTL": 0): ignored
        return {"alias": {
            "dns_name": fqdn(alias["DNSName"]),
            "hosted_zone_id": alias["HostedZoneId"].split("/")[-1],
            "evaluate_target_health": bool(alias.get("EvaluateTargetHealth", False)),
        }}
    rtype = rrset["Type"]
    return {"ttl": rrset.get("TTL"),
            "values": sorted(_norm_value(rtype, r["Value"]) for r in rrset.get("ResourceRecords", []))}


def _to_aws(name: str, rtype: str, value: dict) -> dict:
    rr: dict[str, Any] = {"Name": name, "Type": rtype}
    if "alias" in value:
        a = value["alias"]
        rr["AliasTarget"] = {"HostedZoneId": a["hosted_zone_id"], "DNSName": a["dns_name"],
                             "EvaluateTargetHealth": a["evaluate_target_health"]}
    else:
        rr["TTL"] = value["ttl"]
        rr["ResourceRecords"] = [{"Value": v} for v in value["values"]]
    return rr


def _exact(rrset: dict) -> dict:
    """The record set as it is live, for a DELETE (which must match exactly)."""
    rr = {k: rrset[k] for k in ("Name", "Type", "SetIdentifier") if k in rrset}
    if rrset.get("AliasTarget"):
        rr["AliasTarget"] = rrset["AliasTarget"]
    else:
        rr["TTL"] = rrset["TTL"]
        rr["ResourceRecords"] = rrset.get("ResourceRecords", [])
    return rr
