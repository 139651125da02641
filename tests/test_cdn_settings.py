"""Issue 15's CDN-side settings, each turned on in the seed's desired state in turn, with Ansible's four steps.

For every setting: plan shows it (exit 2, naming the resource and field, no mutating call), apply
makes it with exactly the calls it needs, plan is then empty, apply again makes no call. Then the
settings the live stack does not use (HSTS security headers, a custom origin request policy,
query-string allow-lists) are changed out of band: drift names them, apply repairs with one call.
The live stack's own settings drift in tests/test_live_stack.py.

Only the S3, ACM, Route 53, CloudFront and IAM resources are managed here (``cdn_iam_stack``) to
keep it fast; tests/test_live_stack.py and tests/test_monitoring.py run whole stacks.
"""

from __future__ import annotations

import json
import re

import pytest

import provisioner.reconcilers as registry

BUCKET = "slurm-factory-spack-buildcache-4b670"
PREFIXES = ("s3_", "acm_", "route53_", "cloudfront_oai", "cloudfront_oac", "cloudfront_cache", "cloudfront_dist",
            "cloudfront_response", "cloudfront_origin_request", "iam_role", "iam_oidc")


@pytest.fixture
def cdn_iam_stack(monkeypatch):
    orig = registry.build

    def build(desired):
        res, unmanaged = orig(desired)
        return [r for r in res if r.address.startswith(PREFIXES)], unmanaged

    monkeypatch.setattr(registry, "build", build)


def sub(path, pattern: str, repl: str) -> None:
    text = path.read_text()
    new, n = re.subn(pattern, repl, text, count=1, flags=re.M)
    assert n == 1, pattern
    path.write_text(new)


def append(path, text: str) -> None:
    path.write_text(path.read_text() + "\n" + text.strip() + "\n")


RHP = """
[cdn.response_headers]
policy = "custom"
name = "slurm-factory-cors"
comment = "CORS for the docs site's package browser"

[cdn.response_headers.cors]
allow_headers = ["*"]
allow_methods = ["GET", "HEAD", "OPTIONS"]
allow_origins = ["*"]
expose_headers = ["ETag", "x-amz-version-id"]
max_age = 3600
"""
SECURITY = """
[cdn.response_headers.security]
hsts_max_age = 63072000
hsts_include_subdomains = true
hsts_preload = false
content_type_options = true
frame_options = "DENY"
referrer_policy = "strict-origin-when-cross-origin"
"""
CORS_RULE = """
[[s3.buildcache.cors]]
id = "PublicReadCors"
allowed_methods = ["GET", "HEAD"]
allowed_origins = ["*"]
allowed_headers = ["*"]
expose_headers = ["ETag"]
max_age_seconds = 3600
"""
ERROR_RESPONSE = """
[[cdn.error_responses]]
error_code = 403
response_code = 404
response_page_path = "/404.html"
min_ttl = 10
"""


def _managed_orp(f):
    append(f, '[cdn.origin_request]\npolicy = "managed"\nname = "Managed-CORS-S3Origin"')


def _custom_orp(f):
    sub(f, r'^policy = "managed"\nname = "Managed-CORS-S3Origin"',
        'policy = "custom"\nname = "slurm-factory-origin"\nheaders = ["Origin", "Access-Control-Request-Method"]\n'
        'query_strings = ["v"]')


def _live_role(f):
    sub(f, r"^max_session_duration = 10800$", "max_session_duration = 14400")
    sub(f, r'^actions = \["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject"\]$',
        'actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload", '
        '"s3:ListMultipartUploadParts", "s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]')


def _cache_key(f):
    sub(f, r'^query_strings = "all"$', 'query_strings = ["version", "arch"]\nheaders = ["Accept"]')


# (name, edit, plan fragments, apply's mutating calls)
STEPS = [
    ("S3 CORS rule", lambda f: append(f, CORS_RULE), ["~ s3_bucket_cors.buildcache", "rules"], ["s3:PutBucketCors"]),
    ("response headers policy (CORS)", lambda f: append(f, RHP),
     ["+ cloudfront_response_headers_policy.buildcache  will be created",
      "default_cache_behavior.response_headers_policy_id"],
     ["cloudfront:CreateResponseHeadersPolicy", "cloudfront:UpdateDistribution"]),
    ("security headers with HSTS", lambda f: append(f, SECURITY),
     ["~ cloudfront_response_headers_policy.buildcache", "security"], ["cloudfront:UpdateResponseHeadersPolicy"]),
    ("managed origin request policy", _managed_orp,
     ["default_cache_behavior.origin_request_policy_id"], ["cloudfront:UpdateDistribution"]),
    ("custom origin request policy", _custom_orp,
     ["+ cloudfront_origin_request_policy.buildcache  will be created"],
     ["cloudfront:CreateOriginRequestPolicy", "cloudfront:UpdateDistribution"]),
    ("cache key header and query-string allow-list", _cache_key,
     ["~ cloudfront_cache_policy.buildcache", "header_names", "query_string_names"], ["cloudfront:UpdateCachePolicy"]),
    ("OPTIONS cached", lambda f: sub(f, r'^cached_methods = \["GET", "HEAD"\]$', 'cached_methods = ["GET", "HEAD", "OPTIONS"]'),
     ["default_cache_behavior.cached_methods"], ["cloudfront:UpdateDistribution"]),
    ("403 -> 404 error response", lambda f: append(f, ERROR_RESPONSE), ["custom_error_responses"],
     ["cloudfront:UpdateDistribution"]),
    ("ListBucket grant", lambda f: sub(f, r"^grant_list_bucket = false.*$", "grant_list_bucket = true"),
     ["~ s3_bucket_policy.buildcache", "AllowCloudFrontOriginAccessIdentityList"], ["s3:PutBucketPolicy"]),
    ("4 h sessions and the live publishing actions", _live_role,
     ["iam_role.github_actions", "max_session_duration: 10800 -> 14400", "policy"], ["iam:PutRolePolicy", "iam:UpdateRole"]),
]


def test_each_setting_four_steps_then_drift_of_those_the_live_stack_lacks(aws_env, cdn_iam_stack, cli, desired_file):
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    for name, edit, fragments, calls in STEPS:
        edit(desired_file)
        r = cli("plan")
        assert r.code == 2, (name, r.output)
        for frag in fragments:
            assert frag in r.output, (name, frag, r.output)
        assert r.mutating == [], name
        r = cli("apply", "--auto-approve")
        assert r.code == 0, (name, r.output)
        assert r.mutating == calls, (name, r.mutating)
        r = cli("plan")
        assert r.code == 0 and r.mutating == [], (name, r.output)
        r = cli("apply", "--auto-approve")
        assert r.code == 0 and r.mutating == [], (name, r.mutating)

    cf, s3 = aws_env.client("cloudfront"), aws_env.client("s3")
    rhp = cf.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]["Items"][0]["ResponseHeadersPolicy"]
    sec = rhp["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert sec["StrictTransportSecurity"] == {"Override": True, "IncludeSubdomains": True, "Preload": False,
                                              "AccessControlMaxAgeSec": 63072000}
    assert sec["FrameOptions"] == {"Override": True, "FrameOption": "DENY"}
    assert sec["ContentTypeOptions"] == {"Override": True}
    orp = cf.list_origin_request_policies(Type="custom")["OriginRequestPolicyList"]["Items"][0]["OriginRequestPolicy"]
    ocfg = orp["OriginRequestPolicyConfig"]
    assert ocfg["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": {
        "Quantity": 2, "Items": ["access-control-request-method", "origin"]}}
    assert ocfg["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": {"Quantity": 1, "Items": ["v"]}}
    dist = cf.list_distributions()["DistributionList"]["Items"][0]
    dcb = cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]["DefaultCacheBehavior"]
    assert dcb["OriginRequestPolicyId"] == orp["Id"] and dcb["ResponseHeadersPolicyId"] == rhp["Id"]
    doc = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    listing = [s for s in doc["Statement"] if s.get("Sid") == "AllowCloudFrontOriginAccessIdentityList"][0]
    assert listing["Action"] == ["s3:ListBucket"] and listing["Resource"] == [f"arn:aws:s3:::{BUCKET}"]
    iam = aws_env.client("iam")
    assert iam.get_role(RoleName="slurm-factory-github-actions")["Role"]["MaxSessionDuration"] == 14400
    publish = iam.get_role_policy(RoleName="slurm-factory-github-actions", PolicyName="slurm-factory-buildcache-publish")
    actions = {a for st in publish["PolicyDocument"]["Statement"] for a in st["Action"]}  # bucket + object statements
    assert "s3:ListMultipartUploadParts" in actions

    # drift of what the live stack does not have: HSTS, the custom origin request policy, the allow-lists
    def update(kind, model, mutate):
        pid = {"response_headers": rhp["Id"], "origin_request": orp["Id"],
               "cache": dcb["CachePolicyId"]}[kind]
        got = getattr(cf, f"get_{kind}_policy_config")(Id=pid)
        cfg = got[f"{model}Config"]
        mutate(cfg)
        getattr(cf, f"update_{kind}_policy")(Id=pid, IfMatch=got["ETag"], **{f"{model}Config": cfg})

    drift = [
        (lambda: update("response_headers", "ResponseHeadersPolicy", lambda c: c["SecurityHeadersConfig"][
            "StrictTransportSecurity"].update(AccessControlMaxAgeSec=300)),
         "cloudfront_response_headers_policy.buildcache  security.hsts.max_age: expected 63072000, actual 300",
         ["cloudfront:UpdateResponseHeadersPolicy"]),
        (lambda: update("response_headers", "ResponseHeadersPolicy", lambda c: c["SecurityHeadersConfig"].pop(
            "FrameOptions")), "cloudfront_response_headers_policy.buildcache  security.frame_options:",
         ["cloudfront:UpdateResponseHeadersPolicy"]),
        (lambda: update("origin_request", "OriginRequestPolicy", lambda c: c.update(
            HeadersConfig={"HeaderBehavior": "allViewer", "Headers": {"Quantity": 0}})),
         "cloudfront_origin_request_policy.buildcache  headers.behavior: expected \"whitelist\", actual \"allViewer\"",
         ["cloudfront:UpdateOriginRequestPolicy"]),
        (lambda: update("cache", "CachePolicy", lambda c: c["ParametersInCacheKeyAndForwardedToOrigin"].update(
            QueryStringsConfig={"QueryStringBehavior": "all", "QueryStrings": {"Quantity": 0}})),
         "cloudfront_cache_policy.buildcache  query_strings: expected \"whitelist\", actual \"all\"",
         ["cloudfront:UpdateCachePolicy"]),
    ]
    for change, line, calls in drift:
        change()
        r = cli("drift")
        assert r.code == 2 and line in r.output, (line, r.output)
        assert r.mutating == []
        r = cli("apply", "--auto-approve")
        assert r.code == 0 and r.mutating == calls, (line, r.mutating)
        assert cli("drift").code == 0, line
