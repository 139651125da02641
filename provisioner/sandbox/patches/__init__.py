"""Patches that make moto 5.2.1 behave like AWS where it does not: one module per service.

Applied by ``provisioner.sandbox.apply_patches`` (which checks the moto version first). Each
module's docstring names the AWS behaviour it restores and the API reference that states it; the
tests in ``tests/test_moto_patches.py`` state the same behaviour and fail on unpatched moto (see
``/work/shared/notes/moto-5.2.1.md`` for what moto does unpatched). moto 5.2.1 serialises responses
from the botocore service model, reading attributes by their model name or its snake_case form, so
most patches only keep the data that moto dropped and let moto's serializer write the XML/JSON.

The modules import moto at their top; this package imports them only inside :func:`apply`, so
``import provisioner.sandbox.patches`` imports no moto.

- ``acm``: certificates ISSUED at once (``MOTO_ACM_VALIDATION_WAIT`` unset); a deleted
  certificate's idempotency token requests a new one; ListCertificates may lag behind
  RequestCertificate (off unless set); DNS validation that starts when the validation CNAME exists
  (``PROVISION_SANDBOX_ACM_ISSUE_SECONDS``, off unless set).
- ``cloudfront_distribution``: origins echo S3OriginConfig/OriginAccessControlId; real ARN;
  InProgress -> Deployed; ETag/IfMatch; DistributionNotDisabled; ListDistributions summaries and
  paging; tags only on existing distributions; invalidations ``Completed``.
- ``cloudfront_access``: the origin access identity API; OAC config, ETag, in-use and unique names.
- ``cloudfront_monitoring``: monitoring subscriptions (create/get/delete).
- ``s3``: new buckets (and buckets after DeleteBucketEncryption) report SSE-S3 (AES256); system
  tags; principals that propagate; Requester pays (``?requestPayment``).
- ``cloudwatch``: DescribeAlarms in name order, MaxRecords/NextToken; PutMetricAlarm starts new alarms
  INSUFFICIENT_DATA, keeps an updated alarm's state and ignores its Tags.
- ``route53``: ListHostedZonesByName ordering and paging; TXT values must be quoted strings of at
  most 255 characters; a unique change Id per batch, PENDING then INSYNC
  (``PROVISION_SANDBOX_ROUTE53_INSYNC_SECONDS``, 0 = INSYNC at once).
- ``iam``: Add/RemoveClientIDTo/FromOpenIDConnectProvider; NoSuchEntity deleting an unknown provider;
  eventual-consistency windows after creates and policy deletes (off unless set); a user's
  permissions boundary; the broad AWS managed policies (AdministratorAccess...).
- ``ssm``: PutParameter answers TooManyUpdates while another write of the parameter is in flight;
  parameter value sizes per tier (4 KB standard, 8 KB advanced); Intelligent-Tiering.
- ``cloudfront_policies``: the cache-policy API; distributions honour cache policies.
- ``cloudfront_behaviours``: cache behaviours keep their (Lambda@Edge) function associations.
- ``iam_authz`` (+ ``iam_authz_context``): IAM enforcement, when switched on, evaluates resources,
  conditions and action names as AWS does (``provisioner.sandbox.iam_enforcement()``).
- ``cloudfront_headers``: the response-headers and origin-request policy APIs with AWS's managed
  policies; distributions check the policies they name.
- ``s3_metrics``: bucket metrics configurations (Put/Get/List/Delete, ``NoSuchConfiguration``).
- ``cloudtrail``: CreateTrail/UpdateTrail check the bucket policy grants CloudTrail delivery;
  duplicate and missing trails answer as AWS does; HasCustomEventSelectors; the tagging API lists trails.
- ``cloudfront_aliases``: ``CNAMEAlreadyExists`` for a second distribution with an alias.
- ``route53`` also: CREATE of a record set that exists is ``InvalidChangeBatch``.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_applied = False


def apply() -> None:
    """Apply every patch, in this order (later patches wrap earlier ones). Idempotent, thread-safe."""
    global _applied
    with _lock:
        if _applied:
            return
        from . import (
            acm,
            cloudfront_access,
            cloudfront_aliases,
            cloudfront_behaviours,
            cloudfront_distribution,
            cloudfront_headers,
            cloudfront_monitoring,
            cloudfront_policies,
            cloudtrail,
            cloudwatch,
            iam,
            iam_authz,
            route53,
            s3,
            s3_metrics,
            ssm,
        )

        acm.apply_validation_wait()
        cloudfront_distribution.apply()
        cloudfront_access.apply()
        cloudfront_monitoring.apply()
        s3.apply()
        s3.apply_request_payment()
        cloudwatch.apply()
        route53.apply()
        iam.apply()
        iam.apply_user_boundary_and_managed_policies()
        ssm.apply()
        ssm.apply_tiers()
        cloudfront_policies.apply()
        cloudfront_behaviours.apply()
        iam_authz.apply()
        cloudfront_headers.apply()
        s3_metrics.apply()
        cloudtrail.apply()
        cloudtrail.apply_tagging()
        cloudfront_aliases.apply()
        acm.apply()
        acm.apply_dns_validation()
        _applied = True
