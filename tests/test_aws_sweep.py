"""Real AWS, the sweep of issue 17: every response field and error the product reads, checked against
AWS (docs/aws-behaviour.md lists them with sources). Each difference found is reproduced by the sandbox
(provisioner/sandbox/patches/) and tested twice here: the sandbox answers as AWS does (citing the
source), and the product handles it (that test fails without the product fix).

Eventual-consistency windows are off in the sandbox unless a test sets them (the suite's own direct
boto3 checks read what they just wrote); the tests below set them.
"""

from __future__ import annotations

import json
import time

from botocore.exceptions import ClientError

from provisioner import config, engine
from provisioner.aws import Aws, CallRecorder
from provisioner.reconcilers import build

ROLE = "slurm-factory-github-actions"
USER = "james"
ALARM = "slurm-factory-high-error-rate"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
BUCKET_ARN = "arn:aws:s3:::slurm-factory-spack-buildcache-4b670"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def _ctx(desired_file, *, wait: bool = True):
    desired = config.load(desired_file)
    ctx = engine.Context(desired, Aws(region=desired.stack.region), wait=wait)
    res, _ = build(desired)
    return ctx, res


def plan_apply(desired_file):
    ctx, res = _ctx(desired_file)
    p = engine.plan(ctx, res)
    result = engine.apply(ctx, p, res)
    return ctx, result


def fresh_plan(desired_file):
    ctx, res = _ctx(desired_file)
    with CallRecorder() as rec:
        p = engine.plan(ctx, res)
    return p, rec


def destroy(desired_file):
    ctx, res = _ctx(desired_file)
    return engine.apply(ctx, engine.destroy_plan(ctx, res), res)


def assert_converged(result):
    assert not result.unconverged, [(c.address, [f.path for f in c.fields]) for c in result.unconverged]


# ---------------------------------------------------------------- ACM: ListCertificates lags RequestCertificate


def test_sandbox_list_certificates_can_lag_behind_a_request(aws_env, monkeypatch):
    """API_DescribeCertificate.html: "there is a delay of several seconds" before information about a
    new certificate can be retrieved; ListCertificates is an index that may show it later still
    (Terraform's certificate.go keeps RequestCertificate's ARN and never lists)."""
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", "0")
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_LIST_SECONDS", "0.5")
    acm = aws_env.client("acm")
    arn = acm.request_certificate(DomainName="l.example.com", ValidationMethod="DNS")["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["CertificateArn"] == arn
    assert acm.list_certificates()["CertificateSummaryList"] == []
    time.sleep(0.55)
    assert [s["CertificateArn"] for s in acm.list_certificates()["CertificateSummaryList"]] == [arn]


def test_apply_from_empty_uses_the_requested_certificate_arn(aws_env, desired_file, monkeypatch):
    """Without it the read after the request finds no certificate: the validation records' names are
    unknown and the apply stops ("a value it depends on is still unknown")."""
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_LIST_SECONDS", "1.5")
    ctx, result = plan_apply(desired_file)
    assert ("acm_certificate.cdn", "create") in result.done and ("cloudfront_distribution.cdn", "create") in result.done
    assert_converged(result)
    assert ctx.outs["acm_certificate.cdn"]["arn"].startswith("arn:aws:acm:us-east-1:")
    time.sleep(1.5)
    assert not fresh_plan(desired_file)[0].has_changes


def test_deleting_a_certificate_that_is_already_gone_is_done(aws_env, desired_file, monkeypatch):
    """Terraform's certificate delete treats ResourceNotFoundException as done; a certificate deleted
    between the destroy's read and its delete must not fail the destroy."""
    from provisioner.reconcilers.acm import AcmCertificate

    monkeypatch.setenv("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", "0")
    acm = aws_env.client("acm")
    arn = acm.request_certificate(DomainName="gone.vantagecompute.ai", ValidationMethod="DNS")["CertificateArn"]
    acm.delete_certificate(CertificateArn=arn)
    ctx, _ = _ctx(desired_file)
    AcmCertificate(ctx.desired).delete(ctx, {"arn": arn})  # ResourceNotFoundException without the fix
