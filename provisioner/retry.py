"""Tier-2 retries: named tenacity policies for named eventual-consistency errors, always bounded.

Throttling and transient 5xx are botocore's job (``standard`` retry mode, see ``aws.py``). These
policies cover errors that mean "AWS has not caught up yet" and are documented to clear by
themselves. Each names the error codes it retries and a time bound; anything else raises at once.

``PROVISION_RETRY_SCALE`` (a float, default 1) scales every bound and wait: tests use a small
value so a genuinely failing call does not hold a test for minutes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_exponential

from .aws import error_code

T = TypeVar("T")
log = structlog.get_logger("provision.retry")


@dataclass(frozen=True)
class Policy:
    name: str
    codes: frozenset[str]
    max_seconds: float
    first_wait: float = 1.0
    max_wait: float = 15.0
    message_contains: str | None = None  # only retry when the error message contains this

    def matches(self, exc: BaseException) -> bool:
        if error_code(exc) not in self.codes:
            return False
        if self.message_contains is None:
            return True
        msg = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
        return self.message_contains.lower() in msg.lower()


POLICIES: dict[str, Policy] = {
    p.name: p
    for p in [
        # A role/OIDC provider just created is not yet visible to policy validation or other readers.
        # ConcurrentModification: IAM refuses a write while another change to the account's IAM data
        # is being applied (CreateRole et al. list it; Terraform's role.go retries CreateRole on it).
        Policy("iam_propagation", frozenset({"MalformedPolicyDocument", "NoSuchEntity", "InvalidParameterValue",
                                             "ConcurrentModification"}),
               max_seconds=120, first_wait=2),
        # IAM: a role/user/OIDC provider we created moments ago is not yet visible to Get* (IAM is
        # eventually consistent: IAM User Guide, troubleshoot_general.html#troubleshoot_general_eventual-consistency;
        # Terraform reads a new role/provider with RetryWhenNewResourceNotFound for 2 minutes).
        # Only used for things this run created: for anything else NoSuchEntity means "absent".
        Policy("iam_new_entity_visible", frozenset({"NoSuchEntity", "EntityNotVisibleYet"}), max_seconds=120,
               first_wait=1, max_wait=10),
        # IAM: DeleteRole/DeleteUser right after their inline policies were deleted can still answer
        # DeleteConflict until that deletion propagates (Terraform's role.go deleteRole retries
        # DeleteConflictException for 2 minutes).
        Policy("iam_delete_conflict", frozenset({"DeleteConflict", "ConcurrentModification"}), max_seconds=120,
               first_wait=1, max_wait=10),
        # S3: a bucket policy naming a principal created moments ago (an OAI, a role) is refused with
        # MalformedPolicy "Invalid principal in policy" until it propagates (Terraform's
        # bucket_policy.go retries the same for 2 minutes).
        Policy("s3_principal_propagation", frozenset({"MalformedPolicy"}), max_seconds=120, first_wait=1,
               max_wait=10, message_contains="principal"),
        # CloudFront: the ETag we read went stale (someone else updated); the caller re-reads.
        Policy("cloudfront_stale_etag", frozenset({"PreconditionFailed", "InvalidIfMatchVersion"}),
               max_seconds=60, first_wait=0.5, max_wait=5),
        # CloudFront: a just-issued ACM certificate is not yet usable by CloudFront.
        Policy("cloudfront_certificate_not_ready", frozenset({"InvalidViewerCertificate"}), max_seconds=180,
               first_wait=5, max_wait=20),
        # CloudFront: OAI still referenced by a distribution whose update is still deploying.
        Policy("cloudfront_in_use", frozenset({"CloudFrontOriginAccessIdentityInUse", "OriginAccessControlInUse",
                                               "CachePolicyInUse", "ResponseHeadersPolicyInUse",
                                               "OriginRequestPolicyInUse"}), max_seconds=600, first_wait=5, max_wait=30),
        # Route53: another change on the zone is still pending.
        Policy("route53_prior_request", frozenset({"PriorRequestNotComplete", "Throttling"}), max_seconds=120,
               first_wait=1, max_wait=10),
        # S3: a conflicting conditional operation is in progress on the bucket (e.g. right after create).
        Policy("s3_operation_aborted", frozenset({"OperationAborted", "NoSuchBucket"}), max_seconds=60,
               first_wait=1, max_wait=5),
        # ACM: the validation records are not in describe_certificate yet (handled via a sentinel code).
        # Also ResourceNotFoundException: "there is a delay of several seconds after you call
        # RequestCertificate before you can retrieve information about the new certificate" (ACM API
        # reference, DescribeCertificate).
        Policy("acm_records_pending", frozenset({"ValidationRecordsPending", "ResourceNotFoundException"}),
               max_seconds=120, first_wait=1, max_wait=5),
        # ACM: a certificate still listed InUseBy a distribution that is gone (the reference clears
        # minutes later; Terraform retries ResourceInUseException on delete for 10 minutes). Each
        # retry is one DescribeCertificate: first soon, then every 10 s at most, so a release is
        # seen within seconds (issue 21; a first wait of 5 s was most of a sandbox destroy's time).
        Policy("acm_in_use", frozenset({"ResourceInUseException", "CertificateStillInUse"}), max_seconds=900,
               first_wait=0.5, max_wait=10),
        # SSM Parameter Store: PutParameter answers TooManyUpdates ("There are concurrent updates for a
        # resource that supports one update at a time", PutParameter API reference) while another
        # write to the same parameter is in flight; botocore's standard mode does not retry it.
        Policy("ssm_concurrent_update", frozenset({"TooManyUpdates"}), max_seconds=30, first_wait=0.2, max_wait=2),
        # SNS/CloudWatch: a topic just created is not yet accepted as an alarm action.
        Policy("cloudwatch_topic_propagation", frozenset({"ValidationError", "InvalidParameterValue"}),
               max_seconds=60, first_wait=2, max_wait=10, message_contains="arn"),
    ]
}


def scale() -> float:
    try:
        return max(0.0, float(os.environ.get("PROVISION_RETRY_SCALE", "1")))
    except ValueError:
        return 1.0


def call(policy_name: str, fn: Callable[[], T], *, before_retry: Callable[[], None] | None = None) -> T:
    """Run ``fn`` under the named policy. ``before_retry`` runs before each new attempt (re-read)."""
    policy = POLICIES[policy_name]
    s = scale()

    def _before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info("retrying", policy=policy.name, attempt=state.attempt_number, error=error_code(exc) if exc else "")

    retrying = Retrying(
        retry=retry_if_exception(policy.matches),
        stop=stop_after_delay(policy.max_seconds * s),
        wait=wait_exponential(multiplier=policy.first_wait * s, max=policy.max_wait * s),
        before_sleep=_before_sleep,
        reraise=True,
    )
    first = True
    for attempt in retrying:
        with attempt:
            if not first and before_retry is not None:
                before_retry()
            first = False
            return fn()
    raise AssertionError("unreachable")  # pragma: no cover


class Pending(Exception):
    """Raise from inside a policy-wrapped function to mean 'not yet' with a sentinel code."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.response = {"Error": {"Code": code, "Message": message}}
