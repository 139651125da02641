"""Bad input: a clear error naming the file and key path, exit 1, and no AWS call at all."""

from __future__ import annotations

import re

import pytest

from provisioner import config
from provisioner.errors import ConfigError
from tests.conftest import DESIRED

BASE = DESIRED.read_text()


def sub(old: str, new: str):
    def f(text: str) -> str:
        assert old in text, f"test corpus out of date: {old!r} not in desired_state.toml"
        return text.replace(old, new, 1)
    return f


def prepend(extra: str):
    return lambda text: extra + "\n" + text


# (id, mutation, key path the message must name, fragment of the expectation)
MALFORMED = [
    ("toml syntax error", sub('[stack]\nname = "slurm-factory"', '[stack\nname = "slurm-factory"'), "", "valid TOML"),
    ("unterminated string", sub('region = "us-east-1"', 'region = "us-east-1'), "", "valid TOML"),
    ("unknown top-level key", prepend('colour = "blue"'), "colour", "known keys"),
    ("unknown nested key", sub("versioning = true\n", "versioning = true\nversionning = true\n"),
     "s3.buildcache.versionning", "known keys"),
    ("wrong type bool", sub("versioning = true\n", 'versioning = "yes"\n'), "s3.buildcache.versioning", "true or false"),
    ("wrong type int", sub("noncurrent_days = 90", 'noncurrent_days = "90"'),
     "s3.buildcache.lifecycle.noncurrent_days", "an integer"),
    ("negative days", sub("noncurrent_days = 90", "noncurrent_days = -1"),
     "s3.buildcache.lifecycle.noncurrent_days", "between 1 and"),
    ("zero abort days", sub("abort_incomplete_multipart_days = 7\n\n[s3.logs]", "abort_incomplete_multipart_days = 0\n\n[s3.logs]"),
     "s3.buildcache.lifecycle.abort_incomplete_multipart_days", "between 1 and"),
    ("invalid bucket name uppercase", sub('name = "slurm-factory-spack-buildcache-4b670"\n', 'name = "Slurm_Factory"\n'),
     "s3.buildcache.name", "valid S3 bucket name"),
    ("bucket name too short", sub('name = "slurm-factory-spack-buildcache-4b670"\n', 'name = "ab"\n'),
     "s3.buildcache.name", "valid S3 bucket name"),
    ("bucket name like an IP", sub('name = "slurm-factory-spack-buildcache-4b670"\n', 'name = "192.168.1.1"\n'),
     "s3.buildcache.name", "bucket name"),
    ("public bucket", sub("block_public_access = true             # all four",
                          "block_public_access = false             # all four"),
     "s3.buildcache.block_public_access", "true"),
    ("buildcache not retained", sub("retain_on_destroy = true               # the seed",
                                    "retain_on_destroy = false               # the seed"),
     "s3.buildcache.retain_on_destroy", "always retained"),
    ("same name for both buckets", sub('name = "slurm-factory-spack-buildcache-4b670-logs"',
                                       'name = "slurm-factory-spack-buildcache-4b670"'),
     "s3.logs.name", "different"),
    ("missing required section", sub("[github_role]", "[github_rolez]"), "github_role", "required"),
    ("missing required key", sub('topic = "slurm-factory-alarms"\n', ""), "alarms.topic", "required"),
    ("domain outside the zone", sub('domain = "slurm-factory-spack-binary-cache.vantagecompute.ai"',
                                    'domain = "cache.example.org"'), "certificate.domain", "inside the hosted zone"),
    ("alias not covered by the certificate", sub('aliases = ["slurm-factory-spack-binary-cache.vantagecompute.ai"]',
                                                 'aliases = ["other.vantagecompute.ai"]'),
     "cdn.aliases[0]", "covered by the certificate"),
    ("TLS below 1.2", sub('minimum_protocol_version = "TLSv1.2_2021"', 'minimum_protocol_version = "TLSv1_2016"'),
     "cdn.minimum_protocol_version", "one of"),
    ("viewer protocol allow-all", sub('viewer_protocol_policy = "redirect-to-https"', 'viewer_protocol_policy = "allow-all"'),
     "cdn.viewer_protocol_policy", "one of"),
    ("unknown price class", sub('price_class = "PriceClass_100"', 'price_class = "PriceClass_50"'),
     "cdn.price_class", "PriceClass_100"),
    ("ttl out of order", sub("default_ttl = 86400", "default_ttl = 99999999"), "cdn.cache.default_ttl", "between 0 and"),
    ("default above max", sub("max_ttl = 31536000", "max_ttl = 3600"), "cdn.cache.default_ttl", "min_ttl <= default_ttl"),
    ("brotli with legacy cache", sub('policy = "custom"', 'policy = "legacy"'), "cdn.cache.brotli", "legacy"),
    ("unscoped trust subject", sub('subjects = ["repo:vantagecompute/slurm-factory:*"]', 'subjects = ["*"]'),
     "github_role.subjects[0]", "scoped to one repository"),
    ("wildcard repository subject", sub('subjects = ["repo:vantagecompute/slurm-factory:*"]', 'subjects = ["repo:vantagecompute/*:*"]'),
     "github_role.subjects[0]", "scoped to one repository"),
    ("no subjects", sub('subjects = ["repo:vantagecompute/slurm-factory:*"]', "subjects = []"),
     "github_role.subjects", "at least 1"),
    ("audience not a client id", sub('audience = "sts.amazonaws.com"', 'audience = "sigstore"'),
     "github_role.audience", "client_ids"),
    ("session too long", sub("max_session_duration = 10800", "max_session_duration = 50000"),
     "github_role.max_session_duration", "between 3600 and 43200"),
    ("invalid role name", sub('name = "slurm-factory-github-actions"', 'name = "bad role name"'),
     "github_role.name", "IAM role name"),
    ("invalid action", sub('actions = ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject"]',
                           'actions = ["s3 PutObject"]'), "github_role.actions[0]", "IAM action"),
    ("non-s3 action for the role", sub('actions = ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject"]',
                                       'actions = ["iam:PassRole"]'), "github_role.actions[0]", "s3: action"),
    ("bad thumbprint", sub('"6938fd4d98bab03faadb97b34396831e3780aea1"', '"not-a-thumbprint"'),
     "github_oidc.thumbprints[0]", "40-hex-digit"),
    ("http oidc url", sub('url = "https://token.actions.githubusercontent.com"', 'url = "http://token.actions.githubusercontent.com"'),
     "github_oidc.url", "https://"),
    ("bad alarm comparison", sub('comparison = "GreaterThanThreshold"', 'comparison = "Bigger"'),
     "alarms.alarm[0].comparison", "one of"),
    ("bad alarm period", sub("period = 300", "period = 7"), "alarms.alarm[0].period", ">= 10"),
    ("odd alarm period", sub("period = 300", "period = 90"), "alarms.alarm[0].period", "multiple of 60"),
    ("threshold not a number", sub("threshold = 5\n", 'threshold = "five"\n'), "alarms.alarm[0].threshold", "a number"),
    ("bad email", sub("email_subscriptions = []", 'email_subscriptions = ["not-an-email"]'),
     "alarms.email_subscriptions[0]", "email address"),
    ("duplicate alarm name", sub('name = "slurm-factory-low-cache-hit"', 'name = "slurm-factory-high-error-rate"'),
     "alarms.alarm[1].name", "unique"),
    ("bad region", sub('region = "us-east-1"', 'region = "mars-1"'), "stack.region", "AWS region"),
    ("bad account id", sub('account_id = "123456789012"', 'account_id = "1234"'), "stack.account_id", "12-digit"),
    ("reserved tag", sub('Project = "slurm-factory"', 'ManagedBy = "me"'), "tags.ManagedBy", "reserved"),
    ("aws: tag", sub('Project = "slurm-factory"', '"aws:foo" = "x"'), "tags.aws:foo", "not starting with 'aws:'"),
    ("unknown output reference", sub('BucketName = "s3_bucket.buildcache.name"', 'BucketName = "s3_bucket.nope.name"'),
     "outputs.BucketName", "one of"),
    ("alias record type", sub('alias_records = ["A", "AAAA"]', 'alias_records = ["CNAME"]'),
     "dns.alias_records[0]", "one of"),
    ("zone id malformed", sub('# zone_id = "Z1234567890ABC"', 'zone_id = "not a zone"'), "dns.zone_id", "hosted zone id"),
    ("log bucket enforced ownership", sub('object_ownership = "BucketOwnerPreferred"', 'object_ownership = "BucketOwnerEnforced"'),
     "s3.logs.object_ownership", "ACLs"),
    ("stack is not a table", sub('[stack]\nname = "slurm-factory"', 'stack = 3\n[stackx]\nname = "slurm-factory"'),
     "stack", "a table"),
    ("cache-hit alarm without additional metrics",
     sub("additional_metrics = true              # monitoring subscription: needed for CacheHitRate",
         "additional_metrics = false"), "alarms.alarm[1].metric", "additional metric"),
    ("expiry on the buildcache", sub("noncurrent_days = 90", "noncurrent_days = 90\nexpire_days = 30"),
     "s3.buildcache.lifecycle.expire_days", "nothing lost"),
]


@pytest.mark.parametrize("name,mutate,path,expect", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_desired_state_is_refused_before_any_aws_call(cli, desired_file, name, mutate, path, expect):
    desired_file.write_text(mutate(BASE))
    for command in ("validate", "plan", "apply", "drift"):
        args = [command] + (["--auto-approve"] if command == "apply" else [])
        r = cli(*args)
        assert r.code == 1, f"{command}: {r.output}"
        assert r.calls == [], f"{command} made AWS calls on invalid input: {r.calls}"
        assert "Traceback" not in r.output
        assert str(desired_file) in r.output
        if path:
            assert re.search(rf"{re.escape(str(desired_file))}: {re.escape(path)}(?=[:\s])", r.output), r.output
        assert expect in r.output, r.output


def test_corpus_is_large_enough():
    assert len(MALFORMED) >= 40


def test_missing_file_is_a_clear_error(cli, tmp_path):
    r = cli("plan", file=tmp_path / "nope.toml")
    assert r.code == 1 and "nope.toml" in r.output and "no such file" in r.output and r.calls == []


def test_the_repository_desired_state_is_valid_and_has_the_seed_values():
    d = config.load(DESIRED)
    assert d.buildcache.name == "slurm-factory-spack-buildcache-4b670"
    assert d.stack.region == "us-east-1"
    assert d.buildcache.lifecycle.noncurrent_days == 90 and d.buildcache.versioning
    assert d.cdn.price_class == "PriceClass_100" and d.cdn.minimum_protocol_version == "TLSv1.2_2021"
    assert d.cdn.cache.default_ttl == 86400 and d.cdn.cache.max_ttl == 31536000 and d.cdn.cache.query_strings
    assert set(d.cdn.allowed_methods) == {"GET", "HEAD", "OPTIONS"} and set(d.cdn.cached_methods) == {"GET", "HEAD"}
    assert d.github_role.max_session_duration == 10800
    assert d.github_role.subjects == ("repo:vantagecompute/slurm-factory:*",)
    assert d.github_oidc.client_ids == ("sts.amazonaws.com",)
    assert d.admin_user.name == "james"
    assert d.certificate.domain == "slurm-factory-spack-binary-cache.vantagecompute.ai"
    assert d.dns.zone == "vantagecompute.ai"
    a = {x.name: x for x in d.alarms.alarms}
    assert a["slurm-factory-high-error-rate"].threshold == 5 and a["slurm-factory-high-error-rate"].period == 300
    assert a["slurm-factory-low-cache-hit"].comparison == "LessThanThreshold"
    assert dict(d.outputs).keys() == {"BucketName", "BucketArn", "DistributionId", "DistributionDomainName",
                                       "PublicUrl", "GitHubActionsRoleArn", "DashboardUrl"}


def test_config_error_message_shape():
    with pytest.raises(ConfigError) as e:
        config.loads(BASE.replace("noncurrent_days = 90", "noncurrent_days = -5"), file="x.toml")
    assert str(e.value) == ("x.toml: s3.buildcache.lifecycle.noncurrent_days: expected an integer between 1 and 36500, "
                            "found -5 (integer)")


def test_validate_ok(cli):
    r = cli("validate")
    assert r.code == 0 and "valid" in r.output and r.calls == []
