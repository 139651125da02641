"""The least-privilege IAM policy for running provision, and the table it is built from.

``READ_ONLY`` and ``APPLY`` are checked in, not computed at run time: ``tests/test_cli_policy.py``
records every boto3 operation that plan/drift/outputs/show/preflight (read-only) and apply/destroy
make against the sandbox, maps each to its IAM action(s) with :func:`actions_for`, and fails naming
any action missing here. So the table stays true when a reconciler starts calling something new.

Operation -> action: ``<service prefix>:<OperationName>`` except where IAM names the permission
differently (``EXCEPTIONS``; from the Service Authorization Reference, "Actions, resources, and
condition keys for Amazon S3" etc.). Some calls need two permissions (creating with tags needs the
tagging permission too).
"""

from __future__ import annotations

from typing import Any

#: boto3 service name -> IAM service prefix, where they differ
PREFIX = {"resourcegroupstaggingapi": "tag"}

#: (service, operation) -> IAM actions, where it is not "<prefix>:<operation>"
EXCEPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    # S3: bucket sub-resources are named after the configuration, not the API operation.
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "GetBucketEncryption"): ("s3:GetEncryptionConfiguration",),
    ("s3", "PutBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    ("s3", "DeleteBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    ("s3", "GetBucketLifecycleConfiguration"): ("s3:GetLifecycleConfiguration",),
    ("s3", "GetBucketLifecycle"): ("s3:GetLifecycleConfiguration",),
    ("s3", "PutBucketLifecycleConfiguration"): ("s3:PutLifecycleConfiguration",),
    ("s3", "DeleteBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    ("s3", "GetPublicAccessBlock"): ("s3:GetBucketPublicAccessBlock",),
    ("s3", "PutPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    ("s3", "DeletePublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    ("s3", "DeleteBucketTagging"): ("s3:PutBucketTagging",),
    ("s3", "DeleteBucketOwnershipControls"): ("s3:PutBucketOwnershipControls",),
    ("s3", "GetBucketPolicyStatus"): ("s3:GetBucketPolicyStatus",),
    ("s3", "GetBucketCors"): ("s3:GetBucketCORS",),
    ("s3", "PutBucketCors"): ("s3:PutBucketCORS",),
    ("s3", "DeleteBucketCors"): ("s3:PutBucketCORS",),
    ("s3", "GetBucketMetricsConfiguration"): ("s3:GetMetricsConfiguration",),
    ("s3", "PutBucketMetricsConfiguration"): ("s3:PutMetricsConfiguration",),
    ("s3", "DeleteBucketMetricsConfiguration"): ("s3:PutMetricsConfiguration",),
    ("s3", "GetBucketReplication"): ("s3:GetReplicationConfiguration",),
    ("s3", "DeleteBucketReplication"): ("s3:PutReplicationConfiguration",),
    ("s3", "GetBucketNotificationConfiguration"): ("s3:GetBucketNotification",),
    ("s3", "PutBucketNotificationConfiguration"): ("s3:PutBucketNotification",),
    ("s3", "GetObjectLockConfiguration"): ("s3:GetBucketObjectLockConfiguration",),
    ("s3", "PutObjectLockConfiguration"): ("s3:PutBucketObjectLockConfiguration",),
    ("s3", "GetBucketAccelerateConfiguration"): ("s3:GetAccelerateConfiguration",),
    ("s3", "PutBucketAccelerateConfiguration"): ("s3:PutAccelerateConfiguration",),
    # CloudFront: creating with tags needs TagResource as well.
    ("cloudfront", "CreateDistributionWithTags"): ("cloudfront:CreateDistribution", "cloudfront:TagResource"),
    ("cloudfront", "UpdateDistributionWithStagingConfig"): ("cloudfront:UpdateDistribution",),
    # ACM: RequestCertificate with Tags needs AddTagsToCertificate.
    ("acm", "RequestCertificate"): ("acm:RequestCertificate", "acm:AddTagsToCertificate"),
    # IAM: creating with Tags needs the Tag* permission of that resource type.
    ("iam", "CreateRole"): ("iam:CreateRole", "iam:TagRole"),
    ("iam", "CreateUser"): ("iam:CreateUser", "iam:TagUser"),
    ("iam", "CreateOpenIDConnectProvider"): ("iam:CreateOpenIDConnectProvider", "iam:TagOpenIDConnectProvider"),
    ("iam", "CreatePolicy"): ("iam:CreatePolicy", "iam:TagPolicy"),
    # SNS / CloudWatch: creating with Tags needs TagResource.
    ("sns", "CreateTopic"): ("sns:CreateTopic", "sns:TagResource"),
    ("cloudwatch", "PutMetricAlarm"): ("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"),
    # CloudTrail: creating with TagsList needs AddTags.
    ("cloudtrail", "CreateTrail"): ("cloudtrail:CreateTrail", "cloudtrail:AddTags"),
    # STS: GetCallerIdentity needs no permission (it cannot be denied).
    ("sts", "GetCallerIdentity"): (),
}


def actions_for(service: str, operation: str) -> tuple[str, ...]:
    """The IAM actions one boto3 operation needs."""
    key = (service, operation)
    if key in EXCEPTIONS:
        return EXCEPTIONS[key]
    return (f"{PREFIX.get(service, service)}:{operation}",)


# ---- the checked-in table (kept true by tests/test_cli_policy.py) -------------------------------

#: plan, drift, outputs, show, preflight, history: reads only (PutMetricData is a separate, conditioned statement)
READ_ONLY: frozenset[str] = frozenset({
    "acm:DescribeCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate",
    "cloudfront:GetCachePolicyConfig", "cloudfront:GetCloudFrontOriginAccessIdentity",
    "cloudfront:GetCloudFrontOriginAccessIdentityConfig", "cloudfront:GetDistribution",
    "cloudfront:GetDistributionConfig", "cloudfront:GetMonitoringSubscription",
    "cloudfront:GetOriginAccessControlConfig", "cloudfront:ListCachePolicies",
    "cloudfront:ListCloudFrontOriginAccessIdentities", "cloudfront:ListDistributions",
    "cloudfront:ListOriginAccessControls", "cloudfront:ListTagsForResource",
    "cloudfront:GetOriginRequestPolicyConfig", "cloudfront:GetResponseHeadersPolicyConfig",
    "cloudfront:ListOriginRequestPolicies", "cloudfront:ListResponseHeadersPolicies",
    "cloudtrail:GetEventSelectors", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:ListTags",
    "cloudwatch:DescribeAlarms", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource",
    "iam:GetLoginProfile", "iam:GetOpenIDConnectProvider", "iam:GetRole", "iam:GetRolePolicy", "iam:GetUser",
    "iam:GetUserPolicy", "iam:ListAccessKeys", "iam:ListAttachedRolePolicies",
    "iam:ListAttachedUserPolicies", "iam:ListGroupsForUser", "iam:ListInstanceProfilesForRole",
    "iam:ListMFADevices", "iam:ListOpenIDConnectProviders", "iam:ListRolePolicies", "iam:ListRoles",
    "iam:ListUserPolicies",
    "route53:GetChange", "route53:GetHostedZone", "route53:ListHostedZonesByName",
    "route53:ListResourceRecordSets",
    "s3:GetBucketAcl", "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration", "s3:ListBucket", "s3:ListBucketVersions",
    "s3:GetBucketCORS", "s3:GetMetricsConfiguration",
    # what a bucket has undeclared (issue 18: UNEXPECTED in drift)
    "s3:GetBucketWebsite", "s3:GetReplicationConfiguration", "s3:GetBucketNotification",
    "s3:GetBucketObjectLockConfiguration", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
    "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource",
    # the apply lock, the apply record and the ownership registry (scoped to /provision/<stack>/*)
    "ssm:GetParameter", "ssm:GetParameterHistory",
    "tag:GetResources",
})

#: what apply and destroy need on top of READ_ONLY
APPLY: frozenset[str] = frozenset({
    "acm:AddTagsToCertificate", "acm:DeleteCertificate", "acm:RequestCertificate",
    "cloudfront:CreateCachePolicy", "cloudfront:CreateCloudFrontOriginAccessIdentity",
    "cloudfront:CreateDistribution", "cloudfront:CreateMonitoringSubscription",
    "cloudfront:CreateOriginAccessControl", "cloudfront:DeleteCachePolicy",
    "cloudfront:DeleteCloudFrontOriginAccessIdentity", "cloudfront:DeleteDistribution",
    "cloudfront:DeleteMonitoringSubscription", "cloudfront:DeleteOriginAccessControl",
    "cloudfront:TagResource", "cloudfront:UntagResource", "cloudfront:UpdateCachePolicy",
    "cloudfront:UpdateCloudFrontOriginAccessIdentity", "cloudfront:UpdateDistribution",
    "cloudfront:UpdateOriginAccessControl",
    "cloudfront:CreateOriginRequestPolicy", "cloudfront:CreateResponseHeadersPolicy",
    "cloudfront:DeleteOriginRequestPolicy", "cloudfront:DeleteResponseHeadersPolicy",
    "cloudfront:UpdateOriginRequestPolicy", "cloudfront:UpdateResponseHeadersPolicy",
    "cloudtrail:AddTags", "cloudtrail:CreateTrail", "cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors",
    "cloudtrail:StartLogging", "cloudtrail:StopLogging", "cloudtrail:UpdateTrail",
    "cloudwatch:DeleteAlarms", "cloudwatch:DeleteDashboards", "cloudwatch:PutDashboard", "cloudwatch:PutMetricAlarm",
    "cloudwatch:TagResource", "cloudwatch:UntagResource",
    "iam:AddClientIDToOpenIDConnectProvider", "iam:CreateOpenIDConnectProvider", "iam:CreateRole",
    "iam:CreateUser", "iam:DeleteOpenIDConnectProvider", "iam:DeleteRole", "iam:DeleteRolePolicy",
    "iam:DeleteUser", "iam:DeleteUserPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy",
    # removing what nobody declared (issue 18), and adoption: the previous owner's managed policies (issue 16)
    "iam:DetachRolePolicy", "iam:DetachUserPolicy", "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:RemoveClientIDFromOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", "iam:TagRole",
    "iam:TagUser", "iam:UpdateAssumeRolePolicy", "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:UpdateRole", "iam:UpdateUser",
    "route53:ChangeResourceRecordSets",
    # PutBucketAcl: the log-delivery grant; CloudFront also checks the caller's GetBucketAcl and
    # PutBucketAcl on the log bucket server-side when a distribution with standard logging is saved.
    "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
    "s3:PutBucketCORS", "s3:PutMetricsConfiguration",
    "s3:DeleteBucketWebsite", "s3:PutReplicationConfiguration", "s3:PutBucketNotification",
    "s3:PutBucketObjectLockConfiguration", "s3:PutAccelerateConfiguration", "s3:PutBucketRequestPayment",
    "sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "sns:Unsubscribe",
    "sns:UntagResource",
    "ssm:DeleteParameter", "ssm:PutParameter",  # the apply lock (lock.py), the apply record, the ownership registry
})

#: drift --publish-metric: the one write a read-only role may make, limited to our namespace
PUBLISH_METRIC = "cloudwatch:PutMetricData"

def policy_document(desired: Any, mode: str) -> dict:
    """The IAM policy (identity-based) to run provision in ``mode`` ("read-only" or "apply"), scoped to the
    ARNs the desired state implies (``provisioner/operator_policy.py``)."""
    from .operator_policy import policy_document as scoped

    return scoped(desired, mode, READ_ONLY, APPLY, PUBLISH_METRIC)
