"""CloudFront: what the distribution's config has that the desired state does not declare.

Read from the ``GetDistributionConfig`` the distribution read makes anyway (no extra request):

| path | what |
|---|---|
| ``origins[<id>]`` | an origin other than the buildcache bucket (the default behaviour's target) |
| ``origin_groups[<id>]`` | an origin group (failover) |
| ``cache_behaviors[<path pattern>]`` | a cache behaviour besides the default one |
| ``web_acl_id`` | a WAF web ACL |
| ``default_cache_behavior.function_associations[<event type>]`` | a CloudFront Function |
| ``default_cache_behavior.lambda_function_associations[<event type>]`` | a Lambda@Edge function |
| ``default_cache_behavior.field_level_encryption_id`` | field-level encryption |
| ``default_cache_behavior.trusted_signers`` / ``trusted_key_groups`` | signed URLs/cookies required |
| ``default_cache_behavior.realtime_log_config_arn`` | real-time logs |

Another certificate (an ACM ARN other than ours, an IAM certificate, the default one) is a change of
the declared ``viewer_certificate.acm_certificate_arn``. Apply removes every item in the one
``UpdateDistribution`` it writes (``strip``, called by ``distribution_config.build_config``),
except those ``[drift] ignore`` accepts (left in place on purpose).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...config import ignore_matches
from ._common import DIST_ADDR

if TYPE_CHECKING:
    from ...context import Context

DCB = "default_cache_behavior"


def _items(block: Any) -> list[dict]:
    return list((block or {}).get("Items") or [])


def found(cfg: dict) -> dict[str, Any]:
    """path -> value of every undeclared thing in a DistributionConfig."""
    out: dict[str, Any] = {}
    dcb = cfg.get("DefaultCacheBehavior") or {}
    target = dcb.get("TargetOriginId")
    for o in _items(cfg.get("Origins")):
        if o.get("Id") != target:
            out[f"origins[{o.get('Id')}]"] = o.get("DomainName")
    for g in _items(cfg.get("OriginGroups")):
        out[f"origin_groups[{g.get('Id')}]"] = [m.get("OriginId") for m in _items(g.get("Members"))]
    for b in _items(cfg.get("CacheBehaviors")):
        out[f"cache_behaviors[{b.get('PathPattern')}]"] = b.get("TargetOriginId")
    if cfg.get("WebACLId"):
        out["web_acl_id"] = cfg["WebACLId"]
    for f in _items(dcb.get("FunctionAssociations")):
        out[f"{DCB}.function_associations[{f.get('EventType')}]"] = f.get("FunctionARN")
    for f in _items(dcb.get("LambdaFunctionAssociations")):
        out[f"{DCB}.lambda_function_associations[{f.get('EventType')}]"] = f.get("LambdaFunctionARN")
    if dcb.get("FieldLevelEncryptionId"):
        out[f"{DCB}.field_level_encryption_id"] = dcb["FieldLevelEncryptionId"]
    for key, path in (("TrustedSigners", "trusted_signers"), ("TrustedKeyGroups", "trusted_key_groups")):
        block = dcb.get(key) or {}
        if block.get("Enabled") or _items(block):
            out[f"{DCB}.{path}"] = [str(i) for i in _items(block)]
    if dcb.get("RealtimeLogConfigArn"):
        out[f"{DCB}.realtime_log_config_arn"] = dcb["RealtimeLogConfigArn"]
    return out


def live_extras(cfg: dict) -> dict:
    """The keys the distribution's live value gains (``model.undeclared_changes`` reads them)."""
    return {"undeclared": found(cfg)}


def strip(ctx: Context, cfg: dict) -> None:
    """Remove (in place) every undeclared thing ``[drift] ignore`` does not accept."""
    def gone(path: str) -> bool:
        return not ignore_matches(ctx.desired.drift_ignore, DIST_ADDR, path)

    dcb = cfg.get("DefaultCacheBehavior") or {}
    target = dcb.get("TargetOriginId")

    def keep_items(block: dict | None, path_of: Any) -> None:
        if not block:
            return
        items = [i for i in _items(block) if path_of(i) is None or not gone(path_of(i))]
        block["Quantity"] = len(items)
        if items:
            block["Items"] = items
        else:
            block.pop("Items", None)

    keep_items(cfg.get("Origins"), lambda o: None if o.get("Id") == target else f"origins[{o.get('Id')}]")
    keep_items(cfg.get("OriginGroups"), lambda g: f"origin_groups[{g.get('Id')}]")
    keep_items(cfg.get("CacheBehaviors"), lambda b: f"cache_behaviors[{b.get('PathPattern')}]")
    if cfg.get("WebACLId") and gone("web_acl_id"):
        cfg["WebACLId"] = ""
    keep_items(dcb.get("FunctionAssociations"), lambda f: f"{DCB}.function_associations[{f.get('EventType')}]")
    keep_items(dcb.get("LambdaFunctionAssociations"),
               lambda f: f"{DCB}.lambda_function_associations[{f.get('EventType')}]")
    if dcb.get("FieldLevelEncryptionId") and gone(f"{DCB}.field_level_encryption_id"):
        dcb["FieldLevelEncryptionId"] = ""
    for key, path in (("TrustedSigners", "trusted_signers"), ("TrustedKeyGroups", "trusted_key_groups")):
        block = dcb.get(key)
        if block and (block.get("Enabled") or _items(block)) and gone(f"{DCB}.{path}"):
            dcb[key] = {"Enabled": False, "Quantity": 0}
    if dcb.get("RealtimeLogConfigArn") and gone(f"{DCB}.realtime_log_config_arn"):
        dcb.pop("RealtimeLogConfigArn", None)
