"""The sandbox's moto patches: each test states what AWS does (citing the API reference).

Every test here fails on unpatched moto 5.2.1 (see /work/shared/notes/moto-5.2.1.md for what
moto does instead). They run against a patched ``Server`` on 127.0.0.1 with boto3.
"""

from __future__ import annotations

import re
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, WaiterError

from provisioner.sandbox import Server

FAST = Config(retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def server():
    with Server() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server, monkeypatch):
    # Deploys finish quickly unless a test says otherwise.
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "0.2")
    server.reset()
    yield


def client(server, service):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=FAST,
    )


@pytest.fixture
def cf(server):
    return client(server, "cloudfront")


def err(exc_info) -> tuple[str, int]:
    e = exc_info.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def dist_config(ref="ref-1", enabled=True, origins=None, comment="site", alias="cache.example.com"):
    origins = origins or [
        {
            "Id": "s3",
            "DomainName": "site.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
    ]
    return {
        "CallerReference": ref,
        "Comment": comment,
        "Enabled": enabled,
        "Aliases": {"Quantity": 1, "Items": [alias]} if alias else {"Quantity": 0},
        "PriceClass": "PriceClass_100",
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": {
            "TargetOriginId": origins[0]["Id"],
            "ViewerProtocolPolicy": "redirect-to-https",
            "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
        "ViewerCertificate": {
            "ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
            "CloudFrontDefaultCertificate": False,
        },
    }


def create_dist(cf, **kw):
    tags = kw.pop("tags", [{"Key": "stack", "Value": "test"}])
    return cf.create_distribution_with_tags(
        DistributionConfigWithTags={"DistributionConfig": dist_config(**kw), "Tags": {"Items": tags}}
    )


def create_oac(cf, name="oac"):
    return cf.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": name,
            "Description": "d",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )


def create_oai(cf, ref="oai-1", comment="site"):
    return cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig={"CallerReference": ref, "Comment": comment}
    )


# ------------------------------------------------------------------ CloudFront distributions


def test_origin_access_fields_round_trip(cf):
    # AWS: Origin.S3OriginConfig.OriginAccessIdentity ("" when using OAC) and
    # Origin.OriginAccessControlId are part of DistributionConfig and come back as sent
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Origin.html
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_S3OriginConfig.html
    oac_id = create_oac(cf)["OriginAccessControl"]["Id"]
    oai_id = create_oai(cf)["CloudFrontOriginAccessIdentity"]["Id"]
    origins = [
        {
            "Id": "with-oac",
            "DomainName": "a.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": oac_id,
        },
        {
            "Id": "with-oai",
            "DomainName": "b.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": f"origin-access-identity/cloudfront/{oai_id}"},
        },
    ]
    expected = {
        "with-oac": ({"OriginAccessIdentity": ""}, oac_id),
        "with-oai": ({"OriginAccessIdentity": f"origin-access-identity/cloudfront/{oai_id}"}, None),
    }

    def check(origin_list):
        got = {o["Id"]: (o.get("S3OriginConfig"), o.get("OriginAccessControlId")) for o in origin_list}
        assert got == expected

    created = create_dist(cf, origins=origins)
    dist_id = created["Distribution"]["Id"]
    check(created["Distribution"]["DistributionConfig"]["Origins"]["Items"])
    check(cf.get_distribution(Id=dist_id)["Distribution"]["DistributionConfig"]["Origins"]["Items"])
    got = cf.get_distribution_config(Id=dist_id)
    check(got["DistributionConfig"]["Origins"]["Items"])
    check(cf.list_distributions()["DistributionList"]["Items"][0]["Origins"]["Items"])
    updated = cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=got["DistributionConfig"])
    check(updated["Distribution"]["DistributionConfig"]["Origins"]["Items"])


def test_distribution_arn_and_tags(cf):
    # AWS: ARN format arn:aws:cloudfront::account-id:distribution/distribution-id (no region)
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html#amazoncloudfront-resources-for-iam-policies
    # Tags are read/written by that ARN: ListTagsForResource, TagResource, UntagResource
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ListTagsForResource.html
    dist = create_dist(cf, tags=[{"Key": "stack", "Value": "test"}])["Distribution"]
    arn = dist["ARN"]
    assert arn == f"arn:aws:cloudfront::123456789012:distribution/{dist['Id']}"
    assert cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [{"Key": "stack", "Value": "test"}]
    cf.tag_resource(Resource=arn, Tags={"Items": [{"Key": "owner", "Value": "me"}]})
    cf.untag_resource(Resource=arn, TagKeys={"Items": ["stack"]})
    assert cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [{"Key": "owner", "Value": "me"}]
    # AWS: an ARN that names no distribution is NoSuchResource (404)
    with pytest.raises(ClientError) as ei:
        cf.list_tags_for_resource(Resource="arn:aws:cloudfront::123456789012:distribution/ENOPE")
    assert err(ei) == ("NoSuchResource", 404)


def test_list_distributions_summaries_and_paging(cf):
    # AWS: ListDistributions returns DistributionSummary items (Aliases, Comment, Enabled,
    # PriceClass, Origins, DefaultCacheBehavior, ViewerCertificate, Status, ...), MaxItems per
    # page, NextMarker = Id of the last item when IsTruncated, Marker starts after that Id
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ListDistributions.html
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionSummary.html
    empty = cf.list_distributions()["DistributionList"]
    assert empty["Quantity"] == 0 and empty["IsTruncated"] is False and "Items" not in empty
    ids = [create_dist(cf, ref=f"r{i}", comment=f"c{i}", alias="cache.example.com" if i == 0 else f"c{i}.example.com")[
        "Distribution"]["Id"] for i in range(3)]
    page1 = cf.list_distributions(MaxItems="2")["DistributionList"]
    assert page1["IsTruncated"] is True and page1["Quantity"] == 2 and page1["MaxItems"] == 2
    assert page1["NextMarker"] == page1["Items"][-1]["Id"]
    page2 = cf.list_distributions(MaxItems="2", Marker=page1["NextMarker"])["DistributionList"]
    assert page2["IsTruncated"] is False and "NextMarker" not in page2
    assert [d["Id"] for d in page1["Items"] + page2["Items"]] == ids
    s = page1["Items"][0]
    assert s["Aliases"] == {"Quantity": 1, "Items": ["cache.example.com"]}
    assert s["Comment"] == "c0" and s["Enabled"] is True and s["PriceClass"] == "PriceClass_100"
    assert s["Origins"]["Items"][0]["Id"] == "s3"
    assert s["DefaultCacheBehavior"]["TargetOriginId"] == "s3"
    assert s["ViewerCertificate"]["ACMCertificateArn"].endswith("certificate/abc")
    assert s["Status"] in ("InProgress", "Deployed")
    assert {"Id", "ARN", "DomainName", "LastModifiedTime", "Restrictions", "HttpVersion"} <= set(s)
    pages = list(cf.get_paginator("list_distributions").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == 3


def test_an_alias_belongs_to_one_distribution(cf):
    # AWS: CreateDistribution(WithTags) with an alias another distribution has is CNAMEAlreadyExists
    # (409), "The CNAME specified is already defined for CloudFront."; so is UpdateDistribution adding one
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateDistribution.html#API_CreateDistribution_Errors
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html#API_UpdateDistribution_Errors
    first = create_dist(cf)["Distribution"]
    with pytest.raises(ClientError) as e:
        create_dist(cf, ref="ref-2")
    assert err(e) == ("CNAMEAlreadyExists", 409)
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=dist_config(ref="ref-3", alias="CACHE.example.com"))
    assert err(e) == ("CNAMEAlreadyExists", 409)
    assert cf.list_distributions()["DistributionList"]["Quantity"] == 1
    other = create_dist(cf, ref="ref-4", alias="other.example.com")["Distribution"]
    got = cf.get_distribution_config(Id=other["Id"])
    cfg = dict(got["DistributionConfig"], Aliases={"Quantity": 1, "Items": ["cache.example.com"]})
    with pytest.raises(ClientError) as e:
        cf.update_distribution(Id=other["Id"], IfMatch=got["ETag"], DistributionConfig=cfg)
    assert err(e) == ("CNAMEAlreadyExists", 409)
    # a distribution keeps its own alias through an update
    got = cf.get_distribution_config(Id=first["Id"])
    cf.update_distribution(Id=first["Id"], IfMatch=got["ETag"], DistributionConfig=dict(got["DistributionConfig"], Comment="x"))
    # the same request again (its CallerReference: a retried create whose answer was lost) is answered
    # by CallerReference, not CNAMEAlreadyExists (CreateDistribution API reference, CallerReference)
    with pytest.raises(ClientError) as e:
        create_dist(cf)
    assert err(e)[0] == "DistributionAlreadyExists"


def test_etag_changes_and_if_match_checked(cf):
    # AWS: UpdateDistribution/DeleteDistribution need IfMatch = the current ETag; a stale one
    # is PreconditionFailed (412); every update returns a new ETag
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html
    created = create_dist(cf)
    dist_id, etag1 = created["Distribution"]["Id"], created["ETag"]
    cfg = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
    cfg["Comment"] = "changed"
    etag2 = cf.update_distribution(Id=dist_id, IfMatch=etag1, DistributionConfig=cfg)["ETag"]
    assert etag2 != etag1
    assert cf.get_distribution_config(Id=dist_id)["ETag"] == etag2
    with pytest.raises(ClientError) as ei:
        cf.update_distribution(Id=dist_id, IfMatch=etag1, DistributionConfig=cfg)
    assert err(ei) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as ei:
        cf.delete_distribution(Id=dist_id, IfMatch=etag1)
    assert err(ei) == ("PreconditionFailed", 412)


def test_delete_enabled_distribution_refused(cf, monkeypatch):
    # AWS: "You must disable a distribution before you can delete it" and wait until its
    # status is Deployed: otherwise DistributionNotDisabled (409)
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html
    created = create_dist(cf)
    dist_id = created["Distribution"]["Id"]
    with pytest.raises(ClientError) as ei:
        cf.delete_distribution(Id=dist_id, IfMatch=created["ETag"])
    assert err(ei) == ("DistributionNotDisabled", 409)
    got = cf.get_distribution_config(Id=dist_id)
    cfg = got["DistributionConfig"]
    cfg["Enabled"] = False
    etag = cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=cfg)["ETag"]
    cf.get_waiter("distribution_deployed").wait(Id=dist_id, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    cf.delete_distribution(Id=dist_id, IfMatch=etag)
    with pytest.raises(ClientError) as ei:
        cf.get_distribution(Id=dist_id)
    assert err(ei) == ("NoSuchDistribution", 404)


def test_status_in_progress_then_deployed(cf, monkeypatch):
    # AWS: a new or updated distribution is InProgress until the change has propagated, then
    # Deployed; the distribution_deployed waiter polls GetDistribution for that
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Distribution.html
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "0.6")
    created = create_dist(cf)
    assert created["Distribution"]["Status"] == "InProgress"
    dist_id = created["Distribution"]["Id"]
    assert cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "InProgress"
    polls = []
    cf.meta.events.register("before-call.cloudfront.GetDistribution", lambda **kw: polls.append(1))
    cf.get_waiter("distribution_deployed").wait(Id=dist_id, WaiterConfig={"Delay": 0.2, "MaxAttempts": 20})
    assert len(polls) >= 2
    assert cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"


def test_distribution_rejects_unknown_oai_and_caller_reference_change(cf):
    # AWS: an S3OriginConfig.OriginAccessIdentity that is not an existing identity is
    # InvalidOriginAccessIdentity (400); CallerReference cannot be updated (IllegalUpdate 400)
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateDistribution.html#API_CreateDistribution_Errors
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html#API_UpdateDistribution_Errors
    bad = [{"Id": "s3", "DomainName": "b.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": "origin-access-identity/cloudfront/E2QWRUHAPOMQZL"}}]
    with pytest.raises(ClientError) as ei:
        create_dist(cf, origins=bad)
    assert err(ei) == ("InvalidOriginAccessIdentity", 400)
    created = create_dist(cf)
    got = cf.get_distribution_config(Id=created["Distribution"]["Id"])
    cfg = dict(got["DistributionConfig"], CallerReference="other")
    with pytest.raises(ClientError) as ei:
        cf.update_distribution(Id=created["Distribution"]["Id"], IfMatch=got["ETag"], DistributionConfig=cfg)
    assert err(ei) == ("IllegalUpdate", 400)


# ------------------------------------------------------------------ origin access identity


def test_origin_access_identity_api(cf):
    # AWS: CreateCloudFrontOriginAccessIdentity, Get..., Get...Config, List..., Update...,
    # Delete... https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCloudFrontOriginAccessIdentity.html
    created = create_oai(cf, ref="r1", comment="one")
    oai = created["CloudFrontOriginAccessIdentity"]
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["Location"].endswith(f"/origin-access-identity/cloudfront/{oai['Id']}")
    assert re.fullmatch(r"[0-9a-f]{64}", oai["S3CanonicalUserId"])
    assert oai["CloudFrontOriginAccessIdentityConfig"] == {"CallerReference": "r1", "Comment": "one"}
    # Same CallerReference and same config: the existing identity. Different config:
    # CloudFrontOriginAccessIdentityAlreadyExists (409).
    assert create_oai(cf, ref="r1", comment="one")["CloudFrontOriginAccessIdentity"]["Id"] == oai["Id"]
    with pytest.raises(ClientError) as ei:
        create_oai(cf, ref="r1", comment="two")
    assert err(ei) == ("CloudFrontOriginAccessIdentityAlreadyExists", 409)

    got = cf.get_cloud_front_origin_access_identity(Id=oai["Id"])
    assert got["CloudFrontOriginAccessIdentity"]["S3CanonicalUserId"] == oai["S3CanonicalUserId"]
    conf = cf.get_cloud_front_origin_access_identity_config(Id=oai["Id"])
    assert conf["CloudFrontOriginAccessIdentityConfig"]["Comment"] == "one"
    assert conf["ETag"] == created["ETag"]

    # Update with IfMatch: new ETag; stale ETag: PreconditionFailed
    upd = cf.update_cloud_front_origin_access_identity(
        Id=oai["Id"], IfMatch=conf["ETag"],
        CloudFrontOriginAccessIdentityConfig={"CallerReference": "r1", "Comment": "new"},
    )
    assert upd["ETag"] != conf["ETag"]
    assert upd["CloudFrontOriginAccessIdentity"]["CloudFrontOriginAccessIdentityConfig"]["Comment"] == "new"
    with pytest.raises(ClientError) as ei:
        cf.delete_cloud_front_origin_access_identity(Id=oai["Id"], IfMatch=conf["ETag"])
    assert err(ei) == ("PreconditionFailed", 412)

    # List with MaxItems/Marker
    ids = [oai["Id"]] + [create_oai(cf, ref=f"x{i}")["CloudFrontOriginAccessIdentity"]["Id"] for i in range(2)]
    p1 = cf.list_cloud_front_origin_access_identities(MaxItems="2")["CloudFrontOriginAccessIdentityList"]
    assert p1["IsTruncated"] is True and p1["Quantity"] == 2
    p2 = cf.list_cloud_front_origin_access_identities(MaxItems="2", Marker=p1["NextMarker"])[
        "CloudFrontOriginAccessIdentityList"
    ]
    assert p2["IsTruncated"] is False
    assert [i["Id"] for i in p1["Items"] + p2["Items"]] == ids
    assert set(p1["Items"][0]) == {"Id", "S3CanonicalUserId", "Comment"}

    cf.delete_cloud_front_origin_access_identity(Id=oai["Id"], IfMatch=upd["ETag"])
    with pytest.raises(ClientError) as ei:
        cf.get_cloud_front_origin_access_identity(Id=oai["Id"])
    assert err(ei) == ("NoSuchCloudFrontOriginAccessIdentity", 404)


def test_origin_access_identity_in_use(cf):
    # AWS: DeleteCloudFrontOriginAccessIdentity of an identity a distribution still uses is
    # CloudFrontOriginAccessIdentityInUse (409)
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteCloudFrontOriginAccessIdentity.html
    created = create_oai(cf)
    oai_id = created["CloudFrontOriginAccessIdentity"]["Id"]
    create_dist(cf, origins=[{
        "Id": "s3", "DomainName": "b.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": f"origin-access-identity/cloudfront/{oai_id}"},
    }])
    with pytest.raises(ClientError) as ei:
        cf.delete_cloud_front_origin_access_identity(Id=oai_id, IfMatch=created["ETag"])
    assert err(ei) == ("CloudFrontOriginAccessIdentityInUse", 409)


# ------------------------------------------------------------------ origin access control


def test_origin_access_control_config_etag_and_delete(cf):
    # AWS: GetOriginAccessControlConfig returns the config and ETag; UpdateOriginAccessControl
    # and DeleteOriginAccessControl check IfMatch (PreconditionFailed 412) and a missing OAC is
    # NoSuchOriginAccessControl (404)
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetOriginAccessControlConfig.html
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteOriginAccessControl.html
    created = create_oac(cf)
    oac_id, etag1 = created["OriginAccessControl"]["Id"], created["ETag"]
    got = cf.get_origin_access_control_config(Id=oac_id)
    assert got["OriginAccessControlConfig"]["Name"] == "oac"
    assert got["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert got["ETag"] == etag1
    conf = dict(got["OriginAccessControlConfig"], SigningBehavior="no-override")
    etag2 = cf.update_origin_access_control(Id=oac_id, IfMatch=etag1, OriginAccessControlConfig=conf)["ETag"]
    assert etag2 != etag1
    with pytest.raises(ClientError) as ei:
        cf.update_origin_access_control(Id=oac_id, IfMatch=etag1, OriginAccessControlConfig=conf)
    assert err(ei) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as ei:
        cf.delete_origin_access_control(Id=oac_id, IfMatch=etag1)
    assert err(ei) == ("PreconditionFailed", 412)
    cf.delete_origin_access_control(Id=oac_id, IfMatch=etag2)
    with pytest.raises(ClientError) as ei:
        cf.delete_origin_access_control(Id=oac_id, IfMatch=etag2)
    assert err(ei) == ("NoSuchOriginAccessControl", 404)


def test_origin_access_control_in_use_and_unique_name(cf):
    # AWS: DeleteOriginAccessControl of an OAC a distribution uses is OriginAccessControlInUse
    # (409); CreateOriginAccessControl with an existing name is OriginAccessControlAlreadyExists
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateOriginAccessControl.html
    created = create_oac(cf)
    oac_id = created["OriginAccessControl"]["Id"]
    with pytest.raises(ClientError) as ei:
        create_oac(cf)
    assert err(ei) == ("OriginAccessControlAlreadyExists", 409)
    create_dist(cf, origins=[{
        "Id": "s3", "DomainName": "b.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": oac_id,
    }])
    with pytest.raises(ClientError) as ei:
        cf.delete_origin_access_control(Id=oac_id, IfMatch=created["ETag"])
    assert err(ei) == ("OriginAccessControlInUse", 409)


# ------------------------------------------------------------------ monitoring subscription


def test_monitoring_subscription(cf):
    # AWS: Create/Get/DeleteMonitoringSubscription on /2020-05-31/distributions/{Id}/monitoring-subscription;
    # Get/Delete without one is NoSuchMonitoringSubscription (404)
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateMonitoringSubscription.html
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetMonitoringSubscription.html
    dist_id = create_dist(cf)["Distribution"]["Id"]
    with pytest.raises(ClientError) as ei:
        cf.get_monitoring_subscription(DistributionId=dist_id)
    assert err(ei) == ("NoSuchMonitoringSubscription", 404)
    sub = {"RealtimeMetricsSubscriptionConfig": {"RealtimeMetricsSubscriptionStatus": "Enabled"}}
    out = cf.create_monitoring_subscription(DistributionId=dist_id, MonitoringSubscription=sub)
    assert out["MonitoringSubscription"] == sub
    assert cf.get_monitoring_subscription(DistributionId=dist_id)["MonitoringSubscription"] == sub
    cf.delete_monitoring_subscription(DistributionId=dist_id)
    with pytest.raises(ClientError) as ei:
        cf.delete_monitoring_subscription(DistributionId=dist_id)
    assert err(ei) == ("NoSuchMonitoringSubscription", 404)
    with pytest.raises(ClientError) as ei:
        cf.get_monitoring_subscription(DistributionId="ENOSUCHDIST")
    assert err(ei) == ("NoSuchDistribution", 404)


def test_invalidation_completed(cf):
    # AWS: Invalidation.Status is "InProgress" or "Completed"; the invalidation_completed waiter
    # waits for "Completed" https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Invalidation.html
    dist_id = create_dist(cf)["Distribution"]["Id"]
    inv = cf.create_invalidation(
        DistributionId=dist_id, InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "i1"}
    )["Invalidation"]
    assert inv["Status"] in ("InProgress", "Completed")
    cf.get_waiter("invalidation_completed").wait(
        DistributionId=dist_id, Id=inv["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )


# ------------------------------------------------------------------ S3


def test_new_bucket_default_encryption(server):
    # AWS: since 5 January 2023 every bucket has SSE-S3 default encryption; GetBucketEncryption
    # on a new bucket returns AES256, and DeleteBucketEncryption returns the bucket to SSE-S3
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="enc-bucket")
    default = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
    assert s3.get_bucket_encryption(Bucket="enc-bucket")["ServerSideEncryptionConfiguration"] == default
    assert s3.put_object(Bucket="enc-bucket", Key="k", Body=b"x")["ServerSideEncryption"] == "AES256"
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket="enc-bucket", ServerSideEncryptionConfiguration=kms)
    got = s3.get_bucket_encryption(Bucket="enc-bucket")["ServerSideEncryptionConfiguration"]
    assert got["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    s3.delete_bucket_encryption(Bucket="enc-bucket")
    assert s3.get_bucket_encryption(Bucket="enc-bucket")["ServerSideEncryptionConfiguration"] == default


# ------------------------------------------------------------------ CloudWatch


def test_describe_alarms_pagination(server):
    # AWS: DescribeAlarms returns at most MaxRecords alarms (1-100) and a NextToken for the rest
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
    cw = client(server, "cloudwatch")
    names = [f"alarm-{i:03d}" for i in range(7)]
    for name in reversed(names):
        cw.put_metric_alarm(
            AlarmName=name, Namespace="AWS/CloudFront", MetricName="5xxErrorRate",
            Statistic="Average", Period=300, EvaluationPeriods=1, Threshold=5.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    first = cw.describe_alarms(MaxRecords=3)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == names[:3]
    assert first["NextToken"]
    second = cw.describe_alarms(MaxRecords=3, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in second["MetricAlarms"]] == names[3:6]
    pages = list(cw.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 3}))
    assert len(pages) == 3
    assert [a["AlarmName"] for p in pages for a in p["MetricAlarms"]] == names
    assert "NextToken" not in pages[-1]


# ------------------------------------------------------------------ Route 53


def test_list_hosted_zones_by_name_paging(server):
    # AWS: zones sorted by reversed labels (com.example.www); DNSName/HostedZoneId give the
    # start point and every later zone is listed; MaxItems, IsTruncated, NextDNSName,
    # NextHostedZoneId https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByName.html
    r53 = client(server, "route53")
    for i, name in enumerate(["b.example.com", "a.example.com", "example.org", "example.com"]):
        r53.create_hosted_zone(Name=name, CallerReference=f"ref-{i}")
    order = ["example.com.", "a.example.com.", "b.example.com.", "example.org."]
    everything = r53.list_hosted_zones_by_name()
    assert [z["Name"] for z in everything["HostedZones"]] == order
    assert everything["IsTruncated"] is False
    page = r53.list_hosted_zones_by_name(DNSName="a.example.com", MaxItems="2")
    assert [z["Name"] for z in page["HostedZones"]] == order[1:3]
    assert page["IsTruncated"] is True and page["MaxItems"] == "2" and page["DNSName"] == "a.example.com."
    assert page["NextDNSName"] == "example.org."
    nxt = r53.list_hosted_zones_by_name(DNSName=page["NextDNSName"], HostedZoneId=page["NextHostedZoneId"], MaxItems="2")
    assert [z["Name"] for z in nxt["HostedZones"]] == ["example.org."]
    assert nxt["IsTruncated"] is False


def test_create_of_an_existing_record_is_invalid_change_batch(server):
    # AWS: CREATE of a record set that exists fails the whole (atomic) batch with InvalidChangeBatch
    # "Tried to create resource record set [name='x.', type='A'] but it already exists"; a DELETE then a
    # CREATE of it in one batch is a replace https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
    r53 = client(server, "route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]
    rec = {"Name": "www.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": rec}]})
    other = dict(rec, ResourceRecords=[{"Value": "192.0.2.9"}])
    txt = {"Name": "t.example.com", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": '"x"'}]}
    with pytest.raises(ClientError) as e:
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": txt}, {"Action": "CREATE", "ResourceRecordSet": other}]})
    assert err(e)[0] == "InvalidChangeBatch" and "already exists" in e.value.response["Error"]["Message"]
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    assert [s["ResourceRecords"] for s in sets if s["Type"] == "A"] == [[{"Value": "192.0.2.1"}]]
    assert not [s for s in sets if s["Type"] == "TXT"]  # atomic: nothing of the batch was made
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": rec}, {"Action": "CREATE", "ResourceRecordSet": other}]})
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    assert [s["ResourceRecords"] for s in sets if s["Type"] == "A"] == [[{"Value": "192.0.2.9"}]]


def test_change_batch_value_characters_quota(server):
    # AWS: a ChangeResourceRecordSets request holds at most 32,000 characters in all Value elements,
    # each counted twice for an UPSERT (and 1,000 ResourceRecord elements, which moto checks itself)
    # https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests-changeresourcerecordsets
    r53 = client(server, "route53")
    zone = r53.create_hosted_zone(Name="quota.example", CallerReference="q")["HostedZone"]["Id"]

    def txt(i: int, n: int) -> dict:
        return {"Name": f"t{i}.quota.example", "Type": "TXT", "TTL": 60,
                "ResourceRecords": [{"Value": '"' + "x" * 250 + '"'} for _ in range(n)]}

    # 32 records of 4 x 252 characters = 32,256 characters: refused, and nothing is made
    with pytest.raises(ClientError) as e:
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": txt(i, 4)} for i in range(32)]})
    assert err(e)[0] == "InvalidChangeBatch"
    assert not [s for s in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"] if s["Type"] == "TXT"]
    # 16 x 4 x 252 = 16,128 characters: accepted as CREATE, refused as UPSERT (counted twice)
    batch = [{"Action": "CREATE", "ResourceRecordSet": txt(i, 4)} for i in range(16)]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": batch})
    with pytest.raises(ClientError) as e:
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            dict(b, Action="UPSERT") for b in batch]})
    assert err(e)[0] == "InvalidChangeBatch"


# ------------------------------------------------------------------ IAM


def test_oidc_provider_client_ids(server):
    # AWS: AddClientIDToOpenIDConnectProvider (idempotent for an existing id) and
    # RemoveClientIDFromOpenIDConnectProvider (no error for an absent id); unknown provider:
    # NoSuchEntity https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveClientIDFromOpenIDConnectProvider.html
    iam = client(server, "iam")
    arn = iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
    )["OpenIDConnectProviderArn"]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="extra")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="extra")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com", "extra"]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="absent")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["extra"]
    with pytest.raises(ClientError) as ei:
        iam.add_client_id_to_open_id_connect_provider(
            OpenIDConnectProviderArn="arn:aws:iam::123456789012:oidc-provider/nope.example.com", ClientID="x"
        )
    assert err(ei) == ("NoSuchEntity", 404)


# ------------------------------------------------------------------ ACM


def test_acm_certificate_issued_at_once(server, monkeypatch):
    # Sandbox setting (not an AWS behaviour): DNS validation is not simulated, so certificates
    # are ISSUED at once and the certificate_validated waiter returns on its first poll.
    # (Describing a certificate the moment it was requested is AWS's late-visibility case, tested
    # in test_aws_behaviour.py: here it is switched off.)
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", "0")
    acm = client(server, "acm")
    arn = acm.request_certificate(DomainName="cache.example.com", ValidationMethod="DNS")["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    acm.get_waiter("certificate_validated").wait(CertificateArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 1})


# ------------------------------------------------------------------ in-process mock_aws


def test_patches_apply_to_mock_aws(monkeypatch):
    # The patches are in-process, so mock_aws sees them too (AWS_ENDPOINT_URL must be unset,
    # or clients would talk to a server instead of the mock).
    from moto import mock_aws

    from provisioner.sandbox import apply_patches

    apply_patches()
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        cf = boto3.client("cloudfront", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing", config=FAST)
        oai = create_oai(cf)["CloudFrontOriginAccessIdentity"]
        assert cf.get_cloud_front_origin_access_identity(Id=oai["Id"])["CloudFrontOriginAccessIdentity"]["Id"] == oai["Id"]
        dist = create_dist(cf)["Distribution"]
        assert dist["ARN"].startswith("arn:aws:cloudfront::")
        assert dist["DistributionConfig"]["Origins"]["Items"][0]["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_waiter_times_out_while_in_progress(cf, monkeypatch):
    # AWS: the waiter keeps polling while Status is InProgress (long deploys are real)
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "30")
    dist_id = create_dist(cf)["Distribution"]["Id"]
    t = time.monotonic()
    with pytest.raises(WaiterError):
        cf.get_waiter("distribution_deployed").wait(Id=dist_id, WaiterConfig={"Delay": 0.1, "MaxAttempts": 2})
    assert time.monotonic() - t < 5


def test_acm_token_of_a_deleted_certificate_requests_a_new_one(moto_server, monkeypatch):
    """RequestCertificate: one certificate per idempotency token within an hour; never a 500.

    https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html (IdempotencyToken).
    Unpatched moto 5.2.1 answers HTTP 500 (KeyError) when the token's certificate was deleted.
    """
    import boto3
    from botocore.config import Config

    monkeypatch.setenv("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", "0")  # late visibility: test_aws_behaviour.py
    moto_server.reset()
    acm = boto3.client("acm", region_name="us-east-1", endpoint_url=moto_server.url, aws_access_key_id="testing",
                       aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))
    first = acm.request_certificate(DomainName="a.example.com", ValidationMethod="DNS", IdempotencyToken="tok1")
    again = acm.request_certificate(DomainName="a.example.com", ValidationMethod="DNS", IdempotencyToken="tok1")
    assert again["CertificateArn"] == first["CertificateArn"]
    acm.delete_certificate(CertificateArn=first["CertificateArn"])
    new = acm.request_certificate(DomainName="a.example.com", ValidationMethod="DNS", IdempotencyToken="tok1")
    assert new["CertificateArn"] != first["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=new["CertificateArn"])["Certificate"]["DomainName"] == "a.example.com"
