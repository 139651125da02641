"""Route 53 ListHostedZonesByName ordering and paging, and CREATE of an existing record, as AWS has them.

AWS behaviour reproduced (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html):
``CREATE`` "Creates a resource record set that has the specified values"; for one that already
exists the whole batch fails with ``InvalidChangeBatch`` "Tried to create resource record set
[name='x.', type='A'] but it already exists" (the batch is atomic: nothing is changed). moto 5.2.1
checks that only when the identical change was sent before, and otherwise adds a duplicate.

AWS behaviour reproduced (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByName.html):
zones sorted by name with labels reversed (com.example.www), then by id; the list starts at
``DNSName`` (and ``HostedZoneId``, which needs a ``DNSName``: ``InvalidInput`` otherwise) and
includes every zone after it, ``MaxItems`` (default 100) at a time, with ``IsTruncated`` /
``NextDNSName`` / ``NextHostedZoneId``.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.route53 import models as r53_models
from moto.route53 import responses as r53_responses
from moto.route53.exceptions import InvalidInput, ResourceRecordAlreadyExists

from ._common import int_param


def reversed_labels(name: str) -> str:
    return ".".join(reversed(name.rstrip(".").lower().split(".")))


def _fqdn(name: str) -> str:
    n = name.replace("\\052", "*").lower()
    return n if n.endswith(".") else n + "."


def apply() -> None:
    """ListHostedZonesByName: name order from DNSName/HostedZoneId on, MaxItems, IsTruncated, Next*;
    ChangeResourceRecordSets: CREATE of an existing record set is InvalidChangeBatch."""
    Response = r53_responses.Route53
    Backend = r53_models.Route53Backend
    orig_change = Backend.change_resource_record_sets

    def change_resource_record_sets(self: Any, zoneid: str, change_list: list[dict[str, Any]]) -> None:
        zone = self.get_hosted_zone(zoneid)
        existing = {(_fqdn(r.name), r.type, r.set_identifier) for r in zone.rrsets}
        for change in change_list:  # in batch order: a DELETE then CREATE of one record is a replace
            rr = change.get("ResourceRecordSet") or {}
            key = (_fqdn(rr.get("Name", "")), rr.get("Type"), rr.get("SetIdentifier"))
            if change.get("Action") == "CREATE":
                if key in existing:
                    raise ResourceRecordAlreadyExists(name=key[0], _type=str(key[1]))
                existing.add(key)
            elif change.get("Action") == "DELETE":
                existing.discard(key)
        orig_change(self, zoneid, change_list)

    Backend.change_resource_record_sets = change_resource_record_sets

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
