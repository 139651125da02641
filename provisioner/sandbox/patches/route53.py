"""Route 53 as AWS has it: ListHostedZonesByName ordering and paging, TXT record values, CREATE of an existing record.

AWS behaviour reproduced:

- https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByName.html: zones
  sorted by name with labels reversed (com.example.www), then by id; the list starts at ``DNSName``
  (and ``HostedZoneId``, which needs a ``DNSName``: ``InvalidInput`` otherwise) and includes every
  zone after it, ``MaxItems`` (default 100) at a time, with ``IsTruncated`` / ``NextDNSName`` /
  ``NextHostedZoneId``.
- https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html#TXTFormat: "A
  TXT record contains one or more strings that are enclosed in double quotation marks"; each string
  is at most 255 characters. ChangeResourceRecordSets refuses anything else with
  ``InvalidChangeBatch`` "Invalid Resource Record: FATAL problem: InvalidCharacterString (Value
  should be enclosed in quotation marks)" or "CharacterStringTooLong (Value is too long)" (the
  messages users report, e.g. rusoto issue #1046, boto3 issue #1462; Terraform's route53 code quotes
  TXT/SPF values itself for this reason). moto stores any value.
- https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html:
  ``CREATE`` "Creates a resource record set that has the specified values"; for one that already
  exists the whole batch fails with ``InvalidChangeBatch`` "Tried to create resource record set
  [name='x.', type='A'] but it already exists" (the batch is atomic: nothing is changed). moto 5.2.1
  checks that only when the identical change was sent before, and otherwise adds a duplicate.
- https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html: every change batch
  starts ``PENDING`` ("the changes in this request have not propagated to all Amazon Route 53 DNS
  servers managing the hosted zone. This is the initial status of all change batch requests") and
  becomes ``INSYNC`` once propagated; the Route 53 FAQ ("How quickly will changes I make to my DNS
  settings on Amazon Route 53 propagate globally?") bounds that at 60 seconds under normal
  conditions. Each ChangeResourceRecordSets answers its own ``ChangeInfo.Id`` (``/change/C...``).
  moto answers the same Id every time and INSYNC at once. With
  ``PROVISION_SANDBOX_ROUTE53_INSYNC_SECONDS`` > 0 a change answers PENDING (in
  ChangeResourceRecordSets and GetChange) for that long, then INSYNC; at 0 (the default) it is
  INSYNC at once, as before. Every change gets a unique Id either way.
- https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html ("Limits on API
  requests", ChangeResourceRecordSets): at most 1,000 ResourceRecord elements and 32,000 characters
  in all Value elements per request, each counted twice for an UPSERT; past them the request fails
  with ``InvalidChangeBatch``. moto 5.2.1 checks the 1,000 records; the 32,000 characters are added
  here (the message text is the sandbox's own).
- For ACM's DNS validation (``acm.py``): when each record was last written (:func:`written_at`).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.route53 import models as r53_models
from moto.route53 import responses as r53_responses
from moto.route53.exceptions import InvalidInput, ResourceRecordAlreadyExists, Route53ClientError

from ._common import int_param

MAX_VALUE_CHARS = 32000  # per ChangeResourceRecordSets request (UPSERT counted twice)
INSYNC_SECONDS_ENV = "PROVISION_SANDBOX_ROUTE53_INSYNC_SECONDS"
_lock = threading.Lock()
_submitted: dict[str, float] = {}  # change id -> when ChangeResourceRecordSets accepted it (monotonic)
_written: dict[tuple[str, str, str], float] = {}  # (zone id, name, type) -> when last written (monotonic)


def insync_seconds() -> float:
    """How long a change batch stays PENDING (read on every request)."""
    try:
        return max(0.0, float(os.environ.get(INSYNC_SECONDS_ENV, "0")))
    except ValueError:
        return 0.0


def _name(name: str) -> str:
    return name.lower().rstrip(".") + "."


def change_status(change_id: str) -> str:
    """PENDING until the change is ``insync_seconds()`` old, then INSYNC (unknown ids: INSYNC, as moto)."""
    with _lock:
        submitted = _submitted.get(change_id.split("/")[-1])
    if submitted is not None and time.monotonic() - submitted < insync_seconds():
        return "PENDING"
    return "INSYNC"


def written_at(account_id: str, name: str, rtype: str, value: str) -> float | None:
    """When the record (name, type) holding ``value`` was written to a hosted zone of the account
    (monotonic), or None while no zone has it. A record found but never seen written (the sandbox
    was reset, or it came from a fixture) counts from now."""
    backend = r53_models.route53_backends[account_id]["aws"]
    want = value.lower().rstrip(".")
    for zone in list(backend.zones.values()):
        for rrset in list(zone.rrsets):
            if _name(rrset.name) != _name(name) or rrset.type != rtype:
                continue
            values = [v.lower().rstrip(".") for v in _values({"ResourceRecords": rrset.records})]
            if want in values:
                with _lock:
                    return _written.setdefault((zone.id, _name(name), rtype), time.monotonic())
    return None


def reversed_labels(name: str) -> str:
    return ".".join(reversed(name.rstrip(".").lower().split(".")))


def txt_problem(value: str) -> str | None:
    """Why Route 53 refuses a TXT/SPF value (None: it accepts it): quoted strings of <= 255 characters."""
    i, n = 0, len(value)
    seen = False
    while i < n:
        if value[i].isspace():
            i += 1
            continue
        if value[i] != '"':
            return "InvalidCharacterString (Value should be enclosed in quotation marks)"
        i += 1
        length = 0
        while i < n and value[i] != '"':
            i += 2 if value[i] == "\\" else 1
            length += 1
        if i >= n:
            return "InvalidCharacterString (Value should be enclosed in quotation marks)"
        i += 1
        seen = True
        if length > 255:
            return "CharacterStringTooLong (Value is too long)"
    return None if seen else "InvalidCharacterString (Value should be enclosed in quotation marks)"


def _values(rrset: dict[str, Any]) -> list[str]:
    rrs = rrset.get("ResourceRecords") or []
    if isinstance(rrs, dict):
        rrs = rrs.get("ResourceRecord") or []
    if isinstance(rrs, dict):
        rrs = [rrs]
    return [r.get("Value", "") if isinstance(r, dict) else str(r) for r in rrs]


def _apply_txt() -> None:
    """ChangeResourceRecordSets refuses TXT/SPF values that are not quoted strings of <= 255 characters."""
    Backend = r53_models.Route53Backend
    orig = Backend.change_resource_record_sets

    def change_resource_record_sets(self: Any, zoneid: str, change_list: list[dict[str, Any]]) -> Any:
        chars = sum((2 if c.get("Action") == "UPSERT" else 1) * sum(len(v) for v in _values(c.get("ResourceRecordSet") or {}))
                    for c in change_list)
        if chars > MAX_VALUE_CHARS:
            raise Route53ClientError("InvalidChangeBatch",
                                     f"Number of characters in Value elements limit of {MAX_VALUE_CHARS} exceeded.")
        for change in change_list:
            rrset = change.get("ResourceRecordSet") or {}
            if change.get("Action") == "DELETE" or rrset.get("Type") not in ("TXT", "SPF"):
                continue
            for v in _values(rrset):
                problem = txt_problem(v)
                if problem:
                    raise Route53ClientError(
                        "InvalidChangeBatch", f"[Invalid Resource Record: 'FATAL problem: {problem} encountered with '{v}'']")
        out = orig(self, zoneid, change_list)
        now = time.monotonic()
        zone = self.get_hosted_zone(zoneid)
        with _lock:
            for change in change_list:
                rrset = change.get("ResourceRecordSet") or {}
                key = (zone.id, _name(rrset.get("Name", "")), rrset.get("Type", ""))
                if change.get("Action") == "DELETE":
                    _written.pop(key, None)
                else:
                    _written[key] = now
        return out

    Backend.change_resource_record_sets = change_resource_record_sets


def _fqdn(name: str) -> str:
    n = name.replace("\\052", "*").lower()
    return n if n.endswith(".") else n + "."


def _apply_create_existing() -> None:
    """ChangeResourceRecordSets: CREATE of a record set that exists fails the whole batch."""
    Backend = r53_models.Route53Backend
    orig_change = Backend.change_resource_record_sets

    def change_resource_record_sets(self: Any, zoneid: str, change_list: list[dict[str, Any]]) -> Any:
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
        return orig_change(self, zoneid, change_list)

    Backend.change_resource_record_sets = change_resource_record_sets


def _apply_changes() -> None:
    """A unique ChangeInfo.Id per change batch; PENDING for ``insync_seconds()``, then INSYNC."""
    Response = r53_responses.Route53
    orig_change = Response.change_resource_record_sets

    def change_resource_record_sets(self: Any) -> ActionResult:
        result = orig_change(self)
        body = dict(result.result)
        change_id = "C" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(13))
        with _lock:
            _submitted[change_id] = time.monotonic()
        body["ChangeInfo"] = {**body["ChangeInfo"], "Id": f"/change/{change_id}",
                              "Status": change_status(change_id)}
        comment = self._get_param("ChangeBatch.Comment")
        if comment:
            body["ChangeInfo"]["Comment"] = comment
        return ActionResult(body)

    def get_change(self: Any) -> ActionResult:
        change_id = self._get_param("Id")
        return ActionResult({"ChangeInfo": {"Id": f"/change/{change_id.split('/')[-1]}",
                                            "Status": change_status(change_id), "SubmittedAt": utcnow()}})

    Response.change_resource_record_sets = change_resource_record_sets
    Response.get_change = get_change


def apply() -> None:
    """ListHostedZonesByName: name order from DNSName/HostedZoneId on, MaxItems, IsTruncated, Next*; TXT
    values; CREATE of an existing record set is InvalidChangeBatch; change batches PENDING then INSYNC."""
    _apply_txt()
    _apply_create_existing()
    _apply_changes()
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
