"""Orphans (issue 18): things tagged provision:stack=<stack> that the desired state no longer names.

`plan` and `drift` list them ("orphans" in JSON: type, ARN, name, why); `plan --prune` shows the
ones prune may delete as deletions and `apply --prune` deletes them with destroy's protections:
only what the apply record proves ours (a foreign resource with our tag copied onto it by hand is
listed, never deleted), never a bucket. Every command is a separate process against the sandbox.
"""

from __future__ import annotations

import json

import pytest

from tests.stack_processes import stack

ALARM = "slurm-factory-low-cache-hit"
ALARM_ARN = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{ALARM}"
TOPIC = "slurm-factory-alarms"
LOGS = "slurm-factory-spack-buildcache-4b670-logs"
OURS = [{"Key": "provision:stack", "Value": "slurm-factory"}, {"Key": "ManagedBy", "Value": "provision"}]


@pytest.fixture(scope="module")
def st(tmp_path_factory):
    yield from stack(tmp_path_factory.mktemp("orphans"))


@pytest.fixture
def seed(st):
    """Each test starts from the seed's desired state, converged."""
    st.restore()
    assert st.run("apply", "--auto-approve").returncode == 0
    yield st
    st.restore()


def _drop_alarm(st) -> None:
    """The alarm's block out of the file, and its name out of the dashboard's alarm list."""
    text = st.desired.read_text()
    start = text.index(f'[[alarms.alarm]]\nname = "{ALARM}"')
    end = text.index("[[alarms.alarm]]", start + 1)
    text = text[:start] + text[end:]
    st.desired.write_text(text.replace(f', "{ALARM}"', ""))
    # the dashboard's alarm widget changes with it: applied without --prune, which keeps the alarm
    assert st.apply() == ["cloudwatch:PutDashboard"]
    assert st.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]


def test_an_alarm_removed_from_the_file_is_an_orphan_and_apply_prune_deletes_it(seed):
    st = seed
    _drop_alarm(st)

    code, plan = st.json("plan")
    assert code == 0, plan  # without --prune nothing would change
    [o] = plan["orphans"]
    assert (o["address"], o["type"], o["arn"], o["ours"], o["deletable"]) == (
        f"cloudwatch_alarm.{ALARM}", "CloudWatch alarm", ALARM_ARN, True, True)
    assert "not named by" in o["why"] and "provision:stack=slurm-factory" in o["why"]

    code, drift = st.json("drift")
    assert code == 2 and [x["arn"] for x in drift["orphans"]] == [ALARM_ARN] and drift["drift"] == []
    text = st.run("drift").stdout
    assert "orphan (CloudWatch alarm slurm-factory-low-cache-hit)" in text and "apply --prune deletes it" in text

    r = st.run("plan", "--prune")
    assert r.returncode == 2 and f"- cloudwatch_alarm.{ALARM}  will be DELETED  # DESTRUCTIVE" in r.stdout, r.stdout

    assert st.apply("--prune") == ["cloudwatch:DeleteAlarms"]
    assert st.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"] == []
    code, drift = st.json("drift")
    assert code == 0 and drift["orphans"] == []


def test_a_foreign_resource_with_our_tag_copied_onto_it_is_never_deleted(seed):
    st = seed
    cw = st.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="someone-elses-alarm", Namespace="AWS/EC2", MetricName="CPUUtilization",
                        Statistic="Average", Period=300, EvaluationPeriods=1, Threshold=90,
                        ComparisonOperator="GreaterThanThreshold", Tags=OURS)  # our tag, copied by hand

    code, plan = st.json("plan", "--prune")
    assert code == 0, plan  # nothing prune may delete
    [o] = plan["orphans"]
    assert o["name"] == "someone-elses-alarm" and o["ours"] is False and o["deletable"] is False
    assert "not in this stack's apply record" in o["kept"]
    assert st.apply("--prune") == []  # not even a look-alike delete
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNames=["someone-elses-alarm"])["MetricAlarms"]] == [
        "someone-elses-alarm"]
    assert st.run("drift").returncode == 2  # still listed: it claims to be ours
    cw.delete_alarms(AlarmNames=["someone-elses-alarm"])


def test_replaced_topic_and_certificate_are_pruned_and_the_old_log_bucket_is_kept(seed):
    """What a rename leaves behind: the old topic and certificate (ours by the record: carried from
    apply to apply) are deleted by prune; the old log bucket is kept (buckets and data never)."""
    st = seed
    st.edit(f'topic = "{TOPIC}"', f'topic = "{TOPIC}-v2"')
    st.edit('key_algorithm = "RSA_2048"', 'key_algorithm = "EC_prime256v1"')
    st.edit(f'name = "{LOGS}"', f'name = "{LOGS}-v2"')
    assert st.run("apply", "--auto-approve").returncode == 0  # new topic, certificate, log bucket

    code, plan = st.json("plan")
    orphans = {o["type"]: o for o in plan["orphans"]}
    assert sorted(orphans) == ["ACM certificate", "S3 bucket", "SNS topic"], plan["orphans"]
    assert orphans["SNS topic"]["arn"] == f"arn:aws:sns:us-east-1:123456789012:{TOPIC}"
    assert all(o["ours"] for o in orphans.values())
    bucket = orphans["S3 bucket"]
    assert bucket["deletable"] is False and "never deleted" in bucket["kept"] and bucket["name"] == LOGS

    assert st.apply("--prune") == ["acm:DeleteCertificate", "sns:DeleteTopic"]
    assert st.client("s3").head_bucket(Bucket=LOGS)  # kept, with its data
    code, plan = st.json("plan")
    assert [o["type"] for o in plan["orphans"]] == ["S3 bucket"]
    # Back to the seed's names: the v2 topic is an orphan at once; the EC certificate still serves
    # (it is replaced in that apply), so it is an orphan for the next one.
    st.restore()
    assert "sns:DeleteTopic" in st.apply("--prune")
    assert st.apply("--prune") == ["acm:DeleteCertificate"]
    assert sorted(o["name"] for o in st.json("plan")[1]["orphans"]) == [LOGS + "-v2"]  # buckets are kept


def test_plan_json_of_a_saved_prune_plan_applies_exactly_it(seed, tmp_path):
    st = seed
    _drop_alarm(st)
    saved = tmp_path / "prune.json"
    r = st.run("plan", "--prune", "-o", str(saved))
    assert r.returncode == 2
    data = json.loads(saved.read_text())
    assert data["prune"] is True and [c["address"] for c in data["changes"] if c["action"] == "delete"] == [
        f"cloudwatch_alarm.{ALARM}"]
    st.injector.clear()
    r = st.run("apply", str(saved))
    assert r.returncode == 0, r.stdout + r.stderr
    assert [str(q) for q in st.injector.mutating() if q.service != "ssm"] == ["cloudwatch:DeleteAlarms"]
