"""S3: the log bucket's ACL grant to CloudFront's log-delivery account (standard logging needs it).

``s3_log_delivery.logs``: present when the log bucket's ACL grants ``FULL_CONTROL`` to the
``awslogsdelivery`` account (canonical user id below), which is how CloudFront standard logging
(legacy, to S3) writes the log files: "CloudFront ... adds the awslogsdelivery account to the ACL
of the bucket" when a distribution with logging is created or updated, and logs stop arriving when
that grant is removed (CloudFront Developer Guide, "Configure standard logging (legacy)", permissions
required). Nothing else reads the ACL, so without this resource a removed grant would be silent
drift. The grant is written with ``PutBucketAcl`` from the ACL read right before (other grants are
kept); the bucket's object ownership must allow ACLs (config refuses BucketOwnerEnforced for it).

Why standard logging v1 and not v2 (CloudWatch vended log delivery): the seed and the live stack both
log to the log bucket with a prefix; v2 needs three more resources per distribution (delivery source,
destination, delivery) in the CloudWatch Logs API, which the sandbox does not have. v1 is what users
run today; moving to v2 is a candidate for later (docs/aws-behaviour.md).
"""

from __future__ import annotations

from typing import Any

from .. import ownership as own
from ..config import DesiredState
from ..context import Context
from ..model import FieldChange, Resource

#: CloudFront's log-delivery account (awslogsdelivery), per the CloudFront Developer Guide
LOG_DELIVERY_CANONICAL_ID = "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0"
BUCKET = "s3_bucket.logs"


def acl_memo(ctx: Context, s3: Any, bucket: str) -> dict:
    """GetBucketAcl, once per plan step for every reader of that bucket's ACL (``s3.undeclared`` too)."""
    return ctx.memo(("s3:acl", bucket), lambda: s3.get_bucket_acl(Bucket=bucket))


def _has_grant(acl: dict[str, Any]) -> bool:
    for g in acl.get("Grants") or []:
        grantee = g.get("Grantee") or {}
        if grantee.get("ID") == LOG_DELIVERY_CANONICAL_ID and g.get("Permission") == "FULL_CONTROL":
            return True
    return False


class LogDeliveryGrant(Resource):
    service = "S3 log-delivery ACL grant"
    address = "s3_log_delivery.logs"
    depends_on = (BUCKET,)
    retain_on_destroy = True  # follows the log bucket, which is retained

    def __init__(self, desired: DesiredState):
        assert desired.logs is not None  # logging needs the log bucket (config)
        self.bucket = desired.logs.name
        self.region = desired.stack.region

    def desired(self, ctx: Context) -> dict:
        return {"log_delivery_full_control": True}

    def read(self, ctx: Context) -> dict | None:
        if ctx.live.get(BUCKET) is None:
            return None  # no bucket yet: created with it
        acl = acl_memo(ctx, ctx.client("s3", self.region), self.bucket)
        return {"log_delivery_full_control": _has_grant(acl), "owner": (acl.get("Owner") or {}).get("ID")}

    def create(self, ctx: Context, desired: dict) -> None:
        self._grant(ctx)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        self._grant(ctx)

    def _grant(self, ctx: Context) -> None:
        s3 = ctx.client("s3", self.region)
        acl = s3.get_bucket_acl(Bucket=self.bucket)  # read right before the whole-document put
        if _has_grant(acl):
            return
        grants = list(acl.get("Grants") or [])
        grants.append({"Grantee": {"Type": "CanonicalUser", "ID": LOG_DELIVERY_CANONICAL_ID},
                       "Permission": "FULL_CONTROL"})
        s3.put_bucket_acl(Bucket=self.bucket, AccessControlPolicy={"Grants": grants, "Owner": acl["Owner"]})

    def delete(self, ctx: Context, live: dict) -> None:  # pragma: no cover - retained with the bucket
        """Never: the grant lives and goes with the (retained) log bucket."""

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        return self.follows(ctx, BUCKET)


def resources(desired: DesiredState) -> list[Resource]:
    return [LogDeliveryGrant(desired)] if desired.cdn.logging.enabled else []
