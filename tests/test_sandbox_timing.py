"""The sandbox's AWS-like durations (issue 21): Route 53 changes PENDING then INSYNC, ACM DNS
validation that starts only once the validation CNAME exists, CloudFront InProgress then Deployed.

Each test fails on unpatched moto 5.2.1, which answers every change INSYNC at once under one fixed
Id, issues certificates ``MOTO_ACM_VALIDATION_WAIT`` after the request whether or not the CNAME
exists, and answers a distribution Deployed on its first read. Sources are in the patch modules'
docstrings (``provisioner/sandbox/patches/route53.py``, ``acm.py``, ``cloudfront_distribution.py``).
"""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config

from provisioner.sandbox import Server

FAST = Config(retries={"total_max_attempts": 1})
ZONE = "timing.example.com"


@pytest.fixture(scope="module")
def server():
    with Server() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", "0")
    monkeypatch.delenv("PROVISION_SANDBOX_ROUTE53_INSYNC_SECONDS", raising=False)
    monkeypatch.delenv("PROVISION_SANDBOX_ACM_ISSUE_SECONDS", raising=False)
    server.reset()
    yield


def client(server, service):
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=FAST)


def zone(server) -> str:
    r53 = client(server, "route53")
    return r53.create_hosted_zone(Name=ZONE, CallerReference=str(time.time()))["HostedZone"]["Id"]


def upsert(server, zone_id, name, value, rtype="CNAME") -> dict:
    r53 = client(server, "route53")
    return r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT",
        "ResourceRecordSet": {"Name": name, "Type": rtype, "TTL": 300, "ResourceRecords": [{"Value": value}]}}]})


def test_route53_change_is_pending_then_insync(server, monkeypatch):
    # AWS API_GetChange.html: PENDING "is the initial status of all change batch requests", INSYNC
    # once propagated (the Route 53 FAQ: within 60 s); each batch has its own ChangeInfo.Id.
    monkeypatch.setenv("PROVISION_SANDBOX_ROUTE53_INSYNC_SECONDS", "0.6")
    zid = zone(server)
    first = upsert(server, zid, f"a.{ZONE}", "x.example.net")["ChangeInfo"]
    second = upsert(server, zid, f"b.{ZONE}", "y.example.net")["ChangeInfo"]
    assert first["Status"] == "PENDING"
    assert first["Id"] != second["Id"] and first["Id"].startswith("/change/C")
    r53 = client(server, "route53")
    assert r53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "PENDING"
    time.sleep(0.7)
    assert r53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    r53.get_waiter("resource_record_sets_changed").wait(Id=second["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 3})


def test_route53_change_insync_at_once_by_default(server):
    # The default keeps the suite's behaviour: INSYNC in the answer (but still one Id per batch).
    zid = zone(server)
    one, two = (upsert(server, zid, f"{n}.{ZONE}", "x.example.net")["ChangeInfo"] for n in "ab")
    assert one["Status"] == two["Status"] == "INSYNC"
    assert one["Id"] != two["Id"]


def _request(server) -> tuple[str, dict]:
    acm = client(server, "acm")
    arn = acm.request_certificate(DomainName=f"cdn.{ZONE}", ValidationMethod="DNS")["CertificateArn"]
    rr = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]
    return arn, rr


def _status(server, arn) -> str:
    return client(server, "acm").describe_certificate(CertificateArn=arn)["Certificate"]["Status"]


def test_acm_validation_starts_only_when_the_cname_exists(server, monkeypatch):
    # ACM User Guide dns-validation.html: the certificate stays PENDING_VALIDATION until ACM finds
    # the CNAME in DNS; then ISSUED. Unpatched moto issues it on a timer from the request.
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_ISSUE_SECONDS", "0.5")
    zid = zone(server)
    arn, rr = _request(server)
    time.sleep(0.6)
    assert _status(server, arn) == "PENDING_VALIDATION"  # no CNAME yet: the clock has not started
    upsert(server, zid, rr["Name"], rr["Value"])
    assert _status(server, arn) == "PENDING_VALIDATION"  # written, ISSUED 0.5 s later
    time.sleep(0.6)
    assert _status(server, arn) == "ISSUED"
    listed = client(server, "acm").list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]
    assert arn in [c["CertificateArn"] for c in listed]


def test_acm_validation_needs_the_right_value(server, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_ISSUE_SECONDS", "0")
    zid = zone(server)
    arn, rr = _request(server)
    upsert(server, zid, rr["Name"], "_wrong.acm-validations.aws.")
    assert _status(server, arn) == "PENDING_VALIDATION"
    upsert(server, zid, rr["Name"], rr["Value"])
    assert _status(server, arn) == "ISSUED"


def test_cloudfront_create_and_update_in_progress_then_deployed(server, monkeypatch):
    # API_GetDistribution.html Status InProgress | Deployed ("fully propagated to all CloudFront
    # edge locations"); AWS: changes propagate within 5 minutes. Unpatched moto: Deployed at once.
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "0.5")
    cf = client(server, "cloudfront")
    cfg = {"CallerReference": "timing", "Comment": "", "Enabled": True,
           "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "o.s3.amazonaws.com",
                                                 "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
           "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}
    dist = cf.create_distribution(DistributionConfig=cfg)["Distribution"]
    assert dist["Status"] == "InProgress"
    assert cf.get_distribution(Id=dist["Id"])["Distribution"]["Status"] == "InProgress"
    time.sleep(0.6)
    got = cf.get_distribution(Id=dist["Id"])
    assert got["Distribution"]["Status"] == "Deployed"
    new = {**got["Distribution"]["DistributionConfig"], "PriceClass": "PriceClass_100"}
    updated = cf.update_distribution(Id=dist["Id"], IfMatch=got["ETag"], DistributionConfig=new)["Distribution"]
    assert updated["Status"] == "InProgress"
    assert cf.get_distribution(Id=dist["Id"])["Distribution"]["Status"] == "InProgress"
    time.sleep(0.6)
    assert cf.get_distribution(Id=dist["Id"])["Distribution"]["Status"] == "Deployed"
