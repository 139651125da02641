"""S3: what a bucket has that the desired state does not declare: UNEXPECTED in drift, removed by apply.

Read on every plan, all at once and together with the bucket's declared sub-resources (one round
trip after ``HeadBucket``; "not configured" errors are the empty value, as in ``s3._get``):

| path | read | apply removes it with |
|---|---|---|
| ``acl.grants[<grantee>:<permission>]`` (1) | GetBucketAcl | PutBucketAcl (the ACL read right before, without them) |
| ``website`` (static website hosting) | GetBucketWebsite | DeleteBucketWebsite |
| ``replication`` | GetBucketReplication | DeleteBucketReplication |
| ``notifications`` (SNS/SQS/Lambda/EventBridge) | GetBucketNotificationConfiguration | PutBucketNotificationConfiguration (empty) |
| ``object_lock.default_retention`` | GetObjectLockConfiguration | PutObjectLockConfiguration (enabled, no rule) |
| ``object_lock`` (enabled) | GetObjectLockConfiguration | never: S3 cannot turn Object Lock off (reported) |
| ``transfer_acceleration`` | GetBucketAccelerateConfiguration | PutBucketAccelerateConfiguration Suspended |
| ``request_payer`` (Requester pays) | GetBucketRequestPayment | PutBucketRequestPayment BucketOwner |

(1) every grant but the owner's FULL_CONTROL and, on the log bucket while CloudFront logs there, the
log-delivery grant ``s3_log_delivery`` manages.

Statements other than ours in the bucket policy are ``s3_bucket_policy``'s (UNEXPECTED statements);
CORS rules a bucket does not declare are ``s3_bucket_cors``'s (``rules``, UNEXPECTED).
The log bucket's ACL is read once per plan (``acl_memo``), shared with ``s3_log_delivery``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from botocore.exceptions import ClientError

from ...aws import error_code
from ...model import UNEXPECTED, FieldChange
from .._parallel import start
from ..s3_log_delivery import LOG_DELIVERY_CANONICAL_ID, acl_memo

if TYPE_CHECKING:
    from ...config import Bucket
    from ...context import Context

OBJECT_LOCK_ON = "S3 cannot turn Object Lock off on an existing bucket: reported, never removed"
_GROUP = "http://acs.amazonaws.com/groups/"

# sub-resource -> (call, error codes that mean "not configured")
READS: dict[str, tuple[str, set[str]]] = {
    "website": ("get_bucket_website", {"NoSuchWebsiteConfiguration"}),
    "replication": ("get_bucket_replication", {"ReplicationConfigurationNotFoundError"}),
    "notifications": ("get_bucket_notification_configuration", set()),
    "object_lock": ("get_object_lock_configuration", {"ObjectLockConfigurationNotFoundError"}),
    "transfer_acceleration": ("get_bucket_accelerate_configuration", set()),
    "request_payer": ("get_bucket_request_payment", set()),
}
_NOTIFICATION_KEYS = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations",
                      "EventBridgeConfiguration")


def _get(s3: Any, what: str, bucket: str) -> dict | None:
    op, missing = READS[what]
    try:
        got = getattr(s3, op)(Bucket=bucket)
    except ClientError as e:
        if error_code(e) in missing:
            return None
        raise
    got.pop("ResponseMetadata", None)
    return got


def _log_delivery(ctx: Context, spec: Bucket) -> bool:
    """The log bucket keeps CloudFront's log-delivery grant while CloudFront logs there."""
    return spec.key == "logs" and ctx.desired.cdn.logging.enabled


ACLS_DISABLED = "BucketOwnerEnforced"


def start_reads(ctx: Context, spec: Bucket, region: str) -> Callable[[str | None], dict]:
    """Start the reads now; the returned function, given the bucket's live object ownership, gives
    ``{"undeclared": ..., "undeclared_kept": ...}``.

    The ACL is read only where ACLs can grant anything: with ``BucketOwnerEnforced`` ownership S3
    disables them ("ACLs no longer affect permissions", S3 User Guide, "Controlling ownership of
    objects and disabling ACLs") and refuses a grant. A bucket that should be enforced has its ACL
    read only if it is not enforced live (then the ownership is drift too); others read it at once.
    """
    s3 = ctx.client("s3", region)
    name = spec.name
    log_delivery = _log_delivery(ctx, spec)
    calls: dict[str, Callable[[], Any]] = {w: (lambda w=w: _get(s3, w, name)) for w in READS}  # type: ignore[misc]
    eager = spec.object_ownership != ACLS_DISABLED
    if eager:
        calls["acl"] = lambda: acl_memo(ctx, s3, name)
    got = start(calls)

    def finish(ownership: str | None) -> dict:
        values = dict(got())
        if not eager and ownership != ACLS_DISABLED:
            values["acl"] = acl_memo(ctx, s3, name)
        return found(values, log_delivery)

    return finish


def grant_key(grant: dict) -> str:
    g = grant.get("Grantee") or {}
    who = g.get("ID") or g.get("EmailAddress") or g.get("URI", "?")
    if who.startswith(_GROUP):
        who = who[len(_GROUP):]
    return f"{who}:{grant.get('Permission')}"


def expected_grant(grant: dict, owner: str | None, log_delivery: bool) -> bool:
    g = grant.get("Grantee") or {}
    if g.get("ID") == owner and grant.get("Permission") == "FULL_CONTROL":
        return True
    return log_delivery and g.get("ID") == LOG_DELIVERY_CANONICAL_ID and grant.get("Permission") == "FULL_CONTROL"


def found(got: dict[str, Any], log_delivery: bool) -> dict:
    out: dict[str, Any] = {}
    kept: dict[str, str] = {}
    acl = got.get("acl") or {}
    owner = (acl.get("Owner") or {}).get("ID")
    for grant in acl.get("Grants") or []:
        if not expected_grant(grant, owner, log_delivery):
            out[f"acl.grants[{grant_key(grant)}]"] = grant
    if got.get("website"):
        out["website"] = got["website"]
    if (got.get("replication") or {}).get("ReplicationConfiguration"):
        out["replication"] = got["replication"]["ReplicationConfiguration"]
    notes = {k: v for k, v in (got.get("notifications") or {}).items() if k in _NOTIFICATION_KEYS and v is not None}
    if notes:
        out["notifications"] = notes
    lock = (got.get("object_lock") or {}).get("ObjectLockConfiguration") or {}
    if lock.get("ObjectLockEnabled") == "Enabled":
        out["object_lock"] = "Enabled"
        kept["object_lock"] = OBJECT_LOCK_ON
        if lock.get("Rule"):
            out["object_lock.default_retention"] = lock["Rule"].get("DefaultRetention", lock["Rule"])
    if (got.get("transfer_acceleration") or {}).get("Status") == "Enabled":
        out["transfer_acceleration"] = "Enabled"
    if (got.get("request_payer") or {}).get("Payer") == "Requester":
        out["request_payer"] = "Requester"
    return {"undeclared": out, "undeclared_kept": kept}


def remove(ctx: Context, spec: Bucket, region: str, changes: tuple[FieldChange, ...]) -> None:
    """Remove what ``changes`` names as UNEXPECTED on the bucket: one call per setting, one
    PutBucketAcl for every extra grant together."""
    s3 = ctx.client("s3", region)
    name = spec.name
    log_delivery = _log_delivery(ctx, spec)
    paths = {c.path for c in changes if c.kind == UNEXPECTED and not c.report_only}
    if any(p.startswith("acl.grants[") for p in paths):
        acl = s3.get_bucket_acl(Bucket=name)  # read right before the whole-document put
        owner = acl["Owner"]
        keep = [g for g in acl.get("Grants") or [] if expected_grant(g, owner.get("ID"), log_delivery)
                or f"acl.grants[{grant_key(g)}]" not in paths]
        if not any(expected_grant(g, owner.get("ID"), False) for g in keep):
            keep.insert(0, {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"})
        s3.put_bucket_acl(Bucket=name, AccessControlPolicy={"Grants": keep, "Owner": owner})
    if "website" in paths:
        s3.delete_bucket_website(Bucket=name)
    if "replication" in paths:
        s3.delete_bucket_replication(Bucket=name)
    if "notifications" in paths:
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={})
    if "object_lock.default_retention" in paths:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    if "transfer_acceleration" in paths:
        s3.put_bucket_accelerate_configuration(Bucket=name, AccelerateConfiguration={"Status": "Suspended"})
    if "request_payer" in paths:
        s3.put_bucket_request_payment(Bucket=name, RequestPaymentConfiguration={"Payer": "BucketOwner"})
