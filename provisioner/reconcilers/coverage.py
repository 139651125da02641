"""Honest coverage: per resource, what plan/drift read (``checked``) and what is known to exist on
that kind of resource and is not read (``not_checked``, each with the reason). Nothing is
silently "in sync": ``drift --json`` lists both, the README explains them.

``checked.fields`` are the declared fields compared (the desired value's keys, from the resource
itself); ``sub_resources`` the reads behind them and behind the undeclared (UNEXPECTED) checks, per
resource type (the table below, kept next to the reconcilers it describes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import Context
    from ..model import Resource

CREDENTIALS = ("the person's credentials: never read, never touched (the tool creates none and prints none)")

#: resource type -> (sub-resources read, {not read: why})
TABLE: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "s3_bucket": (
        ("HeadBucket (existence, region)", "default encryption", "versioning", "public access block", "lifecycle",
         "ownership controls", "tags", "ACL grants", "CORS (when not declared)", "static website hosting",
         "replication", "event notifications", "Object Lock", "transfer acceleration", "request payment"),
        {"server access logging (GetBucketLogging)": "not read by this version",
         "inventory, analytics, metrics and Intelligent-Tiering configurations": "not read by this version",
         "objects, their ACLs and versions": "data, not configuration: never read"}),
    "s3_bucket_policy": (("bucket policy (every statement: ours compared, others UNEXPECTED)",), {}),
    "s3_log_delivery": (("log bucket ACL (CloudFront's log-delivery grant)",), {}),
    "iam_role": (
        ("GetRole (path, description, session duration, trust policy: every statement, permissions boundary, tags)",
         "our inline policy", "inline policy names (others UNEXPECTED)", "attached managed policies"),
        {"instance profiles holding the role": "not read (destroy refuses while there are some)",
         "content of attached managed policies": "an attachment is reported; the policy is a resource of its own",
         "role last used": "activity, not configuration"}),
    "iam_user": (
        ("GetUser (path, permissions boundary, tags)", "our inline policy", "inline policy names (others UNEXPECTED)",
         "attached managed policies", "group memberships"),
        {"access keys, console login profile, MFA devices, SSH keys, signing certificates": CREDENTIALS,
         "policies of the groups the user is in": "a membership is reported; the group is a resource of its own"}),
    "iam_oidc_provider": (("provider (URL, client ids: others UNEXPECTED, thumbprints, tags)",),
                          {"other roles trusting the provider": "read by destroy only (a shared provider)"}),
    "acm_certificate": (("ListCertificates", "tags (tag index, confirmed when not all ours)", "DescribeCertificate"),
                        {"renewal status, transparency logging preference": "not read by this version"}),
    "acm_validation": (("certificate status (DescribeCertificate)",), {}),
    "route53_zone": (("hosted zone (looked up, never changed)",), {}),
    "route53_record": (("the zone's record sets of the declared names and types",),
                       {"other records in the zone": "the zone is shared: records not declared are someone else's"}),
    "cloudfront_oai": (("origin access identities (by comment)",), {}),
    "cloudfront_oac": (("origin access controls (by name)",), {}),
    "cloudfront_cache_policy": (("custom cache policies (by name)",), {}),
    "cloudfront_distribution": (
        ("ListDistributions", "tags (tag index, confirmed when not all ours)",
         "GetDistributionConfig (declared fields; other origins, origin groups, cache behaviours, web ACL, "
         "function and Lambda@Edge associations, field-level encryption, trusted signers/key groups, "
         "real-time logs: UNEXPECTED)"),
        {"response headers and origin request policies of the default behaviour": "not compared by this version",
         "continuous deployment (staging) policy": "not read by this version",
         "invalidations": "operations, not configuration"}),
    "cloudfront_monitoring": (("monitoring subscription",), {}),
    "sns_topic": (("GetTopicAttributes (existence)", "tags", "subscriptions (others UNEXPECTED, reported)"),
                  {"topic policy (who may publish or subscribe)": "not compared by this version",
                   "delivery policy, encryption (KMS key)": "not read by this version"}),
    "cloudwatch_alarm": (("DescribeAlarms (every field)", "tags (tag index, confirmed when not all ours)"),
                         {"alarm state": "changes by itself: an output, never drift"}),
}

#: what no resource reads (listed under resource "*")
STACK: dict[str, str] = {
    "IAM roles and users no longer named (orphans)": "the tagging API (GetResources) does not list IAM users and "
                                                     "roles, so they are never found as orphans",
    "untaggable things no longer named (Route53 records, OAI, cache policy, monitoring subscription)":
        "no tag to find them by: only the names the desired state gives are read",
    "other kinds tagged as ours (an EC2 instance, a Lambda function...)": "the tagging walk asks only for the "
                                                                          "kinds this tool makes (tag_index.TYPES)",
}


def of(ctx: Context, resources: list[Resource]) -> dict[str, dict]:
    """Per address: {"fields": declared fields compared, "sub_resources": reads, "not_checked": {what: why}}."""
    out: dict[str, dict] = {}
    for r in resources:
        kind = r.address.split(".", 1)[0]
        subs, not_read = TABLE.get(kind, ((), {}))
        try:
            fields = [] if r.data_source else sorted(r.desired(ctx))
        except Exception:  # noqa: BLE001 - coverage never fails a plan; the plan itself reports errors
            fields = []
        out[r.address] = {"fields": fields, "sub_resources": list(subs), "not_checked": dict(not_read)}
    out["*"] = {"fields": [], "sub_resources": ["tagging API walk (orphans)"], "not_checked": dict(STACK)}
    return out
