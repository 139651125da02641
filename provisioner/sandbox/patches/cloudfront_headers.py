"""CloudFront response headers and origin request policies (moto 5.2.1 has neither API), as AWS has them.

AWS behaviour reproduced (CloudFront API reference, https://docs.aws.amazon.com/cloudfront/latest/APIReference/):

- API_CreateResponseHeadersPolicy.html, API_GetResponseHeadersPolicy.html,
  API_GetResponseHeadersPolicyConfig.html, API_ListResponseHeadersPolicies.html (Type managed|custom,
  Marker/MaxItems), API_UpdateResponseHeadersPolicy.html, API_DeleteResponseHeadersPolicy.html, and
  the same six for origin request policies (API_CreateOriginRequestPolicy.html ...): an ETag that
  changes on every update, ``IfMatch`` checked (``PreconditionFailed``), ``<Kind>AlreadyExists`` for
  a second custom policy of the same name, ``NoSuch<Kind>``, ``<Kind>InUse`` when a distribution's
  behaviour names it, ``IllegalUpdate``/``IllegalDelete`` for managed policies (as for cache
  policies).
- AWS's managed policies, listed with ``Type=managed`` under the names and ids the Developer Guide
  gives ("Use managed response headers policies", "Use managed origin request policies"): names as
  the API lists them (``Managed-CORS-S3Origin``...). Their settings here follow the guide's
  description of each; provision relies only on their names and ids.
- Distributions (API_CreateDistribution.html / API_UpdateDistribution.html errors): a
  ``ResponseHeadersPolicyId`` / ``OriginRequestPolicyId`` naming no policy is
  ``NoSuchResponseHeadersPolicy`` / ``NoSuchOriginRequestPolicy``; an origin request policy needs a
  cache policy on the same behaviour ("you must attach a cache policy" when you attach an origin
  request policy: Developer Guide, "Control origin requests with a policy"), ``InvalidArgument``.

Applied after ``cloudfront_policies`` (the cache-policy patch): its distribution checks run first.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from moto.cloudfront import models as cf_models
from moto.cloudfront import responses as cf_responses
from moto.cloudfront import urls as cf_urls
from moto.core.responses import ActionResult, EmptyResult

from ._common import cf_error, check_if_match, int_param, now_iso, page


def _qty(items: list[str]) -> dict[str, Any]:
    return {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}


def _orp(headers: tuple[str, list[str]], cookies: str, query_strings: str, comment: str) -> dict[str, Any]:
    return {"Comment": comment,
            "HeadersConfig": {"HeaderBehavior": headers[0], "Headers": _qty(headers[1])},
            "CookiesConfig": {"CookieBehavior": cookies, "Cookies": {"Quantity": 0}},
            "QueryStringsConfig": {"QueryStringBehavior": query_strings, "QueryStrings": {"Quantity": 0}}}


_CORS_ALL = {"AccessControlAllowCredentials": False, "AccessControlAllowHeaders": _qty(["*"]),
             "AccessControlAllowMethods": _qty(["ALL"]), "AccessControlAllowOrigins": _qty(["*"]),
             "OriginOverride": False}
_CORS_PREFLIGHT = {**_CORS_ALL, "AccessControlExposeHeaders": _qty(["*"])}
_SECURITY = {"XSSProtection": {"Override": False, "Protection": True, "ModeBlock": True},
             "FrameOptions": {"Override": False, "FrameOption": "SAMEORIGIN"},
             "ReferrerPolicy": {"Override": False, "ReferrerPolicy": "strict-origin-when-cross-origin"},
             "ContentTypeOptions": {"Override": False},
             "StrictTransportSecurity": {"Override": False, "IncludeSubdomains": False, "Preload": False,
                                         "AccessControlMaxAgeSec": 31536000}}

# id -> config (Name added below), from the CloudFront Developer Guide's lists of managed policies
MANAGED = {
    "OriginRequestPolicy": {
        "216adef6-5c7f-47e4-b989-5492eafa07d3": ("AllViewer", _orp(("allViewer", []), "all", "all",
                                                                     "Policy to forward all parameters in viewer requests")),
        "b689b0a8-53d0-40ab-baf2-68738e2966ac": ("AllViewerExceptHostHeader", _orp(
            ("allExcept", ["host"]), "all", "all", "Policy to forward all parameters in viewer requests except for the Host header")),
        "59781a5b-3903-41f3-afcb-af62929ccde1": ("CORS-CustomOrigin", _orp(("whitelist", ["origin"]), "none", "none",
                                                                             "Policy for origins that return CORS headers")),
        "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf": ("CORS-S3Origin", _orp(
            ("whitelist", ["origin", "access-control-request-headers", "access-control-request-method"]), "none", "none",
            "Policy for S3 origin with CORS")),
        "acba4595-bd28-49b8-b9fe-13317c0390fa": ("UserAgentRefererHeaders", _orp(
            ("whitelist", ["referer", "user-agent"]), "none", "all", "Policy for forwarding user-agent and referer headers")),
    },
    "ResponseHeadersPolicy": {
        "60669652-455b-4ae9-85a4-c4c02393f86c": ("SimpleCORS", {"Comment": "Allows all origins for simple CORS requests",
                                                                "CorsConfig": _CORS_ALL}),
        "5cc3b908-e619-4b99-88e5-2cf7f45965bd": ("CORS-With-Preflight", {
            "Comment": "Allows all origins for CORS requests, including preflight requests", "CorsConfig": _CORS_PREFLIGHT}),
        "67f7725c-6f97-4210-82d7-5512b31e9d03": ("SecurityHeadersPolicy", {
            "Comment": "Adds a set of security headers to every response", "SecurityHeadersConfig": _SECURITY}),
        "e61eb60c-9c35-4d20-a928-2b84e02af89c": ("CORS-and-SecurityHeadersPolicy", {
            "Comment": "Allows all origins for simple CORS requests and adds security headers", "CorsConfig": _CORS_ALL,
            "SecurityHeadersConfig": _SECURITY}),
        "eaab4381-ed33-4a86-88ca-d9558dc6cd63": ("CORS-with-preflight-and-SecurityHeadersPolicy", {
            "Comment": "Allows all origins for CORS requests, including preflight requests, and adds security headers",
            "CorsConfig": _CORS_PREFLIGHT, "SecurityHeadersConfig": _SECURITY}),
    },
}
_ATTR = {"OriginRequestPolicy": "origin_request_policy_id", "ResponseHeadersPolicy": "response_headers_policy_id"}
_LABEL = {"OriginRequestPolicy": "origin request policy", "ResponseHeadersPolicy": "response headers policy"}


def _store(backend: Any, kind: str) -> dict[str, dict[str, Any]]:
    """The backend's policies of ``kind``, AWS's managed ones first (made on first use, so after a reset too)."""
    attr = f"_sandbox_{kind}"
    if not hasattr(backend, attr):
        setattr(backend, attr, {
            pid: {"id": pid, "type": "managed", "config": {"Name": f"Managed-{name}", **copy.deepcopy(cfg)},
                  "etag": cf_models.random_id(), "modified": now_iso()}
            for pid, (name, cfg) in MANAGED[kind].items()})
    return getattr(backend, attr)


def _get(backend: Any, kind: str, pid: Any) -> dict[str, Any]:
    policy = _store(backend, kind).get(pid or "")
    if policy is None:
        raise cf_error(f"NoSuch{kind}", f"The {_LABEL[kind]} does not exist.")
    return policy


def _behaviours(config: Any) -> list[Any]:
    """A distribution config's behaviours (dicts from a request, or moto's objects)."""
    if isinstance(config, dict):
        return [config.get("DefaultCacheBehavior") or {}] + list(((config.get("CacheBehaviors") or {}).get("Items"))
                                                                   or [])
    return [config.DefaultCacheBehavior] + list((config.CacheBehaviors or {}).get("Items") or [])


def _value(b: Any, key: str, attr: str) -> Any:
    return (b.get(key) if isinstance(b, dict) else getattr(b, attr, None)) or ""


def _in_use(backend: Any, kind: str, pid: str) -> bool:
    return any(_value(b, f"{kind}Id", _ATTR[kind]) == pid
               for d in backend.distributions.values() for b in _behaviours(d.distribution_config))


def _check_distribution(backend: Any, config: dict[str, Any]) -> None:
    for b in _behaviours(config or {}):
        if not isinstance(b, dict):
            continue
        for kind in ("ResponseHeadersPolicy", "OriginRequestPolicy"):
            pid = b.get(f"{kind}Id") or ""
            if pid:
                _get(backend, kind, pid)
        if b.get("OriginRequestPolicyId") and not b.get("CachePolicyId"):
            raise cf_error("InvalidArgument", "An origin request policy can be attached to a cache behavior only "
                           "together with a cache policy.")


def _handlers(kind: str, path: str) -> dict[str, Any]:
    cfg_key = f"{kind}Config"

    def result(p: dict[str, Any]) -> dict[str, Any]:
        return {"Id": p["id"], "LastModifiedTime": p["modified"], cfg_key: p["config"]}

    def name_free(backend: Any, name: Any, mine: dict[str, Any] | None = None) -> None:
        if any(p["config"].get("Name") == name and p is not mine for p in _store(backend, kind).values()):
            raise cf_error(f"{kind}AlreadyExists", f"A {_LABEL[kind]} with this name already exists.")

    def create(self: Any) -> ActionResult:
        config = copy.deepcopy(self._get_param(cfg_key, {}) or {})
        name_free(self.backend, config.get("Name"))
        p = {"id": str(uuid.uuid4()), "type": "custom", "config": config, "etag": cf_models.random_id(),
             "modified": now_iso()}
        _store(self.backend, kind)[p["id"]] = p
        return ActionResult({kind: result(p), "ETag": p["etag"],
                             "Location": f"https://cloudfront.amazonaws.com/2020-05-31/{path}/{p['id']}"})

    def get(self: Any) -> ActionResult:
        p = _get(self.backend, kind, self._get_param("Id"))
        return ActionResult({kind: result(p), "ETag": p["etag"]})

    def get_config(self: Any) -> ActionResult:
        p = _get(self.backend, kind, self._get_param("Id"))
        return ActionResult({cfg_key: p["config"], "ETag": p["etag"]})

    def list_(self: Any) -> ActionResult:
        wanted = self._get_param("Type")
        max_items = int_param(self._get_param("MaxItems"), 100)
        items = [p for p in _store(self.backend, kind).values() if not wanted or p["type"] == wanted]
        chunk, next_marker = page(items, self._get_param("Marker") or "", max_items, lambda p: p["id"])
        out: dict[str, Any] = {"MaxItems": max_items, "Quantity": len(chunk),
                               "Items": [{"Type": p["type"], kind: result(p)} for p in chunk] or None}
        if next_marker is not None:
            out["NextMarker"] = next_marker
        return ActionResult({f"{kind}List": out})

    def update(self: Any) -> ActionResult:
        p = _get(self.backend, kind, self._get_param("Id"))
        check_if_match(self._get_param("IfMatch"), p["etag"])
        if p["type"] == "managed":
            raise cf_error("IllegalUpdate", f"Managed {_LABEL[kind]}s cannot be updated.")
        config = copy.deepcopy(self._get_param(cfg_key, {}) or {})
        name_free(self.backend, config.get("Name"), p)
        p.update(config=config, etag=cf_models.random_id(), modified=now_iso())
        return ActionResult({kind: result(p), "ETag": p["etag"]})

    def delete(self: Any) -> EmptyResult:
        p = _get(self.backend, kind, self._get_param("Id"))
        check_if_match(self._get_param("IfMatch"), p["etag"])
        if p["type"] == "managed":
            raise cf_error("IllegalDelete", f"Managed {_LABEL[kind]}s cannot be deleted.")
        if _in_use(self.backend, kind, p["id"]):
            raise cf_error(f"{kind}InUse", f"Cannot delete the {_LABEL[kind]} because it is attached to one or more "
                           "cache behaviors.")
        del _store(self.backend, kind)[p["id"]]
        return EmptyResult()

    return {"create": create, "get": get, "get_config": get_config, "list": list_, "update": update, "delete": delete}


def apply() -> None:
    """Add both policy APIs and their routes; distributions check the policies they name."""
    Backend = cf_models.CloudFrontBackend
    Response = cf_responses.CloudFrontResponse
    for kind, snake, path in (("ResponseHeadersPolicy", "response_headers_policy", "response-headers-policy"),
                              ("OriginRequestPolicy", "origin_request_policy", "origin-request-policy")):
        h = _handlers(kind, path)
        plural = snake.replace("_policy", "_policies")
        setattr(Response, f"create_{snake}", h["create"])
        setattr(Response, f"get_{snake}", h["get"])
        setattr(Response, f"get_{snake}_config", h["get_config"])
        setattr(Response, f"list_{plural}", h["list"])
        setattr(Response, f"update_{snake}", h["update"])
        setattr(Response, f"delete_{snake}", h["delete"])
        cf_urls.url_paths.update({
            f"{{0}}/2020-05-31/{path}/?$": Response.dispatch,
            f"{{0}}/2020-05-31/{path}/(?P<policy_id>[^/]+)/?$": Response.dispatch,
            f"{{0}}/2020-05-31/{path}/(?P<policy_id>[^/]+)/config/?$": Response.dispatch,
        })

    orig_create = Backend.create_distribution_with_tags
    orig_update = Backend.update_distribution

    def create_distribution_with_tags(self: Any, distribution_config: dict[str, Any], tags: Any) -> Any:
        _check_distribution(self, distribution_config)
        return orig_create(self, distribution_config, tags)

    def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any) -> Any:
        _check_distribution(self, dist_config or {})
        return orig_update(self, dist_config, _id, if_match)

    Backend.create_distribution_with_tags = create_distribution_with_tags
    Backend.update_distribution = update_distribution
