"""S3 buckets: the buildcache and the CloudFront access-log bucket (their policies: ``policy``).

Reads are table driven and "missing" is a value: every ``...NotFound`` error a bucket
sub-resource answers becomes its default inside ``_read_bucket``; the diff never sees an error.
An existing bucket is adopted and corrected in place. Apply never deletes a bucket; destroy deletes
only the log bucket, only when it is ours, empty, and not retained.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from botocore.exceptions import ClientError

from ... import ownership as own
from ... import retry
from ...aws import error_code, http_status
from ...config import Bucket
from ...context import Context
from ...errors import PreconditionError
from ...model import FieldChange, Resource
from .. import _registry as registry
from .. import tag_index
from . import undeclared as s3_undeclared

PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
LIFECYCLE_RULE_ID = "provision-retention"

# Read table: sub-resource -> (call, error codes that mean "not configured")
_MISSING = {
    "encryption": ("get_bucket_encryption", {"ServerSideEncryptionConfigurationNotFoundError"}),
    "public_access_block": ("get_public_access_block", {"NoSuchPublicAccessBlockConfiguration"}),
    "lifecycle": ("get_bucket_lifecycle_configuration", {"NoSuchLifecycleConfiguration"}),
    "ownership": ("get_bucket_ownership_controls", {"OwnershipControlsNotFoundError"}),
    "tags": ("get_bucket_tagging", {"NoSuchTagSet", "NoSuchTagSetError"}),
    "policy": ("get_bucket_policy", {"NoSuchBucketPolicy"}),
    "versioning": ("get_bucket_versioning", set()),
}


#: The sub-resources a bucket read GETs; independent of each other, so read concurrently (one round trip).
#: the tags come from the tagging-API walk when it shows ours (``tag_index.tags``), else GetBucketTagging
_SUB_READS = ("encryption", "versioning", "public_access_block", "lifecycle", "ownership")


def _get(client: Any, what: str, bucket: str) -> dict | None:
    op, missing = _MISSING[what]
    try:
        return getattr(client, op)(Bucket=bucket)
    except ClientError as e:
        if error_code(e) in missing:
            return None
        raise


def lifecycle_rules(b: Bucket) -> list[dict]:
    """The desired lifecycle as normalised rules (one rule holding every declared action)."""
    lc = b.lifecycle
    if lc.noncurrent_days is None and lc.abort_incomplete_multipart_days is None and lc.expire_days is None:
        return []
    rule: dict[str, Any] = {"id": LIFECYCLE_RULE_ID, "status": "Enabled", "prefix": ""}
    for key, days in (("noncurrent_days", lc.noncurrent_days), ("abort_multipart_days", lc.abort_incomplete_multipart_days),
                      ("expire_days", lc.expire_days)):
        if days is not None:
            rule[key] = days
    return [rule]


def _norm_rule(r: dict) -> dict:
    f = r.get("Filter")
    if f is None:
        prefix = r.get("Prefix", "")
    elif set(f) <= {"Prefix"}:
        prefix = f.get("Prefix", "")
    else:
        prefix = json.dumps(f, sort_keys=True, default=str)  # tag/size filters: never equal to ours
    rule = {
        "id": r.get("ID", ""),
        "status": r.get("Status"),
        "prefix": prefix,
        "noncurrent_days": (r.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
        "abort_multipart_days": (r.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
        "expire_days": (r.get("Expiration") or {}).get("Days"),
    }
    # an action the rule does not have is absent (not null), the same shape as lifecycle_rules()
    return {k: v for k, v in rule.items() if v is not None or k in ("id", "status", "prefix")}


def _rule_to_aws(r: dict) -> dict:
    out: dict[str, Any] = {"ID": r["id"], "Status": r["status"], "Filter": {"Prefix": r["prefix"]}}
    if r.get("noncurrent_days") is not None:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": r["noncurrent_days"]}
    if r.get("abort_multipart_days") is not None:
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": r["abort_multipart_days"]}
    if r.get("expire_days") is not None:
        out["Expiration"] = {"Days": r["expire_days"]}
    return out


def _tags_dict(tagset: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (tagset or []) if not own.is_system_tag(t["Key"])}


class S3Bucket(Resource):
    service = "S3 bucket"

    def __init__(self, spec: Bucket, region: str):
        self.spec = spec
        self.region = region
        self.address = f"s3_bucket.{spec.key}"
        self.retain_on_destroy = spec.retain_on_destroy

    def desired(self, ctx: Context) -> dict:
        b = self.spec
        return {
            "region": self.region,
            "encryption": b.encryption,
            "versioning": b.versioning,
            "public_access_block": {f: True for f in PAB_FLAGS} if b.block_public_access else {f: False for f in PAB_FLAGS},
            "lifecycle": lifecycle_rules(b),
            "object_ownership": b.object_ownership,
            "tags": dict(ctx.tags),
        }

    def read(self, ctx: Context) -> dict | None:
        s3 = ctx.client("s3", self.region)
        name = self.spec.name
        try:
            head = s3.head_bucket(Bucket=name)
        except ClientError as e:
            status = http_status(e)
            if status == 404 or error_code(e) in ("404", "NoSuchBucket", "NotFound"):
                return None
            if status == 403 or error_code(e) in ("403", "Forbidden", "AccessDenied"):
                raise PreconditionError(
                    f"S3 bucket {name!r} exists but this account cannot access it "
                    "(the name belongs to another account, or credentials lack s3:ListBucket)"
                ) from None
            raise
        region = head.get("BucketRegion") or head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(
            "x-amz-bucket-region") or self.region
        extras = s3_undeclared.start_reads(ctx, self.spec, self.region)  # what is not declared: read at the same time
        with ThreadPoolExecutor(max_workers=len(_SUB_READS) + 1, thread_name_prefix="s3-read") as pool:
            # system tags kept: ownership names the CloudFormation stack of a foreign bucket
            tagged = pool.submit(tag_index.full_tags, ctx, self.spec.arn,
                                 lambda _arn: tag_index.from_items((_get(s3, "tags", name) or {}).get("TagSet")), self.region)
            got = dict(zip(_SUB_READS, pool.map(lambda what: _get(s3, what, name), _SUB_READS), strict=True))
        enc = got["encryption"]
        algo = None
        if enc:
            rules = enc.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
            if rules:
                algo = rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
        ver = got["versioning"] or {}
        pab = got["public_access_block"]
        pabc = (pab or {}).get("PublicAccessBlockConfiguration", {})
        lc = got["lifecycle"]
        controls = got["ownership"]
        own_rules = (controls or {}).get("OwnershipControls", {}).get("Rules", [])
        tagset = tag_index.as_items(tagged.result())
        return {
            "region": region,
            "encryption": algo,
            "versioning": ver.get("Status") == "Enabled",
            "versioning_status": ver.get("Status", "Disabled"),
            "public_access_block": {f: bool(pabc.get(f, False)) for f in PAB_FLAGS},
            "lifecycle": sorted((_norm_rule(r) for r in (lc or {}).get("Rules", [])), key=lambda r: r["id"]),
            "object_ownership": own_rules[0].get("ObjectOwnership") if own_rules else None,
            "tags": _tags_dict(tagset),
            "system_tags": own.system_tags(tagset),
            **extras(own_rules[0].get("ObjectOwnership") if own_rules else None),
        }

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        # Our tag; or our registry entry, written before CreateBucket (a crash before the first
        # tag write leaves a bucket that is ours but untagged).
        o = super().ownership(ctx, live)
        if o.state == own.FOREIGN and registry.registered(ctx, registry.bucket_key(self.spec.name)):
            return own.Ownership(own.OURS)
        return o

    def outputs(self, ctx: Context, live: dict) -> dict:
        name = self.spec.name
        return {
            "name": name,
            "arn": self.spec.arn,
            "domain_name": f"{name}.s3.amazonaws.com",
            "regional_domain_name": f"{name}.s3.{live.get('region') or self.region}.amazonaws.com",
        }

    def create(self, ctx: Context, desired: dict) -> None:
        s3 = ctx.client("s3", self.region)
        kwargs: dict[str, Any] = {"Bucket": self.spec.name}
        if self.region != "us-east-1":  # us-east-1 takes no LocationConstraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        if desired.get("object_ownership"):
            kwargs["ObjectOwnership"] = desired["object_ownership"]
        registry.register(ctx, [registry.bucket_key(self.spec.name)])  # write-ahead: ours until tagged
        try:
            s3.create_bucket(**kwargs)
        except ClientError as e:
            if error_code(e) == "BucketAlreadyExists":
                registry.unregister(ctx, [registry.bucket_key(self.spec.name)])
                raise PreconditionError(f"S3 bucket name {self.spec.name!r} is taken by another account") from None
            if error_code(e) != "BucketAlreadyOwnedByYou":  # a re-run after a crash: adopt it
                raise
        s3.get_waiter("bucket_exists").wait(Bucket=self.spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        blank: dict[str, Any] = {
            "region": self.region, "encryption": None, "versioning": False,
            "public_access_block": {f: False for f in PAB_FLAGS}, "lifecycle": [],
            "object_ownership": desired.get("object_ownership"), "tags": {},
        }
        self.update(ctx, desired, blank, tuple(self.diff(desired, blank)))

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        s3 = ctx.client("s3", self.region)
        name = self.spec.name
        top = {c.path.split(".", 1)[0] for c in changes}

        def call(fn: Callable[[], Any]) -> Any:
            return retry.call("s3_operation_aborted", fn)

        if "region" in top:
            raise PreconditionError(
                f"S3 bucket {name!r} is in {live.get('region')}, the desired state says {desired['region']}; "
                "a bucket cannot move region (nothing was changed)"
            )
        # The public-access block goes first: it must be in place before any policy is written.
        if "public_access_block" in top:
            call(lambda: s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=dict(desired["public_access_block"])))
        if "object_ownership" in top and desired["object_ownership"]:
            call(lambda: s3.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": desired["object_ownership"]}]}))
        if "encryption" in top:
            call(lambda: s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": desired["encryption"]}}]}))
        if "versioning" in top:
            status = "Enabled" if desired["versioning"] else "Suspended"
            call(lambda: s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status}))
        if "lifecycle" in top:
            if desired["lifecycle"]:
                call(lambda: s3.put_bucket_lifecycle_configuration(
                    Bucket=name, LifecycleConfiguration={"Rules": [_rule_to_aws(r) for r in desired["lifecycle"]]}))
            else:
                call(lambda: s3.delete_bucket_lifecycle(Bucket=name))
        if "tags" in top:
            # The tag set is replaced whole: keep tags someone else put there (read right before).
            # System tags (aws:cloudformation:*, aws:createdBy...) stay exactly as they are: S3
            # refuses a set that drops or changes them (InvalidTag; docs/aws-behaviour.md).
            current = {t["Key"]: t["Value"] for t in (_get(s3, "tags", name) or {}).get("TagSet", [])}
            current.update({k: v for k, v in desired["tags"].items() if not k.lower().startswith("aws:")})
            call(lambda: s3.put_bucket_tagging(
                Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(current.items())]}))
        s3_undeclared.remove(ctx, self.spec, self.region, changes)

    def delete(self, ctx: Context, live: dict) -> None:
        if self.spec.key == "buildcache" or self.spec.retain_on_destroy:  # belt and braces: never
            raise PreconditionError(f"S3 bucket {self.spec.name!r} is retained; it is never deleted")
        s3 = ctx.client("s3", self.region)
        listing = s3.list_object_versions(Bucket=self.spec.name, MaxKeys=1)
        if listing.get("Versions") or listing.get("DeleteMarkers"):
            raise PreconditionError(
                f"S3 bucket {self.spec.name!r} is not empty; the tool deletes no object it did not create "
                "(empty it yourself, or keep retain_on_destroy = true)"
            )
        s3.delete_bucket(Bucket=self.spec.name)
        registry.unregister(ctx, [registry.bucket_key(self.spec.name)])
