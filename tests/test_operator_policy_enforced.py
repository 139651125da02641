"""The printed operator policies, proved with IAM enforcement on.

The sandbox's IAM enforcement (moto's ``INITIAL_NO_AUTH_ACTION_COUNT`` switch, through
``provisioner.sandbox.iam_enforcement()``) evaluates each request's action, resource ARN and
condition keys with the ``iam_authz`` patch (moto alone authorises every non-S3 request against
``"*"`` and ignores Conditions: see that module's docstring). A user holding only the printed
``--apply`` policy applies ``desired_state.toml`` from an empty account and destroys it; the same
user is refused what the policy must not allow. A user holding only ``--read-only`` runs plan,
drift (with the metric), outputs and preflight, and every write it tries is refused.

What the sandbox does not evaluate (so these tests cannot prove it; ``tests/test_operator_policy.py``
proves it on the policy document with the same evaluator): resource-based policies, and the
``aws:ResourceTag`` of a resource created by the very request (CreateDistributionWithTags'
TagResource is evaluated against ``distribution/*`` with the request's tags).
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from botocore.exceptions import ClientError

from tests.conftest import DESIRED, use_clean_sandbox

pytestmark = pytest.mark.long

BUILDCACHE = "slurm-factory-spack-buildcache-4b670"


def _user(iam, name: str, doc: dict) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="provision", PolicyDocument=json.dumps(doc))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


@pytest.fixture(scope="module")
def enforced(moto_server, tmp_path_factory):
    """A clean sandbox with the zone pinned in a copy of desired_state.toml, an unrelated role and
    zone, and two users holding exactly the printed policies; enforcement on for the module."""
    from provisioner.sandbox import iam_enforcement

    tmp = tmp_path_factory.mktemp("enforced")
    mp = pytest.MonkeyPatch()
    zone_id = use_clean_sandbox(moto_server, mp, tmp)
    desired = tmp / "desired_state.toml"
    shutil.copy(DESIRED, desired)
    text = desired.read_text()
    desired.write_text(text.replace('zone = "vantagecompute.ai"', f'zone = "vantagecompute.ai"\nzone_id = "{zone_id}"', 1))
    from tests.conftest import Env

    env = Env(url=moto_server.url, zone_id=zone_id, server=moto_server)
    iam, r53 = env.client("iam"), env.client("route53")
    other_zone = r53.create_hosted_zone(Name="example.org.", CallerReference="other")["HostedZone"]["Id"].split("/")[-1]
    iam.create_role(RoleName="unrelated", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    from typer.testing import CliRunner

    from provisioner.cli import app

    def printed(mode: str) -> dict:
        r = CliRunner().invoke(app, ["policy", mode, "-f", str(desired)], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return json.loads(r.output)

    keys = {"apply": _user(iam, "operator", printed("--apply")), "read": _user(iam, "reader", printed("--read-only"))}
    with iam_enforcement():
        yield {"desired": desired, "keys": keys, "env": env, "other_zone": other_zone, "mp": mp}
    mp.undo()


def _as(enforced, who: str):
    for k, v in enforced["keys"][who].items():
        enforced["mp"].setenv(k, v)


def _run(enforced, who: str, *args: str):
    from typer.testing import CliRunner

    from provisioner.aws import CallRecorder
    from provisioner.cli import app

    _as(enforced, who)
    with CallRecorder() as rec:
        r = CliRunner().invoke(app, [*args, "-f", str(enforced["desired"])], catch_exceptions=False)
    return r.exit_code, r.output, rec.calls


def _client(enforced, who: str, service: str):
    import boto3
    from botocore.config import Config

    k = enforced["keys"][who]
    return boto3.client(service, region_name="us-east-1", endpoint_url=enforced["env"].url,
                        aws_access_key_id=k["AWS_ACCESS_KEY_ID"], aws_secret_access_key=k["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"total_max_attempts": 1}))


def _denied(fn) -> str:
    with pytest.raises(ClientError) as e:
        fn()
    resp = e.value.response
    # JSON/CBOR services get moto's XML error (botocore reads code "403"), an S3 DELETE an empty 403,
    # Route53 moto's IAM-shaped error (the code under Errors)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 403, resp
    assert "AccessDenied" in str(resp) or resp["Error"]["Code"] == "403", resp
    return str(resp["Error"]["Code"])


def test_the_apply_policy_builds_and_destroys_the_stack_and_nothing_else(enforced):
    code, out, calls = _run(enforced, "apply", "apply", "--auto-approve")
    assert code == 0, out
    assert "Apply complete" in out and len([c for c in calls if c.mutating]) > 20
    code, out, _ = _run(enforced, "apply", "plan")
    assert code == 0, out  # converged: every read of the built stack is allowed too

    # the read-only policy: plan, drift (with the metric), outputs, preflight on the built stack
    for args in (("plan",), ("drift",), ("drift", "--publish-metric"), ("outputs",), ("preflight",)):
        code, out, calls = _run(enforced, "read", *args)
        assert code == 0, (args, out)
    # ... and no write: the same apply as the reader is refused at its first write
    _as(enforced, "read")
    desired = enforced["desired"]
    desired.write_text(desired.read_text().replace("noncurrent_days = 90", "noncurrent_days = 91"))
    code, out, calls = _run(enforced, "read", "apply", "--auto-approve")
    assert code == 1 and "AccessDenied" in out, out
    s3 = _client(enforced, "read", "s3")
    _denied(lambda: s3.put_bucket_versioning(Bucket=BUILDCACHE, VersioningConfiguration={"Status": "Suspended"}))
    cw = _client(enforced, "read", "cloudwatch")
    _denied(lambda: cw.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "x", "Value": 1}]))
    _denied(lambda: _client(enforced, "read", "iam").delete_role(RoleName="slurm-factory-github-actions"))
    desired.write_text(desired.read_text().replace("noncurrent_days = 91", "noncurrent_days = 90"))

    # what the apply user must not do, though it just built the stack
    iam = _client(enforced, "apply", "iam")
    admin = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    _denied(lambda: iam.put_user_policy(UserName="operator", PolicyName="x", PolicyDocument=admin))
    _denied(lambda: iam.update_assume_role_policy(RoleName="unrelated", PolicyDocument=admin))
    _denied(lambda: iam.create_role(RoleName="backdoor", AssumeRolePolicyDocument=admin))
    _denied(lambda: iam.create_access_key(UserName="james"))
    r53 = _client(enforced, "apply", "route53")
    change = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "www.example.org", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]}
    _denied(lambda: r53.change_resource_record_sets(HostedZoneId=enforced["other_zone"], ChangeBatch=change))
    apex = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "vantagecompute.ai", "Type": "MX", "TTL": 60, "ResourceRecords": [{"Value": "10 mail.evil.example"}]}}]}
    _denied(lambda: r53.change_resource_record_sets(HostedZoneId=enforced["env"].zone_id, ChangeBatch=apex))
    s3w = _client(enforced, "apply", "s3")
    _denied(lambda: s3w.delete_bucket(Bucket=BUILDCACHE))
    _denied(lambda: s3w.put_object(Bucket=BUILDCACHE, Key="evil", Body=b"x"))

    code, out, _ = _run(enforced, "apply", "destroy", "--force")
    assert code == 0, out
    assert re.search(r"Destroy complete: \d+ resources deleted", out), out
    # gone but for what destroy keeps (the buildcache bucket and its policy are retained)
    code, out, _ = _run(enforced, "apply", "plan")
    assert code == 2, out


def test_the_sandbox_authorises_like_iam(enforced):
    """What the iam_authz patch changes in moto, each shown by a call the reader's policy allows only
    under IAM's names and resources (moto alone refuses or mis-signs every one of them)."""
    s3 = _client(enforced, "read", "s3")
    s3.head_bucket(Bucket=BUILDCACHE)  # IAM: s3:ListBucket (moto: s3:HeadBucket, granted to nobody)
    _denied(lambda: s3.head_bucket(Bucket="someone-elses-bucket"))
    cw = _client(enforced, "read", "cloudwatch")
    cw.describe_alarms(AlarmNames=["slurm-factory-high-error-rate"])  # cloudwatch: (moto: monitoring:)
    cf = _client(enforced, "read", "cloudfront")
    arn = "arn:aws:cloudfront::123456789012:distribution/ENOSUCH"
    with pytest.raises(ClientError) as e:  # a GET whose query is percent-encoded: signed as sent
        cf.list_tags_for_resource(Resource=arn)
    assert e.value.response["Error"]["Code"] == "NoSuchResource", e.value.response
    r53 = _client(enforced, "read", "route53")
    r53.get_hosted_zone(Id=enforced["env"].zone_id)  # a REST GET: an empty payload is signed
    _denied(lambda: r53.get_hosted_zone(Id=enforced["other_zone"]))  # hostedzone/<id>, not "*"
