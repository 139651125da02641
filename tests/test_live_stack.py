"""examples/slurm-factory-live.toml: the live CDK stack, built from empty, then each of its settings drifted and repaired.

The file is the stack ``infrastructure/infrastructure/stacks.py`` (vantagecompute/slurm-factory,
d44589f) deploys; the first test checks in the sandbox the values that code sets (CORS rule, the
custom response headers policy, the managed CORS-S3Origin origin request policy, the cache key on
Accept with 7/365-day TTLs, OPTIONS cached, 403 -> /404.html for 10 s, the OAC grant with
s3:ListBucket and s3:GetObject conditioned on the distribution, 4 h sessions), then that plan is
empty and apply makes no mutating call. The drift test changes each of them out of band in turn:
drift names the resource and the field, apply repairs it with exactly the calls needed.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import ROOT

LIVE = ROOT / "examples" / "slurm-factory-live.toml"
BUCKET = "slurm-factory-spack-buildcache-4b670"
ALIAS = "slurm-factory-spack-binary-cache.vantagecompute.ai"
EXPOSED = ["ETag", "x-amz-id-2", "x-amz-request-id", "x-amz-version-id"]
CORS_S3_ORIGIN = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"


@pytest.fixture
def live(tmp_path):
    p = tmp_path / "slurm-factory-live.toml"
    shutil.copy(LIVE, p)
    return p


def the_distribution(cf) -> tuple[str, dict, str]:
    items = cf.list_distributions()["DistributionList"].get("Items") or []
    assert len(items) == 1, items
    got = cf.get_distribution_config(Id=items[0]["Id"])
    return items[0]["Id"], got["DistributionConfig"], got["ETag"]


def custom_policy(cf, kind: str) -> tuple[str, dict, str]:
    """(id, config, etag) of the one custom policy of ``kind`` ("response_headers", "cache", "origin_request")."""
    model = {"response_headers": "ResponseHeadersPolicy", "cache": "CachePolicy", "origin_request": "OriginRequestPolicy"}[kind]
    listing = getattr(cf, f"list_{kind}_policies")(Type="custom")[f"{model}List"].get("Items") or []
    assert len(listing) == 1, listing
    pid = listing[0][model]["Id"]
    got = getattr(cf, f"get_{kind}_policy_config")(Id=pid)
    return pid, got[f"{model}Config"], got["ETag"]


def test_live_example_is_valid_without_any_call(cli):
    r = cli("validate", file=LIVE)
    assert r.code == 0, r.output
    assert r.calls == []


def test_live_stack_from_empty_has_the_cdk_values_then_plan_is_empty(aws_env, cli, live):
    r = cli("plan", file=live)
    assert r.code == 2 and r.mutating == [], r.output
    for addr in ("s3_bucket_cors.buildcache", "cloudfront_response_headers_policy.buildcache",
                 "cloudfront_cache_policy.buildcache", "cloudfront_oac.buildcache", "cloudfront_distribution.cdn"):
        assert f"+ {addr}  will be created" in r.output, addr
    for absent in ("iam_user.admin", "s3_bucket.logs", "sns_topic.alarms", "cloudwatch_alarm.", "cloudtrail_trail",
                   "cloudwatch_dashboard", "cloudfront_oai"):
        assert absent not in r.output, absent

    r = cli("apply", "--auto-approve", file=live)
    assert r.code == 0, r.output
    assert r.mutating.count("cloudfront:CreateDistributionWithTags") == 1
    assert "cloudfront:CreateOriginRequestPolicy" not in r.mutating  # AWS's managed policy: looked up, not made

    s3, cf, iam = aws_env.client("s3"), aws_env.client("cloudfront"), aws_env.client("iam")
    assert s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == [{
        "ID": "PublicReadCors", "AllowedHeaders": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"],
        "ExposeHeaders": EXPOSED, "MaxAgeSeconds": 3600}]
    assert s3.get_bucket_versioning(Bucket=BUCKET).get("Status") in (None, "Disabled")

    dist_id, cfg, _ = the_distribution(cf)
    dcb = cfg["DefaultCacheBehavior"]
    assert sorted(dcb["AllowedMethods"]["Items"]) == ["GET", "HEAD", "OPTIONS"]
    assert sorted(dcb["AllowedMethods"]["CachedMethods"]["Items"]) == ["GET", "HEAD", "OPTIONS"]
    assert dcb["OriginRequestPolicyId"] == CORS_S3_ORIGIN
    assert cfg["Comment"] == "CDN for slurm-factory Spack binary cache" and cfg["PriceClass"] == "PriceClass_100"
    assert cfg["Logging"]["Enabled"] is False
    assert cfg["CustomErrorResponses"]["Items"] == [{"ErrorCode": 403, "ResponsePagePath": "/404.html",
                                                     "ResponseCode": "404", "ErrorCachingMinTTL": 10}]
    assert cfg["Origins"]["Items"][0]["OriginAccessControlId"]

    rhp_id, rhp, _ = custom_policy(cf, "response_headers")
    assert dcb["ResponseHeadersPolicyId"] == rhp_id
    assert rhp["Name"] == "spack-buildcache-cors-4b670"
    assert rhp["Comment"] == "CORS policy for public Spack buildcache browser clients (provision:SlurmFactoryInfraStack)"
    cors = rhp["CorsConfig"]
    assert cors["AccessControlAllowCredentials"] is False and cors["OriginOverride"] is True
    assert cors["AccessControlAllowHeaders"]["Items"] == ["*"] and cors["AccessControlAllowOrigins"]["Items"] == ["*"]
    assert sorted(cors["AccessControlAllowMethods"]["Items"]) == ["GET", "HEAD", "OPTIONS"]
    assert cors["AccessControlExposeHeaders"]["Items"] == EXPOSED and cors["AccessControlMaxAgeSec"] == 3600
    assert "SecurityHeadersConfig" not in rhp

    cp_id, cp, _ = custom_policy(cf, "cache")
    assert dcb["CachePolicyId"] == cp_id and cp["Name"] == "spack-buildcache-policy-4b670"
    assert (cp["MinTTL"], cp["DefaultTTL"], cp["MaxTTL"]) == (0, 604800, 31536000)
    params = cp["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["accept"]}}
    assert params["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert params["EnableAcceptEncodingGzip"] and params["EnableAcceptEncodingBrotli"]

    doc = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    source = {"StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::123456789012:distribution/{dist_id}"}}
    allows = sorted((s for s in doc["Statement"] if s["Effect"] == "Allow"), key=lambda s: s["Sid"])
    assert allows == [
        {"Sid": "AllowCloudFrontServicePrincipalList", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{BUCKET}"], "Condition": source},
        {"Sid": "AllowCloudFrontServicePrincipalRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"], "Condition": source}]

    role = iam.get_role(RoleName="slurm-factory-github-actions")["Role"]
    assert role["MaxSessionDuration"] == 14400
    assert role["Description"] == "Role for GitHub Actions in vantagecompute/slurm-factory"
    statements = iam.get_role_policy(RoleName="slurm-factory-github-actions",
                                     PolicyName="slurm-factory-buildcache-publish")["PolicyDocument"]["Statement"]
    # bucket actions on the bucket, object actions on bucket/* (issue 19): every action in one of them
    actions = [a for st in statements for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])]
    for a in ("s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:ListBucketMultipartUploads",
              "s3:GetBucketLocation", "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket"):
        assert a in actions, a
    assert iam.list_users()["Users"] == []
    assert aws_env.client("cloudwatch").describe_alarms()["MetricAlarms"] == []

    r = cli("plan", file=live)
    assert r.code == 0, r.output
    assert r.mutating == []
    r = cli("apply", "--auto-approve", file=live)
    assert r.code == 0 and r.mutating == [], r.mutating
    outs = json.loads(cli("outputs", "--json", file=live).output)
    assert outs["CustomDomain"] == f"https://{ALIAS}" and outs["DistributionId"] == dist_id


# --- drift of each live setting, repaired with only the calls it needs -------------------------------


def _dist(path: str, value):
    def change(env):
        cf = env.client("cloudfront")
        dist_id, cfg, etag = the_distribution(cf)
        node = cfg
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
        cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=cfg)
    return change


def _drop_orp(env):
    cf = env.client("cloudfront")
    dist_id, cfg, etag = the_distribution(cf)
    del cfg["DefaultCacheBehavior"]["OriginRequestPolicyId"]
    cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=cfg)


def _policy(kind: str, mutate):
    def change(env):
        cf = env.client("cloudfront")
        pid, cfg, etag = custom_policy(cf, kind)
        mutate(cfg)
        model = {"response_headers": "ResponseHeadersPolicy", "cache": "CachePolicy"}[kind]
        getattr(cf, f"update_{kind}_policy")(Id=pid, IfMatch=etag, **{f"{model}Config": cfg})
    return change


def _cors_max_age(env):
    s3 = env.client("s3")
    rules = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    rules[0]["MaxAgeSeconds"] = 60
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": rules})


def _drop_list_grant(env):
    s3 = env.client("s3")
    doc = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    doc["Statement"] = [s for s in doc["Statement"] if s["Sid"] != "AllowCloudFrontServicePrincipalList"]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(doc))


def _drop_publish_action(env):
    iam = env.client("iam")
    name, policy = "slurm-factory-github-actions", "slurm-factory-buildcache-publish"
    doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
    for st in doc["Statement"]:  # the object statement holds it (bucket and object actions are split)
        acts = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        if "s3:AbortMultipartUpload" in acts:
            st["Action"] = [a for a in acts if a != "s3:AbortMultipartUpload"]
    iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(doc))


def _custom_header(cfg):
    cfg["CustomHeadersConfig"] = {"Quantity": 1, "Items": [{"Header": "X-Debug", "Value": "1", "Override": True}]}


LIVE_DRIFT = [
    ("CORS rule max age", _cors_max_age, "s3_bucket_cors.buildcache  rules:", ["s3:PutBucketCors"]),
    ("CORS deleted", lambda env: env.client("s3").delete_bucket_cors(Bucket=BUCKET), "s3_bucket_cors.buildcache  rules:",
     ["s3:PutBucketCors"]),
    ("response headers max age", _policy("response_headers", lambda c: c["CorsConfig"].update(AccessControlMaxAgeSec=5)),
     "cloudfront_response_headers_policy.buildcache  cors.max_age: expected 3600, actual 5",
     ["cloudfront:UpdateResponseHeadersPolicy"]),
    ("response headers origin override", _policy("response_headers", lambda c: c["CorsConfig"].update(OriginOverride=False)),
     "cloudfront_response_headers_policy.buildcache  cors.origin_override:", ["cloudfront:UpdateResponseHeadersPolicy"]),
    ("response headers custom header added", _policy("response_headers", _custom_header),
     "cloudfront_response_headers_policy.buildcache  custom_headers:", ["cloudfront:UpdateResponseHeadersPolicy"]),
    ("origin request policy detached", _drop_orp,
     "cloudfront_distribution.cdn  default_cache_behavior.origin_request_policy_id:", ["cloudfront:UpdateDistribution"]),
    ("response headers policy detached", _dist("DefaultCacheBehavior.ResponseHeadersPolicyId", ""),
     "cloudfront_distribution.cdn  default_cache_behavior.response_headers_policy_id:", ["cloudfront:UpdateDistribution"]),
    ("OPTIONS no longer cached", _dist("DefaultCacheBehavior.AllowedMethods.CachedMethods",
                                       {"Quantity": 2, "Items": ["GET", "HEAD"]}),
     "cloudfront_distribution.cdn  default_cache_behavior.cached_methods:", ["cloudfront:UpdateDistribution"]),
    ("error response TTL", _dist("CustomErrorResponses", {"Quantity": 1, "Items": [
        {"ErrorCode": 403, "ResponsePagePath": "/404.html", "ResponseCode": "404", "ErrorCachingMinTTL": 300}]}),
     "cloudfront_distribution.cdn  custom_error_responses:", ["cloudfront:UpdateDistribution"]),
    ("Accept out of the cache key", _policy("cache", lambda c: c["ParametersInCacheKeyAndForwardedToOrigin"].update(
        HeadersConfig={"HeaderBehavior": "none", "Headers": {"Quantity": 0}})),
     "cloudfront_cache_policy.buildcache  header_names: expected [\"accept\"], actual []", ["cloudfront:UpdateCachePolicy"]),
    ("cache default TTL", _policy("cache", lambda c: c.update(DefaultTTL=86400)),
     "cloudfront_cache_policy.buildcache  default_ttl: expected 604800, actual 86400", ["cloudfront:UpdateCachePolicy"]),
    ("ListBucket grant removed", _drop_list_grant, "s3_bucket_policy.buildcache  policy", ["s3:PutBucketPolicy"]),
    ("session duration", lambda env: env.client("iam").update_role(RoleName="slurm-factory-github-actions",
                                                                   MaxSessionDuration=3600,
                                                                   Description="Role for GitHub Actions in vantagecompute/slurm-factory"),
     "iam_role.github_actions  max_session_duration: expected 14400, actual 3600", ["iam:UpdateRole"]),
    ("publishing action removed", _drop_publish_action, "iam_role.github_actions  policy", ["iam:PutRolePolicy"]),
]


def test_each_live_setting_drifts_and_is_repaired_with_only_the_calls_it_needs(aws_env, cli, live):
    assert cli("apply", "--auto-approve", file=live).code == 0
    for name, change, line, calls in LIVE_DRIFT:
        change(aws_env)
        r = cli("drift", file=live)
        assert r.code == 2, (name, r.output)
        assert line in r.output, (name, r.output)
        assert r.mutating == [], name
        r = cli("apply", "--auto-approve", file=live)
        assert r.code == 0, (name, r.output)
        assert r.mutating == calls, (name, r.mutating)
        r = cli("drift", file=live)
        assert r.code == 0, (name, r.output)


def test_destroy_deletes_our_policies_after_the_distribution_and_never_the_managed_one(aws_env, cli, live):
    r = cli("apply", "--auto-approve", file=live)
    assert r.code == 0, r.output
    r = cli("destroy", "--force", file=live)
    assert r.code == 0, r.output
    cf_deletes = [m for m in r.mutating if m.startswith("cloudfront:Delete")]
    assert cf_deletes.index("cloudfront:DeleteDistribution") < cf_deletes.index("cloudfront:DeleteResponseHeadersPolicy")
    assert "cloudfront:DeleteOriginRequestPolicy" not in r.mutating
    cf = aws_env.client("cloudfront")
    assert not cf.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"].get("Items")
    managed = cf.list_origin_request_policies(Type="managed")["OriginRequestPolicyList"]["Items"]
    assert CORS_S3_ORIGIN in {m["OriginRequestPolicy"]["Id"] for m in managed}
    # the buildcache (and its CORS rule, which the docs site needs) is retained
    assert aws_env.client("s3").get_bucket_cors(Bucket=BUCKET)["CORSRules"][0]["ID"] == "PublicReadCors"
