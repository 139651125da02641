"""CloudFront cache policy: the custom policy of the default cache behaviour (gzip + brotli, TTLs, query strings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ... import ownership as own
from ...aws import error_code
from ...model import FieldChange, Resource
from ._common import (
    DIST_ADDR,
    POLICY_ADDR,
    _cf,
    _delete_with_etag,
    _in_use,
    _list_custom,
    _marked,
    _marker,
    _stale_etag_safe,
    _through_distribution,
)
from ._policy import header_names, items, qty

if TYPE_CHECKING:
    from ...context import Context


def _list_custom_policies(ctx: Context, fresh: bool = False) -> list[dict]:
    return _list_custom(ctx, "list_cache_policies", "CachePolicyList", "CachePolicy",
                        "cloudfront:cache_policies:custom", fresh=fresh)


class CachePolicy(Resource):
    service = "CloudFront cache policy"
    address = POLICY_ADDR
    read_after = (DIST_ADDR,)  # without ours: the custom policy the alias's distribution uses

    def desired(self, ctx: Context) -> dict:
        c = ctx.desired.cdn.cache
        query_strings = {"all": "in the cache key", "none": "ignored"}.get(c.query_string_behavior, "allow-listed")
        comment = (f"{c.comment} ({_marker(ctx)})" if c.comment is not None
                   else f"gzip+brotli, query strings {query_strings} ({_marker(ctx)})")
        return {
            "comment": comment,
            "min_ttl": c.min_ttl,
            "default_ttl": c.default_ttl,
            "max_ttl": c.max_ttl,
            "query_strings": c.query_string_behavior,
            "query_string_names": sorted(c.query_string_names),
            "headers": "whitelist" if c.header_names else "none",
            "header_names": sorted(c.header_names),
            "cookies": c.cookies,
            "cookie_names": sorted(c.cookie_names),
            "gzip": c.gzip,
            "brotli": c.brotli,
        }

    @staticmethod
    def _norm(policy: dict) -> dict:
        cfg = policy["CachePolicyConfig"]
        p = cfg.get("ParametersInCacheKeyAndForwardedToOrigin") or {}
        return {
            "id": policy["Id"],
            "name": cfg.get("Name"),
            "comment": cfg.get("Comment") or "",
            "min_ttl": cfg.get("MinTTL"),
            "default_ttl": cfg.get("DefaultTTL"),
            "max_ttl": cfg.get("MaxTTL"),
            "query_strings": (p.get("QueryStringsConfig") or {}).get("QueryStringBehavior"),
            "query_string_names": sorted(items((p.get("QueryStringsConfig") or {}).get("QueryStrings"))),
            "headers": (p.get("HeadersConfig") or {}).get("HeaderBehavior"),
            "header_names": header_names((p.get("HeadersConfig") or {}).get("Headers")),
            "cookies": (p.get("CookiesConfig") or {}).get("CookieBehavior"),
            "cookie_names": sorted(items((p.get("CookiesConfig") or {}).get("Cookies"))),
            "gzip": bool(p.get("EnableAcceptEncodingGzip")),
            "brotli": bool(p.get("EnableAcceptEncodingBrotli")),
        }

    def read(self, ctx: Context) -> dict | None:
        name = ctx.desired.cdn.cache.name
        used = _in_use(ctx, "default_cache_behavior", "cache_policy_id")
        for match in (lambda p: p["CachePolicyConfig"].get("Name") == name, lambda p: bool(used) and p["Id"] == used):
            for policy in _list_custom_policies(ctx):  # custom only: a managed policy is nobody's to adopt
                if match(policy):
                    return self._norm(policy)
        return None

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"id": live["id"]}

    def _config(self, ctx: Context, desired: dict) -> dict:
        return {
            "Name": ctx.desired.cdn.cache.name,
            "Comment": desired["comment"],
            "MinTTL": desired["min_ttl"],
            "DefaultTTL": desired["default_ttl"],
            "MaxTTL": desired["max_ttl"],
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": desired["gzip"],
                "EnableAcceptEncodingBrotli": desired["brotli"],
                "HeadersConfig": {"HeaderBehavior": desired["headers"], "Headers": qty(desired["header_names"])},
                "CookiesConfig": {"CookieBehavior": desired["cookies"], "Cookies": qty(desired["cookie_names"])},
                "QueryStringsConfig": {"QueryStringBehavior": desired["query_strings"],
                                       "QueryStrings": qty(desired["query_string_names"])},
            },
        }

    def create(self, ctx: Context, desired: dict) -> None:
        try:
            _cf(ctx).create_cache_policy(CachePolicyConfig=self._config(ctx, desired))
        except ClientError as e:
            if error_code(e) != "CachePolicyAlreadyExists":
                raise
            name = ctx.desired.cdn.cache.name
            live = next((self._norm(p) for p in _list_custom_policies(ctx, fresh=True)
                         if p["CachePolicyConfig"].get("Name") == name), None)
            if live is None:
                raise
            if self.diff(desired, live):
                self.update(ctx, desired, live, ())

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        cf = _cf(ctx)

        def attempt() -> None:
            etag = cf.get_cache_policy_config(Id=live["id"])["ETag"]
            cf.update_cache_policy(Id=live["id"], IfMatch=etag, CachePolicyConfig=self._config(ctx, desired))

        _stale_etag_safe(attempt)

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        # Cache policies take no tags: ours by the mark in the comment (written at create/adopt); one
        # of ours under another name (cdn.cache.name changed) is renamed in place by the update.
        if _marked(ctx, live.get("comment")):
            return own.Ownership(own.OURS)
        return _through_distribution(ctx, "cache policy") if live["id"] == _in_use(
            ctx, "default_cache_behavior", "cache_policy_id") else own.Ownership(own.FOREIGN)

    def delete(self, ctx: Context, live: dict) -> None:
        _delete_with_etag(ctx, "get_cache_policy_config", "delete_cache_policy", live["id"])
