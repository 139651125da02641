"""The [outputs] section: named outputs, each a reference to a known resource attribute."""

from __future__ import annotations

import re

from ..errors import ConfigError
from .base import Section

OUTPUT_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,254}$")

# The moto/AWS canonical output names the seed documents.
KNOWN_OUTPUT_KEYS = {
    "s3_bucket.buildcache": ("name", "arn", "regional_domain_name"),
    "s3_bucket.logs": ("name", "arn", "domain_name"),
    "acm_certificate.cdn": ("arn",),
    "cloudfront_distribution.cdn": ("id", "arn", "domain_name", "public_url"),
    "iam_role.github_actions": ("arn", "name"),
    "iam_oidc_provider.github": ("arn",),
    "iam_user.admin": ("arn", "name"),
    "sns_topic.alarms": ("arn",),
    "route53_zone.main": ("id",),
    "cloudwatch_dashboard.main": ("name", "arn", "url"),
    "cloudtrail_trail.audit": ("name", "arn"),
}

DEFAULT_OUTPUTS = (
    ("BucketName", "s3_bucket.buildcache.name"),
    ("BucketArn", "s3_bucket.buildcache.arn"),
    ("DistributionId", "cloudfront_distribution.cdn.id"),
    ("DistributionDomainName", "cloudfront_distribution.cdn.domain_name"),
    ("PublicUrl", "cloudfront_distribution.cdn.public_url"),
    ("GitHubActionsRoleArn", "iam_role.github_actions.arn"),
)


def parse_outputs(s: Section) -> tuple[tuple[str, str], ...]:
    if not s.data:
        return DEFAULT_OUTPUTS
    out = []
    for k, v in s.data.items():
        s.used.add(k)
        if not OUTPUT_NAME_RE.match(k):
            raise ConfigError(s.file, f"outputs.{k}", "an output name (letters and digits, starting with a letter)", k)
        if not isinstance(v, str) or "." not in v:
            raise ConfigError(s.file, f"outputs.{k}", "a reference 'resource_type.name.attribute'", v)
        addr, _, attr = v.rpartition(".")
        if addr not in KNOWN_OUTPUT_KEYS or attr not in KNOWN_OUTPUT_KEYS[addr]:
            choices = ", ".join(f"{a}.{x}" for a, xs in KNOWN_OUTPUT_KEYS.items() for x in xs)
            raise ConfigError(s.file, f"outputs.{k}", f"one of {choices}", v)
        out.append((k, v))
    return tuple(out)


def check_references(file: str, outputs: tuple[tuple[str, str], ...], optional: dict[str, object]) -> None:
    """An output may not name a resource whose (optional) section the file leaves out (value None)."""
    for name, ref in outputs:
        addr = ref.rpartition(".")[0]
        if addr in optional and optional[addr] is None:
            section = {"s3_bucket.logs": "[s3.logs]", "iam_user.admin": "[admin_user]", "sns_topic.alarms": "[alarms]",
                       "cloudwatch_dashboard.main": "[dashboard]", "cloudtrail_trail.audit": "[audit]"}.get(addr, addr)
            raise ConfigError(file, f"outputs.{name}", f"a reference to a resource of this stack ({section} is not "
                              "declared)", ref)
