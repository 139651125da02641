"""S3 bucket CORS: the rules a browser's cross-origin reads of the bucket get (``[[s3.<bucket>.cors]]``).

``s3_bucket_cors.<bucket>`` for every bucket: the rules are compared as a list (S3 evaluates them in
order; inside a rule, methods, origins and headers are sets). A bucket that declares none is kept
without a CORS configuration: rules someone added are drift, and apply deletes them
(DeleteBucketCors); "no configuration" (``NoSuchCORSConfiguration``) reads as no rules. Writes are
one PutBucketCors with the whole configuration (it replaces it). It takes no tags: ours when the
bucket is, and it stays with a retained bucket on destroy.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ... import ownership as own
from ...aws import error_code
from ...config import Bucket, CorsRule
from ...context import Context
from ...model import UNEXPECTED, FieldChange, Resource


def rule_value(r: CorsRule) -> dict[str, Any]:
    return {"id": r.id, "allowed_methods": sorted(r.allowed_methods), "allowed_origins": sorted(r.allowed_origins),
            "allowed_headers": sorted(r.allowed_headers), "expose_headers": sorted(r.expose_headers),
            "max_age_seconds": r.max_age_seconds}


def _norm(rule: dict) -> dict[str, Any]:
    return {"id": rule.get("ID") or "", "allowed_methods": sorted(rule.get("AllowedMethods") or []),
            "allowed_origins": sorted(rule.get("AllowedOrigins") or []),
            "allowed_headers": sorted(rule.get("AllowedHeaders") or []),
            "expose_headers": sorted(rule.get("ExposeHeaders") or []), "max_age_seconds": rule.get("MaxAgeSeconds")}


def _to_aws(r: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"AllowedMethods": r["allowed_methods"], "AllowedOrigins": r["allowed_origins"]}
    if r["id"]:
        out["ID"] = r["id"]
    if r["allowed_headers"]:
        out["AllowedHeaders"] = r["allowed_headers"]
    if r["expose_headers"]:
        out["ExposeHeaders"] = r["expose_headers"]
    if r["max_age_seconds"] is not None:
        out["MaxAgeSeconds"] = r["max_age_seconds"]
    return out


class BucketCors(Resource):
    service = "S3 bucket CORS"

    def __init__(self, spec: Bucket, region: str):
        self.spec = spec
        self.region = region
        self.bucket_address = f"s3_bucket.{spec.key}"
        self.address = f"s3_bucket_cors.{spec.key}"
        self.depends_on = (self.bucket_address,)
        self.retain_on_destroy = spec.retain_on_destroy

    def desired(self, ctx: Context) -> dict:
        return {"rules": [rule_value(r) for r in self.spec.cors]}

    def read(self, ctx: Context) -> dict | None:
        if ctx.live.get(self.bucket_address) is None and ctx.managed(self.bucket_address):
            # No bucket yet, so no CORS either: "none" is already what a bucket without rules wants.
            return None if self.spec.cors else {"rules": []}
        try:
            got = ctx.client("s3", self.region).get_bucket_cors(Bucket=self.spec.name)
        except ClientError as e:
            if error_code(e) == "NoSuchCORSConfiguration":
                return {"rules": []}
            if error_code(e) == "NoSuchBucket":
                return None if self.spec.cors else {"rules": []}
            raise
        return {"rules": [_norm(r) for r in got.get("CORSRules") or []]}

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        have = live.get("rules", [])
        if desired["rules"] == have:
            return []
        if not desired["rules"]:  # rules nobody declared: UNEXPECTED (issue 18), and apply deletes them
            return [FieldChange("rules", have, [], UNEXPECTED)]
        return [FieldChange("rules", have, desired["rules"], "ADD" if not have else "CHANGE")]

    def create(self, ctx: Context, desired: dict) -> None:
        self._put(ctx, desired)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        self._put(ctx, desired)

    def _put(self, ctx: Context, desired: dict) -> None:
        s3 = ctx.client("s3", self.region)
        if desired["rules"]:
            s3.put_bucket_cors(Bucket=self.spec.name,
                               CORSConfiguration={"CORSRules": [_to_aws(r) for r in desired["rules"]]})
        else:
            s3.delete_bucket_cors(Bucket=self.spec.name)

    def delete(self, ctx: Context, live: dict) -> None:
        ctx.client("s3", self.region).delete_bucket_cors(Bucket=self.spec.name)

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        return self.follows(ctx, self.bucket_address)  # takes no tags: it is its bucket's
