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

import pytest
from botocore.exceptions import ClientError

from provisioner import config, engine, lock
from provisioner.aws import Aws, CallRecorder
from provisioner.errors import ProvisionError
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
    monkeypatch.setenv("PROVISION_SANDBOX_ACM_LIST_SECONDS", "1.5")  # wide: a loaded CI machine is slow
    acm = aws_env.client("acm")
    arn = acm.request_certificate(DomainName="l.example.com", ValidationMethod="DNS")["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["CertificateArn"] == arn
    assert acm.list_certificates()["CertificateSummaryList"] == []
    time.sleep(1.55)
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


# ---------------------------------------------------------------- IAM: eventual consistency


def test_sandbox_iam_is_eventually_consistent(aws_env, monkeypatch):
    """IAM User Guide, troubleshoot_general.html#troubleshoot_general_eventual-consistency: changes
    are replicated and "not always immediately visible"; Terraform reads new roles/providers with
    RetryWhenNewResourceNotFound, waits for GetRole's Arn to stop being the unique id
    (waitRoleARNIsNotUniqueID) and retries DeleteRole on DeleteConflict."""
    W, W_PAST = "1.0", 1.02  # each window; a sleep that ends it
    for k in ("VISIBLE", "ARN", "DELETE_CONFLICT"):
        monkeypatch.setenv(f"PROVISION_SANDBOX_IAM_{k}_SECONDS", W)  # wide: a loaded CI machine is slow
    iam = aws_env.client("iam")
    made = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName="r")
    assert _code(e.value) == "NoSuchEntity"
    time.sleep(W_PAST)
    assert iam.get_role(RoleName="r")["Role"]["Arn"] == made["RoleId"]  # the unique id, not an ARN
    time.sleep(W_PAST)
    assert iam.get_role(RoleName="r")["Role"]["Arn"] == made["Arn"]
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=POLICY)
    with pytest.raises(ClientError) as e:
        iam.get_role_policy(RoleName="r", PolicyName="p")
    assert _code(e.value) == "NoSuchEntity"
    iam.delete_role_policy(RoleName="r", PolicyName="p")
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="r")
    assert _code(e.value) == "DeleteConflict"
    time.sleep(W_PAST)
    iam.delete_role(RoleName="r")

    arn = iam.create_open_id_connect_provider(Url="https://oidc.example.com", ClientIDList=["a"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    with pytest.raises(ClientError) as e:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert _code(e.value) == "NoSuchEntity"
    time.sleep(W_PAST)
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": arn}]


def test_sandbox_deleting_an_unknown_oidc_provider_is_no_such_entity(aws_env):
    """API_DeleteOpenIDConnectProvider.html, Errors: NoSuchEntity (moto 5.2.1 accepts it)."""
    with pytest.raises(ClientError) as e:
        aws_env.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert _code(e.value) == "NoSuchEntity"


def test_apply_from_empty_rides_out_iam_visibility(aws_env, desired_file, monkeypatch):
    """Without the fix the provider created moments ago is not listed: the read after its create finds
    nothing, the role's trust policy has no provider ARN, and the apply stops."""
    monkeypatch.setenv("PROVISION_SANDBOX_IAM_VISIBLE_SECONDS", "0.4")
    ctx, result = plan_apply(desired_file)
    for addr in ("iam_oidc_provider.github", "iam_role.github_actions", "iam_user.admin"):
        assert (addr, "create") in result.done
    assert_converged(result)
    assert ctx.outs["iam_oidc_provider.github"]["arn"] == PROVIDER_ARN
    time.sleep(0.4)
    assert not fresh_plan(desired_file)[0].has_changes


def test_role_arn_output_is_an_arn_right_after_create(aws_env, desired_file, monkeypatch):
    """GetRole can answer the unique id as Arn right after CreateRole; the role's output (what the
    GitHub workflow's role-to-assume is set from) must be the ARN CreateRole answered."""
    monkeypatch.setenv("PROVISION_SANDBOX_IAM_ARN_SECONDS", "5")
    ctx, result = plan_apply(desired_file)
    assert ctx.outs["iam_role.github_actions"]["arn"] == f"arn:aws:iam::123456789012:role/{ROLE}"
    assert_converged(result)


def test_destroy_rides_out_delete_conflict_after_the_inline_policy_goes(aws_env, desired_file, monkeypatch):
    plan_apply(desired_file)
    monkeypatch.setenv("PROVISION_SANDBOX_IAM_DELETE_CONFLICT_SECONDS", "0.3")
    result = destroy(desired_file)  # DeleteConflict without the iam_delete_conflict retry
    assert ("iam_role.github_actions", "delete") in result.done and ("iam_user.admin", "delete") in result.done
    iam = aws_env.client("iam")
    assert iam.list_roles()["Roles"] == [] and iam.list_users()["Users"] == []


def test_deleting_a_provider_already_gone_is_done(aws_env, desired_file):
    """Terraform's OIDC provider delete treats NoSuchEntity as done."""
    from provisioner.reconcilers.iam import OidcProvider

    ctx, _ = _ctx(desired_file)
    OidcProvider(ctx.desired).delete(ctx, {"arn": PROVIDER_ARN})  # NoSuchEntity without the fix


def test_create_role_retries_concurrent_modification(desired_file, monkeypatch):
    """CreateRole lists ConcurrentModification (IAM API reference, Errors); Terraform's retryCreateRole
    retries it. The sandbox cannot provoke it (it needs two IAM writers at once), so the path is tested
    with botocore's Stubber, which checks the requests against the IAM service model."""
    from botocore.stub import Stubber

    from provisioner.reconcilers.iam import GithubRole

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ctx, _ = _ctx(desired_file)
    ctx.outs["iam_oidc_provider.github"] = {"arn": PROVIDER_ARN}
    ctx.outs["s3_bucket.buildcache"] = {"arn": BUCKET_ARN}
    role = GithubRole(ctx.desired)
    desired = role.desired(ctx)
    stub = Stubber(ctx.client("iam"))
    stub.add_client_error("create_role", "ConcurrentModification", "Rate exceeded", http_status_code=409)
    stub.add_response("create_role", {"Role": {
        "Path": "/", "RoleName": ROLE, "RoleId": "AROAEXAMPLEEXAMPLE01", "Arn": f"arn:aws:iam::123456789012:role/{ROLE}",
        "CreateDate": "2026-01-01T00:00:00Z"}})
    stub.add_response("put_role_policy", {}, {"RoleName": ROLE, "PolicyName": ctx.desired.github_role.policy_name,
                                              "PolicyDocument": json.dumps(desired["policy"], separators=(",", ":"))})
    with stub:
        role.create(ctx, desired)
    stub.assert_no_pending_responses()


# ---------------------------------------------------------------- SSM: the apply lock and TooManyUpdates


def test_sandbox_put_parameter_too_many_updates(aws_env, monkeypatch):
    """API_PutParameter.html, Errors: TooManyUpdates, "There are concurrent updates for a resource that
    supports one update at a time"."""
    monkeypatch.setenv("PROVISION_SANDBOX_SSM_UPDATE_SECONDS", "1.0")  # wide: the 2nd write must land inside it
    ssm = aws_env.client("ssm")
    ssm.put_parameter(Name="/x/y", Value="1", Type="String")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/x/y", Value="2", Type="String", Overwrite=False)
    assert _code(e.value) == "TooManyUpdates"
    time.sleep(1.02)
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/x/y", Value="2", Type="String", Overwrite=False)
    assert _code(e.value) == "ParameterAlreadyExists"


def test_lock_contention_during_another_write_is_reported_as_held(aws_env, monkeypatch):
    """Another run just took the lock: our create-if-absent may meet TooManyUpdates first. Without the
    fix that is 'taking the apply lock: TooManyUpdates'; with it, the lock is reported as held."""
    monkeypatch.setenv("PROVISION_SANDBOX_SSM_UPDATE_SECONDS", "0.3")
    # ssm_concurrent_update: 30 s bound -> 6 s, 20 times the window, so a stalled CI machine still
    # retries past the window (0.9 s once ran out inside it under load)
    monkeypatch.setenv("PROVISION_RETRY_SCALE", "0.2")
    name = lock.name_for("sweep")
    ours, theirs = Aws(region="us-east-1").client("ssm"), aws_env.client("ssm")
    for c in (ours, theirs):  # warm both clients so the two writes meet inside the window
        with pytest.raises(ClientError):
            c.get_parameter(Name=name)
    other = {"holder": "ci@elsewhere:1", "host": "elsewhere", "pid": 1, "since": "2026-01-01T00:00:00Z"}
    theirs.put_parameter(Name=name, Value=json.dumps(other), Type="String")
    with pytest.raises(lock.LockHeld) as e:
        lock.Lock(ours, name, "apply").acquire(0)
    assert "ci@elsewhere:1" in str(e.value)


def test_lock_taken_again_right_after_release(aws_env, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_SSM_UPDATE_SECONDS", "0.3")
    monkeypatch.setenv("PROVISION_RETRY_SCALE", "0.2")  # 6 s bound: see the test above
    ssm = Aws(region="us-east-1").client("ssm")
    name = lock.name_for("sweep")
    first = lock.Lock(ssm, name, "apply").acquire(0)
    first.release()
    try:
        second = lock.Lock(ssm, name, "apply").acquire(0)  # TooManyUpdates without the fix
    except ProvisionError as e:  # pragma: no cover - the failure this test is about
        pytest.fail(str(e))
    assert second.held
    second.release()


# ---------------------------------------------------------------- CloudWatch: PutMetricAlarm on new and existing alarms


def test_sandbox_put_metric_alarm_state_and_tags(aws_env):
    """API_PutMetricAlarm.html: a new alarm is INSUFFICIENT_DATA at once; an update leaves the state
    unchanged and ignores Tags ("To change the tags of an existing alarm, use TagResource")."""
    cw = aws_env.client("cloudwatch")
    kw = dict(AlarmName="a", Namespace="AWS/CloudFront", MetricName="5xxErrorRate", Statistic="Average", Period=300,
              EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_alarm(**kw, Tags=[{"Key": "k", "Value": "1"}])
    alarm = cw.describe_alarms(AlarmNames=["a"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    cw.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="test")
    cw.put_metric_alarm(**dict(kw, Threshold=7.0), Tags=[{"Key": "k", "Value": "2"}, {"Key": "new", "Value": "x"}])
    alarm = cw.describe_alarms(AlarmNames=["a"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM" and alarm["Threshold"] == 7.0
    assert cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [{"Key": "k", "Value": "1"}]


def test_alarm_tags_and_definition_repaired_together(aws_env, desired_file):
    """A tag and a threshold changed by hand: one PutMetricAlarm (whose Tags AWS ignores on an existing
    alarm) and one TagResource; without the TagResource the tags never converge."""
    ctx, _ = plan_apply(desired_file)
    assert ctx.outs[f"cloudwatch_alarm.{ALARM}"]["state"] == "INSUFFICIENT_DATA"
    cw = aws_env.client("cloudwatch")
    alarm = cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    cw.tag_resource(ResourceARN=alarm["AlarmArn"], Tags=[{"Key": "Project", "Value": "someone-else"}])
    cw.put_metric_alarm(**{k: alarm[k] for k in ("AlarmName", "Namespace", "MetricName", "Statistic", "Period",
                                                 "EvaluationPeriods", "ComparisonOperator", "Dimensions",
                                                 "AlarmActions", "OKActions")}, Threshold=50.0)
    p, _ = fresh_plan(desired_file)
    change = next(c for c in p.changes if c.address == f"cloudwatch_alarm.{ALARM}")
    assert {"threshold", "tags"} <= {f.path.split(".")[0] for f in change.fields}
    with CallRecorder() as rec:
        _ctx2, result = plan_apply(desired_file)
    assert_converged(result)
    assert sorted(c for c in rec.names(mutating_only=True) if c.startswith("cloudwatch:")) == [
        "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"]
    assert not fresh_plan(desired_file)[0].has_changes


# ---------------------------------------------------------------- Route 53: TXT values


def test_sandbox_route53_refuses_a_txt_value_that_is_not_quoted(aws_env):
    """Route 53 Developer Guide, ResourceRecordTypes.html#TXTFormat: TXT strings are enclosed in double
    quotation marks, 255 characters each; otherwise InvalidChangeBatch (InvalidCharacterString /
    CharacterStringTooLong)."""
    r53 = aws_env.client("route53")

    def upsert(value: str) -> None:
        r53.change_resource_record_sets(HostedZoneId=aws_env.zone_id, ChangeBatch={"Changes": [{
            "Action": "UPSERT", "ResourceRecordSet": {"Name": "t.vantagecompute.ai", "Type": "TXT", "TTL": 60,
                                                      "ResourceRecords": [{"Value": value}]}}]})

    for bad, why in (("v=spf1 -all", "InvalidCharacterString"), ('"' + "x" * 256 + '"', "CharacterStringTooLong")):
        with pytest.raises(ClientError) as e:
            upsert(bad)
        assert _code(e.value) == "InvalidChangeBatch" and why in str(e.value)
    upsert('"v=spf1 -all" "' + "x" * 255 + '"')


def test_plain_txt_values_are_quoted_and_split(aws_env, desired_file):
    long_value = "k=" + "y" * 300
    text = desired_file.read_text().replace(
        "# --- CloudFront", '[[dns.records]]\nname = "spf.vantagecompute.ai"\ntype = "TXT"\nttl = 300\n'
        f'values = ["v=spf1 -all", "{long_value}"]\n\n# --- CloudFront', 1)
    desired_file.write_text(text)
    plan_apply(desired_file)  # InvalidChangeBatch without the fix
    r53 = aws_env.client("route53")
    sets = r53.list_resource_record_sets(HostedZoneId=aws_env.zone_id, StartRecordName="spf.vantagecompute.ai",
                                         StartRecordType="TXT", MaxItems="1")["ResourceRecordSets"]
    values = sorted(r["Value"] for r in sets[0]["ResourceRecords"])
    assert values == sorted(['"v=spf1 -all"', f'"{long_value[:255]}" "{long_value[255:]}"'])
    assert not fresh_plan(desired_file)[0].has_changes
    # The same record written quoted is the same record.
    desired_file.write_text(text.replace('"v=spf1 -all"', '"\\"v=spf1 -all\\""'))
    assert not fresh_plan(desired_file)[0].has_changes
