"""Read-only proof and the least-privilege policy, kept true against the code.

One recorded lifecycle of the whole stack (whatever reconcilers are registered) against the sandbox:
read-only commands on an empty account, apply, read-only commands on the built stack, destroy,
read-only commands again. It asserts:

- ``plan``, ``drift``, ``outputs``, ``show`` and ``preflight`` make ZERO mutating calls in every
  state (``drift --publish-metric`` exactly one: ``cloudwatch:PutMetricData``);
- the checked-in table ``provisioner/iam_actions.py`` is exactly what the code needs:
  ``READ_ONLY`` = every read operation the code makes (recorded) or can make (a static scan of
  ``provisioner/reconcilers/`` for boto3 client methods), ``APPLY`` = every mutating one;
  a missing or stale entry fails naming the action and the operation that needs it;
- every action in the table is a real IAM action name for some boto3 operation (no typos);
- ``provision policy --read-only`` / ``--apply`` print a valid policy built from the table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from provisioner import iam_actions
from provisioner.aws import is_mutating
from provisioner.operator_policy import SERVER_SIDE

ROOT = Path(__file__).resolve().parent.parent
READ_COMMANDS = [("plan",), ("drift",), ("outputs",), ("show",), ("preflight",), ("history",)]
METRIC = iam_actions.PUBLISH_METRIC


def static_operations() -> set[tuple[str, str]]:
    """(service, Operation) for every boto3 client method, paginator and waiter the reconcilers name."""
    import botocore
    import botocore.session

    bs = botocore.session.get_session()
    found: set[tuple[str, str]] = set()
    # One source per service: a module, or a package's modules together (its client is made in one
    # module, its calls are in the others).
    services = [f for f in sorted((ROOT / "provisioner" / "reconcilers").iterdir())
                if f.suffix == ".py" or (f / "__init__.py").is_file()]
    for f in services:
        src = f.read_text() if f.is_file() else "\n".join(p.read_text() for p in sorted(f.rglob("*.py")))
        names = set(re.findall(r"\.(\w+)\(", src)) | set(re.findall(r"""["'](\w+)["']""", src))
        for svc in set(re.findall(r"""client\(\s*["'](\w+)["']""", src)):
            model = bs.get_service_model(svc)
            snake = {botocore.xform_name(o): o for o in model.operation_names}
            found |= {(svc, snake[n]) for n in names if n in snake}
            try:
                waiters = bs.get_waiter_model(svc)
            except Exception:  # noqa: BLE001 - service without waiters
                continue
            for w in waiters.waiter_names:
                if botocore.xform_name(w) in names:
                    found.add((svc, waiters.get_waiter(w).operation))
    return found


def split(ops: set[tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """-> (read action -> an operation needing it, write action -> an operation needing it)."""
    reads: dict[str, str] = {}
    writes: dict[str, str] = {}
    for svc, op in sorted(ops):
        for action in iam_actions.actions_for(svc, op):
            if action == METRIC:
                continue  # its own statement, conditioned on our namespace
            (writes if is_mutating(op) else reads).setdefault(action, f"{svc}:{op}")
    return reads, writes


@pytest.fixture(scope="module")
def lifecycle(moto_server, tmp_path_factory):
    """Run the whole lifecycle once through the CLI; record (service, operation) per phase."""
    import os
    import shutil

    from typer.testing import CliRunner

    from provisioner.aws import CallRecorder
    from provisioner.cli import app
    from provisioner.sandbox import create_fixtures, sandbox_env

    tmp = tmp_path_factory.mktemp("policy")
    desired = tmp / "desired_state.toml"
    shutil.copy(ROOT / "desired_state.toml", desired)
    saved = dict(os.environ)
    moto_server.reset()
    os.environ.update(sandbox_env(moto_server.url))
    os.environ["AWS_CONFIG_FILE"] = str(tmp / "none")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp / "none")
    create_fixtures(moto_server.url)
    runs: list[tuple[str, tuple[str, ...], int, list]] = []

    def run(phase: str, *args: str) -> None:
        with CallRecorder() as rec:
            res = CliRunner().invoke(app, [*args, "-f", str(desired)], catch_exceptions=False)
        runs.append((phase, args, res.exit_code, list(rec.calls)))
        assert res.exit_code in (0, 2), (args, res.output)

    try:
        for state in ("empty", "built", "destroyed"):
            for cmd in READ_COMMANDS if state != "destroyed" else READ_COMMANDS[:2]:
                run(f"read:{state}", *cmd)
            run(f"read:{state}", "drift", "--publish-metric")
            if state == "empty":
                run("apply", "apply", "--auto-approve")
                run("apply", "apply", "--auto-approve")
            elif state == "built":
                run("apply", "destroy", "--force")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return runs


def test_read_only_commands_make_zero_mutating_calls_for_the_whole_stack(lifecycle):
    for phase, args, code, calls in lifecycle:
        if not phase.startswith("read:"):
            continue
        mutating = [str(c) for c in calls if c.mutating]
        if "--publish-metric" in args:
            assert mutating == ["monitoring:PutMetricData"] or mutating == ["cloudwatch:PutMetricData"], (phase, args)
        else:
            assert mutating == [], f"{' '.join(args)} ({phase}) made mutating calls: {mutating}"
        assert code in (0, 2)
    # the stack really was built in between (the proof covers resources that exist)
    built = [(args, code) for phase, args, code, _ in lifecycle if phase == "read:built"]
    assert (("plan",), 0) in built and (("drift",), 0) in built


def _recorded(lifecycle, read_only: bool) -> set[tuple[str, str]]:
    return {(c.service, c.operation) for phase, _a, _c, calls in lifecycle
            if phase.startswith("read:") == read_only for c in calls}


def test_iam_action_table_is_exactly_what_the_code_calls(lifecycle):
    ops = _recorded(lifecycle, True) | _recorded(lifecycle, False) | static_operations()
    reads, writes = split(ops)
    missing_ro = {a: op for a, op in reads.items() if a not in iam_actions.READ_ONLY}
    missing_apply = {a: op for a, op in writes.items() if a not in iam_actions.APPLY}
    assert not missing_ro, "add to iam_actions.READ_ONLY: " + ", ".join(f"{a} (for {op})" for a, op in
                                                                           sorted(missing_ro.items()))
    assert not missing_apply, "add to iam_actions.APPLY: " + ", ".join(f"{a} (for {op})" for a, op in
                                                                         sorted(missing_apply.items()))
    stale_ro = sorted(set(iam_actions.READ_ONLY) - reads.keys())
    stale_apply = sorted(set(iam_actions.APPLY) - writes.keys())
    assert not stale_ro, f"iam_actions.READ_ONLY grants actions no code needs any more: {stale_ro}"
    assert not stale_apply, f"iam_actions.APPLY grants actions no code needs any more: {stale_apply}"


def test_read_only_commands_need_only_read_only_actions(lifecycle):
    reads, writes = split(_recorded(lifecycle, True))
    assert not writes, f"a read-only command needed write permissions: {writes}"
    assert set(reads) <= iam_actions.READ_ONLY


def test_every_action_in_the_table_is_a_real_action_name():
    import botocore
    import botocore.session

    bs = botocore.session.get_session()
    real: set[str] = set()
    services = {a.split(":")[0] for a in iam_actions.READ_ONLY | iam_actions.APPLY}
    by_prefix = {iam_actions.PREFIX.get(s, s): s for s in bs.get_available_services()}
    for prefix in services:
        svc = by_prefix[prefix]
        for op in bs.get_service_model(svc).operation_names:
            real.update(iam_actions.actions_for(svc, op))
    assert sorted((iam_actions.READ_ONLY | iam_actions.APPLY) - real) == []
    assert not iam_actions.READ_ONLY & iam_actions.APPLY


def test_actions_for_known_exceptions():
    af = iam_actions.actions_for
    assert af("s3", "GetBucketEncryption") == ("s3:GetEncryptionConfiguration",)
    assert af("s3", "HeadBucket") == ("s3:ListBucket",)
    assert af("s3", "GetBucketLifecycleConfiguration") == ("s3:GetLifecycleConfiguration",)
    assert af("s3", "PutBucketLifecycleConfiguration") == ("s3:PutLifecycleConfiguration",)
    assert af("s3", "GetPublicAccessBlock") == ("s3:GetBucketPublicAccessBlock",)
    assert af("s3", "ListObjectVersions") == ("s3:ListBucketVersions",)
    assert af("cloudfront", "CreateDistributionWithTags") == ("cloudfront:CreateDistribution",
                                                              "cloudfront:TagResource")
    assert af("resourcegroupstaggingapi", "GetResources") == ("tag:GetResources",)
    assert af("iam", "GetRole") == ("iam:GetRole",)


@pytest.mark.parametrize("mode", ["--read-only", "--apply"])
def test_policy_command_prints_the_policy(cli, mode):
    r = cli("policy", mode, "-f", str(ROOT / "desired_state.toml"))
    assert r.code == 0, r.output
    assert r.calls == []  # no AWS call
    doc = json.loads(r.output)
    assert doc["Version"] == "2012-10-17"
    granted = {a for s in doc["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    expected = set(iam_actions.READ_ONLY) | (set(iam_actions.APPLY) | set(SERVER_SIDE) if mode == "--apply" else set())
    assert granted == expected | {METRIC}
    metric = [s for s in doc["Statement"] if s["Sid"] == "PublishDriftMetric"][0]
    assert metric["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Provision/Drift"}}
    s3 = [s for s in doc["Statement"] if "s3:ListBucket" in s["Action"]][0]
    assert "arn:aws:s3:::slurm-factory-spack-buildcache-4b670" in s3["Resource"]
    if mode == "--read-only":
        assert not [a for a in granted - {METRIC} if is_mutating(a.split(":")[1])], granted
    # valid for the policy module (canonical form parses it)
    from provisioner import policy as pol

    pol.canonical(doc)


def test_policy_command_needs_exactly_one_mode(cli):
    r = cli("policy", "-f", str(ROOT / "desired_state.toml"))
    assert r.code == 1 and "--read-only or --apply" in r.output
