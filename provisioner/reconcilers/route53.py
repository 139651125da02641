"""Route53: the hosted zone (a data source) and the records we manage in it.

- ``route53_zone.main``: looked up by ``dns.zone_id`` or by name (``list_hosted_zones_by_name``,
  paginated; exact name, public zones only). Never created or deleted: a missing zone is a
  PreconditionError during plan, before any change.
- ``route53_record.acm_validation``: the certificate's DNS validation CNAMEs (deduplicated).
- ``route53_record.alias_a`` / ``alias_aaaa``: aliases of the CDN names to the distribution
  (hosted zone ``Z2FDTNDATAQYW2``, EvaluateTargetHealth false).
- ``route53_record.extra.<name>.<type>``: plain records from ``[[dns.records]]``.

Reads are batched: one ``list_resource_record_sets`` pagination over the zone, memoised and shared
by every record resource. Names are normalised (lowercase, trailing dot, ``\\052`` -> ``*``), alias
targets get a trailing dot, alias TTLs are ignored, TXT values are quoted strings (``txt_value``),
plain values compare as a sorted list.
Ownership: records take no tags, so a record set is ours when the stack's ownership registry
(``_registry``: an SSM parameter) names its (zone, name, type). A record that exists and is not
registered is foreign: never UPSERTed over. A missing record is made with CREATE (registered
first), which AWS refuses if someone made that record meanwhile; only records we own (or adopt,
which registers them) are changed with UPSERT. The records of one zone written together share one
change batch (``batching``: the A and AAAA aliases, one INSYNC wait), retried on
``PriorRequestNotComplete``; ``settle`` waits until it is INSYNC (a task of its own: dependents
need only the write). Destroy deletes only the validation and
alias records we own, with their exact current values, then drops them from the registry.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Callable

from botocore.exceptions import ClientError

from .. import ownership as own
from .. import retry
from ..aws import error_code
from ..batching import Batched
from ..config import DesiredState, Record
from ..context import Context
from ..errors import PreconditionError
from ..model import FieldChange, Resource, Unknown, diff_fields
from . import _registry as registry
from .route53_values import _exact, _norm_value, _show, _to_aws, fqdn, normalise

ZONE = "route53_zone.main"
CERT = "acm_certificate.cdn"
DISTRIBUTION = "cloudfront_distribution.cdn"
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"  # the fixed hosted zone id of every CloudFront alias target
INSYNC_TIMEOUT = 600

#: ChangeResourceRecordSets quotas (Route 53 Developer Guide, "Quotas" > "Limits on API requests":
#: at most 1,000 ResourceRecord elements and 32,000 characters in all Value elements per request,
#: each counted twice for an UPSERT); a shared batch is split before it would pass them
MAX_RECORDS, MAX_VALUE_CHARS = 1000, 32000


def fits_one_request(changes: list[dict]) -> bool:
    records = chars = 0
    for ch in changes:
        k = 2 if ch.get("Action") == "UPSERT" else 1
        values = [r["Value"] for r in ch["ResourceRecordSet"].get("ResourceRecords") or []]
        records += k * len(values)
        chars += k * sum(len(v) for v in values)
    return records <= MAX_RECORDS and chars <= MAX_VALUE_CHARS


_insync: set[str] = set()  # change ids seen INSYNC (globally unique): a batch shared by two resources is waited for once
_insync_lock = threading.Lock()

def zone_records(ctx: Context, zone_id: str) -> dict[tuple[str, str], dict]:
    """Every simple record set in the zone by (name, type): one paginated listing per step."""

    def fetch() -> dict[tuple[str, str], dict]:
        r53 = ctx.client("route53")
        out: dict[tuple[str, str], dict] = {}
        for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
            for rr in page.get("ResourceRecordSets", []):
                if "SetIdentifier" in rr:  # routing-policy records: never ours
                    continue
                out.setdefault((fqdn(rr["Name"]), rr["Type"]), rr)
        return out

    return ctx.memo(("route53_records", zone_id), fetch)


# ---------------------------------------------------------------------------------------------


class HostedZone(Resource):
    service = "Route53 hosted zone"
    address = ZONE
    data_source = True

    def __init__(self, desired: DesiredState):
        self.zone = desired.dns.zone
        self.zone_id = desired.dns.zone_id
        self.source = desired.source

    def desired(self, ctx: Context) -> dict:
        return {"name": self.zone}

    def read(self, ctx: Context) -> dict | None:
        r53 = ctx.client("route53")
        want = fqdn(self.zone)
        if self.zone_id:
            try:
                z = r53.get_hosted_zone(Id=self.zone_id)["HostedZone"]
            except ClientError as e:
                if error_code(e) == "NoSuchHostedZone":
                    raise PreconditionError(
                        f"hosted zone {self.zone_id} (dns.zone_id in {self.source}) does not exist in this "
                        "account; the tool never creates it") from None
                raise
            if fqdn(z["Name"]) != want:
                raise PreconditionError(
                    f"hosted zone {self.zone_id} is named {_show(z['Name'])!r}, but dns.zone = {self.zone!r}")
            if z.get("Config", {}).get("PrivateZone"):
                raise PreconditionError(
                    f"hosted zone {self.zone_id} ({self.zone}) is private; DNS validation and the CDN "
                    "aliases need the public zone")
            return {"id": z["Id"].split("/")[-1], "name": self.zone}

        found: list[dict] = []
        kwargs: dict[str, str] = {"DNSName": want}
        done = False
        while not done:
            page = r53.list_hosted_zones_by_name(**kwargs)
            for z in page.get("HostedZones", []):
                if fqdn(z["Name"]) != want:  # zones come sorted by name: past ours, stop
                    done = True
                    break
                if not z.get("Config", {}).get("PrivateZone"):
                    found.append(z)
            if not page.get("IsTruncated") or not page.get("NextDNSName"):
                break
            kwargs = {"DNSName": page["NextDNSName"], "HostedZoneId": page["NextHostedZoneId"]}
        if not found:
            raise PreconditionError(
                f"hosted zone {self.zone!r} (dns.zone in {self.source}) was not found as a public zone "
                "in this account; it must exist already (the tool never creates it)")
        if len(found) > 1:
            ids = ", ".join(z["Id"].split("/")[-1] for z in found)
            raise PreconditionError(
                f"{len(found)} public hosted zones are named {self.zone!r} ({ids}); "
                "set dns.zone_id to the one to use")
        z = found[0]
        return {"id": z["Id"].split("/")[-1], "name": self.zone}

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"id": live["id"], "name": live["name"]}


class RecordSet(Batched, Resource):
    """Records of one type in the zone, by name: desired ``{"records": {name: value}}``."""

    service = "Route53 record"
    rtype = ""
    #: when none of the records exist: report each missing name as a field (True) or the whole
    #: resource as absent, i.e. "create" (False)
    report_missing_names = False

    def wanted(self, ctx: Context) -> dict[str, dict] | Unknown:
        """fqdn -> normalised desired value (or Unknown when the names are not known yet)."""
        raise NotImplementedError

    def names(self, ctx: Context) -> list[str] | Unknown:
        w = self.wanted(ctx)
        return w if isinstance(w, Unknown) else list(w)

    def desired(self, ctx: Context) -> dict:
        w = self.wanted(ctx)
        if isinstance(w, Unknown):
            return {"records": w}
        return {"records": {_show(n): v for n, v in w.items()}}

    def _zone_id(self, ctx: Context) -> str | Unknown:
        return ctx.out(ZONE, "id")

    def read(self, ctx: Context) -> dict | None:
        zone_id = self._zone_id(ctx)
        names = self.names(ctx)
        if isinstance(zone_id, Unknown) or isinstance(names, Unknown):
            return None
        sets = zone_records(ctx, zone_id)
        found = {_show(n): normalise(sets[(n, self.rtype)]) for n in names if (n, self.rtype) in sets}
        return {"records": found} if found or self.report_missing_names else None

    def batch_key(self, ctx: Context) -> tuple[str, str] | None:
        """Changes of one zone that are ready together go in one batch (the A and AAAA aliases)."""
        zone_id = self._zone_id(ctx)
        return None if isinstance(zone_id, Unknown) else ("route53", zone_id)

    def _change(self, ctx: Context, changes: list[dict], failed: Callable[[BaseException], bool] | None = None) -> None:
        """Submit ``changes`` (with those of the other records written beside it, ``ctx.batches``)."""
        if not changes:
            return
        r53 = ctx.client("route53")
        zone_id = self._zone_id(ctx)
        stack = ctx.desired.stack.name
        extra = {"failed": failed} if failed is not None else {}

        def send(items: list[dict], labels: list[str]) -> dict:
            batch = {"Comment": f"provision {stack}: {', '.join(labels)}"[:256], "Changes": items}
            return retry.call("route53_prior_request",
                              lambda: r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch=batch))

        ctx.batches.send(self.batch_key(ctx), changes, send, label=self.address, fits=fits_one_request, **extra,
                         sent=lambda resp: self._pending().append(resp["ChangeInfo"]["Id"]))  # INSYNC: settle()

    def _pending(self) -> list[str]:
        """The change ids this resource submitted and has not yet seen INSYNC."""
        return vars(self).setdefault("_changes", [])

    def settle(self, ctx: Context) -> None:
        """Wait until every change batch this resource submitted is INSYNC (also with --no-wait:
        a change is INSYNC within a minute, and today's semantics keep it). A batch shared with
        another record (written beside it) and already seen INSYNC is not polled again."""
        r53, pending = ctx.client("route53"), self._pending()
        while pending:
            with _insync_lock:
                seen = pending[0] in _insync
            if not seen:
                ctx.wait_for(f"Route53 change ({self.address})", r53, "resource_record_sets_changed",
                             delay=5, timeout=INSYNC_TIMEOUT, Id=pending[0])
                with _insync_lock:
                    _insync.add(pending[0])
            pending.pop(0)

    # -- ownership: the registry ----------------------------------------------------------------
    def _key(self, ctx: Context, name: str) -> str:
        return registry.record_key(str(self._zone_id(ctx)), fqdn(name), self.rtype)

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        names = sorted(live.get("records") or {})
        if not names:
            return own.Ownership(own.ABSENT)
        theirs = [n for n in names if not registry.registered(ctx, self._key(ctx, n))]
        if not theirs:
            return own.Ownership(own.OURS)
        detail = "not in the stack's ownership registry"
        return own.Ownership(own.FOREIGN, detail if len(names) == 1 else f"{', '.join(theirs)}: {detail}")

    def adopt(self, ctx: Context, live: dict) -> None:
        registry.register(ctx, [self._key(ctx, n) for n in live.get("records") or {}])

    # -- changes -----------------------------------------------------------------------------------
    def create(self, ctx: Context, desired: dict) -> None:
        self.update(ctx, desired, {"records": {}}, ())

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        have = live.get("records") or {}
        batch, new = [], []
        for name, value in desired["records"].items():
            if name not in have:  # CREATE: refused by AWS if someone made it meanwhile (never overwritten)
                new.append(name)
                batch.append({"Action": "CREATE", "ResourceRecordSet": _to_aws(fqdn(name), self.rtype, value)})
            elif diff_fields(value, have[name]):  # ours (engine checked): only what differs
                batch.append({"Action": "UPSERT", "ResourceRecordSet": _to_aws(fqdn(name), self.rtype, value)})
        if new:  # write-ahead: a crash after this leaves a registered absent record, created next run
            registry.register(ctx, [self._key(ctx, n) for n in new])
        # A CREATE whose response was lost is retried and answered "already exists": fine when every
        # record of the (atomic) batch is now exactly what was sent; anything else is not ours.
        self._change(ctx, batch, failed=lambda e: isinstance(e, ClientError) and error_code(e) == "InvalidChangeBatch"
                     and "already exists" in str(e) and self._landed(ctx, desired))

    def _landed(self, ctx: Context, desired: dict) -> bool:
        ctx.forget()
        sets = zone_records(ctx, str(self._zone_id(ctx)))
        return all((fqdn(n), self.rtype) in sets and not diff_fields(v, normalise(sets[(fqdn(n), self.rtype)]))
                   for n, v in desired["records"].items())

    def delete(self, ctx: Context, live: dict) -> None:
        sets = zone_records(ctx, str(self._zone_id(ctx)))  # read right before (the engine just re-read)
        names = [n for n in sorted(live.get("records") or {}) if (fqdn(n), self.rtype) in sets]
        deletes = [{"Action": "DELETE", "ResourceRecordSet": _exact(sets[(fqdn(n), self.rtype)])} for n in names]
        self._change(ctx, deletes)
        registry.unregister(ctx, [self._key(ctx, n) for n in live.get("records") or {}])


class ValidationRecords(RecordSet):
    address = "route53_record.acm_validation"
    depends_on = (CERT, ZONE)
    rtype = "CNAME"
    # The records of an existing certificate: a deleted one is drift naming the record, not a
    # resource to create. (While the certificate does not exist, read() returns None: create.)
    report_missing_names = True

    def __init__(self, desired: DesiredState):
        self.ttl = desired.dns.validation_record_ttl

    def wanted(self, ctx: Context) -> dict[str, dict] | Unknown:
        recs = ctx.out(CERT, "validation_records")
        if isinstance(recs, Unknown):
            return recs
        out: dict[str, dict] = {}
        for r in recs:  # deduplicated: a wildcard SAN shares its base name's record
            if r["type"] != self.rtype:  # pragma: no cover - ACM DNS validation is always CNAME
                continue
            name = fqdn(r["name"])
            v = out.setdefault(name, {"ttl": self.ttl, "values": []})
            val = _norm_value("CNAME", r["value"])
            if val not in v["values"]:
                v["values"] = sorted([*v["values"], val])
        return out


class AliasRecords(RecordSet):
    # After the bucket policy: DNS points at a distribution only once it is granted read (engine's invariant).
    depends_on = (ZONE, DISTRIBUTION, "s3_bucket_policy.buildcache")
    read_after = (ZONE,)  # the names are the aliases; only the desired target needs the distribution

    def __init__(self, desired: DesiredState, rtype: str):
        self.rtype = rtype
        self.address = f"route53_record.alias_{rtype.lower()}"
        self.aliases = desired.cdn.aliases

    def _target(self, ctx: Context) -> dict:
        domain = ctx.out(DISTRIBUTION, "domain_name")
        return {"dns_name": domain if isinstance(domain, Unknown) else fqdn(domain),
                "hosted_zone_id": CLOUDFRONT_ZONE_ID, "evaluate_target_health": False}

    def wanted(self, ctx: Context) -> dict[str, dict] | Unknown:
        target = self._target(ctx)
        return {fqdn(a): {"alias": dict(target)} for a in self.aliases}


class ExtraRecord(RecordSet):
    """A plain record from [[dns.records]]. Kept on destroy (it may predate the tool)."""

    depends_on = (ZONE,)
    retain_on_destroy = True

    def __init__(self, rec: Record):
        self.rec = rec
        self.rtype = rec.type
        self.address = f"route53_record.extra.{rec.name}.{rec.type}"

    def wanted(self, ctx: Context) -> dict[str, dict] | Unknown:
        return {fqdn(self.rec.name): {"ttl": self.rec.ttl,
                                      "values": sorted(_norm_value(self.rtype, v) for v in self.rec.values)}}


def cloudfront_managed() -> bool:
    """The alias targets come from the CloudFront reconciler; without it they can never be applied."""
    return importlib.util.find_spec(f"{__package__}.cloudfront") is not None


def alias_resources(desired: DesiredState) -> list[Resource]:
    return [AliasRecords(desired, t) for t in desired.dns.alias_records]


def resources(desired: DesiredState, *, aliases: bool | None = None) -> list[Resource]:
    out: list[Resource] = [HostedZone(desired), ValidationRecords(desired)]
    if aliases if aliases is not None else cloudfront_managed():
        out.extend(alias_resources(desired))
    out.extend(ExtraRecord(r) for r in desired.dns.records)
    return out
