"""CloudFront end to end against the sandbox server: the whole stack from empty, the four steps,
out-of-band drift repaired with one update call, stale ETags, crash-after-create adoption, OAI and
OAC, --no-wait, destroy (disable, wait, delete), and the sandbox's cache-policy API.

The sandbox (``provisioner.sandbox.patches``) emulates what moto 5.2.1 lacks: the OAI and cache
policy APIs, ETags that change with IfMatch checked, InProgress -> Deployed, the S3 origin access
fields echoed. The OAI request shapes are also checked with botocore's Stubber in
``test_cloudfront_stubber.py``.

Most tests run the real CLI with only the S3, ACM, Route 53 and CloudFront resources
(``cdn_stack``) to stay fast; ``test_full_stack_*`` runs every reconciler.
"""

from __future__ import annotations

import json
import re

import pytest

import provisioner.reconcilers as registry
from provisioner import config, engine
from provisioner.aws import Aws, CallRecorder, observe_calls
from provisioner.reconcilers import cloudfront as cfrec

ALIAS = "slurm-factory-spack-binary-cache.vantagecompute.ai"
BUCKET = "slurm-factory-spack-buildcache-4b670"
LOGS = "slurm-factory-spack-buildcache-4b670-logs"
DIST = "cloudfront_distribution.cdn"
POLICY = "cloudfront_cache_policy.buildcache"
CALLER_REF = "provision-slurm-factory-distribution-cdn"
CDN_PREFIXES = ("s3_", "acm_", "route53_", "cloudfront_oai", "cloudfront_oac", "cloudfront_cache", "cloudfront_dist")


@pytest.fixture
def cdn_stack(monkeypatch):
    """Only the resources the distribution needs (S3, ACM, Route 53, CloudFront): fast tests."""
    orig = registry.build

    def build(desired):
        res, unmanaged = orig(desired)
        return [r for r in res if r.address.startswith(CDN_PREFIXES)], unmanaged

    monkeypatch.setattr(registry, "build", build)


def edit(path, pattern: str, repl: str) -> None:
    text = path.read_text()
    new, n = re.subn(pattern, repl, text, count=1, flags=re.M)
    assert n == 1, pattern
    path.write_text(new)


def the_distribution(cf) -> tuple[str, dict, str]:
    items = cf.list_distributions()["DistributionList"].get("Items") or []
    assert len(items) == 1, f"expected exactly one distribution, found {len(items)}"
    got = cf.get_distribution_config(Id=items[0]["Id"])
    return items[0]["Id"], got["DistributionConfig"], got["ETag"]


def oob_update(cf, mutate) -> None:
    """An out-of-band change: read config + ETag, mutate, write back (as a console user would)."""
    dist_id, cfg, etag = the_distribution(cf)
    mutate(cfg)
    cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=cfg)


def cf_calls(result, op: str) -> int:
    return sum(1 for c in result.calls if c.service == "cloudfront" and c.operation == op)


# --------------------------------------------------------------------------- whole stack


def test_full_stack_apply_from_empty_then_plan_is_empty(aws_env, cli):
    r = cli("plan")
    assert r.code == 2 and DIST in r.output and r.mutating == []

    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert "cloudfront:CreateDistributionWithTags" in r.mutating
    assert r.mutating.count("cloudfront:CreateDistributionWithTags") == 1
    assert cf_calls(r, "GetDistribution") >= 1, "apply waits for Deployed"

    cf, acm, s3 = aws_env.client("cloudfront"), aws_env.client("acm"), aws_env.client("s3")
    dist_id, cfg, _ = the_distribution(cf)
    assert cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"
    assert cfg["CallerReference"] == CALLER_REF
    assert cfg["Aliases"]["Items"] == [ALIAS]
    assert cfg["Enabled"] is True and cfg["PriceClass"] == "PriceClass_100" and cfg["IsIPV6Enabled"] is True
    assert cfg["HttpVersion"] == "http2" and cfg["Comment"] == "Slurm Factory Spack binary cache"
    origin = cfg["Origins"]["Items"][0]
    assert origin["DomainName"] == f"{BUCKET}.s3.us-east-1.amazonaws.com"
    oais = cf.list_cloud_front_origin_access_identities()["CloudFrontOriginAccessIdentityList"]["Items"]
    assert len(oais) == 1
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == f"origin-access-identity/cloudfront/{oais[0]['Id']}"
    vc = cfg["ViewerCertificate"]
    cert = acm.describe_certificate(CertificateArn=vc["ACMCertificateArn"])["Certificate"]
    assert cert["Status"] == "ISSUED" and cert["DomainName"] == ALIAS
    assert (vc["SSLSupportMethod"], vc["MinimumProtocolVersion"]) == ("sni-only", "TLSv1.2_2021")
    dcb = cfg["DefaultCacheBehavior"]
    assert dcb["ViewerProtocolPolicy"] == "redirect-to-https" and dcb["Compress"] is True
    assert sorted(dcb["AllowedMethods"]["Items"]) == ["GET", "HEAD", "OPTIONS"]
    assert sorted(dcb["AllowedMethods"]["CachedMethods"]["Items"]) == ["GET", "HEAD"]
    assert "ForwardedValues" not in dcb  # a cache policy, not the legacy settings
    policy = cf.get_cache_policy(Id=dcb["CachePolicyId"])["CachePolicy"]["CachePolicyConfig"]
    assert policy["Name"] == "slurm-factory-buildcache"
    assert (policy["MinTTL"], policy["DefaultTTL"], policy["MaxTTL"]) == (0, 86400, 31536000)
    params = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["EnableAcceptEncodingGzip"] is True and params["EnableAcceptEncodingBrotli"] is True
    assert params["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert params["HeadersConfig"]["HeaderBehavior"] == "none" and params["CookiesConfig"]["CookieBehavior"] == "none"
    assert cfg["Restrictions"]["GeoRestriction"]["RestrictionType"] == "none"
    assert cfg["Logging"] == {"Enabled": True, "IncludeCookies": False, "Bucket": f"{LOGS}.s3.amazonaws.com",
                              "Prefix": "cloudfront/"}
    arn = f"arn:aws:cloudfront::123456789012:distribution/{dist_id}"
    tags = {t["Key"]: t["Value"] for t in cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"]}
    assert tags["provision:stack"] == "slurm-factory" and tags["ManagedBy"] == "provision"

    # The bucket policy grants read to exactly that OAI, nothing public; public access stays blocked.
    doc = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    allows = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert allows == [{
        "Sid": "AllowCloudFrontOriginAccessIdentityRead", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oais[0]['Id']}"},
        "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"]}]
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())

    r = cli("plan")
    assert r.code == 0, r.output
    assert r.mutating == []
    # Batched reads: one list per kind serves the plan, and one config read. The tags come from the
    # stack's one tagging-API walk (reconcilers.tag_index), which shows all of ours on it.
    for op in ("ListDistributions", "ListCachePolicies", "ListCloudFrontOriginAccessIdentities",
               "GetDistributionConfig"):
        assert cf_calls(r, op) == 1, (op, [str(c) for c in r.calls if c.service == "cloudfront"])
    assert cf_calls(r, "ListTagsForResource") == 0

    r = cli("apply", "--auto-approve")
    assert r.code == 0 and r.mutating == [], r.mutating


# --------------------------------------------------------------------------- drift and repair


def _set(path: str, value):
    def mutate(cfg):
        node = cfg
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return mutate


DRIFT = [
    ("price class", _set("PriceClass", "PriceClass_All"), "price_class"),
    ("minimum TLS version", _set("ViewerCertificate.MinimumProtocolVersion", "TLSv1.2_2019"),
     "viewer_certificate.minimum_protocol_version"),
    ("viewer protocol", _set("DefaultCacheBehavior.ViewerProtocolPolicy", "allow-all"),
     "default_cache_behavior.viewer_protocol_policy"),
    ("compression", _set("DefaultCacheBehavior.Compress", False), "default_cache_behavior.compress"),
]


def test_distribution_drift_is_detected_and_repaired_with_one_update(aws_env, cdn_stack, cli):
    """Each out-of-band change in turn (one stack, to keep the test fast): drift exit 2 naming the
    field, read-only; apply repairs it with exactly one UpdateDistribution; drift is then clean."""
    assert cli("apply", "--auto-approve").code == 0
    cf = aws_env.client("cloudfront")
    for name, mutate, field in DRIFT:
        oob_update(cf, mutate)

        r = cli("drift")
        assert r.code == 2, (name, r.output)
        assert f"{DIST}  {field}:" in r.output, (name, r.output)
        assert r.mutating == [], name

        r = cli("apply", "--auto-approve")
        assert r.code == 0, (name, r.output)
        assert r.mutating == ["cloudfront:UpdateDistribution"], (name, r.mutating)
        assert cf_calls(r, "GetDistribution") >= 1, "waits for Deployed after the update"

        r = cli("drift")
        assert r.code == 0, (name, r.output)


def test_cache_policy_ttl_drift_is_repaired_with_one_update(aws_env, cdn_stack, cli):
    assert cli("apply", "--auto-approve").code == 0
    cf = aws_env.client("cloudfront")
    _, cfg, _ = the_distribution(cf)
    pid = cfg["DefaultCacheBehavior"]["CachePolicyId"]
    got = cf.get_cache_policy_config(Id=pid)
    pol = got["CachePolicyConfig"]
    pol["DefaultTTL"] = 3600
    pol["ParametersInCacheKeyAndForwardedToOrigin"]["EnableAcceptEncodingBrotli"] = False
    cf.update_cache_policy(Id=pid, IfMatch=got["ETag"], CachePolicyConfig=pol)

    r = cli("drift")
    assert r.code == 2
    assert f"{POLICY}  default_ttl: expected 86400, actual 3600" in r.output, r.output
    assert f"{POLICY}  brotli:" in r.output
    assert DIST not in r.output  # the distribution still names the same policy

    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert r.mutating == ["cloudfront:UpdateCachePolicy"]
    pol = cf.get_cache_policy_config(Id=pid)["CachePolicyConfig"]
    assert pol["DefaultTTL"] == 86400 and pol["ParametersInCacheKeyAndForwardedToOrigin"]["EnableAcceptEncodingBrotli"]
    assert cli("drift").code == 0


def test_legacy_cache_settings_ttl_drift_on_the_behaviour(aws_env, cdn_stack, cli, desired_file):
    edit(desired_file, r'^policy = "custom".*$', 'policy = "legacy"')
    edit(desired_file, r"^brotli = true$", "brotli = false")
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert not any("CachePolicy" in m for m in r.mutating), "legacy: no cache policy"
    cf = aws_env.client("cloudfront")
    _, cfg, _ = the_distribution(cf)
    dcb = cfg["DefaultCacheBehavior"]
    assert not dcb.get("CachePolicyId")
    assert dcb["ForwardedValues"]["QueryString"] is True and dcb["ForwardedValues"]["Cookies"]["Forward"] == "none"
    assert (dcb["MinTTL"], dcb["DefaultTTL"], dcb["MaxTTL"]) == (0, 86400, 31536000)
    assert cli("plan").code == 0

    oob_update(cf, _set("DefaultCacheBehavior.MaxTTL", 600))
    r = cli("drift")
    assert r.code == 2 and f"{DIST}  default_cache_behavior.max_ttl: expected 31536000, actual 600" in r.output

    r = cli("apply", "--auto-approve")
    assert r.mutating == ["cloudfront:UpdateDistribution"]
    assert cli("drift").code == 0


def test_switching_legacy_to_custom_drops_forwarded_values_in_one_update(aws_env, cdn_stack, cli, desired_file):
    original = desired_file.read_text()
    edit(desired_file, r'^policy = "custom".*$', 'policy = "legacy"')
    edit(desired_file, r"^brotli = true$", "brotli = false")
    assert cli("apply", "--auto-approve").code == 0
    desired_file.write_text(original)
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    # The sandbox refuses ForwardedValues next to a CachePolicyId (as AWS does): one clean update.
    assert r.mutating == ["cloudfront:CreateCachePolicy", "cloudfront:UpdateDistribution"]
    _, cfg, _ = the_distribution(aws_env.client("cloudfront"))
    assert cfg["DefaultCacheBehavior"]["CachePolicyId"] and "ForwardedValues" not in cfg["DefaultCacheBehavior"]
    assert cli("plan").code == 0


def test_aws_filled_defaults_never_show(aws_env):
    """A config as AWS returns it, full of fields the TOML does not declare, normalises to no diff."""
    desired = config.load(registry.__file__.replace("provisioner/reconcilers/__init__.py", "desired_state.toml"))
    d = cfrec.Distribution(desired)
    want = {
        "enabled": True, "aliases": [ALIAS], "comment": "Slurm Factory Spack binary cache", "price_class": "PriceClass_100",
        "http_version": "http2", "ipv6": True, "default_root_object": "",
        "origin": {"domain_name": "b.s3.us-east-1.amazonaws.com", "origin_access_identity":
                   "origin-access-identity/cloudfront/E1", "origin_access_control_id": ""},
        "viewer_certificate": {"acm_certificate_arn": "arn:c", "ssl_support_method": "sni-only",
                               "minimum_protocol_version": "TLSv1.2_2021"},
        "default_cache_behavior": {"viewer_protocol_policy": "redirect-to-https", "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                                   "cached_methods": ["GET", "HEAD"], "compress": True, "cache_policy_id": "P"},
        "geo_restriction": "none", "logging": {"enabled": True, "bucket": "l.s3.amazonaws.com", "prefix": "cloudfront/",
                                               "include_cookies": False},
        "custom_error_responses": [],
    }
    aws_config = {  # shape and defaults of a real GetDistributionConfig answer
        "CallerReference": CALLER_REF, "Aliases": {"Quantity": 1, "Items": [ALIAS]}, "DefaultRootObject": "",
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "s3", "DomainName": "b.s3.us-east-1.amazonaws.com", "OriginPath": "",
            "CustomHeaders": {"Quantity": 0}, "S3OriginConfig": {"OriginAccessIdentity": "origin-access-identity/cloudfront/E1",
                                                                 "OriginReadTimeout": 30},
            "ConnectionAttempts": 3, "ConnectionTimeout": 10, "OriginShield": {"Enabled": False},
            "OriginAccessControlId": ""}]},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3", "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": False, "Quantity": 0}, "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 3, "Items": ["HEAD", "OPTIONS", "GET"],
                               "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
            "SmoothStreaming": False, "Compress": True, "LambdaFunctionAssociations": {"Quantity": 0},
            "FunctionAssociations": {"Quantity": 0}, "FieldLevelEncryptionId": "", "CachePolicyId": "P",
            "GrpcConfig": {"Enabled": False}},
        "CacheBehaviors": {"Quantity": 0}, "CustomErrorResponses": {"Quantity": 0},
        "Comment": "Slurm Factory Spack binary cache",
        "Logging": {"Enabled": True, "IncludeCookies": False, "Bucket": "l.s3.amazonaws.com", "Prefix": "cloudfront/"},
        "PriceClass": "PriceClass_100", "Enabled": True,
        "ViewerCertificate": {"CloudFrontDefaultCertificate": False, "ACMCertificateArn": "arn:c",
                              "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021",
                              "Certificate": "arn:c", "CertificateSource": "acm"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "", "HttpVersion": "http2", "IsIPV6Enabled": True, "ContinuousDeploymentPolicyId": "", "Staging": False,
    }
    assert d.diff(want, d.normalise(aws_config)) == []


# --------------------------------------------------------------------------- safe updates


def test_stale_etag_between_read_and_write_is_retried_not_fatal(aws_env, cdn_stack, cli):
    assert cli("apply", "--auto-approve").code == 0
    cf = aws_env.client("cloudfront")
    oob_update(cf, _set("PriceClass", "PriceClass_200"))

    # Right before our UpdateDistribution goes out (after we read the ETag), someone else updates
    # the distribution: our ETag is stale -> PreconditionFailed -> re-read, retry.
    raced = []

    def race(call):
        if call.service == "cloudfront" and call.operation == "UpdateDistribution" and not raced:
            raced.append(True)
            oob_update(cf, lambda c: c["Origins"]["Items"][0].__setitem__("ConnectionAttempts", 2))

    with observe_calls(race):
        r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert raced
    assert r.mutating == ["cloudfront:UpdateDistribution", "cloudfront:UpdateDistribution"]
    assert cf_calls(r, "GetDistributionConfig") >= 3  # plan read + a fresh read before each write
    _, cfg, _ = the_distribution(cf)
    assert cfg["PriceClass"] == "PriceClass_100"
    # The retry wrote on top of the other writer's change (re-read), not over it with a stale copy.
    assert cfg["Origins"]["Items"][0]["ConnectionAttempts"] == 2
    assert cli("drift").code == 0


def test_no_wait_skips_the_deploy_wait(aws_env, cdn_stack, cli):
    r = cli("apply", "--auto-approve", "--no-wait")
    assert r.code == 0, r.output
    assert "cloudfront:CreateDistributionWithTags" in r.mutating
    assert cf_calls(r, "GetDistribution") == 0  # no distribution_deployed polls


# --------------------------------------------------------------------------- identity, adoption


def test_crash_after_create_then_rerun_adopts_no_twin(aws_env, cdn_stack, cli, monkeypatch):
    class Killed(BaseException):
        """The process dies right after CreateDistributionWithTags returned."""

    def crash(self, ctx, dist_id):
        raise Killed()

    with monkeypatch.context() as m:
        m.setattr(cfrec.Distribution, "_wait", crash)
        with pytest.raises(Killed):
            cli("apply", "--auto-approve")
    cf = aws_env.client("cloudfront")
    first, _, _ = the_distribution(cf)

    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert "cloudfront:CreateDistributionWithTags" not in r.mutating
    assert the_distribution(cf)[0] == first  # found by tag: still exactly one
    assert cli("plan").code == 0


def test_caller_reference_taken_by_an_untagged_distribution_is_adopted(aws_env, cdn_stack, cli):
    """Our CallerReference on a distribution the tag lookup cannot see (no aliases, no tags, other
    comment): create answers DistributionAlreadyExists, and apply adopts that one (no twin)."""
    cf = aws_env.client("cloudfront")
    cf.create_distribution(DistributionConfig={
        "CallerReference": CALLER_REF, "Comment": "half-made", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": f"{BUCKET}.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}, "MinTTL": 0},
    })
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    dist_ops = [m for m in r.mutating if "Distribution" in m or m == "cloudfront:TagResource"]
    assert dist_ops == ["cloudfront:CreateDistributionWithTags", "cloudfront:TagResource",
                        "cloudfront:UpdateDistribution"]
    dist_id, cfg, _ = the_distribution(cf)
    assert cfg["Aliases"]["Items"] == [ALIAS] and cfg["Comment"] == "Slurm Factory Spack binary cache"
    r = cli("plan")
    assert r.code == 0, r.output


def test_foreign_distribution_with_our_alias_but_no_tag_is_not_ours(aws_env, cdn_stack, cli):
    """Another distribution carrying the alias, not tagged ours: CloudFront allows one per alias, so it is
    the one there; it blocks plan and apply (nothing is written) and is never touched nor twinned."""
    cf = aws_env.client("cloudfront")
    cf.create_distribution(DistributionConfig={
        "CallerReference": "someone-else", "Comment": "theirs", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [ALIAS]},
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": f"{BUCKET}.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}, "MinTTL": 0},
    })
    p = cli("plan")
    assert p.code == 1 and "! cloudfront_distribution.cdn  exists, not owned by stack slurm-factory" in p.output
    r = cli("apply", "--auto-approve")
    assert r.code == 1 and "cloudfront_distribution.cdn" in r.output and r.mutating == []
    items = cf.list_distributions()["DistributionList"]["Items"]
    assert len(items) == 1
    theirs = items[0]
    assert cf.get_distribution_config(Id=theirs["Id"])["DistributionConfig"]["DefaultCacheBehavior"][
        "ViewerProtocolPolicy"] == "allow-all"
    assert cf.list_tags_for_resource(Resource=theirs["ARN"])["Tags"].get("Items", []) == []


# --------------------------------------------------------------------------- OAC


def test_origin_access_control_end_to_end(aws_env, cdn_stack, cli, desired_file):
    edit(desired_file, r'^origin_access = "oai".*$', 'origin_access = "oac"')
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert "cloudfront:CreateOriginAccessControl" in r.mutating
    assert not any("OriginAccessIdentity" in m for m in r.mutating)
    cf, s3 = aws_env.client("cloudfront"), aws_env.client("s3")
    dist_id, cfg, _ = the_distribution(cf)
    oacs = cf.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert len(oacs) == 1
    oac = oacs[0]
    assert (oac["Name"], oac["SigningProtocol"], oac["SigningBehavior"], oac["OriginAccessControlOriginType"]) == \
        ("slurm-factory-buildcache", "sigv4", "always", "s3")
    origin = cfg["Origins"]["Items"][0]
    assert origin["OriginAccessControlId"] == oac["Id"]
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""

    # The bucket policy grants the CloudFront service principal, only for this distribution.
    doc = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    allows = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert allows == [{
        "Sid": "AllowCloudFrontServicePrincipalRead", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::123456789012:distribution/{dist_id}"}}}]
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())

    r = cli("plan")
    assert r.code == 0 and r.mutating == [], r.output

    # OAC drift: signing turned to "no-override" out of band.
    got = cf.get_origin_access_control_config(Id=oac["Id"])
    conf = dict(got["OriginAccessControlConfig"], SigningBehavior="no-override")
    cf.update_origin_access_control(Id=oac["Id"], IfMatch=got["ETag"], OriginAccessControlConfig=conf)
    r = cli("drift")
    assert r.code == 2 and "cloudfront_oac.buildcache  signing_behavior:" in r.output
    r = cli("apply", "--auto-approve")
    assert r.mutating == ["cloudfront:UpdateOriginAccessControl"]
    assert cli("drift").code == 0


def test_switching_oai_to_oac_is_one_update_of_the_origin(aws_env, cdn_stack, cli, desired_file):
    assert cli("apply", "--auto-approve").code == 0
    edit(desired_file, r'^origin_access = "oai".*$', 'origin_access = "oac"')
    r = cli("plan")
    assert r.code == 2
    assert "origin" in r.output
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert [m for m in r.mutating if m.startswith("cloudfront:")] == [
        "cloudfront:CreateOriginAccessControl", "cloudfront:UpdateDistribution"]
    assert cli("plan").code == 0


# --------------------------------------------------------------------------- destroy


def test_destroy_disables_waits_and_deletes_with_etag(aws_env, cdn_stack, cli):
    assert cli("apply", "--auto-approve").code == 0
    desired = config.load(str(registry.__file__).replace("provisioner/reconcilers/__init__.py", "desired_state.toml"))
    res = [r for r in registry.build(desired)[0] if r.address.startswith("cloudfront_")]
    ctx = engine.Context(desired, Aws(region="us-east-1"))
    with CallRecorder() as rec:
        p = engine.destroy_plan(ctx, res)
        assert [c.address for c in p.actionable] == [DIST, POLICY, "cloudfront_oai.buildcache"]
        engine.apply(ctx, p, res)
    names = [str(c) for c in rec.calls if c.service == "cloudfront"]
    muts = rec.names(mutating_only=True)
    assert muts == ["cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution", "cloudfront:DeleteCachePolicy",
                    "cloudfront:DeleteCloudFrontOriginAccessIdentity"]
    # disable -> wait (polls) -> delete
    assert names.index("cloudfront:GetDistribution") < names.index("cloudfront:DeleteDistribution")
    cf = aws_env.client("cloudfront")
    assert not cf.list_distributions()["DistributionList"].get("Items")
    assert not cf.list_cache_policies(Type="custom")["CachePolicyList"].get("Items")
    assert not cf.list_cloud_front_origin_access_identities()["CloudFrontOriginAccessIdentityList"].get("Items")


def test_destroy_leaves_a_distribution_not_tagged_ours(aws_env):
    """A distribution with our alias tagged for another stack is not ours: destroy plans nothing."""
    cf = aws_env.client("cloudfront")
    cf.create_distribution_with_tags(DistributionConfigWithTags={"DistributionConfig": {
        "CallerReference": "another", "Comment": "Slurm Factory Spack binary cache", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [ALIAS]},
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": f"{BUCKET}.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}, "MinTTL": 0},
    }, "Tags": {"Items": [{"Key": "provision:stack", "Value": "another-stack"}]}})
    desired = config.load(str(registry.__file__).replace("provisioner/reconcilers/__init__.py", "desired_state.toml"))
    res = [r for r in registry.build(desired)[0] if r.address == DIST]
    ctx = engine.Context(desired, Aws(region="us-east-1"))
    with CallRecorder() as rec:
        p = engine.destroy_plan(ctx, res)
    assert p.actionable == []  # the tag lookup does not take it for ours: nothing to delete
    assert rec.mutating == []
    assert len(cf.list_distributions()["DistributionList"]["Items"]) == 1


# --------------------------------------------------------------------------- sandbox: cache policies


def _policy_config(name="p", ttl=86400):
    return {"Name": name, "Comment": "", "MinTTL": 0, "DefaultTTL": ttl, "MaxTTL": 31536000,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
                "HeadersConfig": {"HeaderBehavior": "none"}, "CookiesConfig": {"CookieBehavior": "none"},
                "QueryStringsConfig": {"QueryStringBehavior": "all"}}}


def test_sandbox_cache_policy_api_behaves_like_aws(aws_env):
    """AWS API reference, CreateCachePolicy/UpdateCachePolicy/DeleteCachePolicy/ListCachePolicies:
    the ETag changes on update, IfMatch must match (PreconditionFailed), names are unique among
    custom policies (CachePolicyAlreadyExists), Type filters managed/custom, a policy in use cannot
    be deleted (CachePolicyInUse), ForwardedValues cannot accompany a CachePolicyId."""
    from botocore.exceptions import ClientError

    cf = aws_env.client("cloudfront")
    created = cf.create_cache_policy(CachePolicyConfig=_policy_config())
    pid, etag = created["CachePolicy"]["Id"], created["ETag"]
    with pytest.raises(ClientError) as e:
        cf.create_cache_policy(CachePolicyConfig=_policy_config())
    assert e.value.response["Error"]["Code"] == "CachePolicyAlreadyExists"
    managed = cf.list_cache_policies(Type="managed")["CachePolicyList"]["Items"]
    assert [m["CachePolicy"]["CachePolicyConfig"]["Name"] for m in managed] == ["Managed-CachingOptimized"]
    assert [i["CachePolicy"]["Id"] for i in cf.list_cache_policies(Type="custom")["CachePolicyList"]["Items"]] == [pid]
    with pytest.raises(ClientError) as e:
        cf.update_cache_policy(Id=pid, IfMatch="STALE", CachePolicyConfig=_policy_config(ttl=60))
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    upd = cf.update_cache_policy(Id=pid, IfMatch=etag, CachePolicyConfig=_policy_config(ttl=60))
    assert upd["ETag"] != etag and cf.get_cache_policy_config(Id=pid)["CachePolicyConfig"]["DefaultTTL"] == 60

    base = {"CallerReference": "r", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]}}
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig={**base, "DefaultCacheBehavior": {
            "TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": pid,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}})
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig={**base, "DefaultCacheBehavior": {
            "TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": "no-such-policy"}})
    assert e.value.response["Error"]["Code"] == "NoSuchCachePolicy"
    cf.create_distribution(DistributionConfig={**base, "DefaultCacheBehavior": {
        "TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": pid}})
    with pytest.raises(ClientError) as e:
        cf.delete_cache_policy(Id=pid, IfMatch=upd["ETag"])
    assert e.value.response["Error"]["Code"] == "CachePolicyInUse"
