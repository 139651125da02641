"""CloudFront: origin access (OAI or OAC), the cache policy, and the CDN distribution.

Resources (addresses other modules code against):

- ``cloudfront_oai.buildcache`` (``cdn.origin_access = "oai"``, the seed): an origin access
  identity, found by its Comment among ``ListCloudFrontOriginAccessIdentities`` (one paginated,
  memoised list), created with a CallerReference derived from the stack name. OAIs take no tags:
  the CallerReference is the ownership mark. Outputs ``id``, ``s3_canonical_user_id``, ``iam_arn``.
- ``cloudfront_oac.buildcache`` (``"oac"``, AWS's current recommendation): an origin access
  control (SigV4, always sign, origin type s3), found by name. Output ``id``.
- ``cloudfront_cache_policy.buildcache`` (``cdn.cache.policy = "custom"``): found by name among
  the custom cache policies. Output ``id``.
- ``cloudfront_distribution.cdn``: found by our ``provision:stack`` tag (the list summaries'
  Aliases narrow the candidates, then ``ListTagsForResource``), created with
  ``CreateDistributionWithTags`` and a deterministic CallerReference. Outputs ``id``, ``arn``,
  ``domain_name``, ``public_url``.

Why a custom cache policy (the choice the README quotes)
--------------------------------------------------------
The seed asks for "optimized caching" with gzip *and brotli* compression, a default TTL of 86400 s,
a maximum TTL of 31536000 s and query strings forwarded. CloudFront compresses with brotli only
for behaviours that use a cache policy: the legacy ``ForwardedValues``/TTL settings on a cache
behaviour compress with gzip only. AWS's managed ``CachingOptimized`` policy has the right TTLs
and both encodings but leaves query strings out of the cache key (and does not forward them),
which would change what the cache serves. So the default (``cdn.cache.policy = "custom"``) is a
custom cache policy: all query strings in the cache key, no headers, no cookies, gzip and brotli
on, min/default/max TTL 0/86400/31536000. ``policy = "legacy"`` gives the seed's settings without a
cache policy (``ForwardedValues`` with QueryString true, cookies none, the TTLs on the behaviour),
which compresses with gzip only (the config refuses brotli with it).

Comparison and updates
----------------------
AWS fills in many defaults in a distribution's config, so ``read`` builds a flat-ish dict of only
the fields the TOML declares from ``GetDistributionConfig`` (method and alias lists as sorted
sets, the target origin's access settings), and the diff never sees the rest. An update re-reads
the whole config and its ETag right before writing, changes only the declared fields in it and
sends it back with ``IfMatch``: one ``UpdateDistribution`` per repair. A stale ETag
(``PreconditionFailed``: someone changed it between our read and write) re-reads and retries;
``InvalidViewerCertificate`` right after a certificate is issued is retried for a bounded time.
After create/update the tool waits for ``Deployed`` (``--no-wait`` skips it).

Deleting (destroy only, only when tagged ours): disable, wait until deployed, delete with the new
ETag; then the OAI/OAC/cache policy (retried while CloudFront still reports them in use).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from botocore.exceptions import ClientError

from .. import retry
from ..aws import error_code
from ..config import DesiredState
from ..errors import PreconditionError, ProvisionError
from ..model import FieldChange, Resource, Unknown, diff_fields

OAI_ADDR = "cloudfront_oai.buildcache"
OAC_ADDR = "cloudfront_oac.buildcache"
POLICY_ADDR = "cloudfront_cache_policy.buildcache"
DIST_ADDR = "cloudfront_distribution.cdn"
OAI_PREFIX = "origin-access-identity/cloudfront/"

DEPLOY_DELAY = 20.0  # seconds between distribution_deployed polls (real deploys take minutes)
DEPLOY_TIMEOUT = 40 * 60.0


def _cf(ctx):
    return ctx.client("cloudfront")


def _marker(ctx) -> str:
    return f"provision:{ctx.desired.stack.name}"


def _tags_dict(items: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (items or []) if not t["Key"].lower().startswith("aws:")}


def _stale_etag_safe(fn):
    """Run a read-ETag-then-write function; a stale ETag re-runs it (it re-reads), bounded."""
    return retry.call("cloudfront_stale_etag", fn)


# ---------------------------------------------------------------------------------------------
# Origin access identity
# ---------------------------------------------------------------------------------------------


def _list_all(ctx, operation: str, list_key: str, *, fresh: bool = False) -> list[dict]:
    """Every item of a paginated CloudFront list, memoised for the plan (``fresh`` bypasses it)."""
    def fetch():
        items: list[dict] = []
        for page in _cf(ctx).get_paginator(operation).paginate():
            items.extend(page.get(list_key, {}).get("Items") or [])
        return items

    return fetch() if fresh else ctx.memo(f"cloudfront:{operation}", fetch)


def _delete_with_etag(ctx, get_operation: str, delete_operation: str, ident: str) -> None:
    """Delete with the current ETag; stale ETags are re-read, 'in use' is waited out (bounded)."""
    cf = _cf(ctx)

    def attempt():
        etag = getattr(cf, get_operation)(Id=ident)["ETag"]
        getattr(cf, delete_operation)(Id=ident, IfMatch=etag)

    retry.call("cloudfront_in_use", lambda: _stale_etag_safe(attempt))


def _list_oais(ctx) -> list[dict]:
    return _list_all(ctx, "list_cloud_front_origin_access_identities", "CloudFrontOriginAccessIdentityList")


class OriginAccessIdentity(Resource):
    service = "CloudFront origin access identity"
    address = OAI_ADDR

    def caller_reference(self, ctx) -> str:
        return f"provision-{ctx.desired.stack.name}-oai-buildcache"

    def comment(self, ctx) -> str:
        return f"{ctx.desired.buildcache.name} ({_marker(ctx)})"

    def desired(self, ctx) -> dict:
        return {"comment": self.comment(ctx)}

    def read(self, ctx) -> dict | None:
        # Found by its comment (the list summaries carry no CallerReference; ownership is checked
        # against the CallerReference before any delete).
        want = self.comment(ctx)
        for item in _list_oais(ctx):
            if item.get("Comment") == want:
                return {"id": item["Id"], "s3_canonical_user_id": item["S3CanonicalUserId"], "comment": item["Comment"]}
        return None

    def outputs(self, ctx, live: dict) -> dict:
        return {
            "id": live["id"],
            "s3_canonical_user_id": live["s3_canonical_user_id"],
            "iam_arn": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {live['id']}",
        }

    def create(self, ctx, desired: dict) -> None:
        cf = _cf(ctx)
        config = {"CallerReference": self.caller_reference(ctx), "Comment": desired["comment"]}
        try:
            # Same CallerReference and config again: AWS answers with the existing identity.
            cf.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig=config)
        except ClientError as e:
            if error_code(e) != "CloudFrontOriginAccessIdentityAlreadyExists":
                raise
            # Ours (same CallerReference) with another comment: adopt it and restore the comment.
            oai_id = self._find_by_caller_reference(ctx)
            if oai_id is None:
                raise
            self._put_comment(ctx, oai_id, desired["comment"])

    def _find_by_caller_reference(self, ctx) -> str | None:
        cf = _cf(ctx)
        ref = self.caller_reference(ctx)
        for page in cf.get_paginator("list_cloud_front_origin_access_identities").paginate():
            for item in page.get("CloudFrontOriginAccessIdentityList", {}).get("Items") or []:
                got = cf.get_cloud_front_origin_access_identity_config(Id=item["Id"])
                if got["CloudFrontOriginAccessIdentityConfig"]["CallerReference"] == ref:
                    return item["Id"]
        return None

    def _put_comment(self, ctx, oai_id: str, comment: str) -> None:
        cf = _cf(ctx)

        def attempt():
            got = cf.get_cloud_front_origin_access_identity_config(Id=oai_id)
            config = dict(got["CloudFrontOriginAccessIdentityConfig"], Comment=comment)
            cf.update_cloud_front_origin_access_identity(
                Id=oai_id, IfMatch=got["ETag"], CloudFrontOriginAccessIdentityConfig=config)

        _stale_etag_safe(attempt)

    def update(self, ctx, desired: dict, live: dict, changes) -> None:
        self._put_comment(ctx, live["id"], desired["comment"])

    def owned(self, ctx, live: dict) -> bool:
        got = _cf(ctx).get_cloud_front_origin_access_identity_config(Id=live["id"])
        return got["CloudFrontOriginAccessIdentityConfig"]["CallerReference"] == self.caller_reference(ctx)

    def delete(self, ctx, live: dict) -> None:
        _delete_with_etag(ctx, "get_cloud_front_origin_access_identity", "delete_cloud_front_origin_access_identity", live["id"])


# ---------------------------------------------------------------------------------------------
# Origin access control
# ---------------------------------------------------------------------------------------------


def _list_oacs(ctx, fresh: bool = False) -> list[dict]:
    return _list_all(ctx, "list_origin_access_controls", "OriginAccessControlList", fresh=fresh)


class OriginAccessControl(Resource):
    service = "CloudFront origin access control"
    address = OAC_ADDR

    def name(self, ctx) -> str:
        return f"{ctx.desired.stack.name}-buildcache"[:64]

    def desired(self, ctx) -> dict:
        return {
            "description": f"S3 origin {ctx.desired.buildcache.name} ({_marker(ctx)})",
            "signing_protocol": "sigv4",
            "signing_behavior": "always",
            "origin_type": "s3",
        }

    @staticmethod
    def _norm(item: dict) -> dict:
        return {
            "id": item["Id"],
            "name": item.get("Name"),
            "description": item.get("Description") or "",
            "signing_protocol": item.get("SigningProtocol"),
            "signing_behavior": item.get("SigningBehavior"),
            "origin_type": item.get("OriginAccessControlOriginType"),
        }

    def read(self, ctx) -> dict | None:
        name = self.name(ctx)
        for item in _list_oacs(ctx):
            if item.get("Name") == name:
                return self._norm(item)
        return None

    def outputs(self, ctx, live: dict) -> dict:
        return {"id": live["id"]}

    def _config(self, ctx, desired: dict) -> dict:
        return {
            "Name": self.name(ctx),
            "Description": desired["description"],
            "SigningProtocol": desired["signing_protocol"],
            "SigningBehavior": desired["signing_behavior"],
            "OriginAccessControlOriginType": desired["origin_type"],
        }

    def create(self, ctx, desired: dict) -> None:
        try:
            _cf(ctx).create_origin_access_control(OriginAccessControlConfig=self._config(ctx, desired))
        except ClientError as e:
            if error_code(e) != "OriginAccessControlAlreadyExists":
                raise
            # Created meanwhile (a re-run after a crash): adopt and correct it.
            live = next((self._norm(i) for i in _list_oacs(ctx, fresh=True) if i.get("Name") == self.name(ctx)), None)
            if live is None:
                raise
            if self.diff(desired, live):
                self.update(ctx, desired, live, ())

    def update(self, ctx, desired: dict, live: dict, changes) -> None:
        cf = _cf(ctx)

        def attempt():
            etag = cf.get_origin_access_control_config(Id=live["id"])["ETag"]
            cf.update_origin_access_control(Id=live["id"], IfMatch=etag,
                                            OriginAccessControlConfig=self._config(ctx, desired))

        _stale_etag_safe(attempt)

    def owned(self, ctx, live: dict) -> bool:
        return live.get("name") == self.name(ctx) and _marker(ctx) in (live.get("description") or "")

    def delete(self, ctx, live: dict) -> None:
        _delete_with_etag(ctx, "get_origin_access_control_config", "delete_origin_access_control", live["id"])


# ---------------------------------------------------------------------------------------------
# Cache policy
# ---------------------------------------------------------------------------------------------


def _list_custom_policies(ctx, fresh: bool = False) -> list[dict]:
    def fetch():
        cf = _cf(ctx)
        out: list[dict] = []
        marker = None
        while True:  # ListCachePolicies has no botocore paginator: follow NextMarker
            kwargs: dict[str, Any] = {"Type": "custom"}
            if marker:
                kwargs["Marker"] = marker
            got = cf.list_cache_policies(**kwargs).get("CachePolicyList", {})
            out.extend(i["CachePolicy"] for i in got.get("Items") or [])
            marker = got.get("NextMarker")
            if not marker:
                return out

    return fetch() if fresh else ctx.memo("cloudfront:cache_policies:custom", fetch)


class CachePolicy(Resource):
    service = "CloudFront cache policy"
    address = POLICY_ADDR

    def desired(self, ctx) -> dict:
        c = ctx.desired.cdn.cache
        return {
            "comment": f"gzip+brotli, query strings {'in the cache key' if c.query_strings else 'ignored'} ({_marker(ctx)})",
            "min_ttl": c.min_ttl,
            "default_ttl": c.default_ttl,
            "max_ttl": c.max_ttl,
            "query_strings": "all" if c.query_strings else "none",
            "headers": "none",
            "cookies": "none",
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
            "headers": (p.get("HeadersConfig") or {}).get("HeaderBehavior"),
            "cookies": (p.get("CookiesConfig") or {}).get("CookieBehavior"),
            "gzip": bool(p.get("EnableAcceptEncodingGzip")),
            "brotli": bool(p.get("EnableAcceptEncodingBrotli")),
        }

    def read(self, ctx) -> dict | None:
        name = ctx.desired.cdn.cache.name
        for policy in _list_custom_policies(ctx):
            if policy["CachePolicyConfig"].get("Name") == name:
                return self._norm(policy)
        return None

    def outputs(self, ctx, live: dict) -> dict:
        return {"id": live["id"]}

    def _config(self, ctx, desired: dict) -> dict:
        return {
            "Name": ctx.desired.cdn.cache.name,
            "Comment": desired["comment"],
            "MinTTL": desired["min_ttl"],
            "DefaultTTL": desired["default_ttl"],
            "MaxTTL": desired["max_ttl"],
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": desired["gzip"],
                "EnableAcceptEncodingBrotli": desired["brotli"],
                "HeadersConfig": {"HeaderBehavior": desired["headers"]},
                "CookiesConfig": {"CookieBehavior": desired["cookies"]},
                "QueryStringsConfig": {"QueryStringBehavior": desired["query_strings"]},
            },
        }

    def create(self, ctx, desired: dict) -> None:
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

    def update(self, ctx, desired: dict, live: dict, changes) -> None:
        cf = _cf(ctx)

        def attempt():
            etag = cf.get_cache_policy_config(Id=live["id"])["ETag"]
            cf.update_cache_policy(Id=live["id"], IfMatch=etag, CachePolicyConfig=self._config(ctx, desired))

        _stale_etag_safe(attempt)

    def owned(self, ctx, live: dict) -> bool:
        return live.get("name") == ctx.desired.cdn.cache.name and _marker(ctx) in (live.get("comment") or "")

    def delete(self, ctx, live: dict) -> None:
        _delete_with_etag(ctx, "get_cache_policy_config", "delete_cache_policy", live["id"])


# ---------------------------------------------------------------------------------------------
# Distribution
# ---------------------------------------------------------------------------------------------


def _list_distributions(ctx, fresh: bool = False) -> list[dict]:
    return _list_all(ctx, "list_distributions", "DistributionList", fresh=fresh)


def _qty(items: list) -> dict:
    return {"Quantity": len(items), "Items": list(items)} if items else {"Quantity": 0}


_ALREADY_EXISTS_ID = re.compile(r"Already exists:\s*([A-Z0-9]+)")


class Distribution(Resource):
    service = "CloudFront distribution"
    address = DIST_ADDR

    def __init__(self, desired: DesiredState):
        cdn = desired.cdn
        deps = ["s3_bucket.buildcache", "s3_bucket.logs", "acm_certificate.cdn", "acm_validation.cdn"]
        deps.append(OAI_ADDR if cdn.origin_access == "oai" else OAC_ADDR)
        if cdn.cache.kind == "custom":
            deps.append(POLICY_ADDR)
        self.depends_on = tuple(deps)
        self.read_after = ()  # found by alias/comment and tag: the read needs no other resource

    # -- identity ------------------------------------------------------------------------------
    def caller_reference(self, ctx) -> str:
        return f"provision-{ctx.desired.stack.name}-distribution-cdn"

    def origin_id(self, ctx) -> str:
        return f"s3-{ctx.desired.buildcache.name}"

    # -- desired -------------------------------------------------------------------------------
    def _certificate_arn(self, ctx) -> Any:
        # The certificate must be ISSUED: acm_validation.cdn publishes the ARN only then.
        if ctx.managed("acm_validation.cdn"):
            return ctx.out("acm_validation.cdn", "arn")
        return ctx.out("acm_certificate.cdn", "arn")

    def _origin_domain(self, ctx) -> Any:
        if ctx.managed("s3_bucket.buildcache"):
            return ctx.out("s3_bucket.buildcache", "regional_domain_name")
        b = ctx.desired.buildcache
        return f"{b.name}.s3.{ctx.desired.stack.region}.amazonaws.com"

    def _logs_domain(self, ctx) -> Any:
        if ctx.managed("s3_bucket.logs"):
            return ctx.out("s3_bucket.logs", "domain_name")
        return f"{ctx.desired.logs.name}.s3.amazonaws.com"

    def desired(self, ctx) -> dict:
        cdn = ctx.desired.cdn
        if cdn.origin_access == "oai":
            oai_id = ctx.out(OAI_ADDR, "id")
            origin = {
                "origin_access_identity": oai_id if isinstance(oai_id, Unknown) else OAI_PREFIX + oai_id,
                "origin_access_control_id": "",
            }
        else:
            origin = {"origin_access_identity": "", "origin_access_control_id": ctx.out(OAC_ADDR, "id")}
        origin["domain_name"] = self._origin_domain(ctx)
        dcb: dict[str, Any] = {
            "viewer_protocol_policy": cdn.viewer_protocol_policy,
            "allowed_methods": sorted(cdn.allowed_methods),
            "cached_methods": sorted(cdn.cached_methods),
            "compress": cdn.compress,
        }
        c = cdn.cache
        if c.kind == "custom":
            dcb["cache_policy_id"] = ctx.out(POLICY_ADDR, "id")
        else:
            dcb.update(cache_policy_id="", query_string=c.query_strings, cookies="none",
                       min_ttl=c.min_ttl, default_ttl=c.default_ttl, max_ttl=c.max_ttl)
        lg = cdn.logging
        logging = ({"enabled": True, "bucket": self._logs_domain(ctx), "prefix": lg.prefix,
                    "include_cookies": lg.include_cookies} if lg.enabled else {"enabled": False})
        return {
            "enabled": True,
            "aliases": sorted(cdn.aliases),
            "comment": cdn.comment,
            "price_class": cdn.price_class,
            "http_version": cdn.http_version,
            "ipv6": cdn.ipv6,
            "default_root_object": cdn.default_root_object,
            "origin": origin,
            "viewer_certificate": {
                "acm_certificate_arn": self._certificate_arn(ctx),
                "ssl_support_method": cdn.ssl_support_method,
                "minimum_protocol_version": cdn.minimum_protocol_version,
            },
            "default_cache_behavior": dcb,
            "geo_restriction": cdn.geo_restriction,
            "logging": logging,
            "custom_error_responses": sorted(
                ({"error_code": e.error_code, "response_code": e.response_code,
                  "response_page_path": e.response_page_path, "min_ttl": e.min_ttl} for e in cdn.error_responses),
                key=lambda e: e["error_code"]),
            "tags": dict(ctx.tags),
        }

    # -- read ----------------------------------------------------------------------------------
    @staticmethod
    def normalise(cfg: dict) -> dict:
        """The declared fields of a DistributionConfig, in the shape ``desired`` has."""
        dcb = cfg.get("DefaultCacheBehavior") or {}
        target = dcb.get("TargetOriginId")
        origins = (cfg.get("Origins") or {}).get("Items") or []
        o = next((x for x in origins if x.get("Id") == target), {})
        am = dcb.get("AllowedMethods") or {}
        fv = dcb.get("ForwardedValues") or {}
        vc = cfg.get("ViewerCertificate") or {}
        lg = cfg.get("Logging") or {}
        errs = []
        for e in (cfg.get("CustomErrorResponses") or {}).get("Items") or []:
            rc = e.get("ResponseCode")
            errs.append({"error_code": int(e["ErrorCode"]), "response_code": int(rc) if rc not in (None, "") else 0,
                         "response_page_path": e.get("ResponsePagePath") or "",
                         "min_ttl": int(e.get("ErrorCachingMinTTL") or 0)})
        out: dict[str, Any] = {
            "enabled": bool(cfg.get("Enabled")),
            "aliases": sorted((cfg.get("Aliases") or {}).get("Items") or []),
            "comment": cfg.get("Comment") or "",
            "price_class": cfg.get("PriceClass"),
            "http_version": cfg.get("HttpVersion"),
            "ipv6": bool(cfg.get("IsIPV6Enabled")),
            "default_root_object": cfg.get("DefaultRootObject") or "",
            "origin": {
                "domain_name": o.get("DomainName"),
                "origin_access_identity": (o.get("S3OriginConfig") or {}).get("OriginAccessIdentity") or "",
                "origin_access_control_id": o.get("OriginAccessControlId") or "",
            },
            "viewer_certificate": {
                "acm_certificate_arn": vc.get("ACMCertificateArn") or "",
                "ssl_support_method": vc.get("SSLSupportMethod"),
                "minimum_protocol_version": vc.get("MinimumProtocolVersion"),
            },
            "default_cache_behavior": {
                "viewer_protocol_policy": dcb.get("ViewerProtocolPolicy"),
                "allowed_methods": sorted(am.get("Items") or []),
                "cached_methods": sorted((am.get("CachedMethods") or {}).get("Items") or []),
                "compress": bool(dcb.get("Compress")),
                "cache_policy_id": dcb.get("CachePolicyId") or "",
                "query_string": bool(fv.get("QueryString")) if fv else None,
                "cookies": (fv.get("Cookies") or {}).get("Forward") if fv else None,
                "min_ttl": dcb.get("MinTTL"),
                "default_ttl": dcb.get("DefaultTTL"),
                "max_ttl": dcb.get("MaxTTL"),
            },
            "geo_restriction": ((cfg.get("Restrictions") or {}).get("GeoRestriction") or {}).get("RestrictionType"),
            "logging": ({"enabled": True, "bucket": lg.get("Bucket") or "", "prefix": lg.get("Prefix") or "",
                         "include_cookies": bool(lg.get("IncludeCookies"))} if lg.get("Enabled") else {"enabled": False}),
            "custom_error_responses": sorted(errs, key=lambda e: e["error_code"]),
        }
        return out

    def _tags(self, ctx, arn: str) -> dict[str, str]:
        return _tags_dict(_cf(ctx).list_tags_for_resource(Resource=arn).get("Tags", {}).get("Items"))

    def _find(self, ctx) -> tuple[dict, dict] | None:
        """(summary, tags) of the distribution tagged as this stack's, or None."""
        stack = ctx.desired.stack.name
        summaries = _list_distributions(ctx)
        aliases = set(ctx.desired.cdn.aliases)
        by_alias = [s for s in summaries if aliases & set((s.get("Aliases") or {}).get("Items") or [])]
        # Aliases removed out of band: fall back to the comment before giving up.
        by_comment = [s for s in summaries if s not in by_alias and s.get("Comment") == ctx.desired.cdn.comment]
        for group in (by_alias, by_comment):
            for s in group:
                tags = self._tags(ctx, s["ARN"])
                if tags.get("provision:stack") == stack:
                    return s, tags
        return None

    def _live(self, ctx, dist_id: str, arn: str, domain: str, tags: dict) -> dict:
        got = _cf(ctx).get_distribution_config(Id=dist_id)
        live = self.normalise(got["DistributionConfig"])
        live.update(id=dist_id, arn=arn, domain_name=domain, tags=tags,
                    caller_reference=got["DistributionConfig"].get("CallerReference"))
        return live

    def read(self, ctx) -> dict | None:
        found = self._find(ctx)
        if found is None:
            return None
        s, tags = found
        return self._live(ctx, s["Id"], s["ARN"], s["DomainName"], tags)

    def outputs(self, ctx, live: dict) -> dict:
        return {
            "id": live["id"],
            "arn": live["arn"],
            "domain_name": live["domain_name"],
            "public_url": "https://" + ctx.desired.cdn.aliases[0],
        }

    # -- write ---------------------------------------------------------------------------------
    def build_config(self, ctx, desired: dict, base: dict | None = None) -> dict:
        """``base`` (the live config, or a new skeleton) with every declared field set to desired."""
        if base is None:
            base = {
                "CallerReference": self.caller_reference(ctx),
                "Origins": {"Quantity": 1, "Items": [{"Id": self.origin_id(ctx), "DomainName": "", "OriginPath": "",
                                                      "CustomHeaders": {"Quantity": 0}}]},
                "DefaultCacheBehavior": {"TargetOriginId": self.origin_id(ctx)},
                "CacheBehaviors": {"Quantity": 0},
            }
        cfg = copy.deepcopy(base)
        cfg["Enabled"] = desired["enabled"]
        cfg["Aliases"] = _qty(list(ctx.desired.cdn.aliases))
        cfg["Comment"] = desired["comment"]
        cfg["PriceClass"] = desired["price_class"]
        cfg["HttpVersion"] = desired["http_version"]
        cfg["IsIPV6Enabled"] = desired["ipv6"]
        cfg["DefaultRootObject"] = desired["default_root_object"]

        dcb = cfg.setdefault("DefaultCacheBehavior", {})
        dcb.setdefault("TargetOriginId", self.origin_id(ctx))
        origins = cfg.setdefault("Origins", {"Quantity": 0, "Items": []})
        items = origins.setdefault("Items", [])
        origin = next((o for o in items if o.get("Id") == dcb["TargetOriginId"]), None)
        if origin is None:
            origin = {"Id": dcb["TargetOriginId"], "OriginPath": "", "CustomHeaders": {"Quantity": 0}}
            items.append(origin)
            origins["Quantity"] = len(items)
        o = desired["origin"]
        origin["DomainName"] = o["domain_name"]
        origin.pop("CustomOriginConfig", None)
        origin["S3OriginConfig"] = {**(origin.get("S3OriginConfig") or {}), "OriginAccessIdentity": o["origin_access_identity"]}
        if o["origin_access_control_id"]:
            origin["OriginAccessControlId"] = o["origin_access_control_id"]
        else:
            origin.pop("OriginAccessControlId", None)

        vc = desired["viewer_certificate"]
        cfg["ViewerCertificate"] = {
            "CloudFrontDefaultCertificate": False,
            "ACMCertificateArn": vc["acm_certificate_arn"],
            "SSLSupportMethod": vc["ssl_support_method"],
            "MinimumProtocolVersion": vc["minimum_protocol_version"],
        }

        b = desired["default_cache_behavior"]
        dcb["ViewerProtocolPolicy"] = b["viewer_protocol_policy"]
        cached = [m for m in ctx.desired.cdn.cached_methods]
        dcb["AllowedMethods"] = {**_qty(list(ctx.desired.cdn.allowed_methods)), "CachedMethods": _qty(cached)}
        dcb["Compress"] = b["compress"]
        if b["cache_policy_id"]:
            # A cache policy excludes the legacy settings (AWS: InvalidArgument otherwise).
            dcb["CachePolicyId"] = b["cache_policy_id"]
            for k in ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL"):
                dcb.pop(k, None)
        else:
            dcb.pop("CachePolicyId", None)
            fv = dict(dcb.get("ForwardedValues") or {})
            fv["QueryString"] = b["query_string"]
            fv["Cookies"] = {"Forward": b["cookies"]}
            fv.setdefault("Headers", {"Quantity": 0})
            fv.setdefault("QueryStringCacheKeys", {"Quantity": 0})
            dcb["ForwardedValues"] = fv
            dcb["MinTTL"], dcb["DefaultTTL"], dcb["MaxTTL"] = b["min_ttl"], b["default_ttl"], b["max_ttl"]
        dcb.setdefault("TrustedSigners", {"Enabled": False, "Quantity": 0})

        cfg["Restrictions"] = {"GeoRestriction": {"RestrictionType": desired["geo_restriction"], "Quantity": 0}}
        lg = desired["logging"]
        cfg["Logging"] = ({"Enabled": True, "IncludeCookies": lg["include_cookies"], "Bucket": lg["bucket"],
                           "Prefix": lg["prefix"]} if lg["enabled"]
                          else {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""})
        errs = []
        for e in desired["custom_error_responses"]:
            item: dict[str, Any] = {"ErrorCode": e["error_code"], "ErrorCachingMinTTL": e["min_ttl"]}
            if e["response_code"]:
                item["ResponseCode"] = str(e["response_code"])
                item["ResponsePagePath"] = e["response_page_path"]
            errs.append(item)
        cfg["CustomErrorResponses"] = _qty(errs)
        return cfg

    def _wait(self, ctx, dist_id: str) -> None:
        if not ctx.wait:
            return
        ctx.wait_for(f"CloudFront distribution {dist_id} to deploy", _cf(ctx), "distribution_deployed",
                     delay=DEPLOY_DELAY, timeout=DEPLOY_TIMEOUT, Id=dist_id)

    def _put_config(self, ctx, dist_id: str, desired: dict) -> None:
        """Read config + ETag right before, set the declared fields, UpdateDistribution(IfMatch)."""
        cf = _cf(ctx)

        def attempt():
            got = cf.get_distribution_config(Id=dist_id)
            cfg = self.build_config(ctx, desired, got["DistributionConfig"])
            cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=cfg)

        retry.call("cloudfront_certificate_not_ready", lambda: _stale_etag_safe(attempt))

    def create(self, ctx, desired: dict) -> None:
        cf = _cf(ctx)
        cfg = self.build_config(ctx, desired)
        tags = {"Items": [{"Key": k, "Value": v} for k, v in sorted(desired["tags"].items())]}
        try:
            resp = retry.call("cloudfront_certificate_not_ready", lambda: cf.create_distribution_with_tags(
                DistributionConfigWithTags={"DistributionConfig": cfg, "Tags": tags}))
            dist_id = resp["Distribution"]["Id"]
        except ClientError as e:
            if error_code(e) != "DistributionAlreadyExists":
                raise
            dist_id = self._adopt(ctx, desired, e)
        self._wait(ctx, dist_id)

    def _adopt(self, ctx, desired: dict, exc: ClientError) -> str:
        """Our CallerReference is taken: a distribution we created (a crash after create). Adopt it."""
        cf = _cf(ctx)
        msg = str(exc.response.get("Error", {}).get("Message", ""))
        m = _ALREADY_EXISTS_ID.search(msg)
        summaries = _list_distributions(ctx, fresh=True)
        ref = self.caller_reference(ctx)
        summary = None
        if m:
            summary = next((s for s in summaries if s["Id"] == m.group(1)), None)
        if summary is None:
            for s in summaries:
                if cf.get_distribution_config(Id=s["Id"])["DistributionConfig"].get("CallerReference") == ref:
                    summary = s
                    break
        if summary is None:
            raise ProvisionError(f"CloudFront says CallerReference {ref!r} is taken, but no distribution has it") from exc
        live = self._live(ctx, summary["Id"], summary["ARN"], summary["DomainName"], self._tags(ctx, summary["ARN"]))
        if live.get("caller_reference") != ref:
            raise PreconditionError(f"distribution {summary['Id']} does not carry CallerReference {ref!r}; not adopting it")
        changes = self.diff(desired, live)
        if any(c.path.split(".", 1)[0] == "tags" for c in changes):
            cf.tag_resource(Resource=summary["ARN"], Tags={"Items": [{"Key": k, "Value": v}
                                                                       for k, v in sorted(desired["tags"].items())]})
        if any(c.path.split(".", 1)[0] != "tags" for c in changes):
            self._put_config(ctx, summary["Id"], desired)
        return summary["Id"]

    def update(self, ctx, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        top = {c.path.split(".", 1)[0] for c in changes}
        if "tags" in top:
            _cf(ctx).tag_resource(Resource=live["arn"], Tags={"Items": [{"Key": k, "Value": v}
                                                                          for k, v in sorted(desired["tags"].items())]})
        if top - {"tags"}:
            self._put_config(ctx, live["id"], desired)
            self._wait(ctx, live["id"])

    def delete(self, ctx, live: dict) -> None:
        cf = _cf(ctx)
        dist_id = live["id"]

        def disable():
            got = cf.get_distribution_config(Id=dist_id)
            cfg = got["DistributionConfig"]
            if not cfg.get("Enabled"):
                return
            cfg["Enabled"] = False
            cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=cfg)

        _stale_etag_safe(disable)
        # Deleting needs a disabled *and deployed* distribution, so destroy waits even with --no-wait.
        ctx.wait_for(f"CloudFront distribution {dist_id} to deploy (disabled)", cf, "distribution_deployed",
                     delay=DEPLOY_DELAY, timeout=DEPLOY_TIMEOUT, Id=dist_id)

        def remove():
            etag = cf.get_distribution(Id=dist_id)["ETag"]
            cf.delete_distribution(Id=dist_id, IfMatch=etag)

        _stale_etag_safe(remove)

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        return diff_fields(desired, live)


def resources(desired: DesiredState) -> list[Resource]:
    cdn = desired.cdn
    out: list[Resource] = []
    out.append(OriginAccessIdentity() if cdn.origin_access == "oai" else OriginAccessControl())
    if cdn.cache.kind == "custom":
        out.append(CachePolicy())
    out.append(Distribution(desired))
    return out


__all__ = ["OriginAccessIdentity", "OriginAccessControl", "CachePolicy", "Distribution", "resources"]
