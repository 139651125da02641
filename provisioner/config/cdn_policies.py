"""The default behaviour's policies besides the cache policy: ``[cdn.response_headers]`` and ``[cdn.origin_request]``.

Each is either a *managed* policy (AWS's, found by its name as ``ListResponseHeadersPolicies`` /
``ListOriginRequestPolicies`` with ``Type=managed`` list it, e.g. ``Managed-CORS-S3Origin``; never
changed; a name AWS does not list is refused at plan time) or a *custom* one (ours, found by name,
created and kept in shape). Absent: the behaviour has none (the seed).

Limits from the CloudFront API reference (ResponseHeadersPolicyConfig, OriginRequestPolicyConfig,
ResponseHeadersPolicyStrictTransportSecurity...): names 1-128 of letters, digits, '-', '_';
comments at most 128 characters (provision appends its ownership marker ``(provision:<stack>)``);
CORS methods GET, POST, OPTIONS, PUT, DELETE, PATCH, HEAD or ALL; frame options DENY or SAMEORIGIN;
the referrer policies of the ReferrerPolicy type. What a browser refuses is refused here too:
``Access-Control-Allow-Credentials: true`` together with origin ``*`` (the Fetch standard's CORS
check fails for a credentialed request answered with ``*``), and an HSTS max-age below one day
(86400 s: shorter is no protection worth the header; the HSTS preload list asks for a year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError, Described
from .base import Section, bad

POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
HEADER_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
CORS_METHODS = ("GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD", "ALL")
FRAME_OPTIONS = ("DENY", "SAMEORIGIN")
REFERRER_POLICIES = ("no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "same-origin",
                     "strict-origin", "strict-origin-when-cross-origin", "unsafe-url")
HSTS_MIN_AGE = 86400
MARKER_ROOM = len(" (provision:)")  # what the ownership marker adds to a comment, besides the stack name


@dataclass(frozen=True)
class CorsHeaders:
    allow_credentials: bool
    allow_headers: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_origins: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None
    origin_override: bool


@dataclass(frozen=True)
class SecurityHeaders:
    hsts_max_age: int | None  # None: no Strict-Transport-Security header
    hsts_include_subdomains: bool
    hsts_preload: bool
    content_type_options: bool  # X-Content-Type-Options: nosniff
    frame_options: str | None
    referrer_policy: str | None
    override: bool  # the policy's headers win over the origin's


@dataclass(frozen=True)
class ResponseHeadersPolicy:
    kind: str  # "managed" | "custom"
    name: str
    comment: str
    cors: CorsHeaders | None
    security: SecurityHeaders | None


@dataclass(frozen=True)
class OriginRequestPolicy:
    kind: str  # "managed" | "custom"
    name: str
    comment: str
    headers: str  # none | whitelist | allViewer | allViewerAndWhitelistCloudFront | allExcept
    header_names: tuple[str, ...]
    cookies: str  # none | whitelist | all | allExcept
    cookie_names: tuple[str, ...]
    query_strings: str  # none | whitelist | all | allExcept
    query_string_names: tuple[str, ...]


def behaviour(s: Section, key: str, default: str, choices: tuple[str, ...], *,
              header: bool = False) -> tuple[str, tuple[str, ...]]:
    """A header/cookie/query-string setting: one of ``choices``, or a list of names (an allow-list).

    -> (CloudFront behaviour, names); a list is ``whitelist`` (CloudFront's word for an allow-list).
    Header names are case-insensitive (kept lower-case, as CloudFront compares them).
    """
    v = s.data.get(key, default)
    if isinstance(v, list):
        names = s.strlist(key, min_len=1, max_len=10 if header else None,
                          item=(lambda p, x: None if HEADER_RE.match(x) else bad(s.file, p, "an HTTP header name", x))
                          if header else None, what="a list of names")
        if header:
            names = tuple(sorted({n.lower() for n in names}))
        return "whitelist", tuple(sorted(names))
    got = s.str(key, default, choices=choices)
    return got, ()


def _comment(s: Section) -> str:
    c = s.str("comment", "", allow_empty=True)
    if len(c) > 128:
        s.fail("comment", "at most 128 characters", Described(f"{len(c)} characters"))
    return c


def _kind_and_name(s: Section) -> tuple[str, str]:
    kind = s.str("policy", "custom", choices=("custom", "managed"))
    name = s.str("name", required=True, pattern=POLICY_NAME_RE,
                 what="a CloudFront policy name (1-128 letters, digits, '-', '_')")
    return kind, name


def _no_custom_keys(s: Section, keys: tuple[str, ...]) -> None:
    for k in keys:
        if k in s.data:
            s.fail(k, "no settings for a managed policy (AWS owns its settings; policy = 'custom' to set them)",
                   Described(f"key {k!r}"))


def parse_response_headers(s: Section) -> ResponseHeadersPolicy | None:
    if not s.data:
        return None
    kind, name = _kind_and_name(s)
    if kind == "managed":
        _no_custom_keys(s, ("comment", "cors", "security"))
        s.done()
        return ResponseHeadersPolicy(kind=kind, name=name, comment="", cors=None, security=None)
    comment = _comment(s)
    cors = _cors(s.section("cors")) if "cors" in s.data else None
    security = _security(s.section("security")) if "security" in s.data else None
    if cors is None and security is None:
        s.fail("cors", "a [cdn.response_headers.cors] or [cdn.response_headers.security] table (a policy that "
               "adds no header does nothing)", has_found=False)
    s.done()
    return ResponseHeadersPolicy(kind=kind, name=name, comment=comment, cors=cors, security=security)


def _cors(c: Section) -> CorsHeaders:
    def method(p: str, v: str) -> None:
        if v not in CORS_METHODS:
            bad(c.file, p, "one of " + ", ".join(repr(m) for m in CORS_METHODS), v)

    def header(p: str, v: str) -> None:
        if not HEADER_RE.match(v):
            bad(c.file, p, "an HTTP header name (or '*')", v)

    creds = c.bool("allow_credentials", False)
    headers = c.strlist("allow_headers", required=True, min_len=1, item=header)
    methods = c.strlist("allow_methods", required=True, min_len=1, item=method, what="a list of HTTP methods")
    origins = c.strlist("allow_origins", required=True, min_len=1, what="a list of origins")
    if creds and "*" in origins:
        c.fail("allow_origins", "named origins when allow_credentials = true (browsers reject a credentialed "
               "response with Access-Control-Allow-Origin '*')", Described(repr(list(origins))))
    expose = c.strlist("expose_headers", [], item=header)
    max_age = c.int("max_age", lo=0, hi=2 ** 31 - 1, optional=True)
    override = c.bool("origin_override", True)
    c.done()
    return CorsHeaders(allow_credentials=creds, allow_headers=headers, allow_methods=methods, allow_origins=origins,
                       expose_headers=expose, max_age=max_age, origin_override=override)


def _security(c: Section) -> SecurityHeaders:
    hsts = c.int("hsts_max_age", lo=0, hi=2 ** 31 - 1, optional=True)
    if hsts is not None and hsts < HSTS_MIN_AGE:
        c.fail("hsts_max_age", f"at least {HSTS_MIN_AGE} seconds (one day; the HSTS preload list asks for "
               "31536000)", hsts)
    sub = c.bool("hsts_include_subdomains", False)
    preload = c.bool("hsts_preload", False)
    if hsts is None and (sub or preload):
        c.fail("hsts_max_age", "a max-age for the Strict-Transport-Security header that "
               "hsts_include_subdomains/hsts_preload qualify", has_found=False)
    sec = SecurityHeaders(
        hsts_max_age=hsts, hsts_include_subdomains=sub, hsts_preload=preload,
        content_type_options=c.bool("content_type_options", False),
        frame_options=c.str("frame_options", None, choices=FRAME_OPTIONS),
        referrer_policy=c.str("referrer_policy", None, choices=REFERRER_POLICIES),
        override=c.bool("override", True),
    )
    c.done()
    return sec


def parse_origin_request(s: Section) -> OriginRequestPolicy | None:
    if not s.data:
        return None
    kind, name = _kind_and_name(s)
    if kind == "managed":
        _no_custom_keys(s, ("comment", "headers", "cookies", "query_strings"))
        s.done()
        return OriginRequestPolicy(kind=kind, name=name, comment="", headers="none", header_names=(), cookies="none",
                                   cookie_names=(), query_strings="none", query_string_names=())
    comment = _comment(s)
    headers, hnames = behaviour(s, "headers", "none", ("none", "allViewer", "allViewerAndWhitelistCloudFront"),
                                header=True)
    cookies, cnames = behaviour(s, "cookies", "none", ("none", "all"))
    qs, qnames = behaviour(s, "query_strings", "none", ("none", "all"))
    s.done()
    return OriginRequestPolicy(kind=kind, name=name, comment=comment, headers=headers, header_names=hnames,
                               cookies=cookies, cookie_names=cnames, query_strings=qs, query_string_names=qnames)


def check_comments(file: str, stack_name: str, comments: dict[str, str]) -> None:
    """Each policy comment plus provision's marker '(provision:<stack>)' must fit CloudFront's 128 characters."""
    room = 128 - MARKER_ROOM - len(stack_name)
    for path, comment in comments.items():
        if len(comment) > room:
            raise ConfigError(file, path, f"at most {room} characters (CloudFront allows 128, and provision appends "
                              f"' (provision:{stack_name})' to mark the policy as this stack's)",
                              Described(f"{len(comment)} characters"))
