"""CloudFront response headers policy of the default behaviour (``[cdn.response_headers]``): CORS and security headers.

``cloudfront_response_headers_policy.buildcache`` {id}: a managed policy (data source, by name) or
our custom one (see ``_policy``). Compared for a custom policy: the comment; ``cors`` (allow
credentials, allow headers/methods/origins and expose headers as sets, header names
case-insensitive, max age, origin override); ``security`` (Strict-Transport-Security max-age/
includeSubDomains/preload, X-Content-Type-Options, X-Frame-Options, Referrer-Policy, each with its
override flag; X-XSS-Protection and Content-Security-Policy, which the TOML does not set, must be
absent); custom headers, removed headers and Server-Timing must be absent (someone adding them is
drift). API shapes: CloudFront API reference, ResponseHeadersPolicyConfig,
ResponseHeadersPolicyCorsConfig, ResponseHeadersPolicySecurityHeadersConfig.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ...config import CorsHeaders, DesiredState, SecurityHeaders
from ...model import Resource
from ._common import RESPONSE_HEADERS_ADDR
from ._policy import CustomPolicy, ManagedPolicy, header_names, items, qty, typed

if TYPE_CHECKING:
    from ...context import Context


class _Api:
    section: ClassVar[str] = "cdn.response_headers"
    model: ClassVar[str] = "ResponseHeadersPolicy"
    service: ClassVar[str] = "CloudFront response headers policy"
    LIST: ClassVar[str] = "list_response_headers_policies"
    GET_CONFIG: ClassVar[str] = "get_response_headers_policy_config"
    CREATE: ClassVar[str] = "create_response_headers_policy"
    UPDATE: ClassVar[str] = "update_response_headers_policy"
    DELETE: ClassVar[str] = "delete_response_headers_policy"
    DIST_FIELD: ClassVar[str] = "response_headers_policy_id"  # where the distribution's config names it


class ManagedResponseHeadersPolicy(_Api, ManagedPolicy):
    pass


def _cors_value(c: CorsHeaders) -> dict[str, Any]:
    return {"allow_credentials": c.allow_credentials, "allow_headers": sorted({h.lower() for h in c.allow_headers}),
            "allow_methods": sorted(c.allow_methods), "allow_origins": sorted(c.allow_origins),
            "expose_headers": sorted({h.lower() for h in c.expose_headers}), "max_age": c.max_age,
            "origin_override": c.origin_override}


def _security_value(s: SecurityHeaders) -> dict[str, Any]:
    o = s.override
    return {
        "hsts": ({"max_age": s.hsts_max_age, "include_subdomains": s.hsts_include_subdomains,
                  "preload": s.hsts_preload, "override": o} if s.hsts_max_age is not None else None),
        "content_type_options": {"override": o} if s.content_type_options else None,
        "frame_options": {"value": s.frame_options, "override": o} if s.frame_options else None,
        "referrer_policy": {"value": s.referrer_policy, "override": o} if s.referrer_policy else None,
        "xss_protection": None,
        "content_security_policy": None,
    }


class ResponseHeadersPolicy(_Api, CustomPolicy):
    def __init__(self, desired: DesiredState) -> None:
        spec = desired.cdn.response_headers
        assert spec is not None
        super().__init__(spec.name, RESPONSE_HEADERS_ADDR, desired.source)
        self.spec = spec
        self.comment = spec.comment

    def desired(self, ctx: Context) -> dict:
        s = self.spec
        return {"comment": self.full_comment(ctx),
                "cors": _cors_value(s.cors) if s.cors else None,
                "security": _security_value(s.security) if s.security else None,
                "custom_headers": [], "remove_headers": [], "server_timing": False}

    def normalise(self, config: dict) -> dict:
        c = config.get("CorsConfig")
        cors = None
        if c:
            cors = {"allow_credentials": bool(c.get("AccessControlAllowCredentials")),
                    "allow_headers": header_names(c.get("AccessControlAllowHeaders")),
                    "allow_methods": sorted(items(c.get("AccessControlAllowMethods"))),
                    "allow_origins": sorted(items(c.get("AccessControlAllowOrigins"))),
                    "expose_headers": header_names(c.get("AccessControlExposeHeaders")),
                    "max_age": typed(c.get("AccessControlMaxAgeSec")),
                    "origin_override": bool(c.get("OriginOverride"))}
        sh = config.get("SecurityHeadersConfig") or {}
        security = None
        if any(sh.get(k) for k in ("StrictTransportSecurity", "ContentTypeOptions", "FrameOptions", "ReferrerPolicy",
                                   "XSSProtection", "ContentSecurityPolicy")):
            hsts, fo, rp = sh.get("StrictTransportSecurity"), sh.get("FrameOptions"), sh.get("ReferrerPolicy")
            cto, xss, csp = sh.get("ContentTypeOptions"), sh.get("XSSProtection"), sh.get("ContentSecurityPolicy")
            security = {
                "hsts": ({"max_age": typed(hsts.get("AccessControlMaxAgeSec")),
                          "include_subdomains": bool(hsts.get("IncludeSubdomains")),
                          "preload": bool(hsts.get("Preload")), "override": bool(hsts.get("Override"))}
                         if hsts else None),
                "content_type_options": {"override": bool(cto.get("Override"))} if cto else None,
                "frame_options": {"value": fo.get("FrameOption"), "override": bool(fo.get("Override"))} if fo else None,
                "referrer_policy": ({"value": rp.get("ReferrerPolicy"), "override": bool(rp.get("Override"))}
                                    if rp else None),
                "xss_protection": xss or None,
                "content_security_policy": csp or None,
            }
        return {"cors": cors, "security": security,
                "custom_headers": items(config.get("CustomHeadersConfig")),
                "remove_headers": items(config.get("RemoveHeadersConfig")),
                "server_timing": bool((config.get("ServerTimingHeadersConfig") or {}).get("Enabled"))}

    def to_config(self, ctx: Context, desired: dict) -> dict:
        out: dict[str, Any] = {}
        c = self.spec.cors
        if c is not None:
            cors: dict[str, Any] = {
                "AccessControlAllowOrigins": qty(list(c.allow_origins)),
                "AccessControlAllowHeaders": qty(list(c.allow_headers)),
                "AccessControlAllowMethods": qty(list(c.allow_methods)),
                "AccessControlAllowCredentials": c.allow_credentials,
                "OriginOverride": c.origin_override,
            }
            if c.expose_headers:
                cors["AccessControlExposeHeaders"] = qty(list(c.expose_headers))
            if c.max_age is not None:
                cors["AccessControlMaxAgeSec"] = c.max_age
            out["CorsConfig"] = cors
        s = self.spec.security
        if s is not None:
            sec: dict[str, Any] = {}
            if s.hsts_max_age is not None:
                sec["StrictTransportSecurity"] = {"Override": s.override, "IncludeSubdomains": s.hsts_include_subdomains,
                                                  "Preload": s.hsts_preload, "AccessControlMaxAgeSec": s.hsts_max_age}
            if s.content_type_options:
                sec["ContentTypeOptions"] = {"Override": s.override}
            if s.frame_options:
                sec["FrameOptions"] = {"Override": s.override, "FrameOption": s.frame_options}
            if s.referrer_policy:
                sec["ReferrerPolicy"] = {"Override": s.override, "ReferrerPolicy": s.referrer_policy}
            if sec:
                out["SecurityHeadersConfig"] = sec
        return out


def resources(desired: DesiredState) -> list[Resource]:
    spec = desired.cdn.response_headers
    if spec is None:
        return []
    if spec.kind == "managed":
        return [ManagedResponseHeadersPolicy(spec.name, RESPONSE_HEADERS_ADDR, desired.source)]
    return [ResponseHeadersPolicy(desired)]
