"""Real AWS, not moto: each behaviour below is how AWS answers (source in each test), reproduced by
the sandbox (provisioner/sandbox/patches/), and the product handles it. docs/aws-behaviour.md lists
them. Each product test fails without its fix: the sandbox would otherwise make it fail."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from provisioner import config, engine, ops
from provisioner.aws import Aws, CallRecorder
from provisioner.reconcilers import build
from provisioner.reconcilers.acm import key_algorithm

BUCKET = "slurm-factory-spack-buildcache-4b670"
LOGS = "slurm-factory-spack-buildcache-4b670-logs"
DOMAIN = "slurm-factory-spack-binary-cache.vantagecompute.ai"


def _code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def plan_apply(desired_file, *, apply: bool = True, wait: bool = True):
    desired = config.load(desired_file)
    ctx = engine.Context(desired, Aws(region=desired.stack.region), wait=wait)
    res, _ = build(desired)
    p = engine.plan(ctx, res)
    result = engine.apply(ctx, p, res) if apply else None
    return ctx, res, p, result


def fresh_plan(desired_file):
    desired = config.load(desired_file)
    ctx = engine.Context(desired, Aws(region=desired.stack.region))
    res, _ = build(desired)
    with CallRecorder() as rec:
        p = engine.plan(ctx, res)
    return p, rec


# ---------------------------------------------------------------- 1. ACM KeyAlgorithm spelling


def test_sandbox_answers_key_algorithm_hyphenated(aws_env, monkeypatch):
    """AWS CLI awscli/examples/acm/describe-certificate.rst: "KeyAlgorithm": "RSA-2048"; the request
    and the ListCertificates keyTypes filter say RSA_2048 (API_RequestCertificate.html)."""
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", "0")
    acm = aws_env.client("acm")
    arn = acm.request_certificate(DomainName="a.example.com", ValidationMethod="DNS", KeyAlgorithm="EC_prime256v1")[
        "CertificateArn"]
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["KeyAlgorithm"] == "EC-prime256v1"
    listed = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]
    assert [s["KeyAlgorithm"] for s in listed] == ["EC-prime256v1"]


@pytest.mark.parametrize("answer", ["RSA-2048", "RSA_2048", "EC-prime256v1", "EC-secp384r1"])
def test_key_algorithm_one_spelling(answer):
    assert key_algorithm(answer) == answer.replace("-", "_")


def test_apply_then_plan_has_no_certificate_replacement(aws_env, desired_file):
    """Without the normalisation every plan on AWS shows a destructive certificate replacement."""
    plan_apply(desired_file)
    p, rec = fresh_plan(desired_file)
    cert = next(c for c in p.changes if c.address == "acm_certificate.cdn")
    assert cert.action == "no-op" and not cert.destructive, cert.fields
    assert not p.has_changes and rec.mutating == []


# ---------------------------------------------------------------- 2. DescribeCertificate just after the request


def test_sandbox_hides_a_new_certificate_for_a_moment(aws_env, monkeypatch):
    """API_DescribeCertificate.html: "If you have just created a certificate using the
    RequestCertificate action, there is a delay of several seconds before you can retrieve
    information about it." """
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", "1")
    acm = aws_env.client("acm")
    arn = acm.request_certificate(DomainName="b.example.com", ValidationMethod="DNS")["CertificateArn"]
    with pytest.raises(ClientError) as e:
        acm.describe_certificate(CertificateArn=arn)
    assert _code(e.value) == "ResourceNotFoundException"
    time.sleep(1.1)
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["CertificateArn"] == arn


def test_apply_from_empty_rides_out_the_late_certificate(aws_env, desired_file, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", "0.5")
    _ctx, _res, _p, result = plan_apply(desired_file)
    assert ("acm_certificate.cdn", "create") in result.done
    p, _rec = fresh_plan(desired_file)
    assert not p.has_changes


# ---------------------------------------------------------------- 3. S3 system tags


def test_sandbox_s3_refuses_a_tag_set_that_drops_system_tags(aws_env):
    """Terraform provider issue #7323 / internal/service/s3/tags.go: PutBucketTagging must carry the
    bucket's aws: tags unchanged ("System tags cannot be removed by requester")."""
    from provisioner.sandbox.patches.s3 import set_system_tags

    s3 = aws_env.client("s3")
    s3.create_bucket(Bucket="cfn-made")
    set_system_tags("cfn-made", {"aws:cloudformation:stack-name": "SlurmFactoryInfraStack"})
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket="cfn-made", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert _code(e.value) == "InvalidTag"
    with pytest.raises(ClientError):
        s3.put_bucket_tagging(Bucket="cfn-made", Tagging={"TagSet": [
            {"Key": "aws:cloudformation:stack-name", "Value": "Other"}]})
    s3.put_bucket_tagging(Bucket="cfn-made", Tagging={"TagSet": [
        {"Key": "aws:cloudformation:stack-name", "Value": "SlurmFactoryInfraStack"}, {"Key": "a", "Value": "b"}]})
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="cfn-made")["TagSet"]}
    assert tags == {"aws:cloudformation:stack-name": "SlurmFactoryInfraStack", "a": "b"}


def test_tag_repair_keeps_system_tags(aws_env, desired_file):
    from provisioner.sandbox.patches.s3 import set_system_tags

    plan_apply(desired_file)
    s3 = aws_env.client("s3")
    set_system_tags(BUCKET, {"aws:cloudformation:logical-id": "BuildcacheBucket"})
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [
        {"Key": "aws:cloudformation:logical-id", "Value": "BuildcacheBucket"}, {"Key": "Project", "Value": "x"}]})
    p, _ = fresh_plan(desired_file)
    assert any(c.address == "s3_bucket.buildcache" and c.action == "update" for c in p.changes)
    plan_apply(desired_file)  # InvalidTag here without the fix
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["aws:cloudformation:logical-id"] == "BuildcacheBucket" and tags["Project"] == "slurm-factory"
    assert not fresh_plan(desired_file)[0].has_changes


# ---------------------------------------------------------------- 4. S3 MalformedPolicy for a new principal


def test_sandbox_s3_refuses_a_principal_that_has_not_propagated(aws_env, monkeypatch):
    """S3 answers MalformedPolicy "Invalid principal in policy" for a principal made moments ago or
    unknown (Terraform's internal/service/s3/bucket_policy.go retries this error)."""
    monkeypatch.setenv("PROVISION_SANDBOX_PRINCIPAL_SECONDS", "1")
    cf, s3 = aws_env.client("cloudfront"), aws_env.client("s3")
    s3.create_bucket(Bucket="p-test")
    oai = cf.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
        "CallerReference": "r", "Comment": "c"})["CloudFrontOriginAccessIdentity"]["Id"]

    def policy(principal: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::p-test/*"}]})

    arn = f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oai}"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket="p-test", Policy=policy(arn))
    assert _code(e.value) == "MalformedPolicy" and "principal" in e.value.response["Error"]["Message"].lower()
    with pytest.raises(ClientError):
        s3.put_bucket_policy(Bucket="p-test", Policy=policy(
            "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E0000000000000"))
    time.sleep(1.1)
    s3.put_bucket_policy(Bucket="p-test", Policy=policy(arn))


def test_bucket_policy_put_waits_for_a_new_oai(aws_env, desired_file, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_PRINCIPAL_SECONDS", "0.5")
    plan_apply(desired_file)  # fails with MalformedPolicy without the s3_principal_propagation retry
    assert not fresh_plan(desired_file)[0].has_changes


# ---------------------------------------------------------------- 5. apply --no-wait on a fresh stack


def test_no_wait_defers_what_needs_the_pending_certificate(aws_env, desired_file, monkeypatch):
    from moto import settings

    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 3600)  # stays PENDING_VALIDATION
    _ctx, _res, _p, result = plan_apply(desired_file, wait=False)
    assert "acm_validation.cdn" in result.deferred
    assert "cloudfront_distribution.cdn" in result.deferred
    assert "acm_validation.cdn.arn" in result.deferred["cloudfront_distribution.cdn"]
    assert not result.unconverged
    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 0)  # issued now: a later apply resumes
    _ctx, _res, _p, result = plan_apply(desired_file)
    assert ("cloudfront_distribution.cdn", "create") in result.done and not result.deferred
    assert not fresh_plan(desired_file)[0].has_changes


def test_cli_no_wait_exits_0_and_says_what_was_deferred(aws_env, cli, monkeypatch):
    from moto import settings

    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 3600)
    r = cli("apply", "--auto-approve", "--no-wait")
    assert r.code == 0, r.output
    assert "Deferred to a later `provision apply` (--no-wait):" in r.output
    assert "cloudfront_distribution.cdn" in r.output


# ---------------------------------------------------------------- 6. saved plans and volatile fields


def test_saved_plan_survives_alarm_state_changes(aws_env, desired_file):
    """Alarms change StateValue by themselves (CloudWatch evaluates them); a saved plan decided on
    the declared fields only must still apply."""
    plan_apply(desired_file)
    p = desired_file.read_text().replace("threshold = 5\n", "threshold = 7\n")
    desired_file.write_text(p)
    saved, _ = fresh_plan(desired_file)
    assert saved.has_changes
    cw = aws_env.client("cloudwatch")
    for name in ("slurm-factory-high-error-rate", "slurm-factory-low-cache-hit"):
        cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
    again, _ = fresh_plan(desired_file)
    assert ops.stale_reasons(saved, again) == []


def test_saved_plan_is_stale_when_a_declared_field_moves(aws_env, desired_file):
    plan_apply(desired_file)
    saved, _ = fresh_plan(desired_file)
    aws_env.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    again, _ = fresh_plan(desired_file)
    assert any(r.startswith("s3_bucket.buildcache") for r in ops.stale_reasons(saved, again))


# ---------------------------------------------------------------- 7. InUseBy clears late after the distribution


def test_sandbox_in_use_by_lists_the_distribution_and_clears_late(aws_env, desired_file, monkeypatch):
    """API_DeleteCertificate.html: a certificate in use cannot be deleted (ResourceInUseException);
    InUseBy keeps a deleted distribution for a while (Terraform's acm certificate.go retries)."""
    plan_apply(desired_file)
    acm = aws_env.client("acm")
    arn = acm.list_certificates()["CertificateSummaryList"][0]["CertificateArn"]
    used = acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"]
    assert len(used) == 1 and ":distribution/" in used[0]
    with pytest.raises(ClientError) as e:
        acm.delete_certificate(CertificateArn=arn)
    assert _code(e.value) == "ResourceInUseException"


def test_destroy_waits_for_in_use_by_to_clear(aws_env, desired_file, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_INUSE_CLEAR_SECONDS", "1.5")
    plan_apply(desired_file)
    desired = config.load(desired_file)
    ctx = engine.Context(desired, Aws(region=desired.stack.region))
    res, _ = build(desired)
    result = engine.apply(ctx, engine.destroy_plan(ctx, res), res)
    assert ("acm_certificate.cdn", "delete") in result.done
    assert aws_env.client("acm").list_certificates()["CertificateSummaryList"] == []


# ---------------------------------------------------------------- 10. the log-delivery ACL grant


def test_log_delivery_grant_is_managed_and_repaired(aws_env, desired_file):
    from provisioner.reconcilers.s3_log_delivery import LOG_DELIVERY_CANONICAL_ID

    plan_apply(desired_file)
    s3 = aws_env.client("s3")
    acl = s3.get_bucket_acl(Bucket=LOGS)
    assert any(g["Grantee"].get("ID") == LOG_DELIVERY_CANONICAL_ID and g["Permission"] == "FULL_CONTROL"
               for g in acl["Grants"])
    owner_only = [g for g in acl["Grants"] if g["Grantee"].get("ID") != LOG_DELIVERY_CANONICAL_ID]
    s3.put_bucket_acl(Bucket=LOGS, AccessControlPolicy={"Grants": owner_only, "Owner": acl["Owner"]})
    p, rec = fresh_plan(desired_file)
    change = next(c for c in p.changes if c.address == "s3_log_delivery.logs")
    assert change.action == "update" and [f.path for f in change.fields] == ["log_delivery_full_control"]
    assert rec.mutating == []
    with CallRecorder() as rec:
        plan_apply(desired_file)
    assert [str(c) for c in rec.mutating] == ["s3:PutBucketAcl"]
    assert not fresh_plan(desired_file)[0].has_changes


# ---------------------------------------------------------------- 9. API length limits in config


@pytest.mark.parametrize(("edit", "path"), [
    ((('name = "slurm-factory"', 'name = "s' + "x" * 62 + '"'),
      ('name = "slurm-factory-spack-buildcache-4b670"', 'name = "' + "b" * 63 + '"')), "stack.name"),
    ((('description = "GitHub Actions (vantagecompute/slurm-factory) publishes the Spack buildcache"',
       'description = "' + "d" * 1001 + '"'),), "github_role.description"),
    ((('description = "CloudFront 5xx error rate above 5% for 10 minutes"', 'description = "' + "d" * 1025 + '"'),),
     "alarms.alarm[0].description"),
])
def test_api_length_limits_are_refused_before_any_call(desired_file, edit, path, cli):
    text = desired_file.read_text()
    for old, new in edit:
        assert old in text
        text = text.replace(old, new, 1)
    desired_file.write_text(text)
    r = cli("plan")
    assert r.code == 1 and f": {path}: expected at most" in r.output.replace("a stack name short enough", "at most")
    assert r.calls == []


def test_cli_saved_plan_applies_after_alarms_change_state(aws_env, cli, desired_file, tmp_path):
    """"Plan in the PR, apply after merge": alarms changing state in between do not make it stale."""
    assert cli("apply", "--auto-approve").code == 0
    desired_file.write_text(desired_file.read_text().replace("threshold = 5\n", "threshold = 6\n"))
    saved = tmp_path / "plan.json"
    r = cli("plan", "-o", str(saved))
    assert r.code == 2, r.output
    cw = aws_env.client("cloudwatch")
    cw.set_alarm_state(AlarmName="slurm-factory-high-error-rate", StateValue="ALARM", StateReason="test")
    cw.set_alarm_state(AlarmName="slurm-factory-low-cache-hit", StateValue="INSUFFICIENT_DATA", StateReason="t")
    r = cli("apply", str(saved))
    assert r.code == 0, r.output
    assert r.mutating == ["cloudwatch:PutMetricAlarm"] or "cloudwatch:PutMetricAlarm" in r.mutating
    assert cli("plan").code == 0


def test_destroy_then_apply_again_from_empty_converges(aws_env, cli):
    assert cli("apply", "--auto-approve").code == 0
    r = cli("destroy", "--force")
    assert r.code == 0, r.output
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    r = cli("plan")
    assert r.code == 0 and r.mutating == [], r.output
    assert cli("drift").code == 0
