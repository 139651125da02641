"""Reports people read: markdown (golden files), the JSON header, --format / --report, the job summary.

The golden files in tests/golden/ are the exact markdown a pull request comment or a job summary
shows. To accept an intended change: ``UPDATE_GOLDEN=1 pytest tests/test_reports.py`` and review
the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.model import CREATE, DELETE, NOOP, UPDATE, Change, FieldChange, Plan
from provisioner.render import ReportMeta, drift_json, plan_json
from provisioner.render.markdown import drift_markdown, outputs_markdown, plan_markdown

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
META = ReportMeta(stack="slurm-factory", account="123456789012", region="us-east-1",
                  generated_at="2026-01-02T03:04:05Z", source="desired_state.toml", desired_hash="9f86d081884c7d65" * 4,
                  commit="0123456789abcdef0123456789abcdef01234567", tool_version="0.1.0")
OIDC = "token.actions.githubusercontent.com"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Sid": "GitHubOIDC", "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
    "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{OIDC}"},
    "Condition": {"StringLike": {f"{OIDC}:sub": ["repo:vantagecompute/slurm-factory:*"]}}}]}


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(), f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept, then review)"


def plan_with_every_action() -> Plan:
    return Plan(source="desired_state.toml", desired_hash=META.desired_hash, changes=[
        Change("s3_bucket.logs", CREATE, (FieldChange("name", None, "slurm-factory-spack-buildcache-4b670-logs", "ADD"),
                                          FieldChange("versioning", None, False, "ADD"))),
        Change("s3_bucket.buildcache", UPDATE, (FieldChange("versioning", False, True),
                                                FieldChange("tags.Team", "a|b", None, "REMOVE"))),
        Change("iam_role.github_actions", UPDATE, (FieldChange("trust_policy", {"Version": "2012-10-17", "Statement": []},
                                                               TRUST),
                                                   FieldChange("inline_policy.Statement[Sid=Publish]", None,
                                                               "allows s3:DeleteObject, which the desired state does not",
                                                               "NOTE"))),
        Change("cloudfront_cache_policy.buildcache", UPDATE, (FieldChange("replace", None, "the name changes: a new policy replaces it", "NOTE"),),
               destructive=True),
        Change("iam_user.admin", DELETE, destructive=True),
        Change("route53_zone.main", NOOP),
        Change("sns_topic.alarms", NOOP),
    ], unmanaged=["future_section"])


def drift_with_every_kind() -> tuple[Plan, list[str]]:
    return Plan(source="desired_state.toml", desired_hash=META.desired_hash, changes=[
        Change("s3_bucket.logs", CREATE, (FieldChange("name", None, "x-logs", "ADD"),)),
        Change("s3_bucket.buildcache", UPDATE, (FieldChange("versioning", False, True, "CHANGE"),
                                                FieldChange("lifecycle.noncurrent_days", None, 90, "ADD"),
                                                FieldChange("cors", [{"AllowedOrigins": ["*"]}], None, "REMOVE"))),
        Change("iam_role.github_actions", UPDATE, (FieldChange("trust_policy", {"Statement": []}, TRUST, "CHANGE"),
                                                   FieldChange("attached_policies", None,
                                                               "AdministratorAccess is attached but not declared",
                                                               "NOTE"))),
        Change("route53_zone.main", NOOP),
    ]), ["cloudwatch_alarm.slurm-factory-low-cache-hit:threshold"]


def test_plan_markdown_golden_with_create_update_delete():
    md = plan_markdown(plan_with_every_action(), META)
    golden("plan.md", md)
    # what the golden file must show, whatever its layout becomes
    assert md.startswith("<!-- provision:plan stack=slurm-factory -->\n")
    assert "**Plan: 1 to add, 3 to change, 1 to destroy.**" in md
    for title in ("### + create (1)", "### ~ update in place (3)", "### - delete (1)"):
        assert title in md
    assert md.count("| resource | field | expected | actual |") == 3  # a table per action
    assert "`iam_user.admin` **⚠️ DESTRUCTIVE**" in md and "`cloudfront_cache_policy.buildcache` **⚠️ DESTRUCTIVE**" in md
    assert "<details><summary>[1] <code>iam_role.github_actions</code> <code>trust_policy</code></summary>" in md
    assert '| `s3_bucket.buildcache` | `tags.Team` | (none) | `"a\\|b"` |' in md  # a pipe does not break the table
    footer = md.rstrip().splitlines()[-1]
    for part in ("stack `slurm-factory`", "account `123456789012`", "region `us-east-1`", "desired `desired_state.toml`",
                 "sha256 `9f86d081884c`", "commit `0123456789ab`", "provision 0.1.0"):
        assert part in footer, part


def test_drift_markdown_golden_with_each_kind():
    plan, ignored = drift_with_every_kind()
    md = drift_markdown(plan, ignored, META)
    golden("drift.md", md)
    assert "**DRIFT: 3 of 4 resources differ from `desired_state.toml`.**" in md
    for kind in ("MISSING", "CHANGE", "ADD", "REMOVE", "NOTE"):
        assert f"({kind})" in md, kind  # a table per drift kind
    assert md.count("| resource | field | expected | actual |") == 5
    assert "Ignored by `[drift] ignore` (1): `cloudwatch_alarm.slurm-factory-low-cache-hit:threshold`" in md
    assert "<details><summary>[1] <code>iam_role.github_actions</code> <code>trust_policy</code></summary>" in md


def test_clean_reports_say_so_in_one_line():
    plan = Plan(source="desired_state.toml", changes=[Change("s3_bucket.buildcache", NOOP)])
    assert "**No changes.** Live AWS matches the desired state." in plan_markdown(plan, META)
    assert "**No drift:** 1 resources match `desired_state.toml`." in drift_markdown(plan, [], META)
    md = outputs_markdown({"BucketName": "b", "DistributionId": None}, META)
    assert "| `BucketName` | `b` |" in md and "| `DistributionId` | (not created) |" in md


def test_json_reports_start_with_the_header():
    for data in (plan_json(plan_with_every_action(), META), drift_json(*drift_with_every_kind(), META)):
        assert list(data)[:8] == ["format_version", "tool", "tool_version", "stack", "account", "region",
                                  "generated_at", "commit"]
        assert data["format_version"] == 1 and data["tool"] == "provision" and data["account"] == "123456789012"
    assert json.loads(json.dumps(plan_json(plan_with_every_action(), META)))["summary"] == {
        "create": 1, "update": 3, "delete": 1, "adopt": 0}
    kinds = [i["kind"] for i in drift_json(*drift_with_every_kind(), META)["drift"]]
    assert kinds == ["MISSING", "CHANGE", "ADD", "REMOVE", "CHANGE", "NOTE"]


def test_a_saved_plan_with_a_header_is_still_a_saved_plan(tmp_path):
    from provisioner.ops import load_saved_plan, read_saved_plan

    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan_json(plan_with_every_action(), META)))
    plan = load_saved_plan(str(p))
    assert plan.counts() == {"create": 1, "update": 3, "delete": 1, "adopt": 0}
    assert read_saved_plan(str(p))[1]["account"] == "123456789012"


# --- the CLI: --format, --report, the job summary, show PLANFILE -------------------------------------------


def test_plan_writes_every_report_and_the_job_summary(aws_env, cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    reports = [tmp_path / "plan.json", tmp_path / "plan.md", tmp_path / "plan.txt"]
    r = cli("plan", "--format", "markdown", *[a for p in reports for a in ("--report", str(p))])
    assert r.code == 2 and r.mutating == [], r.output
    md = (tmp_path / "plan.md").read_text()
    assert r.stdout == md  # stdout in the format asked for, the same report as the file
    assert md.startswith("<!-- provision:plan stack=slurm-factory -->") and "### + create (" in md
    assert "account `123456789012`" in md and "commit `0123456789ab`" in md and "region `us-east-1`" in md
    data = json.loads((tmp_path / "plan.json").read_text())
    assert (data["stack"], data["account"], data["region"], data["commit"]) == (
        "slurm-factory", "123456789012", "us-east-1", "0123456789abcdef0123456789abcdef01234567")
    assert data["tool_version"] and data["generated_at"].endswith("Z") and data["has_changes"] is True
    text = (tmp_path / "plan.txt").read_text()
    assert "  + s3_bucket.buildcache  will be created" in text and "\x1b" not in text
    assert summary.read_text().strip() == md.strip()  # appended to the job summary

    r = cli("drift", "--report", str(tmp_path / "drift.json"))  # text on stdout; the summary gets one more report
    assert r.code == 2 and r.output.startswith("DRIFT: ")
    assert summary.read_text().count("<!-- provision:") == 2 and "<!-- provision:drift" in summary.read_text()
    drift = json.loads((tmp_path / "drift.json").read_text())
    assert drift["drifted"] is True and {i["kind"] for i in drift["drift"]} == {"MISSING"}


def test_without_the_summary_variable_nothing_is_appended(aws_env, cli, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    r = cli("plan", "--format", "json")
    assert r.code == 2 and json.loads(r.output)["format_version"] == 1
    assert list(tmp_path.glob("*.md")) == []


def test_show_renders_a_saved_plan_without_aws(aws_env, cli, tmp_path):
    saved = tmp_path / "plan.json"
    r = cli("plan", "-o", str(saved))
    assert r.code == 2
    plan_text = r.stdout  # (the plan's risk findings go to stderr, before any AWS call)
    r = cli("show", str(saved))
    assert r.code == 0 and r.calls == [], "show PLANFILE makes no AWS call"
    assert r.stdout == plan_text
    r = cli("show", str(saved), "--format", "markdown")
    assert r.code == 0 and r.calls == [] and "## provision plan: `slurm-factory`" in r.output
    assert "account `123456789012`" in r.output  # from the saved plan's header
    r = cli("show", str(saved), "--json")
    assert json.loads(r.output)["changes"] == json.loads(saved.read_text())["changes"]
    r = cli("show", str(tmp_path / "missing.json"))
    assert r.code == 1 and "no such plan file" in r.output


def test_outputs_and_show_in_markdown(aws_env, cli):
    r = cli("outputs", "--format", "markdown")
    assert r.code == 2 and "| `BucketName` | (not created) |" in r.output
    r = cli("show", "--offline", "--format", "markdown")
    assert r.code == 0 and r.calls == []
    assert "| `s3_bucket.buildcache` | S3 bucket |  |" in r.output and "<details><summary><code>" in r.output


def test_a_report_that_cannot_be_written_is_one_clear_error(tmp_path):
    r = CliRunner().invoke(app, ["show", "--offline", "-f", str(ROOT / "desired_state.toml"),
                                 "--report", str(tmp_path / "missing" / "show.json")], catch_exceptions=False)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.count("Error: ") == 1 and "No such file or directory" in r.stderr, r.stderr


def _ownership_plan() -> Plan:
    from provisioner.model import ADOPT, FOREIGN

    return Plan(source="slurm-factory-live.toml", changes=[
        Change("iam_role.github_actions", FOREIGN, (FieldChange("max_session_duration", 14400, 10800),),
               owner="foreign"),
        Change("cloudfront_distribution.cdn", ADOPT, (FieldChange("tags.provision:stack", None, "slurm-factory", "ADD"),),
               owner="foreign", owner_note="CloudFormation stack SlurmFactoryInfraStack, logical id Distribution830FAC52"),
        Change("route53_record.alias_a", FOREIGN, owner="foreign", owner_note="not in the stack's ownership registry"),
    ])


def test_foreign_and_adopted_resources_in_every_report():
    """Issue 16 in issue 20's reports: text marks (! and >), JSON owner fields and blocked list,
    markdown tables for both, and drift's NOT_OWNED items (text, JSON and markdown)."""
    from provisioner.render import drift_text, plan_text

    p = _ownership_plan()
    text = plan_text(p, stack="slurm-factory")
    assert "  ! iam_role.github_actions  exists, not owned by stack slurm-factory" in text
    assert "      adopting it would change:" in text
    assert "  > cloudfront_distribution.cdn  will be adopted (CloudFormation stack SlurmFactoryInfraStack" in text
    assert "Plan: 0 to add, 0 to change, 0 to destroy, 1 to adopt." in text
    assert "Blocked: 2 resource(s) exist but are not owned by stack slurm-factory" in text

    data = plan_json(p, META)
    assert data["blocked"] == ["iam_role.github_actions", "route53_record.alias_a"]
    assert data["summary"]["adopt"] == 1 and data["changes"][1]["owner_note"].startswith("CloudFormation")

    md = plan_markdown(p, META)
    assert "**Blocked: 2 resource(s) exist but are not owned by this stack.**" in md
    assert "### ! exists, not owned by this stack (blocks apply until adopted) (2)" in md
    assert "### > adopt (not owned by this stack, adopted on purpose) (1)" in md
    assert "| `route53_record.alias_a` <br>_not in the stack&#x27;s ownership registry_ | | owned by this stack |" in md

    drift = drift_json(p, [], META)
    assert drift["resources_drifted"] == 3
    assert [i["resource"] for i in drift["drift"] if i["kind"] == "NOT_OWNED"] == [
        "iam_role.github_actions", "cloudfront_distribution.cdn", "route53_record.alias_a"]
    assert "DRIFT: 3 of 3 resources differ" in drift_text(p, [])
    assert "### Not owned (NOT_OWNED): exists under our name, not owned by this stack (3)" in drift_markdown(p, [], META)
