"""The [s3.buildcache] and [s3.logs] sections: the two buckets and their lifecycle rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError
from .base import Section
from .bucket_extras import CorsRule, parse_cors, parse_request_metrics

BUCKET_RE = re.compile(r"^(?!xn--)(?!sthree-)(?!.*-s3alias$)(?!.*--ol-s3$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
OWNERSHIP = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")


@dataclass(frozen=True)
class Lifecycle:
    noncurrent_days: int | None  # delete noncurrent versions after N days
    abort_incomplete_multipart_days: int | None
    expire_days: int | None  # expire current objects (log bucket)


@dataclass(frozen=True)
class Bucket:
    key: str  # "buildcache" / "logs"
    name: str
    encryption: str  # "AES256"
    versioning: bool
    block_public_access: bool
    require_tls: bool
    object_ownership: str | None  # BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter
    lifecycle: Lifecycle
    retain_on_destroy: bool
    cors: tuple[CorsRule, ...] = ()  # [[s3.<key>.cors]] (bucket_extras)
    request_metrics: str | None = None  # Id of the whole-bucket request-metrics configuration

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


def parse_s3(root: Section) -> tuple[Bucket, Bucket | None]:
    """(buildcache, logs) from [s3]; the log bucket is optional (a stack that keeps no access logs)."""
    s3 = root.section("s3")
    buildcache = _one_bucket(s3.section("buildcache"), "buildcache")
    logs = _one_bucket(s3.section("logs"), "logs") if "logs" in s3.data else None
    s3.done()
    return buildcache, logs


def _lifecycle(s: Section) -> Lifecycle:
    lc = Lifecycle(
        noncurrent_days=s.int("noncurrent_days", lo=1, hi=36500, optional=True),
        abort_incomplete_multipart_days=s.int("abort_incomplete_multipart_days", lo=1, hi=36500, optional=True),
        expire_days=s.int("expire_days", lo=1, hi=36500, optional=True),
    )
    s.done()
    return lc


def _one_bucket(s: Section, key: str) -> Bucket:
    name = s.str("name", required=True)
    if not BUCKET_RE.match(name) or IP_RE.match(name) or ".." in name or ".-" in name or "-." in name:
        s.fail("name", "a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')", name)
    if "." in name:
        s.fail("name", "a bucket name without dots (CloudFront and TLS need virtual-host style names)", name)
    enc = s.str("encryption", "AES256", choices=("AES256",))
    versioning = s.bool("versioning", key == "buildcache")
    bpa = s.bool("block_public_access", True)
    if not bpa:
        s.fail("block_public_access", "true (the cache is public only through CloudFront)", bpa)
    tls = s.bool("require_tls", True)
    own_default = "BucketOwnerPreferred" if key == "logs" else "BucketOwnerEnforced"
    ownership = s.str("object_ownership", own_default, choices=OWNERSHIP)
    if key == "logs" and ownership == "BucketOwnerEnforced":
        s.fail("object_ownership",
               "'BucketOwnerPreferred' or 'ObjectWriter' (CloudFront standard logging writes with ACLs)", ownership)
    lifecycle = _lifecycle(s.section("lifecycle", required=False))
    if key == "buildcache" and lifecycle.expire_days is not None:
        raise ConfigError(s.file, f"{s.path}.lifecycle.expire_days",
                          "no expiry of current objects on the buildcache "
                          "(nothing lost: only noncurrent versions expire)",
                          lifecycle.expire_days)
    if lifecycle.noncurrent_days is not None and not versioning:
        raise ConfigError(s.file, f"{s.path}.lifecycle.noncurrent_days",
                          "versioning = true for noncurrent-version expiry", lifecycle.noncurrent_days)
    retain = s.bool("retain_on_destroy", True)
    if key == "buildcache" and not retain:
        s.fail("retain_on_destroy", "true (the buildcache bucket and its data are always retained)", retain)
    cors, metrics = parse_cors(s), parse_request_metrics(s)
    s.done()
    return Bucket(key=key, name=name, encryption=enc, versioning=versioning, block_public_access=bpa,
                  require_tls=tls, object_ownership=ownership, lifecycle=lifecycle, retain_on_destroy=retain,
                  cors=cors, request_metrics=metrics)
