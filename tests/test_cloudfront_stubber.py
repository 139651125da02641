"""CloudFront paths checked with botocore's Stubber.

Why Stubber here: moto 5.2.1 has no origin access identity API at all (every OAI call is a 404).
The sandbox (``provisioner.sandbox.patches``) emulates it, and ``test_cloudfront.py`` runs the OAI
resource against that emulation; but an emulation we wrote could accept request shapes the real
service rejects. Stubber validates every request (and every canned response) against botocore's
real CloudFront service model, so these tests pin the exact OAI calls and their shapes. The same
goes for ``InvalidViewerCertificate`` right after a certificate is issued, which no sandbox
reproduces (it is a timing behaviour of the real service).
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from provisioner import config
from provisioner.engine import Context
from provisioner.reconcilers import cloudfront as cfrec

ROOT = Path(__file__).resolve().parent.parent
REF = "provision-slurm-factory-oai-buildcache"
COMMENT = "slurm-factory-spack-buildcache-4b670 (provision:slurm-factory)"


class _Aws:
    def __init__(self, client):
        self._client = client

    def client(self, service, region=None):
        assert service == "cloudfront"
        return self._client


@pytest.fixture
def stubbed():
    client = boto3.client("cloudfront", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                          endpoint_url="https://cloudfront.invalid")
    desired = config.load(ROOT / "desired_state.toml")
    with Stubber(client) as stub:
        ctx = Context(desired, _Aws(client), wait=False)
        yield ctx, stub
        stub.assert_no_pending_responses()


def _oai_list(items, next_marker=None):
    body = {"Marker": "", "MaxItems": 100, "IsTruncated": next_marker is not None, "Quantity": len(items),
            "Items": [{"Id": i, "S3CanonicalUserId": f"canon-{i}", "Comment": c} for i, c in items]}
    if next_marker:
        body["NextMarker"] = next_marker
    return {"CloudFrontOriginAccessIdentityList": body}


def test_oai_read_pages_through_the_list_once_and_finds_ours_by_comment(stubbed):
    ctx, stub = stubbed
    stub.add_response("list_cloud_front_origin_access_identities", _oai_list([("E1", "other")], "E1"), {})
    stub.add_response("list_cloud_front_origin_access_identities", _oai_list([("E2", COMMENT)]), {"Marker": "E1"})
    r = cfrec.OriginAccessIdentity()
    live = r.read(ctx)
    assert live == {"id": "E2", "s3_canonical_user_id": "canon-E2", "comment": COMMENT}
    assert r.read(ctx) == live  # memoised: no second list
    assert r.outputs(ctx, live)["iam_arn"] == "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2"


def test_oai_create_request_shape(stubbed):
    ctx, stub = stubbed
    stub.add_response(
        "create_cloud_front_origin_access_identity",
        {"CloudFrontOriginAccessIdentity": {"Id": "E9", "S3CanonicalUserId": "c",
                                            "CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF,
                                                                                     "Comment": COMMENT}},
         "Location": "https://cloudfront.amazonaws.com/2020-05-31/origin-access-identity/cloudfront/E9", "ETag": "A"},
        {"CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF, "Comment": COMMENT}},
    )
    r = cfrec.OriginAccessIdentity()
    r.create(ctx, r.desired(ctx))


def test_oai_create_after_comment_changed_adopts_by_caller_reference_and_restores_comment(stubbed):
    ctx, stub = stubbed
    stub.add_client_error("create_cloud_front_origin_access_identity",
                          service_error_code="CloudFrontOriginAccessIdentityAlreadyExists", http_status_code=409)
    stub.add_response("list_cloud_front_origin_access_identities", _oai_list([("E1", "other"), ("E2", "renamed")]), {})
    stub.add_response("get_cloud_front_origin_access_identity_config",
                      {"CloudFrontOriginAccessIdentityConfig": {"CallerReference": "theirs", "Comment": "other"},
                       "ETag": "X"}, {"Id": "E1"})
    stub.add_response("get_cloud_front_origin_access_identity_config",
                      {"CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF, "Comment": "renamed"},
                       "ETag": "Y"}, {"Id": "E2"})
    # read right before the write, then update with that ETag
    stub.add_response("get_cloud_front_origin_access_identity_config",
                      {"CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF, "Comment": "renamed"},
                       "ETag": "Y"}, {"Id": "E2"})
    stub.add_response(
        "update_cloud_front_origin_access_identity",
        {"CloudFrontOriginAccessIdentity": {"Id": "E2", "S3CanonicalUserId": "c",
                                            "CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF,
                                                                                     "Comment": COMMENT}},
         "ETag": "Z"},
        {"Id": "E2", "IfMatch": "Y",
         "CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF, "Comment": COMMENT}},
    )
    r = cfrec.OriginAccessIdentity()
    r.create(ctx, r.desired(ctx))


def test_oai_update_retries_a_stale_etag_with_a_fresh_read(stubbed):
    ctx, stub = stubbed
    for etag, error in (("OLD", "PreconditionFailed"), ("NEW", None)):
        stub.add_response("get_cloud_front_origin_access_identity_config",
                          {"CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF, "Comment": "x"},
                           "ETag": etag}, {"Id": "E2"})
        params = {"Id": "E2", "IfMatch": etag,
                  "CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF, "Comment": COMMENT}}
        if error:
            stub.add_client_error("update_cloud_front_origin_access_identity", service_error_code=error,
                                  http_status_code=412, expected_params=params)
        else:
            stub.add_response("update_cloud_front_origin_access_identity", {"ETag": "Z"}, params)
    r = cfrec.OriginAccessIdentity()
    r.update(ctx, r.desired(ctx), {"id": "E2"}, ())


def test_oai_ownership_is_the_caller_reference(stubbed):
    ctx, stub = stubbed
    stub.add_response("get_cloud_front_origin_access_identity_config",
                      {"CloudFrontOriginAccessIdentityConfig": {"CallerReference": "someone-else", "Comment": COMMENT},
                       "ETag": "E"}, {"Id": "E2"})
    assert cfrec.OriginAccessIdentity().owned(ctx, {"id": "E2"}) is False


def test_oai_delete_with_etag_retries_while_still_in_use(stubbed):
    ctx, stub = stubbed
    oai = {"CloudFrontOriginAccessIdentity": {"Id": "E2", "S3CanonicalUserId": "c",
                                              "CloudFrontOriginAccessIdentityConfig": {"CallerReference": REF,
                                                                                       "Comment": COMMENT}}}
    stub.add_response("get_cloud_front_origin_access_identity", {**oai, "ETag": "A"}, {"Id": "E2"})
    stub.add_client_error("delete_cloud_front_origin_access_identity",
                          service_error_code="CloudFrontOriginAccessIdentityInUse", http_status_code=409,
                          expected_params={"Id": "E2", "IfMatch": "A"})
    stub.add_response("get_cloud_front_origin_access_identity", {**oai, "ETag": "A"}, {"Id": "E2"})
    stub.add_response("delete_cloud_front_origin_access_identity", {}, {"Id": "E2", "IfMatch": "A"})
    cfrec.OriginAccessIdentity().delete(ctx, {"id": "E2"})


def test_distribution_update_retries_invalid_viewer_certificate_and_sends_a_valid_config(stubbed):
    """Right after ACM issues a certificate CloudFront may answer InvalidViewerCertificate for a
    while: bounded retry, each attempt with a fresh config + ETag. Stubber also validates that the
    config we build (and send back on update) matches the real DistributionConfig shape."""
    ctx, stub = stubbed
    d = cfrec.Distribution(ctx.desired)
    desired = {
        "enabled": True, "aliases": ["slurm-factory-spack-binary-cache.vantagecompute.ai"],
        "comment": "Slurm Factory Spack binary cache", "price_class": "PriceClass_100", "http_version": "http2",
        "ipv6": True, "default_root_object": "",
        "origin": {"domain_name": "b.s3.us-east-1.amazonaws.com",
                   "origin_access_identity": "origin-access-identity/cloudfront/E2", "origin_access_control_id": ""},
        "viewer_certificate": {"acm_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/c",
                               "ssl_support_method": "sni-only", "minimum_protocol_version": "TLSv1.2_2021"},
        "default_cache_behavior": {"viewer_protocol_policy": "redirect-to-https",
                                   "allowed_methods": ["GET", "HEAD", "OPTIONS"], "cached_methods": ["GET", "HEAD"],
                                   "compress": True, "cache_policy_id": "P"},
        "geo_restriction": "none",
        "logging": {"enabled": True, "bucket": "l.s3.amazonaws.com", "prefix": "cloudfront/", "include_cookies": False},
        "custom_error_responses": [{"error_code": 403, "response_code": 404, "response_page_path": "/404.html",
                                    "min_ttl": 10}],
        "tags": {},
    }
    live_cfg = d.build_config(ctx, dict(desired, price_class="PriceClass_All"))
    want = d.build_config(ctx, desired, live_cfg)
    assert want["PriceClass"] == "PriceClass_100" and want["CallerReference"] == live_cfg["CallerReference"]
    for etag, error in (("E1", "InvalidViewerCertificate"), ("E2", None)):
        stub.add_response("get_distribution_config", {"DistributionConfig": live_cfg, "ETag": etag}, {"Id": "D1"})
        params = {"Id": "D1", "IfMatch": etag, "DistributionConfig": want}
        if error:
            stub.add_client_error("update_distribution", service_error_code=error, http_status_code=400,
                                  expected_params=params)
        else:
            stub.add_response("update_distribution", {"ETag": "E3"}, params)
    d.update(ctx, desired, {"id": "D1", "arn": "arn"}, (cfrec.FieldChange("price_class", "PriceClass_All",
                                                                           "PriceClass_100"),))


def test_distribution_create_request_shape_with_tags(stubbed):
    ctx, stub = stubbed
    d = cfrec.Distribution(ctx.desired)
    desired = {
        "enabled": True, "aliases": ["slurm-factory-spack-binary-cache.vantagecompute.ai"], "comment": "c",
        "price_class": "PriceClass_100", "http_version": "http2", "ipv6": True, "default_root_object": "",
        "origin": {"domain_name": "b.s3.us-east-1.amazonaws.com", "origin_access_identity": "",
                   "origin_access_control_id": "OAC1"},
        "viewer_certificate": {"acm_certificate_arn": "arn:c", "ssl_support_method": "sni-only",
                               "minimum_protocol_version": "TLSv1.2_2021"},
        "default_cache_behavior": {"viewer_protocol_policy": "redirect-to-https", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"], "compress": True, "cache_policy_id": "",
                                   "query_string": True, "cookies": "none", "min_ttl": 0, "default_ttl": 86400,
                                   "max_ttl": 31536000},
        "geo_restriction": "none", "logging": {"enabled": False}, "custom_error_responses": [],
        "tags": {"provision:stack": "slurm-factory"},
    }
    stub.add_response(
        "create_distribution_with_tags",
        {"ETag": "E", "Distribution": {
            "Id": "D1", "ARN": "arn:aws:cloudfront::1:distribution/D1", "Status": "InProgress",
            "LastModifiedTime": "2024-01-01T00:00:00Z", "InProgressInvalidationBatches": 0,
            "DomainName": "d.cloudfront.net", "DistributionConfig": d.build_config(ctx, desired)}},
        {"DistributionConfigWithTags": {
            "DistributionConfig": d.build_config(ctx, desired),
            "Tags": {"Items": [{"Key": "provision:stack", "Value": "slurm-factory"}]}}},
    )
    d.create(ctx, desired)
    cfg = d.build_config(ctx, desired)
    origin = cfg["Origins"]["Items"][0]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""} and origin["OriginAccessControlId"] == "OAC1"
    dcb = cfg["DefaultCacheBehavior"]
    assert "CachePolicyId" not in dcb and dcb["ForwardedValues"]["QueryString"] is True and dcb["DefaultTTL"] == 86400
    assert cfg["Logging"] == {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""}
