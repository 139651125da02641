"""The [dns] and [certificate] sections: the hosted zone, its extra records and the ACM certificate."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError, Described
from .base import Section, check_dns_name, in_zone

RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "CAA", "NS", "SRV")
KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")


@dataclass(frozen=True)
class Certificate:
    domain: str
    subject_alternative_names: tuple[str, ...]
    key_algorithm: str


@dataclass(frozen=True)
class Record:
    name: str  # fully qualified, no trailing dot
    type: str
    ttl: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class Dns:
    zone: str  # zone name, no trailing dot
    zone_id: str | None
    validation_record_ttl: int
    alias_records: tuple[str, ...]  # ("A", "AAAA")
    records: tuple[Record, ...]  # extra plain records managed in the zone


def parse_dns(s: Section) -> Dns:
    zone = check_dns_name(s.file, s._p("zone"), s.str("zone", required=True))
    zone_id = s.str("zone_id", None, pattern=re.compile(r"^(/hostedzone/)?[A-Z0-9]{1,32}$"),
                    what="a hosted zone id like 'Z1234567890ABC'")
    if zone_id:
        zone_id = zone_id.removeprefix("/hostedzone/")
    ttl = s.int("validation_record_ttl", 300, lo=0, hi=2147483647)
    alias = s.strlist("alias_records", ["A", "AAAA"], item=lambda p, v: _choice(s.file, p, v, ("A", "AAAA")),
                      min_len=1, what="a list of record types ('A', 'AAAA')")
    recs = []
    seen = set()
    for r in s.tables("records"):
        name = check_dns_name(r.file, r._p("name"), r.str("name", required=True))
        if not in_zone(name, zone):
            r.fail("name", f"a name inside the zone {zone!r}", name)
        rtype = r.str("type", required=True, choices=RECORD_TYPES + ("SOA",))
        if rtype == "SOA" or (rtype == "NS" and name == zone):
            # The zone's SOA and apex NS are Route53's own: rewriting them hands the domain elsewhere.
            r.fail("type", "a record type other than the zone's own SOA and apex NS records", rtype)
        ttl_r = r.int("ttl", 300, lo=0, hi=2147483647)
        values = r.strlist("values", required=True, min_len=1, max_len=400)
        r.done()
        if (name, rtype) in seen:
            r.fail("name", "one entry per (name, type)", Described(f"a second {rtype} record for {name!r}"))
        seen.add((name, rtype))
        recs.append(Record(name=name, type=rtype, ttl=ttl_r, values=values))
    s.done()
    return Dns(zone=zone, zone_id=zone_id, validation_record_ttl=ttl, alias_records=alias, records=tuple(recs))


def _choice(file: str, path: str, v: str, choices: tuple[str, ...]) -> None:
    if v not in choices:
        raise ConfigError(file, path, "one of " + ", ".join(repr(c) for c in choices), v)


def parse_certificate(s: Section, dns: Dns, file: str) -> Certificate:
    domain = check_dns_name(s.file, s._p("domain"), s.str("domain", required=True))
    if not in_zone(domain, dns.zone):
        s.fail("domain", f"a domain inside the hosted zone dns.zone = {dns.zone!r} (DNS validation writes there)",
               domain)
    sans = s.strlist("subject_alternative_names", [])
    for i, n in enumerate(sans):
        nn = check_dns_name(s.file, f"{s._p('subject_alternative_names')}[{i}]", n)
        if not in_zone(nn.removeprefix("*."), dns.zone):
            raise ConfigError(s.file, f"{s._p('subject_alternative_names')}[{i}]",
                              f"a name inside the zone {dns.zone!r}", n)
    validation = s.str("validation", "DNS", choices=("DNS",))
    del validation
    algo = s.str("key_algorithm", "RSA_2048", choices=KEY_ALGORITHMS)
    s.done()
    return Certificate(domain=domain, subject_alternative_names=tuple(n.lower() for n in sans), key_algorithm=algo)
