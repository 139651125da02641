"""A bucket's CORS rules (``[[s3.<bucket>.cors]]``) and its request-metrics configuration (``request_metrics``).

CORS (S3 API reference, PutBucketCors / CORSRule): each rule needs at least one method out of GET,
PUT, HEAD, POST, DELETE (S3 answers InvalidRequest "Found unsupported HTTP method in CORS config"
for anything else, OPTIONS included: S3 answers preflights itself) and at least one origin; at most
100 rules; ``id`` at most 255 characters; ``max_age_seconds`` a non-negative integer.

Request metrics (S3 API reference, PutBucketMetricsConfiguration): S3 publishes ``AllRequests``,
``4xxErrors``, ``5xxErrors``... only for a metrics configuration; ``request_metrics`` is its Id
(the ``FilterId`` dimension of those metrics), with a whole-bucket filter. Ids are at most 64
characters of letters, digits, '-', '_' and '.'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import Section, bad

CORS_METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
METRICS_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HEADER_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass(frozen=True)
class CorsRule:
    id: str
    allowed_methods: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    allowed_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age_seconds: int | None


def _header(s: Section, path: str, v: str) -> None:
    if not _HEADER_RE.match(v):
        bad(s.file, path, "an HTTP header name (or '*')", v)


def parse_cors(bucket: Section) -> tuple[CorsRule, ...]:
    """``[[s3.<bucket>.cors]]``: the bucket's CORS rules, in S3's evaluation order."""
    rules = []
    ids: set[str] = set()
    tables = bucket.tables("cors")
    if len(tables) > 100:
        bucket.fail("cors", "at most 100 CORS rules (S3's limit)", len(tables))
    for c in tables:
        rid = c.str("id", "", allow_empty=True)
        if len(rid) > 255:
            c.fail("id", "a rule id of at most 255 characters", rid)
        if rid and rid in ids:
            c.fail("id", "a unique rule id", rid)
        ids.add(rid)

        def method(path: str, v: str, c: Section = c) -> None:
            if v not in CORS_METHODS:
                bad(c.file, path, "one of " + ", ".join(repr(m) for m in CORS_METHODS)
                    + " (S3 answers OPTIONS preflights itself)", v)

        methods = c.strlist("allowed_methods", required=True, min_len=1, item=method,
                            what="a list of HTTP methods")
        origins = c.strlist("allowed_origins", required=True, min_len=1, what="a list of origins")
        for i, o in enumerate(origins):
            if o.count("*") > 1:
                c.fail(f"allowed_origins[{i}]", "an origin with at most one '*' wildcard", o)
        def header(path: str, v: str, c: Section = c) -> None:
            _header(c, path, v)

        headers = c.strlist("allowed_headers", [], item=header)
        expose = c.strlist("expose_headers", [], item=header)
        max_age = c.int("max_age_seconds", lo=0, hi=2 ** 31 - 1, optional=True)
        c.done()
        rules.append(CorsRule(id=rid, allowed_methods=methods, allowed_origins=origins, allowed_headers=headers,
                              expose_headers=expose, max_age_seconds=max_age))
    return tuple(rules)


def parse_request_metrics(bucket: Section) -> str | None:
    """``request_metrics``: the Id of the bucket's whole-bucket request-metrics configuration."""
    return bucket.str("request_metrics", None, pattern=METRICS_ID_RE,
                      what="a metrics configuration id (1-64 letters, digits, '.', '-', '_'), e.g. 'EntireBucket'")
