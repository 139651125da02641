"""CloudFront cache policies (moto 5.2.1 has no such API), as the API reference describes them.

AWS behaviour reproduced (CloudFront API reference, https://docs.aws.amazon.com/cloudfront/latest/APIReference/
API_CreateCachePolicy.html, API_GetCachePolicy.html, API_GetCachePolicyConfig.html,
API_ListCachePolicies.html, API_UpdateCachePolicy.html, API_DeleteCachePolicy.html):

- CreateCachePolicy / GetCachePolicy / GetCachePolicyConfig / ListCachePolicies (Type
  managed|custom, Marker/MaxItems) / UpdateCachePolicy / DeleteCachePolicy, with an ETag that
  changes on every update and ``IfMatch`` checked (``PreconditionFailed``).
- ``CachePolicyAlreadyExists`` for a second custom policy with the same name; ``NoSuchCachePolicy``;
  ``CachePolicyInUse`` when a distribution's behaviour names it; ``IllegalDelete``/``IllegalUpdate``
  for managed policies. The managed policy CachingOptimized (658327ea-f89d-4fab-a63d-7e88639e58f6)
  is listed as Type=managed.
- Distributions: a ``CachePolicyId`` naming no policy is ``NoSuchCachePolicy``; ``ForwardedValues``
  together with ``CachePolicyId`` is ``InvalidArgument`` ("The parameter ForwardedValues cannot be
  used when a cache policy is associated to the cache behavior."); with a cache policy the
  behaviour's echo carries no ForwardedValues/MinTTL/DefaultTTL/MaxTTL (moto fills in defaults for
  them).

Applied after ``cloudfront_distribution``: its distribution checks run before that module's.
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

MANAGED_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
MANAGED_CONFIG: dict[str, Any] = {
    "Comment": "Policy with caching enabled. Supports Gzip and Brotli compression.",
    "Name": "Managed-CachingOptimized",
    "DefaultTTL": 86400,
    "MaxTTL": 31536000,
    "MinTTL": 1,
    "ParametersInCacheKeyAndForwardedToOrigin": {
        "EnableAcceptEncodingGzip": True,
        "EnableAcceptEncodingBrotli": True,
        "HeadersConfig": {"HeaderBehavior": "none"},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
    },
}


def _no_such() -> Exception:
    return cf_error("NoSuchCachePolicy", "The cache policy does not exist.")


def _policies(backend: Any) -> dict[str, dict[str, Any]]:
    """The backend's cache policies, the managed one first (created on first use, so after a reset too)."""
    if not hasattr(backend, "_sandbox_cache_policies"):
        backend._sandbox_cache_policies = {
            MANAGED_ID: {"id": MANAGED_ID, "type": "managed", "config": MANAGED_CONFIG,
                         "etag": cf_models.random_id(), "modified": now_iso()}
        }
    return backend._sandbox_cache_policies


def _norm_config(config: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(config or {})
    for k in ("DefaultTTL", "MaxTTL", "MinTTL"):
        if config.get(k) is not None:
            config[k] = int(config[k])
    return config


def _get(backend: Any, policy_id: Any) -> dict[str, Any]:
    policy = _policies(backend).get(policy_id or "")
    if policy is None:
        raise _no_such()
    return policy


def _in_use(backend: Any, policy_id: str) -> bool:
    for dist in backend.distributions.values():
        cfg = dist.distribution_config
        behaviours = [cfg.DefaultCacheBehavior] + list((cfg.CacheBehaviors or {}).get("Items") or [])
        if any(getattr(b, "cache_policy_id", "") == policy_id for b in behaviours):
            return True
    return False


def _result(policy: dict[str, Any]) -> dict[str, Any]:
    return {"Id": policy["id"], "LastModifiedTime": policy["modified"], "CachePolicyConfig": policy["config"]}


def _check_name_free(backend: Any, name: Any, policy: dict[str, Any] | None = None) -> None:
    if any(p["config"].get("Name") == name and p is not policy for p in _policies(backend).values()):
        raise cf_error("CachePolicyAlreadyExists", "A cache policy with this name already exists.")


def _check_policies(backend: Any, config: dict[str, Any]) -> None:
    behaviours = [config.get("DefaultCacheBehavior") or {}]
    behaviours += list(((config.get("CacheBehaviors") or {}).get("Items")) or [])
    for b in behaviours:
        policy_id = (b.get("CachePolicyId") if isinstance(b, dict) else None) or ""
        if policy_id and policy_id not in _policies(backend):
            raise _no_such()


def resp_create(self: Any) -> ActionResult:
    config = _norm_config(self._get_param("CachePolicyConfig", {}))
    _check_name_free(self.backend, config.get("Name"))
    policy_id = str(uuid.uuid4())
    policy = {"id": policy_id, "type": "custom", "config": config, "etag": cf_models.random_id(),
              "modified": now_iso()}
    _policies(self.backend)[policy_id] = policy
    return ActionResult({
        "CachePolicy": _result(policy),
        "Location": f"https://cloudfront.amazonaws.com/2020-05-31/cache-policy/{policy_id}",
        "ETag": policy["etag"],
    })


def resp_get(self: Any) -> ActionResult:
    policy = _get(self.backend, self._get_param("Id"))
    return ActionResult({"CachePolicy": _result(policy), "ETag": policy["etag"]})


def resp_get_config(self: Any) -> ActionResult:
    policy = _get(self.backend, self._get_param("Id"))
    return ActionResult({"CachePolicyConfig": policy["config"], "ETag": policy["etag"]})


def resp_list(self: Any) -> ActionResult:
    wanted = self._get_param("Type")
    marker = self._get_param("Marker") or ""
    max_items = int_param(self._get_param("MaxItems"), 100)
    items = [p for p in _policies(self.backend).values() if not wanted or p["type"] == wanted]
    chunk, next_marker = page(items, marker, max_items, lambda p: p["id"])
    out: dict[str, Any] = {
        "MaxItems": max_items,
        "Quantity": len(chunk),
        "Items": [{"Type": p["type"], "CachePolicy": _result(p)} for p in chunk] or None,
    }
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return ActionResult({"CachePolicyList": out})


def resp_update(self: Any) -> ActionResult:
    policy = _get(self.backend, self._get_param("Id"))
    check_if_match(self._get_param("IfMatch"), policy["etag"])
    if policy["type"] == "managed":
        raise cf_error("IllegalUpdate", "Managed cache policies cannot be updated.")
    config = _norm_config(self._get_param("CachePolicyConfig", {}))
    _check_name_free(self.backend, config.get("Name"), policy)
    policy.update(config=config, etag=cf_models.random_id(), modified=now_iso())
    return ActionResult({"CachePolicy": _result(policy), "ETag": policy["etag"]})


def resp_delete(self: Any) -> ActionResult:
    policy = _get(self.backend, self._get_param("Id"))
    check_if_match(self._get_param("IfMatch"), policy["etag"])
    if policy["type"] == "managed":
        raise cf_error("IllegalDelete", "Managed cache policies cannot be deleted.")
    if _in_use(self.backend, policy["id"]):
        raise cf_error("CachePolicyInUse",
                       "Cannot delete the cache policy because it is attached to one or more cache behaviors.")
    del _policies(self.backend)[policy["id"]]
    return EmptyResult()


def apply() -> None:
    """Add the cache-policy API; make behaviours and distributions honour cache policies."""
    Backend = cf_models.CloudFrontBackend
    Response = cf_responses.CloudFrontResponse
    Behaviour = cf_models.DefaultCacheBehaviour

    Response.create_cache_policy = resp_create
    Response.get_cache_policy = resp_get
    Response.get_cache_policy_config = resp_get_config
    Response.list_cache_policies = resp_list
    Response.update_cache_policy = resp_update
    Response.delete_cache_policy = resp_delete

    # -- behaviours: a cache policy excludes the legacy ForwardedValues and TTL settings --------
    orig_behaviour_init = Behaviour.__init__

    def behaviour_init(self: Any, config: dict[str, Any]) -> None:
        policy_id = config.get("CachePolicyId") or ""
        if policy_id and config.get("ForwardedValues"):
            raise cf_error("InvalidArgument",
                           "The parameter ForwardedValues cannot be used when a cache policy is associated to the"
                           " cache behavior.")
        orig_behaviour_init(self, config)
        if policy_id:
            self.forwarded_values = None
            self.min_ttl = self.default_ttl = self.max_ttl = None

    Behaviour.__init__ = behaviour_init

    orig_create = Backend.create_distribution_with_tags
    orig_update = Backend.update_distribution

    def create_distribution_with_tags(self: Any, distribution_config: dict[str, Any], tags: Any) -> Any:
        _check_policies(self, distribution_config)
        return orig_create(self, distribution_config, tags)

    def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any) -> Any:
        _check_policies(self, dist_config or {})
        return orig_update(self, dist_config, _id, if_match)

    Backend.create_distribution_with_tags = create_distribution_with_tags
    Backend.update_distribution = update_distribution

    dispatch = Response.dispatch
    cf_urls.url_paths.update(
        {
            "{0}/2020-05-31/cache-policy$": dispatch,
            "{0}/2020-05-31/cache-policy/(?P<cache_policy_id>[^/]+)$": dispatch,
            "{0}/2020-05-31/cache-policy/(?P<cache_policy_id>[^/]+)/config$": dispatch,
        }
    )
