"""The seed's monitoring that issue 15 builds: S3 request metrics, alarms on AWS/S3 and Provision/Drift,
the dashboard, the publishing audit trail, DashboardUrl.

Starting from the repository's desired state without them (what it was before), each is put back
in turn (the last step gives exactly ``desired_state.toml``) with the four steps: plan shows it,
apply makes it with exactly the calls it needs, plan is empty, apply makes no call. Then each is
changed out of band: drift names the resource and the field, apply repairs it with only the calls
needed. Destroy removes what is ours (trail, dashboard, metrics configuration, alarms).

IAM is left out (``no_iam``): nothing here depends on it.
"""

from __future__ import annotations

import json

import pytest

import provisioner.reconcilers as registry
from tests.conftest import DESIRED

BUCKET = "slurm-factory-spack-buildcache-4b670"
LOGS = f"{BUCKET}-logs"
TRAIL = "slurm-factory-buildcache-publish"
FULL = DESIRED.read_text()


def _cut(text: str, start: str, end: str) -> tuple[str, str]:
    """(text without [start, end), the piece cut)."""
    i, j = text.index(start), text.index(end)
    return text[:i] + text[j:], text[i:j]


SEED, METRICS = _cut(FULL, 'request_metrics = "EntireBucket"', "\n[s3.buildcache.lifecycle]")
SEED, DRIFT_ALARM = _cut(SEED, "[[alarms.alarm]]                       # the page", "# --- Dashboard")
SEED, DASHBOARD = _cut(SEED, "# --- Dashboard", "# --- Audit trail")
SEED, AUDIT = _cut(SEED, "# --- Audit trail", "# --- Drift")
OUTPUT = 'DashboardUrl = "cloudwatch_dashboard.main.url"\n'
ROLE_OUTPUT = 'GitHubActionsRoleArn = "iam_role.github_actions.arn"\n'
SEED = SEED.replace(OUTPUT, "")
S3_ALARMS = """
[[alarms.alarm]]
name = "slurm-factory-s3-5xx"
description = "S3 answered 5xx to CloudFront or the publishers"
namespace = "AWS/S3"
metric = "5xxErrors"                   # request metric: BucketName + FilterId (defaults)
statistic = "Sum"
period = 300
evaluation_periods = 1
threshold = 1
comparison = "GreaterThanOrEqualToThreshold"

[[alarms.alarm]]
name = "slurm-factory-s3-size"
description = "The buildcache passed 2 TB"
namespace = "AWS/S3"
metric = "BucketSizeBytes"             # storage metric: BucketName + StorageType, daily
statistic = "Average"
period = 86400
evaluation_periods = 1
threshold = 2e12
comparison = "GreaterThanThreshold"
"""


def _insert(before: str, piece: str):
    def edit(text: str) -> str:
        i = text.index(before)
        return text[:i] + piece + text[i:]
    return edit


@pytest.fixture
def no_iam(monkeypatch):
    orig = registry.build
    monkeypatch.setattr(registry, "build", lambda d: ([r for r in orig(d)[0] if not r.address.startswith("iam_")], []))


def test_the_pieces_put_back_give_the_repository_desired_state():
    text = SEED
    for edit in (_insert("\n[s3.buildcache.lifecycle]", METRICS), _insert("# --- Drift", DRIFT_ALARM),
                 _insert("# --- Drift", DASHBOARD), _insert("# --- Drift", AUDIT)):
        text = edit(text)
    assert "DashboardUrl" not in SEED
    assert text.replace(ROLE_OUTPUT, ROLE_OUTPUT + OUTPUT) == FULL


STEPS = [
    ("request metrics", _insert("\n[s3.buildcache.lifecycle]", METRICS),
     ["+ s3_metrics.buildcache  will be created"], ["s3:PutBucketMetricsConfiguration"]),
    ("alarms on AWS/S3", lambda t: t + S3_ALARMS,
     ["+ cloudwatch_alarm.slurm-factory-s3-5xx", "+ cloudwatch_alarm.slurm-factory-s3-size"],
     ["cloudwatch:PutMetricAlarm", "cloudwatch:PutMetricAlarm"]),
    ("drift alarm", _insert("# --- Drift", DRIFT_ALARM), ["+ cloudwatch_alarm.slurm-factory-drift"],
     ["cloudwatch:PutMetricAlarm"]),
    ("dashboard", _insert("# --- Drift", DASHBOARD), ["+ cloudwatch_dashboard.main  will be created"],
     ["cloudwatch:PutDashboard"]),
    ("audit trail", _insert("# --- Drift", AUDIT),
     ["~ s3_bucket_policy.logs", "AWSCloudTrailWrite", "+ cloudtrail_trail.audit  will be created"],
     ["s3:PutBucketPolicy", "cloudtrail:CreateTrail", "cloudtrail:PutEventSelectors", "cloudtrail:StartLogging"]),
]


def test_monitoring_four_steps_each_then_drift_and_repair_then_destroy(aws_env, no_iam, cli, desired_file):
    desired_file.write_text(SEED)
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    for name, edit, fragments, calls in STEPS:
        desired_file.write_text(edit(desired_file.read_text()))
        r = cli("plan")
        assert r.code == 2 and r.mutating == [], (name, r.output)
        for frag in fragments:
            assert frag in r.output, (name, frag, r.output)
        r = cli("apply", "--auto-approve")
        assert r.code == 0, (name, r.output)
        assert r.mutating == calls, (name, r.mutating)
        r = cli("plan")
        assert r.code == 0 and r.mutating == [], (name, r.output)
        assert cli("apply", "--auto-approve").mutating == [], name
    desired_file.write_text(desired_file.read_text().replace(ROLE_OUTPUT, ROLE_OUTPUT + OUTPUT))
    outs = json.loads(cli("outputs", "--json").output)
    assert outs["DashboardUrl"] == ("https://console.aws.amazon.com/cloudwatch/home?region=us-east-1"
                                    "#dashboards:name=slurm-factory")

    s3, cw, ct = aws_env.client("s3"), aws_env.client("cloudwatch"), aws_env.client("cloudtrail")
    assert s3.get_bucket_metrics_configuration(Bucket=BUCKET, Id="EntireBucket")["MetricsConfiguration"] == {
        "Id": "EntireBucket"}
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    dims = {n: {d["Name"]: d["Value"] for d in a["Dimensions"]} for n, a in alarms.items()}
    assert dims["slurm-factory-s3-5xx"] == {"BucketName": BUCKET, "FilterId": "EntireBucket"}
    assert dims["slurm-factory-s3-size"] == {"BucketName": BUCKET, "StorageType": "StandardStorage"}
    assert alarms["slurm-factory-s3-size"]["Period"] == 86400
    drift = alarms["slurm-factory-drift"]
    assert (drift["Namespace"], drift["MetricName"], dims["slurm-factory-drift"]) == (
        "Provision/Drift", "DriftedResources", {"Stack": "slurm-factory"})
    assert (drift["Threshold"], drift["ComparisonOperator"], drift["TreatMissingData"]) == (
        1.0, "GreaterThanOrEqualToThreshold", "breaching")
    body = json.loads(cw.get_dashboard(DashboardName="slurm-factory")["DashboardBody"])
    metrics = {m[1] for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]}
    assert {"Requests", "BytesDownloaded", "4xxErrorRate", "5xxErrorRate", "CacheHitRate", "BucketSizeBytes",
            "NumberOfObjects", "AllRequests", "4xxErrors", "5xxErrors", "DriftedResources"} <= metrics
    status = [w for w in body["widgets"] if w["type"] == "alarm"][0]["properties"]["alarms"]
    assert status == [alarms[n]["AlarmArn"] for n in ("slurm-factory-high-error-rate", "slurm-factory-low-cache-hit",
                                                       "slurm-factory-drift")]
    trail = ct.get_trail(Name=TRAIL)["Trail"]
    assert (trail["S3BucketName"], trail["S3KeyPrefix"], trail["LogFileValidationEnabled"]) == (LOGS, "cloudtrail", True)
    assert trail["IsMultiRegionTrail"] is False and trail["IncludeGlobalServiceEvents"] is False
    assert ct.get_trail_status(Name=TRAIL)["IsLogging"] is True
    fields = {f["Field"]: f for f in ct.get_event_selectors(TrailName=TRAIL)["AdvancedEventSelectors"][0]["FieldSelectors"]}
    assert fields["readOnly"]["Equals"] == ["false"] and fields["eventCategory"]["Equals"] == ["Data"]
    assert fields["resources.ARN"]["StartsWith"] == [f"arn:aws:s3:::{BUCKET}/"]
    doc = json.loads(s3.get_bucket_policy(Bucket=LOGS)["Policy"])
    write = [s for s in doc["Statement"] if s.get("Sid") == "AWSCloudTrailWrite"][0]
    assert write["Resource"] == f"arn:aws:s3:::{LOGS}/cloudtrail/AWSLogs/123456789012/*"
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail["TrailARN"]

    for change, line, calls in _drift_cases(aws_env, body):
        change()
        r = cli("drift")
        assert r.code == 2 and line in r.output, (line, r.output)
        assert r.mutating == []
        r = cli("apply", "--auto-approve")
        assert r.code == 0 and r.mutating == calls, (line, r.mutating)
        assert cli("drift").code == 0, line

    r = cli("destroy", "--force")
    assert r.code == 0, r.output
    for call in ("cloudtrail:DeleteTrail", "cloudwatch:DeleteDashboards", "s3:DeleteBucketMetricsConfiguration"):
        assert call in r.mutating, call
    assert ct.describe_trails()["trailList"] == [] and cw.list_dashboards()["DashboardEntries"] == []


def _drift_cases(env, body):
    s3, cw, ct = env.client("s3"), env.client("cloudwatch"), env.client("cloudtrail")

    def alarm(name, **changes):
        a = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        keep = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "MetricName",
                "Namespace", "Statistic", "Dimensions", "Period", "EvaluationPeriods", "Threshold",
                "ComparisonOperator", "TreatMissingData")
        cw.put_metric_alarm(**{**{k: a[k] for k in keep if k in a}, **changes})

    def dashboard(mutate):
        b = json.loads(json.dumps(body))
        mutate(b)
        cw.put_dashboard(DashboardName="slurm-factory", DashboardBody=json.dumps(b))

    def drop_statement(sid):
        doc = json.loads(s3.get_bucket_policy(Bucket=LOGS)["Policy"])
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != sid]
        s3.put_bucket_policy(Bucket=LOGS, Policy=json.dumps(doc))

    return [
        (lambda: s3.delete_bucket_metrics_configuration(Bucket=BUCKET, Id="EntireBucket"),
         "s3_metrics.buildcache: missing", ["s3:PutBucketMetricsConfiguration"]),
        (lambda: s3.put_bucket_metrics_configuration(Bucket=BUCKET, Id="EntireBucket", MetricsConfiguration={
            "Id": "EntireBucket", "Filter": {"Prefix": "compilers/"}}),
         's3_metrics.buildcache  filter: expected "whole bucket"', ["s3:PutBucketMetricsConfiguration"]),
        (lambda: alarm("slurm-factory-drift", TreatMissingData="notBreaching"),
         'cloudwatch_alarm.slurm-factory-drift  treat_missing_data: expected "breaching", actual "notBreaching"',
         ["cloudwatch:PutMetricAlarm"]),
        (lambda: alarm("slurm-factory-s3-5xx", Dimensions=[{"Name": "BucketName", "Value": BUCKET},
                                                           {"Name": "FilterId", "Value": "Other"}]),
         "cloudwatch_alarm.slurm-factory-s3-5xx  dimensions:", ["cloudwatch:PutMetricAlarm"]),
        (lambda: dashboard(lambda b: b["widgets"][1]["properties"].update(period=60)),
         "cloudwatch_dashboard.main  body.widgets[1].properties.period: expected 300, actual 60",
         ["cloudwatch:PutDashboard"]),
        (lambda: dashboard(lambda b: b["widgets"].append({"type": "text", "x": 0, "y": 40, "width": 6, "height": 2,
                                                          "properties": {"markdown": "mine"}})),
         "cloudwatch_dashboard.main  body.widgets:", ["cloudwatch:PutDashboard"]),
        (lambda: cw.delete_dashboards(DashboardNames=["slurm-factory"]), "cloudwatch_dashboard.main: missing",
         ["cloudwatch:PutDashboard"]),
        (lambda: ct.stop_logging(Name=TRAIL), "cloudtrail_trail.audit  logging: expected true, actual false",
         ["cloudtrail:StartLogging"]),
        (lambda: ct.update_trail(Name=TRAIL, EnableLogFileValidation=False),
         "cloudtrail_trail.audit  log_file_validation: expected true, actual false", ["cloudtrail:UpdateTrail"]),
        (lambda: ct.put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=[{"Name": "all", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]),
         "cloudtrail_trail.audit  event_selectors:", ["cloudtrail:PutEventSelectors"]),
        (lambda: drop_statement("AWSCloudTrailWrite"), "s3_bucket_policy.logs  policy", ["s3:PutBucketPolicy"]),
    ]
