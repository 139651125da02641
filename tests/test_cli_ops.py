"""The operator's commands end to end, in-process (``cli`` fixture) against the sandbox server.

Whole stack, whatever reconcilers are registered: drift for cron (quiet, exit codes, --json,
--publish-metric), outputs, show, preflight, saved plans, destroy, and progress of long waits.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time

import pytest

from provisioner import engine

BUCKET = "slurm-factory-spack-buildcache-4b670"
NOT_READ_ONLY = "read-only command made mutating calls"


def build(cli):
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert "Apply complete" in r.output
    return r


def suspend_versioning(aws_env):
    aws_env.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})


def metric_values(aws_env) -> list[float]:
    cw = aws_env.client("cloudwatch")
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    stats = cw.get_metric_statistics(
        Namespace="Provision/Drift", MetricName="DriftedResources",
        Dimensions=[{"Name": "Stack", "Value": "slurm-factory"}],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(hours=1), Period=3600,
        Statistics=["Maximum", "SampleCount"])
    return sorted(d["Maximum"] for d in stats["Datapoints"])


# --- an empty account -------------------------------------------------------------------------------


def test_empty_account_outputs_show_preflight_drift(aws_env, cli):
    r = cli("outputs")
    assert r.code == 2, r.output  # documented: 2 = some output's resource is not created yet
    assert "BucketName             = (not created)" in r.output
    assert r.mutating == [], NOT_READ_ONLY
    r = cli("outputs", "--json")
    assert r.code == 2
    values = json.loads(r.output)
    assert list(values) == ["BucketName", "BucketArn", "DistributionId", "DistributionDomainName", "PublicUrl",
                            "GitHubActionsRoleArn", "DashboardUrl"]
    assert set(values.values()) == {None}

    r = cli("show")
    assert r.code == 0 and r.mutating == [], r.output
    assert "# s3_bucket.buildcache (S3 bucket)  [not created]" in r.output
    assert 'encryption = "AES256"' in r.output and f"arn:aws:s3:::{BUCKET}" in r.output
    assert "(known after apply)" in r.output  # e.g. the OAI id in the bucket policy
    r = cli("show", "--json")
    data = json.loads(r.output)
    by_addr = {i["address"]: i for i in data["resources"]}
    assert by_addr["s3_bucket.buildcache"]["desired"]["encryption"] == "AES256"
    assert by_addr["s3_bucket.buildcache"]["exists"] is False
    assert by_addr["route53_zone.main"]["data_source"] is True
    assert by_addr["route53_zone.main"]["outputs"]["id"] == aws_env.zone_id
    r = cli("show", "--offline")
    assert r.code == 0 and r.calls == [], "--offline makes no AWS call"
    assert "offline" in r.output

    r = cli("preflight")
    assert r.code == 0, r.output
    assert "[ok] credentials" in r.output and "[ok] account: 123456789012 (matches stack.account_id)" in r.output
    assert f"[ok] hosted zone: vantagecompute.ai. ({aws_env.zone_id})" in r.output
    assert "Preflight passed" in r.output
    assert r.mutating == []
    r = cli("preflight", "--json")
    assert json.loads(r.output)["ok"] is True

    r = cli("drift")
    assert r.code == 2 and "s3_bucket.buildcache: missing (expected to exist)" in r.output
    assert r.mutating == []


def test_preflight_fails_on_missing_zone_and_foreign_account(aws_env, cli, desired_file):
    desired_file.write_text(desired_file.read_text().replace('account_id = "123456789012"',
                                                             'account_id = "210987654321"'))
    r = cli("preflight")
    assert r.code == 1, r.output
    assert "[FAIL] account: credentials are for account 123456789012, but stack.account_id = 210987654321" in r.output
    aws_env.client("route53").delete_hosted_zone(Id=aws_env.zone_id)
    r = cli("preflight")
    assert r.code == 1
    assert "[FAIL] hosted zone: no public hosted zone vantagecompute.ai. in this account" in r.output
    assert "Preflight failed: 2 check(s) failed." in r.output
    # the account pin also stops every other command before any change
    r = cli("drift")
    assert r.code == 1 and "stack.account_id = 210987654321" in r.output


# --- drift for cron, outputs, show on a built stack -----------------------------------------------


def test_drift_for_cron_outputs_and_show_on_the_built_stack(aws_env, cli, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "1.0")  # a deploy long enough to be waited for
    r = build(cli)
    # apply's long waits: not a terminal here, so periodic structured log lines with elapsed time
    assert "waiting" in r.output and "elapsed_s=" in r.output and "to deploy" in r.output

    r = cli("drift")
    assert r.code == 0, r.output
    assert r.output.strip().count("\n") == 0, "clean drift is one line (quiet for cron)"
    assert r.output.startswith("no drift: ") and r.mutating == []
    r = cli("drift", "--json", "--publish-metric")
    assert r.code == 0
    assert json.loads(r.output)["drifted"] is False
    assert r.mutating == ["cloudwatch:PutMetricData"], "the only write drift may make"
    assert metric_values(aws_env) == [0.0]

    suspend_versioning(aws_env)
    aws_env.client("iam").untag_role(RoleName="slurm-factory-github-actions", TagKeys=["Project"])
    r = cli("drift")
    assert r.code == 2, r.output
    assert r.output.splitlines()[0].startswith("DRIFT: 2 of ")
    assert "  s3_bucket.buildcache  versioning: expected true, actual false" in r.output
    assert "iam_role.github_actions" in r.output and "tags" in r.output
    assert r.mutating == []
    r = cli("drift", "--json", "--publish-metric")
    assert r.code == 2
    report = json.loads(r.output)
    assert report["drifted"] is True and report["resources_drifted"] == 2
    item = [i for i in report["drift"] if i["resource"] == "s3_bucket.buildcache"][0]
    assert item == {"resource": "s3_bucket.buildcache", "path": "versioning", "kind": "CHANGE", "expected": True,
                    "actual": False, "cause": "out-of-band"}  # changed by hand since the last apply
    assert r.mutating == ["cloudwatch:PutMetricData"]
    assert 2.0 in metric_values(aws_env)

    r = cli("outputs")
    assert r.code == 0, r.output
    assert f"BucketName             = {BUCKET}" in r.output
    assert "PublicUrl              = https://slurm-factory-spack-binary-cache.vantagecompute.ai" in r.output
    assert "(not created)" not in r.output and r.mutating == []
    values = json.loads(cli("outputs", "--json").output)
    assert values["GitHubActionsRoleArn"] == "arn:aws:iam::123456789012:role/slurm-factory-github-actions"
    assert values["DistributionDomainName"].endswith(".cloudfront.net")
    r = cli("outputs", "DistributionId")
    assert r.code == 0 and r.output.strip() == values["DistributionId"]
    r = cli("outputs", "Nope")
    assert r.code == 1 and "no output 'Nope'" in r.output

    r = cli("show", "--json")
    assert r.code == 0 and r.mutating == []
    by_addr = {i["address"]: i for i in json.loads(r.output)["resources"]}
    assert all(i["exists"] for i in by_addr.values())
    assert "(known after apply)" not in json.dumps(by_addr["s3_bucket_policy.buildcache"]["desired"])

    r = cli("apply", "--auto-approve")
    assert r.code == 0
    assert sorted(set(r.mutating)) == ["iam:TagRole", "s3:PutBucketVersioning"], r.mutating
    r = cli("drift")
    assert r.code == 0 and r.output.startswith("no drift")


# --- saved plans -------------------------------------------------------------------------------------


def test_saved_plan_applies_exactly_and_refuses_when_anything_moved(aws_env, cli, desired_file, tmp_path):
    p1 = tmp_path / "p1.json"
    r = cli("plan", "-o", str(p1))
    assert r.code == 2 and json.loads(p1.read_text())["summary"]["create"] > 0
    r = cli("apply", str(p1))  # a saved plan is applied without a question (the plan was the review)
    assert r.code == 0, r.output
    assert "Apply complete" in r.output
    assert cli("plan").code == 0

    # live state moved after the plan was made -> refused, naming what moved
    suspend_versioning(aws_env)
    p2 = tmp_path / "p2.json"
    assert cli("plan", "-o", str(p2)).code == 2
    aws_env.client("s3").put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "x", "Value": "y"}]})
    r = cli("apply", str(p2))
    assert r.code == 1, r.output
    assert f"refusing to apply {p2}: it is stale; make a new plan." in r.output
    assert "s3_bucket.buildcache: live state changed since the plan was made (" in r.output
    assert "tags.Project now differs (actual null)" in r.output
    assert r.mutating == []

    # the desired file changed after the plan was made -> refused
    p3 = tmp_path / "p3.json"
    assert cli("plan", "-o", str(p3)).code == 2
    desired_file.write_text(desired_file.read_text().replace('Project = "slurm-factory"', 'Project = "cache"'))
    r = cli("apply", str(p3))
    assert r.code == 1
    assert "the desired state" in r.output and "changed since the plan was made (desired_hash" in r.output
    assert r.mutating == []

    # a fresh plan applies; its source file is the one it was made from (no -f needed)
    p4 = tmp_path / "p4.json"
    assert cli("plan", "-o", str(p4)).code == 2
    r = cli("apply", str(p4))
    assert r.code == 0, r.output
    r = cli("plan", "-o", str(p4))
    assert r.code == 0
    r = cli("apply", str(p4))
    assert r.code == 0 and "No changes" in r.output and r.mutating == []

    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    r = cli("apply", str(bad))
    assert r.code == 1 and "not a saved plan" in r.output
    r = cli("apply", str(tmp_path / "missing.json"))
    assert r.code == 1 and "no such plan file" in r.output


# --- destroy -----------------------------------------------------------------------------------------


def test_destroy_asks_refuses_and_retains(aws_env, cli, monkeypatch):
    build(cli)
    iam = aws_env.client("iam")
    iam.untag_user(UserName="james", TagKeys=["provision:stack"])  # no longer ours -> retained

    r = cli("destroy")  # no terminal, no --force
    assert r.code == 1 and "refusing without confirmation: no terminal; pass --force" in r.output
    assert r.mutating == []
    assert "cloudfront_distribution.cdn  will be DELETED  # DESTRUCTIVE" in r.output
    assert "= s3_bucket.buildcache  (retained (retention policy))" in r.output
    assert "= iam_user.admin  (retained (exists, not owned by stack slurm-factory))" in r.output
    assert "= route53_zone.main  (data source: never deleted)" in r.output

    monkeypatch.setattr("provisioner.cli._common._interactive", lambda: True)
    r = cli("destroy", input="y\n")  # only 'yes' is accepted
    assert r.code == 1 and "Cancelled." in r.output and r.mutating == []

    r = cli("destroy", input="yes\n")
    assert r.code == 0, r.output
    assert "Destroy complete" in r.output
    lines = r.output.splitlines()
    # reverse dependency order: the distribution goes before the bucket policy/OAI it uses
    assert lines.index("  - cloudfront_distribution.cdn  will be DELETED  # DESTRUCTIVE") < \
        lines.index("  - cloudfront_oai.buildcache  will be DELETED  # DESTRUCTIVE")
    s3 = aws_env.client("s3")
    s3.head_bucket(Bucket=BUCKET)  # retained with its data
    iam.get_user(UserName="james")  # not ours: retained
    aws_env.client("route53").get_hosted_zone(Id=aws_env.zone_id)
    assert aws_env.client("cloudfront").get_distribution  # noqa: B018
    assert not iam.list_roles()["Roles"]

    r = cli("destroy", "--force")
    assert r.code == 0 and "Nothing to destroy." in r.output and r.mutating == []


# --- progress of long waits ----------------------------------------------------------------------------


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_and_as_log_lines(capsys):
    from provisioner.logs import configure

    tty = FakeTTY()
    p = engine.Progress(stream=tty)
    assert p.interactive
    p.tick("CloudFront distribution E1 to deploy", 5, 1800)
    p.tick("CloudFront distribution E1 to deploy", 65, 1800)
    p.done("CloudFront distribution E1 to deploy", 70)
    out = tty.getvalue()
    # a rich.progress line: spinner, what, elapsed, the wait's time limit; then one line when done
    assert "5s elapsed    of at most 30m00s waiting for CloudFront distribution E1" in out
    assert "1m05s elapsed of at most 30m00s waiting for CloudFront distribution E1" in out
    assert any(frame in out for frame in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"), out  # the spinner
    assert out.rstrip().endswith("CloudFront distribution E1 to deploy: done after 1m10s")
    assert not p._live  # the live line is stopped (no redraw thread left behind)

    configure("json")
    log_stream = io.StringIO()
    p = engine.Progress(stream=log_stream, every=30)
    assert not p.interactive
    for t in (0, 10, 31, 40, 62):
        p.tick("certificate to be issued", t)
    p.done("certificate to be issued", 70)
    assert log_stream.getvalue() == ""  # not a terminal: nothing drawn, structured lines instead
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(x["event"], x["elapsed_s"]) for x in lines] == [("waiting", 0), ("waiting", 31), ("waiting", 62),
                                                             ("waited", 70)]
    assert all(x["target"] == "certificate to be issued" for x in lines)


def test_apply_shows_live_progress_on_a_terminal(aws_env, desired_file, monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "1.0")  # a deploy long enough to be waited for
    from provisioner import config
    from provisioner.aws import Aws
    from provisioner.reconcilers import build as build_resources

    desired = config.load(desired_file)
    tty = FakeTTY()
    ctx = engine.Context(desired, Aws(region="us-east-1"), progress=engine.Progress(stream=tty))
    resources, unmanaged = build_resources(desired)
    engine.apply(ctx, engine.plan(ctx, resources, unmanaged), resources)
    out = tty.getvalue()
    assert re.search(r"\d+s elapsed +of at most \d+m00s waiting for CloudFront distribution", out), out
    assert "to deploy: done after" in out or "\x1b[2K" in out  # done, or erased when it took under 0.5 s
    assert not ctx.progress._live  # every live line stopped with its step


# --- the command line itself ---------------------------------------------------------------------------


def test_help_is_fast_and_does_not_import_boto3():
    code = "import sys, provisioner.cli; print('boto3' in sys.modules, 'provisioner.reconcilers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "provisioner", "--help"], capture_output=True, text=True)
    took = time.monotonic() - t
    assert r.returncode == 0
    for cmd in ("plan", "apply", "drift", "outputs", "show", "preflight", "destroy", "policy", "sandbox", "demo",
                "validate"):
        assert f" {cmd} " in r.stdout, cmd
    assert took < 3, f"--help took {took:.1f}s"


@pytest.mark.parametrize("cmd", ["plan", "apply", "drift", "outputs", "show", "preflight", "destroy"])
def test_every_aws_command_takes_profile_and_region(cli, cmd):
    r = cli(cmd, "--help")
    assert r.code == 0 and "--profile" in r.output and "--region" in r.output


# --- scripts/ examples for running drift on a schedule ---------------------------------------------


def test_drift_schedule_examples():
    import yaml

    scripts = __import__("pathlib").Path(__file__).resolve().parent.parent / "scripts"
    cron = [line for line in (scripts / "drift-cron.example").read_text().splitlines()
            if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(cron) == 1 and len(cron[0].split()[:5]) == 5
    assert "provision drift" in cron[0] and "--publish-metric" in cron[0]
    service = (scripts / "provision-drift.service").read_text()
    assert "Type=oneshot" in service and "ExecStart=" in service and "provision drift" in service
    timer = (scripts / "provision-drift.timer").read_text()
    assert "OnCalendar=" in timer and "WantedBy=timers.target" in timer
    wf = yaml.safe_load((scripts / "github-actions-drift.yml").read_text())
    assert wf["permissions"] == {} and wf["jobs"]["drift"]["permissions"]["id-token"] == "write"  # per job
    assert "schedule" in wf[True]  # YAML 1.1 reads the key `on` as True
    steps = wf["jobs"]["drift"]["steps"]
    creds = [s for s in steps if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")]
    assert creds and "role-to-assume" in creds[0]["with"]
    assert any("provision drift" in s.get("run", "") and "--json --publish-metric" in s.get("run", "")
               for s in steps)
