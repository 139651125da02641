"""The sandbox behaviours issue 15's resources rely on, each as the AWS API reference states it.

New patches (fail on unpatched moto 5.2.1): CloudFront response-headers and origin-request policy
APIs with AWS's managed policies (``patches/cloudfront_headers.py``); S3 bucket metrics
configurations (``patches/s3_metrics.py``); CloudTrail's bucket-policy check, unique names and
missing trails (``patches/cloudtrail.py``). Behaviours moto already has right, pinned here so a
moto upgrade that loses them fails: S3 CORS echo and method check, CloudWatch dashboards.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from provisioner.sandbox import Server

FAST = Config(retries={"total_max_attempts": 1})
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server():
    with Server() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "0.1")
    server.reset()


def client(server, service):
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=FAST)


def code(exc_info) -> tuple[str, int]:
    e = exc_info.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def rhp_config(name="cors", max_age=3600):
    return {"Name": name, "Comment": "c", "CorsConfig": {
        "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["*"]},
        "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["*"]},
        "AccessControlAllowMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"]},
        "AccessControlAllowCredentials": False, "AccessControlMaxAgeSec": max_age, "OriginOverride": True},
        "SecurityHeadersConfig": {"StrictTransportSecurity": {
            "Override": True, "IncludeSubdomains": True, "Preload": False, "AccessControlMaxAgeSec": 63072000}}}


def orp_config(name="orp"):
    return {"Name": name, "Comment": "", "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {
        "Quantity": 1, "Items": ["origin"]}}, "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"}}


def dist_config(behaviour: dict, ref="ref"):
    return {"CallerReference": ref, "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https", **behaviour}}


CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


# --- CloudFront response headers policies ---------------------------------------------------------

def test_response_headers_policy_api_behaves_like_aws(server):
    """CloudFront API reference, Create/Get/GetConfig/List/Update/DeleteResponseHeadersPolicy: the
    config is echoed as sent, the ETag changes on update and a stale IfMatch is PreconditionFailed,
    names are unique (ResponseHeadersPolicyAlreadyExists), Type=custom lists ours only, a policy a
    distribution uses cannot be deleted (ResponseHeadersPolicyInUse), missing is
    NoSuchResponseHeadersPolicy."""
    cf = client(server, "cloudfront")
    made = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=rhp_config())
    pid, etag = made["ResponseHeadersPolicy"]["Id"], made["ETag"]
    assert cf.get_response_headers_policy_config(Id=pid)["ResponseHeadersPolicyConfig"] == rhp_config()
    assert cf.get_response_headers_policy(Id=pid)["ResponseHeadersPolicy"]["Id"] == pid
    with pytest.raises(ClientError) as e:
        cf.create_response_headers_policy(ResponseHeadersPolicyConfig=rhp_config())
    assert code(e)[0] == "ResponseHeadersPolicyAlreadyExists"
    custom = cf.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]["Items"]
    assert [(i["Type"], i["ResponseHeadersPolicy"]["Id"]) for i in custom] == [("custom", pid)]
    with pytest.raises(ClientError) as e:
        cf.update_response_headers_policy(Id=pid, IfMatch="STALE", ResponseHeadersPolicyConfig=rhp_config(max_age=1))
    assert code(e) == ("PreconditionFailed", 412)
    upd = cf.update_response_headers_policy(Id=pid, IfMatch=etag, ResponseHeadersPolicyConfig=rhp_config(max_age=1))
    assert upd["ETag"] != etag
    assert cf.get_response_headers_policy_config(Id=pid)["ResponseHeadersPolicyConfig"]["CorsConfig"][
        "AccessControlMaxAgeSec"] == 1

    cf.create_distribution(DistributionConfig=dist_config({"CachePolicyId": CACHING_OPTIMIZED,
                                                           "ResponseHeadersPolicyId": pid}))
    with pytest.raises(ClientError) as e:
        cf.delete_response_headers_policy(Id=pid, IfMatch=upd["ETag"])
    assert code(e)[0] == "ResponseHeadersPolicyInUse"
    with pytest.raises(ClientError) as e:
        cf.get_response_headers_policy(Id="no-such-id")
    assert code(e)[0] == "NoSuchResponseHeadersPolicy"


def test_managed_response_headers_policies_are_listed_by_name_and_id(server):
    """Developer Guide, "Use managed response headers policies": the names and ids AWS lists with
    Type=managed; managed policies cannot be changed or deleted."""
    cf = client(server, "cloudfront")
    items = cf.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]["Items"]
    got = {i["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Name"]: i["ResponseHeadersPolicy"]["Id"]
           for i in items}
    assert got == {
        "Managed-CORS-and-SecurityHeadersPolicy": "e61eb60c-9c35-4d20-a928-2b84e02af89c",
        "Managed-CORS-With-Preflight": "5cc3b908-e619-4b99-88e5-2cf7f45965bd",
        "Managed-CORS-with-preflight-and-SecurityHeadersPolicy": "eaab4381-ed33-4a86-88ca-d9558dc6cd63",
        "Managed-SecurityHeadersPolicy": "67f7725c-6f97-4210-82d7-5512b31e9d03",
        "Managed-SimpleCORS": "60669652-455b-4ae9-85a4-c4c02393f86c",
    }
    assert all(i["Type"] == "managed" for i in items)
    pid = got["Managed-SimpleCORS"]
    etag = cf.get_response_headers_policy_config(Id=pid)["ETag"]
    with pytest.raises(ClientError) as e:
        cf.delete_response_headers_policy(Id=pid, IfMatch=etag)
    assert code(e)[0] == "IllegalDelete"


# --- CloudFront origin request policies -----------------------------------------------------------

def test_origin_request_policy_api_and_managed_cors_s3_origin(server):
    """CloudFront API reference, *OriginRequestPolicy*, and the Developer Guide's managed list:
    Managed-CORS-S3Origin (88a5eaf4-...) forwards Origin and the Access-Control-Request-* headers."""
    cf = client(server, "cloudfront")
    managed = cf.list_origin_request_policies(Type="managed")["OriginRequestPolicyList"]["Items"]
    by_name = {i["OriginRequestPolicy"]["OriginRequestPolicyConfig"]["Name"]: i["OriginRequestPolicy"] for i in managed}
    s3 = by_name["Managed-CORS-S3Origin"]
    assert s3["Id"] == "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
    assert sorted(s3["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"]["Items"]) == [
        "access-control-request-headers", "access-control-request-method", "origin"]
    assert by_name["Managed-AllViewer"]["Id"] == "216adef6-5c7f-47e4-b989-5492eafa07d3"

    made = cf.create_origin_request_policy(OriginRequestPolicyConfig=orp_config())
    pid, etag = made["OriginRequestPolicy"]["Id"], made["ETag"]
    with pytest.raises(ClientError) as e:
        cf.create_origin_request_policy(OriginRequestPolicyConfig=orp_config())
    assert code(e)[0] == "OriginRequestPolicyAlreadyExists"
    with pytest.raises(ClientError) as e:
        cf.update_origin_request_policy(Id=pid, IfMatch="STALE", OriginRequestPolicyConfig=orp_config())
    assert code(e) == ("PreconditionFailed", 412)
    etag2 = cf.update_origin_request_policy(Id=pid, IfMatch=etag, OriginRequestPolicyConfig=orp_config())["ETag"]
    assert etag2 != etag
    with pytest.raises(ClientError) as e:
        cf.update_origin_request_policy(Id=s3["Id"], IfMatch=cf.get_origin_request_policy_config(Id=s3["Id"])["ETag"],
                                        OriginRequestPolicyConfig=orp_config("x"))
    assert code(e)[0] == "IllegalUpdate"
    cf.delete_origin_request_policy(Id=pid, IfMatch=etag2)
    with pytest.raises(ClientError) as e:
        cf.get_origin_request_policy_config(Id=pid)
    assert code(e)[0] == "NoSuchOriginRequestPolicy"


def test_distributions_check_and_echo_the_policies_they_name(server):
    """CreateDistribution errors: NoSuchOriginRequestPolicy / NoSuchResponseHeadersPolicy for ids
    naming no policy; an origin request policy needs a cache policy beside it (InvalidArgument);
    GetDistributionConfig echoes both ids."""
    cf = client(server, "cloudfront")
    orp = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
    for behaviour, want in (
        ({"CachePolicyId": CACHING_OPTIMIZED, "OriginRequestPolicyId": "nope"}, "NoSuchOriginRequestPolicy"),
        ({"CachePolicyId": CACHING_OPTIMIZED, "ResponseHeadersPolicyId": "nope"}, "NoSuchResponseHeadersPolicy"),
        ({"OriginRequestPolicyId": orp, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
          "MinTTL": 0}, "InvalidArgument"),
    ):
        with pytest.raises(ClientError) as e:
            cf.create_distribution(DistributionConfig=dist_config(behaviour))
        assert code(e)[0] == want, behaviour
    rhp = "60669652-455b-4ae9-85a4-c4c02393f86c"
    d = cf.create_distribution(DistributionConfig=dist_config({"CachePolicyId": CACHING_OPTIMIZED,
                                                               "OriginRequestPolicyId": orp,
                                                               "ResponseHeadersPolicyId": rhp}))
    dcb = cf.get_distribution_config(Id=d["Distribution"]["Id"])["DistributionConfig"]["DefaultCacheBehavior"]
    assert (dcb["OriginRequestPolicyId"], dcb["ResponseHeadersPolicyId"]) == (orp, rhp)


# --- S3 metrics configurations and CORS ----------------------------------------------------------

def test_bucket_metrics_configurations_behave_like_aws(server):
    """S3 API reference, Put/Get/List/DeleteBucketMetricsConfiguration: stored per Id, the filter
    echoed, a missing Id is 404 NoSuchConfiguration (unpatched moto answers an empty configuration
    for any Id and stores nothing)."""
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="metrics-bucket")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_metrics_configuration(Bucket="metrics-bucket", Id="EntireBucket")
    assert code(e) == ("NoSuchConfiguration", 404)
    s3.put_bucket_metrics_configuration(Bucket="metrics-bucket", Id="EntireBucket",
                                        MetricsConfiguration={"Id": "EntireBucket"})
    s3.put_bucket_metrics_configuration(Bucket="metrics-bucket", Id="Docs",
                                        MetricsConfiguration={"Id": "Docs", "Filter": {"Prefix": "docs/"}})
    assert s3.get_bucket_metrics_configuration(Bucket="metrics-bucket", Id="EntireBucket")[
        "MetricsConfiguration"] == {"Id": "EntireBucket"}
    assert s3.get_bucket_metrics_configuration(Bucket="metrics-bucket", Id="Docs")["MetricsConfiguration"] == {
        "Id": "Docs", "Filter": {"Prefix": "docs/"}}
    listed = s3.list_bucket_metrics_configurations(Bucket="metrics-bucket")
    assert [c["Id"] for c in listed["MetricsConfigurationList"]] == ["Docs", "EntireBucket"]
    assert listed["IsTruncated"] is False
    s3.delete_bucket_metrics_configuration(Bucket="metrics-bucket", Id="Docs")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket_metrics_configuration(Bucket="metrics-bucket", Id="Docs")
    assert code(e) == ("NoSuchConfiguration", 404)


def test_bucket_cors_is_echoed_and_checked_as_aws_does(server):
    """S3 API reference, PutBucketCors/GetBucketCors/DeleteBucketCors (moto has these right):
    the rules come back as sent (ID, ExposeHeaders, MaxAgeSeconds), OPTIONS is not an allowed
    method (InvalidRequest), no configuration is NoSuchCORSConfiguration."""
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="cors-bucket")
    rule = {"ID": "PublicReadCors", "AllowedHeaders": ["*"], "AllowedMethods": ["GET", "HEAD"],
            "AllowedOrigins": ["*"], "ExposeHeaders": ["ETag", "x-amz-id-2"], "MaxAgeSeconds": 3600}
    s3.put_bucket_cors(Bucket="cors-bucket", CORSConfiguration={"CORSRules": [rule]})
    assert s3.get_bucket_cors(Bucket="cors-bucket")["CORSRules"] == [rule]
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket="cors-bucket", CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["OPTIONS"], "AllowedOrigins": ["*"]}]})
    assert code(e)[0] == "InvalidRequest"
    s3.delete_bucket_cors(Bucket="cors-bucket")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket="cors-bucket")
    assert code(e)[0] == "NoSuchCORSConfiguration"


# --- CloudTrail ------------------------------------------------------------------------------------

def delivery_policy(bucket: str, prefix: str, trail_arn: str) -> str:
    """CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail"."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": f"arn:aws:s3:::{bucket}", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/{prefix}/AWSLogs/{ACCOUNT}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}}}]})


def test_create_trail_needs_the_delivery_bucket_policy(server):
    """CloudTrail API reference, CreateTrail/UpdateTrail: InsufficientS3BucketPolicyException when
    the bucket policy does not let cloudtrail.amazonaws.com GetBucketAcl and PutObject under
    <prefix>/AWSLogs/<account>/, with aws:SourceArn = this trail (unpatched moto checks nothing)."""
    s3, ct = client(server, "s3"), client(server, "cloudtrail")
    s3.create_bucket(Bucket="trail-logs")
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/audit-trail"
    with pytest.raises(ClientError) as e:
        ct.create_trail(Name="audit-trail", S3BucketName="trail-logs", S3KeyPrefix="cloudtrail")
    assert code(e)[0] == "InsufficientS3BucketPolicyException"
    s3.put_bucket_policy(Bucket="trail-logs", Policy=delivery_policy("trail-logs", "cloudtrail", arn + "-other"))
    with pytest.raises(ClientError) as e:  # the SourceArn condition names another trail
        ct.create_trail(Name="audit-trail", S3BucketName="trail-logs", S3KeyPrefix="cloudtrail")
    assert code(e)[0] == "InsufficientS3BucketPolicyException"
    with pytest.raises(ClientError):
        ct.get_trail(Name="audit-trail")  # a refused create leaves no trail
    s3.put_bucket_policy(Bucket="trail-logs", Policy=delivery_policy("trail-logs", "cloudtrail", arn))
    assert ct.create_trail(Name="audit-trail", S3BucketName="trail-logs", S3KeyPrefix="cloudtrail",
                           EnableLogFileValidation=True)["TrailARN"] == arn
    with pytest.raises(ClientError) as e:  # delivery under another prefix is not granted
        ct.update_trail(Name="audit-trail", S3KeyPrefix="elsewhere")
    assert code(e)[0] == "InsufficientS3BucketPolicyException"
    assert ct.get_trail(Name="audit-trail")["Trail"]["S3KeyPrefix"] == "cloudtrail"


def test_trails_are_unique_missing_ones_are_errors_and_selectors_show(server):
    """CreateTrail of an existing name: TrailAlreadyExistsException; StartLogging/StopLogging/
    DeleteTrail of a missing trail: TrailNotFoundException; GetTrail HasCustomEventSelectors once
    selectors are put; a new trail is not logging until StartLogging."""
    s3, ct = client(server, "s3"), client(server, "cloudtrail")
    s3.create_bucket(Bucket="trail-logs")
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/audit-trail"
    s3.put_bucket_policy(Bucket="trail-logs", Policy=delivery_policy("trail-logs", "ct", arn))
    ct.create_trail(Name="audit-trail", S3BucketName="trail-logs", S3KeyPrefix="ct")
    with pytest.raises(ClientError) as e:
        ct.create_trail(Name="audit-trail", S3BucketName="trail-logs", S3KeyPrefix="ct")
    assert code(e)[0] == "TrailAlreadyExistsException"
    for call in (ct.start_logging, ct.stop_logging, ct.delete_trail):
        with pytest.raises(ClientError) as e:
            call(Name="no-such-trail")
        assert code(e)[0] == "TrailNotFoundException", call
    assert ct.get_trail_status(Name="audit-trail")["IsLogging"] is False
    assert ct.get_trail(Name="audit-trail")["Trail"]["HasCustomEventSelectors"] is False
    ct.put_event_selectors(TrailName="audit-trail", AdvancedEventSelectors=[{"Name": "w", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}])
    assert ct.get_trail(Name="audit-trail")["Trail"]["HasCustomEventSelectors"] is True


# --- CloudWatch dashboards -------------------------------------------------------------------------

def test_dashboards_round_trip_and_missing_is_resource_not_found(server):
    """CloudWatch API reference, PutDashboard/GetDashboard/DeleteDashboards (moto has these right):
    the body comes back as put, the ARN is arn:aws:cloudwatch::ACCOUNT:dashboard/NAME (dashboards are
    global), a missing dashboard is ResourceNotFound (DashboardNotFoundError)."""
    cw = client(server, "cloudwatch")
    body = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2,
                                    "properties": {"markdown": "hi"}}]})
    cw.put_dashboard(DashboardName="ops-board", DashboardBody=body)
    got = cw.get_dashboard(DashboardName="ops-board")
    assert json.loads(got["DashboardBody"]) == json.loads(body)
    assert got["DashboardArn"] == f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/ops-board"
    cw.delete_dashboards(DashboardNames=["ops-board"])
    with pytest.raises(ClientError) as e:
        cw.get_dashboard(DashboardName="ops-board")
    assert code(e)[0] == "ResourceNotFound"
