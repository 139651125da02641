"""The [audit] section: a CloudTrail trail recording who published what to the buildcache.

The trail (CloudTrail API reference, CreateTrail / PutEventSelectors) records *write data events*
on the buildcache's objects only (PutObject, DeleteObject, CopyObject, the multipart calls: advanced
event selector ``eventCategory = Data``, ``resources.type = AWS::S3::Object``, ``readOnly = false``,
``resources.ARN`` starting with the bucket's ARN) into the log bucket under its own ``prefix``, with
log file validation (digest files) on. No management events, no read events: CloudFront's reads of
every cached object would each be an event, cost money and say nothing about publishing. Trail
names: 3-128 characters, letters, digits, '.', '_' and '-', starting and ending with a letter or
digit. ``S3KeyPrefix``: at most 200 characters; CloudTrail writes under ``<prefix>/AWSLogs/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError
from .base import Section

TRAIL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,126})[A-Za-z0-9]$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,200}$")


@dataclass(frozen=True)
class Audit:
    trail: str
    prefix: str  # S3KeyPrefix in the log bucket (no leading or trailing '/')
    log_file_validation: bool


def parse_audit(root: Section, has_log_bucket: bool, cdn_log_prefix: str | None) -> Audit | None:
    """``cdn_log_prefix``: the CloudFront standard-logging prefix when logging is on (None: off)."""
    if "audit" not in root.data:
        return None
    s = root.section("audit")
    trail = s.str("trail", required=True, pattern=TRAIL_RE,
                  what="a trail name (3-128 letters, digits, '.', '_', '-'; starting and ending with a letter or digit)")
    prefix = s.str("prefix", "cloudtrail", pattern=PREFIX_RE, what="an S3 key prefix (at most 200 characters)")
    if prefix.startswith("/") or prefix.endswith("/") or "//" in prefix:
        s.fail("prefix", "a key prefix without a leading or trailing '/' (CloudTrail writes <prefix>/AWSLogs/...)",
               prefix)
    validation = s.bool("log_file_validation", True)
    s.done()
    if not has_log_bucket:
        raise ConfigError(s.file, "audit", "an [s3.logs] bucket for the trail to write to", has_found=False)
    if cdn_log_prefix is not None:
        mine, theirs = prefix + "/", cdn_log_prefix
        if mine.startswith(theirs) or theirs.startswith(mine):
            raise ConfigError(s.file, f"{s.path}.prefix", "a prefix that does not overlap cdn.logging.prefix "
                              f"({cdn_log_prefix!r}): CloudTrail's and CloudFront's log files must not mix", prefix)
    return Audit(trail=trail, prefix=prefix, log_file_validation=validation)
