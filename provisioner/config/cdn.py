"""The [cdn] section: the CloudFront distribution, its cache policy, logging and error responses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError, Described
from .base import Section, check_dns_name, in_zone
from .cdn_policies import OriginRequestPolicy, ResponseHeadersPolicy, behaviour, parse_origin_request, parse_response_headers
from .dns import Certificate, Dns

TLS_VERSIONS = ("TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
VIEWER_POLICIES = ("redirect-to-https", "https-only")  # allow-all would serve the cache over plain HTTP
HTTP_VERSIONS = ("http1.1", "http2", "http3", "http2and3")
METHOD_SETS = (("GET", "HEAD"), ("GET", "HEAD", "OPTIONS"),
               ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"))


@dataclass(frozen=True)
class CachePolicy:
    kind: str  # "custom" (cache policy, gzip+brotli) | "legacy" (ForwardedValues, gzip only)
    name: str
    min_ttl: int
    default_ttl: int
    max_ttl: int
    query_strings: bool  # True: all query strings in the cache key (query_string_behavior "all")
    gzip: bool
    brotli: bool
    query_string_behavior: str = "all"  # all | none | whitelist (query_string_names)
    query_string_names: tuple[str, ...] = ()
    header_names: tuple[str, ...] = ()  # headers in the cache key (lower-case; () = none)
    cookies: str = "none"  # none | all | whitelist (cookie_names)
    cookie_names: tuple[str, ...] = ()
    comment: str | None = None  # None: provision's own description of the policy


@dataclass(frozen=True)
class CdnLogging:
    enabled: bool
    prefix: str
    include_cookies: bool


@dataclass(frozen=True)
class ErrorResponse:
    error_code: int
    response_code: int
    response_page_path: str
    min_ttl: int


@dataclass(frozen=True)
class Cdn:
    aliases: tuple[str, ...]
    origin_access: str  # "oai" | "oac"
    comment: str
    price_class: str
    viewer_protocol_policy: str
    minimum_protocol_version: str
    ssl_support_method: str
    http_version: str
    ipv6: bool
    compress: bool
    allowed_methods: tuple[str, ...]
    cached_methods: tuple[str, ...]
    geo_restriction: str  # "none"
    grant_list_bucket: bool
    default_root_object: str
    additional_metrics: bool  # CloudFront monitoring subscription (needed for CacheHitRate)
    cache: CachePolicy
    logging: CdnLogging
    error_responses: tuple[ErrorResponse, ...]
    response_headers: ResponseHeadersPolicy | None = None  # [cdn.response_headers]
    origin_request: OriginRequestPolicy | None = None  # [cdn.origin_request]


def parse_cdn(s: Section, dns: Dns, cert: Certificate, file: str) -> Cdn:
    aliases = s.strlist("aliases", [cert.domain], min_len=1, max_len=100)
    covered = {cert.domain, *cert.subject_alternative_names}
    for i, a in enumerate(aliases):
        n = check_dns_name(s.file, f"{s._p('aliases')}[{i}]", a)
        ok = n in covered or any(c.startswith("*.") and n.split(".", 1)[1] == c[2:] for c in covered)
        if not ok:
            raise ConfigError(s.file, f"{s._p('aliases')}[{i}]",
                              "a name covered by the certificate (certificate.domain or its SANs)", a)
        if not in_zone(n, dns.zone):
            raise ConfigError(s.file, f"{s._p('aliases')}[{i}]", f"a name inside the zone {dns.zone!r}", a)
    aliases = tuple(a.lower().rstrip(".") for a in aliases)
    origin_access = s.str("origin_access", "oai", choices=("oai", "oac"))
    comment = s.str("comment", "", allow_empty=True)
    if len(comment) > 128:
        s.fail("comment", "at most 128 characters", Described(f"{len(comment)} characters"))
    price = s.str("price_class", "PriceClass_100", choices=PRICE_CLASSES)
    vpp = s.str("viewer_protocol_policy", "redirect-to-https", choices=VIEWER_POLICIES)
    tls = s.str("minimum_protocol_version", "TLSv1.2_2021", choices=TLS_VERSIONS)
    ssl = s.str("ssl_support_method", "sni-only", choices=("sni-only",))
    http = s.str("http_version", "http2", choices=HTTP_VERSIONS)
    ipv6 = s.bool("ipv6", True)
    compress = s.bool("compress", True)
    allowed = s.strlist("allowed_methods", ["GET", "HEAD", "OPTIONS"])
    if tuple(sorted(allowed)) not in {tuple(sorted(m)) for m in METHOD_SETS}:
        s.fail("allowed_methods",
               "one of the sets CloudFront accepts: [GET, HEAD], [GET, HEAD, OPTIONS] or all seven", list(allowed))
    cached = s.strlist("cached_methods", ["GET", "HEAD"])
    if tuple(sorted(cached)) not in {("GET", "HEAD"), ("GET", "HEAD", "OPTIONS")} or not set(cached) <= set(allowed):
        s.fail("cached_methods", "[GET, HEAD] or [GET, HEAD, OPTIONS], a subset of allowed_methods", list(cached))
    geo = s.str("geo_restriction", "none", choices=("none",))
    grant_list = s.bool("grant_list_bucket", False)
    root_obj = s.str("default_root_object", "", allow_empty=True)
    metrics = s.bool("additional_metrics", True)
    cache = _cache(s.section("cache", required=False))

    lg = s.section("logging", required=False)
    logging = CdnLogging(enabled=lg.bool("enabled", True),
                         prefix=lg.str("prefix", "cloudfront/", allow_empty=True),
                         include_cookies=lg.bool("include_cookies", False))
    lg.done()

    errs = []
    for e in s.tables("error_responses"):
        errs.append(ErrorResponse(
            error_code=e.int("error_code", required=True, lo=400, hi=599),
            response_code=e.int("response_code", 0, lo=0, hi=599),
            response_page_path=e.str("response_page_path", "", allow_empty=True),
            min_ttl=e.int("min_ttl", 10, lo=0, hi=31536000),
        ))
        e.done()
    response_headers = parse_response_headers(s.section("response_headers", required=False))
    origin_request = parse_origin_request(s.section("origin_request", required=False))
    if origin_request is not None and cache.kind == "legacy":
        s.fail("origin_request", "no origin request policy with cdn.cache.policy = 'legacy' (CloudFront takes an "
               "origin request policy only beside a cache policy)", Described("an [cdn.origin_request] table"))
    s.done()
    return Cdn(aliases=aliases, origin_access=origin_access, comment=comment, price_class=price,
               viewer_protocol_policy=vpp, minimum_protocol_version=tls, ssl_support_method=ssl, http_version=http,
               ipv6=ipv6, compress=compress, allowed_methods=tuple(allowed), cached_methods=tuple(cached),
               geo_restriction=geo, grant_list_bucket=grant_list, default_root_object=root_obj,
               additional_metrics=metrics, cache=cache, logging=logging, error_responses=tuple(errs),
               response_headers=response_headers, origin_request=origin_request)


def _cache(c: Section) -> CachePolicy:
    kind = c.str("policy", "custom", choices=("custom", "legacy"))
    cname = c.str("name", "slurm-factory-buildcache", pattern=re.compile(r"^[A-Za-z0-9_-]{1,128}$"),
                  what="a cache policy name (letters, digits, '-', '_')")
    min_ttl = c.int("min_ttl", 0, lo=0, hi=31536000)
    default_ttl = c.int("default_ttl", 86400, lo=0, hi=31536000)
    max_ttl = c.int("max_ttl", 31536000, lo=0, hi=31536000)
    if not (min_ttl <= default_ttl <= max_ttl):
        c.fail("default_ttl", f"min_ttl <= default_ttl <= max_ttl ({min_ttl} <= {default_ttl} <= {max_ttl} "
               "does not hold)", default_ttl)
    qs, qs_names = behaviour(c, "query_strings", "all", ("all", "none"))
    _, headers = behaviour(c, "headers", "none", ("none",), header=True)
    cookies, cookie_names = behaviour(c, "cookies", "none", ("none", "all"))
    gzip = c.bool("gzip", True)
    brotli = c.bool("brotli", True)
    comment = c.str("comment", None, allow_empty=True)
    if comment is not None and len(comment) > 128:
        c.fail("comment", "at most 128 characters", Described(f"{len(comment)} characters"))
    if kind == "legacy":
        if brotli:
            c.fail("brotli", "false with policy = 'legacy' (legacy cache settings compress with gzip only)", brotli)
        for key, ok in (("query_strings", qs != "whitelist"), ("headers", not headers), ("cookies", cookies == "none"),
                        ("comment", comment is None)):
            if not ok:
                c.fail(key, "the legacy settings' default with policy = 'legacy' (query strings 'all' or 'none', no "
                       "headers or cookies in the key, no comment: only a cache policy has them)", c.data[key])
    c.done()
    return CachePolicy(kind=kind, name=cname, min_ttl=min_ttl, default_ttl=default_ttl, max_ttl=max_ttl,
                       query_strings=qs == "all", gzip=gzip, brotli=brotli, query_string_behavior=qs,
                       query_string_names=qs_names, header_names=headers, cookies=cookies, cookie_names=cookie_names,
                       comment=comment)


def policy_comments(cdn: Cdn) -> dict[str, str]:
    """Key path -> declared comment of each CloudFront policy (each gets provision's marker appended)."""
    out = {}
    if cdn.cache.kind == "custom" and cdn.cache.comment:
        out["cdn.cache.comment"] = cdn.cache.comment
    for key, p in (("response_headers", cdn.response_headers), ("origin_request", cdn.origin_request)):
        if p is not None and p.comment:
            out[f"cdn.{key}.comment"] = p.comment
    return out
