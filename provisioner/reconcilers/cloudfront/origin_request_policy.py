"""CloudFront origin request policy of the default behaviour (``[cdn.origin_request]``): what reaches the origin.

``cloudfront_origin_request_policy.buildcache`` {id}: a managed policy (data source, by name: the
live stack uses AWS's ``Managed-CORS-S3Origin``, which forwards the ``Origin`` and
``Access-Control-Request-*`` headers so S3 answers CORS) or our custom one (see ``_policy``).
Compared for a custom policy: the comment, and the header, cookie and query-string behaviours with
their name lists (header names case-insensitive). API shapes: CloudFront API reference,
OriginRequestPolicyConfig, OriginRequestPolicyHeadersConfig, ...CookiesConfig, ...QueryStringsConfig.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ...config import DesiredState
from ...model import Resource
from ._common import ORIGIN_REQUEST_ADDR
from ._policy import CustomPolicy, ManagedPolicy, header_names, items, qty

if TYPE_CHECKING:
    from ...context import Context

# value key -> (config key, behaviour key, names key)
_PARTS = {"headers": ("HeadersConfig", "HeaderBehavior", "Headers"),
          "cookies": ("CookiesConfig", "CookieBehavior", "Cookies"),
          "query_strings": ("QueryStringsConfig", "QueryStringBehavior", "QueryStrings")}


class _Api:
    section: ClassVar[str] = "cdn.origin_request"
    model: ClassVar[str] = "OriginRequestPolicy"
    service: ClassVar[str] = "CloudFront origin request policy"
    LIST: ClassVar[str] = "list_origin_request_policies"
    GET_CONFIG: ClassVar[str] = "get_origin_request_policy_config"
    CREATE: ClassVar[str] = "create_origin_request_policy"
    UPDATE: ClassVar[str] = "update_origin_request_policy"
    DELETE: ClassVar[str] = "delete_origin_request_policy"
    DIST_FIELD: ClassVar[str] = "origin_request_policy_id"  # where the distribution's config names it


class ManagedOriginRequestPolicy(_Api, ManagedPolicy):
    pass


class OriginRequestPolicy(_Api, CustomPolicy):
    def __init__(self, desired: DesiredState) -> None:
        spec = desired.cdn.origin_request
        assert spec is not None
        super().__init__(spec.name, ORIGIN_REQUEST_ADDR, desired.source)
        self.spec = spec
        self.comment = spec.comment

    def desired(self, ctx: Context) -> dict:
        s = self.spec
        return {"comment": self.full_comment(ctx),
                "headers": {"behavior": s.headers, "names": sorted({h.lower() for h in s.header_names})},
                "cookies": {"behavior": s.cookies, "names": sorted(s.cookie_names)},
                "query_strings": {"behavior": s.query_strings, "names": sorted(s.query_string_names)}}

    def normalise(self, config: dict) -> dict:
        out = {}
        for key, (cfg_key, behaviour, names) in _PARTS.items():
            part = config.get(cfg_key) or {}
            got = header_names(part.get(names)) if key == "headers" else sorted(items(part.get(names)))
            out[key] = {"behavior": part.get(behaviour), "names": got}
        return out

    def to_config(self, ctx: Context, desired: dict) -> dict:
        out = {}
        for key, (cfg_key, behaviour, names) in _PARTS.items():
            out[cfg_key] = {behaviour: desired[key]["behavior"], names: qty(desired[key]["names"])}
        return out


def resources(desired: DesiredState) -> list[Resource]:
    spec = desired.cdn.origin_request
    if spec is None:
        return []
    if spec.kind == "managed":
        return [ManagedOriginRequestPolicy(spec.name, ORIGIN_REQUEST_ADDR, desired.source)]
    return [OriginRequestPolicy(desired)]
