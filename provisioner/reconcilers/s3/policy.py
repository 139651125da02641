"""S3 bucket policies: TLS only, CloudFront's read grant on the buildcache, CloudTrail's delivery on the log bucket.

The buildcache grants exactly the identity CloudFront reads with: the OAI (``origin_access =
"oai"``) or the CloudFront service principal conditioned on the distribution's ARN (OAC). Read is
``s3:GetObject`` on the objects; with ``cdn.grant_list_bucket`` also ``s3:ListBucket`` on the bucket,
in a statement of its own (as the live CDK stack has it), so a missing key answers 404 rather than
403. With ``[audit]`` the log bucket grants CloudTrail ``s3:GetBucketAcl`` on the bucket and
``s3:PutObject`` under ``<prefix>/AWSLogs/<account>/`` with ``bucket-owner-full-control``, both
conditioned on ``aws:SourceArn`` = the trail's ARN (CloudTrail User Guide, "Amazon S3 bucket policy
for CloudTrail"); CreateTrail refuses a bucket without them (InsufficientS3BucketPolicyException).

Ownership: ``s3_bucket_policy.<key>`` follows its bucket's (a policy takes no tags). Its desired
document is ours plus every grant of the live policy that a live distribution's origin still uses
(``grants.in_use``: an origin on this bucket, its OAI, or its OAC + the distribution's ARN). While a
distribution with an origin on this bucket is not ``Deployed`` (a switch in flight, or
``--no-wait``), every CloudFront grant of the live policy is kept. So the policy never drops a grant
users are being served through; it drops it at the first apply after nobody uses it.

Expand, switch, contract (the engine's invariant): the buildcache policy has
``expand_before = (cloudfront_distribution.cdn,)``. Right before the distribution changes, the
policy gets the grants the new state needs (``expand_desired``: our statements known by then plus
every grant in use, only when that adds a grant); then the distribution switches; when the
policy's own value drops a grant (``needs_settled``) it waits for the distribution's deploy (its
settle); then, at its place after the distribution, the policy takes its own value (the old grant goes
once no live distribution uses it). A grant to an OAI that no longer exists is never kept (it
grants nobody, and S3 refuses a policy naming it).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ... import ownership as own
from ... import policy as pol
from ... import retry
from ...aws import error_code
from ...config import Bucket
from ...context import Context
from ...model import FieldChange, Resource, Unknown, has_unknown
from ..cloudtrail import account_id, trail_arn
from .bucket import _get
from .grants import grantees, in_use, oai_by_canonical, principals_exist, without_sid

OAI = "cloudfront_oai.buildcache"
DIST = "cloudfront_distribution.cdn"


def _cloudfront_grant(principal: dict, sid: str, arn: str, list_bucket: bool, condition: Any = None) -> list[dict]:
    statements = [{"Sid": f"{sid}Read", "Effect": "Allow", "Principal": principal, "Action": ["s3:GetObject"],
                   "Resource": [f"{arn}/*"]}]
    if list_bucket:
        statements.append({"Sid": f"{sid}List", "Effect": "Allow", "Principal": principal,
                           "Action": ["s3:ListBucket"], "Resource": [arn]})
    if condition is not None:
        for st in statements:
            st["Condition"] = condition
    return statements


def _cloudtrail_delivery(ctx: Context, b: Bucket) -> list[dict]:
    audit = ctx.desired.audit
    if audit is None or b.key != "logs":
        return []
    source = {"aws:SourceArn": trail_arn(ctx)}
    account = account_id(ctx)
    objects = Unknown("s3_bucket_policy.logs.cloudtrail_objects") if isinstance(account, Unknown) \
        else f"{b.arn}/{audit.prefix}/AWSLogs/{account}/*"
    return [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": b.arn, "Condition": {"StringEquals": source}},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": objects,
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}}},
    ]


def bucket_policy_document(ctx: Context, b: Bucket) -> dict:
    """Deny non-TLS access; grant CloudFront read (OAI or OAC) / CloudTrail delivery when they are managed."""
    arn = b.arn
    statements: list[dict] = []
    if b.require_tls:
        statements.append({
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })
    if b.key == "buildcache":
        cdn = ctx.desired.cdn
        if cdn.origin_access == "oai" and ctx.managed(OAI):
            statements += _cloudfront_grant({"AWS": ctx.out(OAI, "iam_arn")}, "AllowCloudFrontOriginAccessIdentity",
                                            arn, cdn.grant_list_bucket)
        elif cdn.origin_access == "oac" and ctx.managed(DIST):
            statements += _cloudfront_grant({"Service": "cloudfront.amazonaws.com"}, "AllowCloudFrontServicePrincipal",
                                            arn, cdn.grant_list_bucket,
                                            {"StringEquals": {"AWS:SourceArn": ctx.out(DIST, "arn")}})
    statements += _cloudtrail_delivery(ctx, b)
    return {"Version": "2012-10-17", "Statement": statements}


class S3BucketPolicy(Resource):
    service = "S3 bucket policy"

    def __init__(self, spec: Bucket, region: str, origin_access: str):
        self.spec = spec
        self.region = region
        self.address = f"s3_bucket_policy.{spec.key}"
        self.bucket = f"s3_bucket.{spec.key}"
        deps = [self.bucket]
        if spec.key == "buildcache":
            # after the distribution (contract), expanded before it changes (expand_before)
            deps += [OAI if origin_access == "oai" else "cloudfront_oac.buildcache", DIST]
            self.expand_before = (DIST,)
        self.depends_on = tuple(deps)

    def _aliases(self, ctx: Context) -> dict[str, str]:
        # S3 may show an OAI principal by its canonical user id: map it back to the ARN form.
        if self.spec.key != "buildcache" or not ctx.managed("cloudfront_oai.buildcache"):
            return {}
        cid = ctx.out("cloudfront_oai.buildcache", "s3_canonical_user_id")
        arn = ctx.out("cloudfront_oai.buildcache", "iam_arn")
        if isinstance(cid, Unknown) or isinstance(arn, Unknown):
            return {}
        return {cid: arn}

    def _live_statements(self, ctx: Context) -> list[dict]:
        return list(((ctx.live.get(self.address) or {}).get("policy") or {}).get("Statement") or [])

    def _kept(self, ctx: Context, ours: list[dict]) -> list[dict]:
        """Live grants a live distribution still uses (all CloudFront grants while one deploys) that ours lack."""
        live = self._live_statements(ctx)
        if self.spec.key != "buildcache" or not live:
            return []
        used, deploying = in_use(ctx, self.spec.name)
        by_cid = oai_by_canonical(ctx, live)
        granted = set().union(*(grantees(s) for s in ours if not has_unknown(s)))
        taken = {str(s.get("Sid")) for s in ours if s.get("Sid")}
        kept = []
        for s in live:
            g = grantees(s, by_cid)
            if g and ((g & used) - granted or (deploying and g - granted)) and principals_exist(ctx, g):
                kept.append(without_sid(s, taken))
        return kept

    def desired(self, ctx: Context) -> dict:
        doc = bucket_policy_document(ctx, self.spec)
        kept = self._kept(ctx, doc["Statement"])
        doc["Statement"] += kept
        if not doc["Statement"]:
            return {"policy": None}
        out: dict[str, Any] = {"policy": doc}
        if kept:
            out["kept"] = len(kept)
        return out

    def expand_desired(self, ctx: Context) -> dict | None:
        """Before the distribution changes: our statements that are known by now plus every grant in
        use (``desired`` keeps those), if that adds a grant the live policy lacks; else nothing."""
        if self.spec.key != "buildcache":
            return None
        doc = self.desired(ctx).get("policy") or {}
        known = [s for s in doc.get("Statement", []) if not has_unknown(s)]
        live = self._live_statements(ctx)
        by_cid = oai_by_canonical(ctx, live)
        have = set().union(*(grantees(s, by_cid) for s in live)) if live else set()
        if not any(grantees(s) - have for s in known):
            return None  # the coming change needs no grant that is not there yet
        return {"policy": {"Version": "2012-10-17", "Statement": known}}

    def needs_settled(self, ctx: Context) -> tuple[str, ...]:
        """The contract step needs the distribution deployed: when the live policy has a CloudFront
        grant our statements lack (it would go once nothing deploys), wait for the distribution's
        settle first. Otherwise (a create from empty, a grant added) its identity is enough: while
        it deploys ``desired`` keeps every grant in use anyway."""
        live = self._live_statements(ctx)
        if self.spec.key != "buildcache" or not live:
            return ()
        ours = bucket_policy_document(ctx, self.spec)["Statement"]
        granted = set().union(*(grantees(s) for s in ours if not has_unknown(s)))
        by_cid = oai_by_canonical(ctx, live)
        return (DIST,) if any(grantees(s, by_cid) - granted for s in live) else ()

    def read(self, ctx: Context) -> dict | None:
        if ctx.live.get(self.bucket) is None and ctx.managed(self.bucket):
            return None  # the bucket does not exist yet: nor does its policy
        s3 = ctx.client("s3", self.region)
        try:
            got = _get(s3, "policy", self.spec.name)
        except ClientError as e:
            if error_code(e) == "NoSuchBucket":
                return None
            raise
        if got is None:
            return None
        # Canonical form (and OAI principals in the ARN form) so equivalent documents compare equal.
        return {"policy": pol.canonical(pol.parse(got["Policy"]), principal_aliases=self._aliases(ctx))}

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        want, have = desired.get("policy"), (live or {}).get("policy")
        if want is None:
            return [] if have is None else [FieldChange("policy", have, None, "REMOVE")]
        if have is None:
            return [FieldChange("policy", None, want, "ADD")]
        if has_unknown(want):
            return [FieldChange("policy", have, want)]
        out = pol.field_changes("policy", want, have)
        if out and desired.get("kept"):
            out.append(FieldChange("policy.kept", None, f"keeps {desired['kept']} live grant statement(s) a "
                                   "distribution's origin still uses; they go at the first apply after nobody "
                                   "uses them", "NOTE"))
        return out

    def create(self, ctx: Context, desired: dict) -> None:
        self._put(ctx, desired)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        if desired.get("policy") is None:
            ctx.client("s3", self.region).delete_bucket_policy(Bucket=self.spec.name)
            return
        self._put(ctx, desired)

    def _put(self, ctx: Context, desired: dict) -> None:
        if desired.get("policy") is None:
            return
        s3 = ctx.client("s3", self.region)
        body = json.dumps(desired["policy"], separators=(",", ":"))
        # Right after an OAI is created S3 may not resolve its principal yet: bounded retry.
        # S3 answers MalformedPolicy "Invalid principal in policy" for a principal created moments
        # ago (a new OAI); IAM's propagation codes never match it (docs/aws-behaviour.md).
        retry.call("s3_principal_propagation", lambda: retry.call(
            "s3_operation_aborted", lambda: s3.put_bucket_policy(Bucket=self.spec.name, Policy=body)))

    def delete(self, ctx: Context, live: dict) -> None:
        ctx.client("s3", self.region).delete_bucket_policy(Bucket=self.spec.name)

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        return self.follows(ctx, self.bucket)  # a policy carries no tags: it is its bucket's

    @property
    def retain_on_destroy(self) -> bool:  # type: ignore[override]
        return self.spec.key == "buildcache" or self.spec.retain_on_destroy
