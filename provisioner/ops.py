"""The operator's workflow on top of the engine: saved plans, outputs, show, preflight, drift metric.

Everything here works with whatever reconcilers are registered (``reconcilers.build``); nothing
names a service except ``preflight`` (STS for the account, Route53 for the hosted zone) and the
drift metric (CloudWatch ``PutMetricData``, the only mutating call ``drift`` can make, and only
with ``--publish-metric``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ProvisionError
from .model import Change, Plan, Resource, jsonable

if TYPE_CHECKING:
    from .aws import Aws
    from .config import DesiredState
    from .context import Context

# --- saved plans ----------------------------------------------------------------------------------


def load_saved_plan(path: str) -> Plan:
    return read_saved_plan(path)[0]


def read_saved_plan(path: str) -> tuple[Plan, dict[str, Any]]:
    """The saved plan and its JSON as saved (its header says which stack, account and region)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ProvisionError(f"{path}: no such plan file") from None
    except (OSError, ValueError) as e:
        raise ProvisionError(f"{path}: not a saved plan (made with `provision plan -o FILE`): {e}") from None
    if not isinstance(data, dict) or data.get("format_version") != 1 or "changes" not in data:
        raise ProvisionError(f"{path}: not a saved plan (expected format_version 1 from `provision plan -o FILE`)")
    try:
        return Plan.from_json(data), data
    except (KeyError, TypeError) as e:
        raise ProvisionError(f"{path}: malformed saved plan: {e}") from None


def stale_reasons(saved: Plan, fresh: Plan) -> list[str]:
    """Why ``saved`` may no longer be applied: what moved between it and a fresh plan (empty = none).

    The desired file is compared by hash; live state by the fingerprint of each resource's
    normalised live value (the plan records one per resource), and by the planned changes.
    """
    reasons: list[str] = []
    if saved.mode != fresh.mode:
        reasons.append(f"the saved plan is a {saved.mode} plan, not {fresh.mode}")
    if saved.desired_hash != fresh.desired_hash:
        reasons.append(
            f"the desired state ({fresh.source}) changed since the plan was made "
            f"(desired_hash {saved.desired_hash or '?'} -> {fresh.desired_hash})"
        )
    old = {c.address: c for c in saved.changes}
    new = {c.address: c for c in fresh.changes}
    for addr in old.keys() - new.keys():
        reasons.append(f"{addr}: in the saved plan but no longer managed")
    for addr in new.keys() - old.keys():
        reasons.append(f"{addr}: managed now but not in the saved plan")
    for addr in [a for a in new if a in old]:
        o, n = old[addr], new[addr]
        if o.fingerprint != n.fingerprint or o.action != n.action or _fields(o) != _fields(n):
            detail = _describe_move(o, n)
            reasons.append(f"{addr}: live state changed since the plan was made{detail}")
    return reasons


def _fields(change: Change) -> list[dict[str, Any]]:
    return [f.to_json() for f in change.fields]


def _describe_move(o: Change, n: Change) -> str:
    if o.action != n.action:
        return f" (planned {o.action}, now {n.action})"
    before = {f["path"]: f for f in _fields(o)}
    after = {f["path"]: f for f in _fields(n)}
    moved = [p for p in sorted(before.keys() | after.keys()) if before.get(p) != after.get(p)]
    parts = []
    for p in moved[:5]:
        if p not in before:
            parts.append(f"{p} now differs (actual {_short(after[p]['actual'])})")
        elif p not in after:
            parts.append(f"{p} no longer differs")
        else:
            parts.append(f"{p}: {_short(before[p]['actual'])} -> {_short(after[p]['actual'])}")
    if len(moved) > 5:
        parts.append(f"and {len(moved) - 5} more")
    return " (" + ", ".join(parts) + ")" if parts else " (its live value is not the one the plan saw)"


def _short(v: Any) -> str:
    s = json.dumps(jsonable(v), sort_keys=True, default=str)
    return s if len(s) <= 60 else s[:57] + "..."


# --- outputs --------------------------------------------------------------------------------------

NOT_CREATED = "(not created)"


def outputs_text(values: dict[str, Any]) -> str:
    width = max((len(k) for k in values), default=0)
    return "\n".join(f"{k:<{width}} = {NOT_CREATED if v is None else v}" for k, v in values.items())


# --- show (the seed's synth) ----------------------------------------------------------------------


def show_data(ctx: Context, resources: list[Resource], *, offline: bool) -> dict[str, Any]:
    from .engine import order

    items = []
    for r in order(resources):
        live = None if offline else ctx.live.get(r.address)
        item: dict[str, Any] = {
            "address": r.address,
            "service": r.service,
            "depends_on": list(r.depends_on),
            "exists": None if offline else live is not None,
        }
        if r.data_source:
            item["data_source"] = True
            item["desired"] = None
            item["outputs"] = jsonable(ctx.outs.get(r.address) or {})
        else:
            try:
                item["desired"] = jsonable(r.desired(ctx))
            except Exception as e:  # noqa: BLE001 - one message shape
                raise ProvisionError(f"resolving {r.address}: {type(e).__name__}: {e}") from e
        items.append(item)
    return {"format_version": 1, "source": ctx.desired.source, "resolved": not offline, "resources": items}


def show_text(data: dict) -> str:
    lines: list[str] = []
    for item in data["resources"]:
        state = "" if item["exists"] is None else ("  [exists]" if item["exists"] else "  [not created]")
        label = f" ({item['service']})" if item["service"] else ""
        lines.append(f"# {item['address']}{label}{state}")
        if item.get("data_source"):
            lines.append("  (data source: looked up, never changed)")
            for k, v in (item.get("outputs") or {}).items():
                lines.append(f"  {k} = {_value(v, 2)}")
        else:
            for k, v in (item["desired"] or {}).items():
                lines.append(f"  {k} = {_value(v, 2)}")
        lines.append("")
    if not data["resolved"]:
        lines.append("(offline: values that come from other resources are shown as (known after apply))")
    return "\n".join(lines).rstrip() + "\n"


def _value(v: Any, indent: int) -> str:
    s = json.dumps(v, indent=2, sort_keys=False, default=str) if isinstance(v, (dict, list)) and v else \
        json.dumps(v, default=str)
    s = s.replace('"(known after apply)"', "(known after apply)")
    return s.replace("\n", "\n" + " " * indent)


# --- preflight (the seed's bootstrap) -------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


def preflight(desired: DesiredState, aws: Aws, unmanaged: list[str]) -> list[Check]:
    """Read-only checks before any change: credentials, account, region, hosted zone."""
    checks = [Check("desired state", True, f"{desired.source} is valid (stack {desired.stack.name!r})")]
    try:
        ident = aws.client("sts").get_caller_identity()
    except Exception as e:  # noqa: BLE001
        checks.append(Check("credentials", False, f"sts:GetCallerIdentity failed: {_cause(e)}"))
        return checks
    account = ident.get("Account", "")
    checks.append(Check("credentials", True, f"{ident.get('Arn', '?')}"))
    want = desired.stack.account_id
    if want and want != account:
        checks.append(Check("account", False, f"credentials are for account {account}, but stack.account_id = {want}"))
    elif want:
        checks.append(Check("account", True, f"{account} (matches stack.account_id)"))
    else:
        checks.append(Check("account", True, f"{account} (not pinned: set stack.account_id to refuse other accounts)"))
    region = aws.region
    try:
        known = set(aws.session.get_available_regions("s3")) | set(aws.session.get_available_regions("cloudwatch"))
    except Exception:  # noqa: BLE001 - offline data; absence is not an error
        known = set()
    if known and region not in known:
        checks.append(Check("region", False, f"{region!r} is not an AWS region"))
    else:
        checks.append(Check("region", True, f"{region} (CloudFront, ACM for CloudFront, IAM and Route53 in us-east-1)"))
    checks.append(_zone_check(desired, aws))
    if unmanaged:
        checks.append(Check("reconcilers", True, "not yet managed (not checked): " + ", ".join(unmanaged)))
    return checks


def _zone_check(desired: DesiredState, aws: Aws) -> Check:
    r53 = aws.client("route53")
    name = desired.dns.zone.rstrip(".") + "."
    try:
        if desired.dns.zone_id:
            z = r53.get_hosted_zone(Id=desired.dns.zone_id)["HostedZone"]
            if z["Name"] != name:
                return Check("hosted zone", False, f"zone id {desired.dns.zone_id} is {z['Name']!r}, not {name!r}")
            return Check("hosted zone", True, f"{name} ({desired.dns.zone_id})")
        found = []
        kwargs: dict[str, Any] = {"DNSName": name}
        while True:
            page = r53.list_hosted_zones_by_name(**kwargs)
            for z in page.get("HostedZones", []):
                if z["Name"] == name and not z.get("Config", {}).get("PrivateZone"):
                    found.append(z["Id"].split("/")[-1])
            if not page.get("IsTruncated") or page.get("NextDNSName") != name:
                break
            kwargs = {"DNSName": page["NextDNSName"], "HostedZoneId": page["NextHostedZoneId"]}
    except Exception as e:  # noqa: BLE001
        return Check("hosted zone", False, f"looking up {name}: {_cause(e)}")
    if not found:
        return Check("hosted zone", False, f"no public hosted zone {name} in this account (it must exist already; "
                                           "provision never creates it)")
    if len(found) > 1:
        return Check("hosted zone", False, f"{len(found)} public zones named {name} ({', '.join(found)}): "
                                           "pin one with dns.zone_id")
    return Check("hosted zone", True, f"{name} ({found[0]})")


def _cause(e: BaseException) -> str:
    from .errors import _cause as cause

    return cause(e)


def checks_text(checks: list[Check]) -> str:
    lines = [f"  [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}" for c in checks]
    bad = [c for c in checks if not c.ok]
    lines.append("Preflight passed: ready to plan and apply." if not bad
                 else f"Preflight failed: {len(bad)} check(s) failed.")
    return "\n".join(lines)


# --- drift metric ---------------------------------------------------------------------------------

METRIC_NAMESPACE = "Provision/Drift"
METRIC_NAME = "DriftedResources"


def publish_drift_metric(ctx: Context, plan: Plan) -> int:
    """PutMetricData: the number of drifted resources (orphans included), dimension Stack=<stack name>,
    in us-east-1.

    us-east-1 whatever the stack's region: the alarms (``[[alarms.alarm]]`` on Provision/Drift) and
    their SNS topic live there, with the CloudFront metrics, and an alarm sees only its own region.
    """
    count = len(plan.drifted) + len(plan.blocked) + len(plan.orphans)
    try:
        ctx.client("cloudwatch", "us-east-1").put_metric_data(
            Namespace=METRIC_NAMESPACE,
            MetricData=[{
                "MetricName": METRIC_NAME,
                "Dimensions": [{"Name": "Stack", "Value": ctx.desired.stack.name}],
                "Value": float(count),
                "Unit": "Count",
            }],
        )
    except Exception as e:  # noqa: BLE001
        raise ProvisionError(f"publishing the drift metric ({METRIC_NAMESPACE}/{METRIC_NAME}): {_cause(e)}") from e
    return count


__all__ = ["load_saved_plan", "read_saved_plan", "stale_reasons", "outputs_text", "show_data", "show_text", "preflight",
           "checks_text", "publish_drift_metric", "METRIC_NAMESPACE", "METRIC_NAME"]
