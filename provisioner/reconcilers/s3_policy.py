"""S3 bucket policies: TLS only, CloudFront's read grant, and never a grant cut while it is in use.

``s3_bucket_policy.<key>`` follows its bucket's ownership. Its desired document is ours (deny
plain HTTP; on the buildcache, read for the distribution's origin access: the OAI principal, or
the CloudFront service principal with ``AWS:SourceArn`` the distribution for OAC) plus every grant
of the live policy that a live distribution's origin still uses (found in the memoised
``ListDistributions`` summaries: an origin on this bucket, its OAI or its OAC + the distribution's
ARN). While a distribution with an origin on this bucket is not ``Deployed`` (a switch in flight,
or ``--no-wait``), every CloudFront grant of the live policy is kept. So the policy never drops a
grant users are being served through; it drops it at the first apply after nobody uses it.

Expand, switch, contract (the engine's invariant): the buildcache policy has
``expand_before = (cloudfront_distribution.cdn,)``. Right before the distribution changes, the
policy gets the grants the new state needs (``expand_desired``: our statements known by then plus
every grant in use, only when that adds a grant); then the distribution switches and is waited
for; then, at its place after the distribution, the policy takes its own value (the old grant goes
once no live distribution uses it). A grant to an OAI that no longer exists is never kept (it
grants nobody, and S3 refuses a policy naming it).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from .. import ownership as own
from .. import policy as pol
from .. import retry
from ..aws import error_code
from ..config import Bucket
from ..context import Context
from ..model import FieldChange, Resource, Unknown, has_unknown
from .cloudfront._common import OAI_PREFIX, _list_all

DIST = "cloudfront_distribution.cdn"
OAI = "cloudfront_oai.buildcache"
OAI_ARN = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "
CLOUDFRONT = "cloudfront.amazonaws.com"


def bucket_policy_document(ctx: Context, b: Bucket) -> dict:
    """Deny non-TLS access; on the buildcache, grant CloudFront read (OAI or OAC) when it is managed."""
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
        actions = ["s3:GetObject"] + (["s3:ListBucket"] if cdn.grant_list_bucket else [])
        resources = [f"{arn}/*"] + ([arn] if cdn.grant_list_bucket else [])
        if cdn.origin_access == "oai" and ctx.managed(OAI):
            oai_arn = ctx.out(OAI, "iam_arn")
            statements.append({
                "Sid": "AllowCloudFrontOriginAccessIdentityRead",
                "Effect": "Allow",
                "Principal": {"AWS": oai_arn},
                "Action": actions,
                "Resource": resources,
            })
        elif cdn.origin_access == "oac" and ctx.managed(DIST):
            statements.append({
                "Sid": "AllowCloudFrontServicePrincipalRead",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDFRONT},
                "Action": actions,
                "Resource": resources,
                "Condition": {"StringEquals": {"AWS:SourceArn": ctx.out(DIST, "arn")}},
            })
    return {"Version": "2012-10-17", "Statement": statements}


# -- grants: who a statement lets CloudFront read as ----------------------------------------------


def _items(value: Any) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def grantees(stmt: dict, oai_by_canonical: dict[str, str] | None = None) -> set[tuple[str, str]]:
    """The CloudFront origin accesses an Allow statement grants: ("oai", id) / ("oac", distribution ARN)."""
    if not isinstance(stmt, dict) or stmt.get("Effect") != "Allow" or not isinstance(stmt.get("Principal"), dict):
        return set()
    p = stmt["Principal"]
    out: set[tuple[str, str]] = set()
    for v in _items(p.get("AWS")):
        if isinstance(v, str) and v.startswith(OAI_ARN):
            out.add(("oai", v[len(OAI_ARN):]))
    for v in _items(p.get("CanonicalUser")):
        if isinstance(v, str) and v in (oai_by_canonical or {}):
            out.add(("oai", (oai_by_canonical or {})[v]))
    if CLOUDFRONT in _items(p.get("Service")):
        for block in (stmt.get("Condition") or {}).values():
            for key, values in (block.items() if isinstance(block, dict) else ()):
                if key.lower() == "aws:sourcearn":
                    out.update(("oac", v) for v in _items(values) if isinstance(v, str))
    return out


def _on_bucket(domain: str, bucket: str) -> bool:
    d = (domain or "").lower()
    return d.startswith((f"{bucket}.s3.", f"{bucket}.s3-"))


def in_use(ctx: Context, bucket: str) -> tuple[set[tuple[str, str]], bool]:
    """(the origin accesses live distributions use on ``bucket``, whether one of them is deploying)."""
    used: set[tuple[str, str]] = set()
    deploying = False
    for s in _list_all(ctx, "list_distributions", "DistributionList"):
        origins = [o for o in (s.get("Origins") or {}).get("Items") or [] if _on_bucket(o.get("DomainName"), bucket)]
        if not origins:
            continue
        deploying = deploying or s.get("Status") != "Deployed"
        for o in origins:
            oai = (o.get("S3OriginConfig") or {}).get("OriginAccessIdentity") or ""
            if oai:
                used.add(("oai", oai.removeprefix(OAI_PREFIX)))
            if o.get("OriginAccessControlId"):
                used.add(("oac", s["ARN"]))
    return used, deploying


def _oai_by_canonical(ctx: Context, stmts: list[dict]) -> dict[str, str]:
    if not any("CanonicalUser" in (s.get("Principal") or {}) for s in stmts if isinstance(s.get("Principal"), dict)):
        return {}
    items = _list_all(ctx, "list_cloud_front_origin_access_identities", "CloudFrontOriginAccessIdentityList")
    return {o["S3CanonicalUserId"]: o["Id"] for o in items if o.get("S3CanonicalUserId")}


def _without_sid(stmt: dict, taken: set[str]) -> dict:
    return {k: v for k, v in stmt.items() if k != "Sid"} if stmt.get("Sid") in taken else stmt


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
        if self.spec.key != "buildcache" or not ctx.managed(OAI):
            return {}
        cid = ctx.out(OAI, "s3_canonical_user_id")
        arn = ctx.out(OAI, "iam_arn")
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
        by_cid = _oai_by_canonical(ctx, live)
        granted = set().union(*(grantees(s) for s in ours if not has_unknown(s)))
        taken = {str(s.get("Sid")) for s in ours if s.get("Sid")}
        kept = []
        for s in live:
            g = grantees(s, by_cid)
            if g and ((g & used) - granted or (deploying and g - granted)) and self._principals_exist(ctx, g):
                kept.append(_without_sid(s, taken))
        return kept

    @staticmethod
    def _principals_exist(ctx: Context, accesses: set[tuple[str, str]]) -> bool:
        """A grant to an OAI that is gone grants nobody (and S3 refuses such a policy): never kept."""
        oais = [a for kind, a in accesses if kind == "oai"]
        if not oais:
            return True
        ids = {o["Id"] for o in _list_all(ctx, "list_cloud_front_origin_access_identities", "CloudFrontOriginAccessIdentityList")}
        return all(a in ids for a in oais)

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
        by_cid = _oai_by_canonical(ctx, live)
        have = set().union(*(grantees(s, by_cid) for s in live)) if live else set()
        if not any(grantees(s) - have for s in known):
            return None  # the coming change needs no grant that is not there yet
        return {"policy": {"Version": "2012-10-17", "Statement": known}}

    def read(self, ctx: Context) -> dict | None:
        if ctx.live.get(self.bucket) is None and ctx.managed(self.bucket):
            return None  # the bucket does not exist yet: nor does its policy
        s3 = ctx.client("s3", self.region)
        try:
            got = s3.get_bucket_policy(Bucket=self.spec.name)
        except ClientError as e:
            if error_code(e) in ("NoSuchBucketPolicy", "NoSuchBucket"):
                return None
            raise
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
