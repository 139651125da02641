"""CloudFront DistributionConfig: read into the declared fields (``normalise``) and written back (``build_config``)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import undeclared

if TYPE_CHECKING:
    from ...context import Context


def _qty(items: list) -> dict:
    return {"Quantity": len(items), "Items": list(items)} if items else {"Quantity": 0}


# -- read --------------------------------------------------------------------------------------
def normalise(cfg: dict) -> dict:
    """The declared fields of a DistributionConfig, in the shape ``desired`` has."""
    dcb = cfg.get("DefaultCacheBehavior") or {}
    target = dcb.get("TargetOriginId")
    origins = (cfg.get("Origins") or {}).get("Items") or []
    o: dict = next((x for x in origins if x.get("Id") == target), {})
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
            "origin_request_policy_id": dcb.get("OriginRequestPolicyId") or "",
            "response_headers_policy_id": dcb.get("ResponseHeadersPolicyId") or "",
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


# -- write -------------------------------------------------------------------------------------
def skeleton(caller_reference: str, origin_id: str) -> dict:
    """The base of a new distribution's config (``build_config`` fills in the declared fields)."""
    return {
        "CallerReference": caller_reference,
        "Origins": {"Quantity": 1, "Items": [{"Id": origin_id, "DomainName": "", "OriginPath": "",
                                              "CustomHeaders": {"Quantity": 0}}]},
        "DefaultCacheBehavior": {"TargetOriginId": origin_id},
        "CacheBehaviors": {"Quantity": 0},
    }


def build_config(ctx: Context, desired: dict, base: dict, origin_id: str) -> dict:
    """A copy of ``base`` (the live config, or a ``skeleton``) with every declared field set to desired."""
    cfg = copy.deepcopy(base)
    cfg["Enabled"] = desired["enabled"]
    cfg["Aliases"] = _qty(list(ctx.desired.cdn.aliases))
    cfg["Comment"] = desired["comment"]
    cfg["PriceClass"] = desired["price_class"]
    cfg["HttpVersion"] = desired["http_version"]
    cfg["IsIPV6Enabled"] = desired["ipv6"]
    cfg["DefaultRootObject"] = desired["default_root_object"]

    dcb = cfg.setdefault("DefaultCacheBehavior", {})
    dcb.setdefault("TargetOriginId", origin_id)
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
    origin["S3OriginConfig"] = {**(origin.get("S3OriginConfig") or {}),
                                "OriginAccessIdentity": o["origin_access_identity"]}
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
    for key, field in (("OriginRequestPolicyId", "origin_request_policy_id"),
                       ("ResponseHeadersPolicyId", "response_headers_policy_id")):
        if b.get(field):
            dcb[key] = b[field]
        else:
            dcb.pop(key, None)
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
    undeclared.strip(ctx, cfg)  # what the desired state does not declare goes in the same write
    return cfg
