"""Why it drifted (issue 18): every apply that changes something records what it left in SSM
(/provision/<stack>/last-apply); each drift item then says whether AWS changed by hand since
("out-of-band"), the repository changed and was not applied ("unapplied"), both, or "unknown" (no
record). `provision history` lists the applies with their commits. Separate processes throughout.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.stack_processes import stack

ROLE = "slurm-factory-github-actions"
DESCRIPTION = "GitHub Actions (vantagecompute/slurm-factory) publishes the Spack buildcache"
RECORD = "/provision/slurm-factory/last-apply"


@pytest.fixture(scope="module")
def st(tmp_path_factory):
    yield from stack(tmp_path_factory.mktemp("causes"))


@pytest.fixture
def seed(st):
    st.restore()
    assert st.run("apply", "--auto-approve").returncode == 0
    yield st
    st.restore()


def causes(st) -> dict[tuple[str, str], str]:
    code, report = st.json("drift")
    assert code == 2, report
    return {(i["resource"], i["path"]): i.get("cause") for i in report["drift"]}


def by_hand(st, **changes) -> None:
    """UpdateRole by hand, sending both fields (UpdateRole resets an omitted MaxSessionDuration)."""
    role = st.client("iam").get_role(RoleName=ROLE)["Role"]
    kw = {"Description": role["Description"], "MaxSessionDuration": role["MaxSessionDuration"], **changes}
    st.client("iam").update_role(RoleName=ROLE, **kw)


def test_a_fresh_account_with_no_record_gives_unknown(tmp_path):
    for st in stack(tmp_path, applied=False):
        code, report = st.json("drift")
        assert code == 2
        assert report["drift"] and {i["cause"] for i in report["drift"]} == {"unknown"}
        assert {i["kind"] for i in report["drift"]} == {"MISSING"}
        assert "cause unknown (no record of the last apply covers it):" in st.run("drift").stdout


def test_changed_in_aws_by_hand_is_out_of_band(seed):
    by_hand(seed, Description="changed by hand")
    assert causes(seed) == {("iam_role.github_actions", "description"): "out-of-band"}
    text = seed.run("drift").stdout
    assert "changed in AWS by hand since the last apply (out-of-band):" in text
    assert "in the repository, not applied yet" not in text


def test_changed_in_the_repository_not_applied_is_unapplied(seed):
    seed.edit("max_session_duration = 10800", "max_session_duration = 7200")
    seed.edit('[[alarms.alarm]]\nname = "slurm-factory-high-error-rate"', '''[[alarms.alarm]]
name = "slurm-factory-4xx"
description = "4xx above 10%"
metric = "4xxErrorRate"
statistic = "Average"
period = 300
evaluation_periods = 1
threshold = 10
comparison = "GreaterThanThreshold"

[[alarms.alarm]]
name = "slurm-factory-high-error-rate"''')
    got = causes(seed)
    assert got[("iam_role.github_actions", "max_session_duration")] == "unapplied"
    assert got[("cloudwatch_alarm.slurm-factory-4xx", "")] == "unapplied"  # new in the file: MISSING, unapplied
    assert set(got.values()) == {"unapplied"}
    assert "in the repository, not applied yet (unapplied):" in seed.run("drift").stdout


def test_the_same_field_changed_on_both_sides_is_both_and_other_fields_keep_their_own(seed):
    seed.edit("max_session_duration = 10800", "max_session_duration = 7200")  # the repository...
    by_hand(seed, MaxSessionDuration=3600)  # ...and AWS, on one field
    seed.edit(f'description = "{DESCRIPTION}"', 'description = "new words"')  # the repository only
    seed.client("iam").tag_role(RoleName=ROLE, Tags=[{"Key": "Project", "Value": "by-hand"}])  # AWS only
    got = causes(seed)
    assert got == {
        ("iam_role.github_actions", "max_session_duration"): "both",
        ("iam_role.github_actions", "description"): "unapplied",
        ("iam_role.github_actions", "tags.Project"): "out-of-band",
    }
    assert "changed in the repository and in AWS since the last apply (both):" in seed.run("drift").stdout


def test_something_undeclared_added_by_hand_is_out_of_band(seed):
    seed.client("iam").put_role_policy(RoleName=ROLE, PolicyName="extra", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    assert causes(seed) == {("iam_role.github_actions", "inline_policies[extra]"): "out-of-band"}
    assert seed.apply() == ["iam:DeleteRolePolicy"]


def test_a_deleted_record_makes_causes_unknown_and_the_next_apply_writes_one(seed):
    ssm = seed.client("ssm")
    ssm.delete_parameter(Name=RECORD)
    by_hand(seed, Description="changed by hand")
    assert causes(seed) == {("iam_role.github_actions", "description"): "unknown"}
    seed.apply()
    from provisioner import applied

    param = ssm.get_parameter(Name=RECORD)["Parameter"]
    rec = applied.decode(param["Value"])
    assert rec is not None and rec["changed"] == [["iam_role.github_actions", "update"]]
    assert param["Value"].startswith("z1:") and len(param["Value"]) <= 4096  # compressed to fit a standard parameter
    assert ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [RECORD]}])["Parameters"][0][
        "Tier"] == "Standard"


def _git(cwd, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_history_lists_the_applies_with_their_commits(seed):
    repo = seed.desired.parent
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.email=t@example.org", "-c", "user.name=t", "add", "desired_state.toml")
    _git(repo, "-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "seed")
    first = _git(repo, "rev-parse", "HEAD")
    by_hand(seed, Description="changed by hand")
    assert seed.apply() == ["iam:UpdateRole"]

    seed.edit("max_session_duration = 10800", "max_session_duration = 7200")
    _git(repo, "-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qam", "shorter sessions")
    second = _git(repo, "rev-parse", "HEAD")
    assert seed.apply() == ["iam:UpdateRole"]

    code, hist = seed.json("history", codes=(0,))
    applies = hist["applies"]
    assert [a["commit"] for a in applies[:2]] == [second, first]  # newest first
    assert applies[0]["changed"] == [["iam_role.github_actions", "update"]]
    assert applies[0]["by"] == "arn:aws:sts::123456789012:user/moto" and applies[0]["dirty"] is False
    assert applies[0]["version"] > applies[1]["version"]
    text = seed.run("history").stdout
    assert text.splitlines()[0].split()[3] == second[:12] and "update iam_role.github_actions" in " ".join(text.split())

    seed.edit("max_session_duration = 7200", "max_session_duration = 10800")  # not committed
    seed.apply()
    assert seed.json("history", codes=(0,))[1]["applies"][0]["dirty"] is True
    _git(repo, "checkout", "-q", "desired_state.toml")


def test_a_no_op_apply_writes_no_record(seed):
    before = seed.client("ssm").get_parameter(Name=RECORD)["Parameter"]["Version"]
    seed.injector.clear()
    assert seed.run("apply", "--auto-approve").returncode == 0
    writes = [str(q) for q in seed.injector.mutating()]
    assert writes == [] and seed.client("ssm").get_parameter(Name=RECORD)["Parameter"]["Version"] == before
