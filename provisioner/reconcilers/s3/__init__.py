"""S3: the buildcache bucket, the CloudFront access-log bucket, their policies, CORS and request metrics.

Resources (addresses other modules code against), one module per room:

- ``s3_bucket.<key>`` (``bucket``): the bucket itself (region, encryption, versioning, public-access
  block, lifecycle, object ownership, tags). Outputs ``name``, ``arn``, ``domain_name``,
  ``regional_domain_name``.
- ``s3_bucket_policy.<key>`` (``policy``): TLS only, CloudFront's read grant, CloudTrail's delivery.
- ``s3_bucket_cors.<key>`` (``cors``): the CORS rules (none unless declared).
- ``s3_metrics.<key>`` (``metrics``): the request-metrics configuration, when ``request_metrics``
  is declared.

``<key>`` is ``buildcache``, and ``logs`` when the stack has a log bucket.
"""

from __future__ import annotations

from ...config import DesiredState
from ...model import Resource
from .bucket import LIFECYCLE_RULE_ID, PAB_FLAGS, S3Bucket, lifecycle_rules  # noqa: F401
from .cors import BucketCors
from .metrics import BucketMetrics
from .policy import S3BucketPolicy, bucket_policy_document  # noqa: F401


def resources(desired: DesiredState) -> list[Resource]:
    region = desired.stack.region
    out: list[Resource] = []
    for b in (desired.buildcache, desired.logs):
        if b is None:
            continue
        out.append(S3Bucket(b, region))
        out.append(S3BucketPolicy(b, region, desired.cdn.origin_access))
        out.append(BucketCors(b, region))
        if b.request_metrics:
            out.append(BucketMetrics(b, region))
    return out


__all__ = ["S3Bucket", "S3BucketPolicy", "BucketCors", "BucketMetrics", "bucket_policy_document", "resources"]
