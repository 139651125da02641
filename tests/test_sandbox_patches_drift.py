"""The sandbox patches issue 18 needed: each test states what AWS does (citing the reference in the
patch's docstring) and fails on unpatched moto 5.2.1 (which answers as the comments say)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from provisioner.sandbox import Server

FAST = Config(retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def server():
    with Server() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server):
    server.reset()


def client(server, service):
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=FAST)


def test_s3_request_payment_is_kept_and_answered(server):
    # moto 5.2.1: GET ?requestPayment lists objects (no Payer); PUT re-creates the bucket
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="pay-bucket")
    assert s3.get_bucket_request_payment(Bucket="pay-bucket")["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket="pay-bucket", RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket="pay-bucket")["Payer"] == "Requester"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_request_payment(Bucket="no-such-bucket-here")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def test_iam_user_permissions_boundary(server):
    # moto 5.2.1: Put/DeleteUserPermissionsBoundary answer HTTP 500 (not implemented)
    iam = client(server, "iam")
    iam.create_user(UserName="u")
    policy = iam.create_policy(PolicyName="edge", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]
    assert "PermissionsBoundary" not in iam.get_user(UserName="u")["User"]
    iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=policy)
    assert iam.get_user(UserName="u")["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": policy}
    iam.delete_user_permissions_boundary(UserName="u")
    assert "PermissionsBoundary" not in iam.get_user(UserName="u")["User"]
    with pytest.raises(ClientError) as e:
        iam.put_user_permissions_boundary(UserName="nobody", PermissionsBoundary=policy)
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary="not-an-arn-but-long-enough")
    assert e.value.response["Error"]["Code"] == "InvalidInput"


def test_aws_managed_policies_exist_and_attach(server):
    # moto 5.2.1: "Policy arn:aws:iam::aws:policy/AdministratorAccess does not exist or is not attachable."
    iam = client(server, "iam")
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert iam.get_policy(PolicyArn=admin)["Policy"]["PolicyName"] == "AdministratorAccess"
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(RoleName="r", PolicyArn=admin)
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == [
        {"PolicyName": "AdministratorAccess", "PolicyArn": admin}]
    server.reset()
    assert iam.get_policy(PolicyArn=admin)["Policy"]["Arn"] == admin  # every account has them, after a reset too


def test_cloudfront_behaviours_keep_function_associations(server):
    # moto 5.2.1: both association lists always come back with Quantity 0
    cf = client(server, "cloudfront")
    fn = {"Quantity": 1, "Items": [{"FunctionARN": "arn:aws:cloudfront::123456789012:function/f",
                                    "EventType": "viewer-request"}]}
    edge = {"Quantity": 1, "Items": [{"LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:e:1",
                                      "EventType": "origin-request", "IncludeBody": False}]}
    cfg = {
        "CallerReference": "ref", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "example.com",
                                              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                                                     "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                                 "FunctionAssociations": fn, "LambdaFunctionAssociations": edge},
    }
    dist = cf.create_distribution(DistributionConfig=cfg)["Distribution"]
    got = cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]["DefaultCacheBehavior"]
    assert got["FunctionAssociations"] == fn
    assert got["LambdaFunctionAssociations"] == edge


def test_ssm_value_sizes_per_tier_and_intelligent_tiering(server):
    # moto 5.2.1: any size in any tier; answers Tier "Intelligent-Tiering"
    ssm = client(server, "ssm")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/p/std", Value="x" * 4097, Type="String")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "4096" in e.value.response["Error"]["Message"]
    small = ssm.put_parameter(Name="/p/it", Value="x" * 100, Type="String", Tier="Intelligent-Tiering")
    assert small["Tier"] == "Standard"
    big = ssm.put_parameter(Name="/p/it", Value="x" * 5000, Type="String", Tier="Intelligent-Tiering", Overwrite=True)
    assert big["Tier"] == "Advanced"
    again = ssm.put_parameter(Name="/p/it", Value="x" * 10, Type="String", Tier="Intelligent-Tiering", Overwrite=True)
    assert again["Tier"] == "Advanced"  # an advanced parameter stays advanced
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/p/it", Value="x" * 8193, Type="String", Tier="Intelligent-Tiering", Overwrite=True)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/p/it", Value="x", Type="String", Tier="Standard", Overwrite=True)
    assert e.value.response["Error"]["Code"] == "ValidationException"  # no way back to standard


def test_tagging_api_lists_cloudtrail_trails(server):
    # AWS: CloudTrail trails are a supported resource type of the Resource Groups Tagging API
    # (supported-services.html: "AWS CloudTrail: trail"); moto 5.2.1's GetResources never lists them
    s3, ct = client(server, "s3"), client(server, "cloudtrail")
    s3.create_bucket(Bucket="trail-logs")
    s3.put_bucket_policy(Bucket="trail-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": "arn:aws:s3:::trail-logs"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::trail-logs/AWSLogs/123456789012/*"}]}))
    arn = ct.create_trail(Name="tagged", S3BucketName="trail-logs",
                          TagsList=[{"Key": "provision:stack", "Value": "s"}])["TrailARN"]
    ct.create_trail(Name="untagged", S3BucketName="trail-logs")
    tg = client(server, "resourcegroupstaggingapi")
    for types in (["cloudtrail:trail"], ["cloudtrail"], None):
        kw = {"ResourceTypeFilters": types} if types else {}
        got = tg.get_resources(TagFilters=[{"Key": "provision:stack", "Values": ["s"]}], **kw)["ResourceTagMappingList"]
        assert [(m["ResourceARN"], m["Tags"]) for m in got] == [(arn, [{"Key": "provision:stack", "Value": "s"}])]
    assert tg.get_resources(TagFilters=[{"Key": "provision:stack", "Values": ["other"]}],
                            ResourceTypeFilters=["cloudtrail:trail"])["ResourceTagMappingList"] == []
    assert tg.get_resources(ResourceTypeFilters=["sns"])["ResourceTagMappingList"] == []  # other types: not trails
