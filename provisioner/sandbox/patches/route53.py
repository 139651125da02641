"""Route 53 ListHostedZonesByName ordering and paging as AWS has it.

AWS behaviour reproduced (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByName.html):
zones sorted by name with labels reversed (com.example.www), then by id; the list starts at
``DNSName`` (and ``HostedZoneId``, which needs a ``DNSName``: ``InvalidInput`` otherwise) and
includes every zone after it, ``MaxItems`` (default 100) at a time, with ``IsTruncated`` /
``NextDNSName`` / ``NextHostedZoneId``.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.route53 import responses as r53_responses
from moto.route53.exceptions import InvalidInput

from ._common import int_param


def reversed_labels(name: str) -> str:
    return ".".join(reversed(name.rstrip(".").lower().split(".")))


def apply() -> None:
    """ListHostedZonesByName: name order from DNSName/HostedZoneId on, MaxItems, IsTruncated, Next*."""
    Response = r53_responses.Route53

    # AWS: zones sorted by name with labels reversed (com.example.www), then by id; the list
    # starts at DNSName (and HostedZoneId) and includes every zone after it, MaxItems (default
    # 100) at a time, with IsTruncated / NextDNSName / NextHostedZoneId.
    def list_hosted_zones_by_name(self: Any) -> ActionResult:
        dns_name = self._get_param("DNSName")
        zone_id = self._get_param("HostedZoneId")
        if zone_id and not dns_name:
            raise InvalidInput("The DNSName must be specified when HostedZoneId is specified.")
        max_items = int_param(self._get_param("MaxItems"), 100)
        zones = sorted(
            self.backend.zones.values(), key=lambda z: (reversed_labels(z.name), z.resource_id)
        )
        if dns_name:
            dns_name = dns_name if dns_name.endswith(".") else dns_name + "."
            start = (reversed_labels(dns_name), (zone_id or "").split("/")[-1])
            zones = [z for z in zones if (reversed_labels(z.name), z.resource_id) >= start]
        page = zones[:max_items]
        result: dict[str, Any] = {
            "HostedZones": page,
            "IsTruncated": len(zones) > max_items,
            "MaxItems": str(max_items),
        }
        if dns_name:
            result["DNSName"] = dns_name
        if zone_id:
            result["HostedZoneId"] = zone_id
        if len(zones) > max_items:
            nxt = zones[max_items]
            result["NextDNSName"] = nxt.name
            result["NextHostedZoneId"] = nxt.resource_id
        return ActionResult(result)

    Response.list_hosted_zones_by_name = list_hosted_zones_by_name
