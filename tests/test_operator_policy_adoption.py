"""The printed apply policy covers adoption too (issue 16), proved with IAM enforcement on.

Adopting calls what building from empty never does: the ownership registry
(``ssm:PutParameter`` on ``/provision/<stack>/owned``), record CREATEs, the previous owner's
inline policy deleted from the role, CloudFront policies and the OAC found through the live
distribution and updated. The live CloudFormation stack (``tests/live_stack.deploy``) is made
with the sandbox's own key before enforcement goes on; then a user holding only
``provision policy --apply`` for ``examples/slurm-factory-live.toml`` adopts it all, and one
holding ``--read-only`` plans and drifts it clean.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests import live_stack as ls
from tests.conftest import use_clean_sandbox

pytestmark = pytest.mark.long


def _user(iam, name: str, doc: dict) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="provision", PolicyDocument=json.dumps(doc))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def test_the_apply_policy_adopts_the_live_stack_and_the_read_only_policy_then_sees_it_clean(
        moto_server, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from provisioner.aws import CallRecorder
    from provisioner.cli import app
    from provisioner.sandbox import iam_enforcement

    zone_id = use_clean_sandbox(moto_server, monkeypatch, tmp_path)
    ls.deploy(moto_server.url, zone_id)
    desired = tmp_path / "slurm-factory-live.toml"
    shutil.copy(ls.LIVE_TOML, desired)
    desired.write_text(desired.read_text().replace('zone = "vantagecompute.ai"',
                                                   f'zone = "vantagecompute.ai"\nzone_id = "{zone_id}"', 1))

    def printed(mode: str) -> dict:
        r = CliRunner().invoke(app, ["policy", mode, "-f", str(desired)], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return json.loads(r.output)

    iam = ls.client(moto_server.url, "iam")
    keys = {"apply": _user(iam, "operator", printed("--apply")), "read": _user(iam, "reader", printed("--read-only"))}

    def run(who: str, *args: str):
        for k, v in keys[who].items():
            monkeypatch.setenv(k, v)
        with CallRecorder() as rec:
            r = CliRunner().invoke(app, [*args, "-f", str(desired)], catch_exceptions=False)
        return r.exit_code, r.output, rec.calls

    with iam_enforcement():
        code, out, _ = run("read", "plan")
        assert code == 1 and "Blocked:" in out, out  # foreign, named, with the read-only policy
        code, out, calls = run("apply", "apply", "--auto-approve", "--adopt", "*")
        assert code == 0, out
        done = {f"{c.service}:{c.operation}" for c in calls if c.mutating}
        for op in ("ssm:PutParameter", "iam:DeleteRolePolicy", "iam:TagRole", "route53:ChangeResourceRecordSets",
                   "cloudfront:UpdateResponseHeadersPolicy", "cloudfront:UpdateCachePolicy",
                   "cloudfront:UpdateOriginAccessControl", "s3:PutBucketPolicy"):
            assert op in done, (op, sorted(done))
        for args in (("plan",), ("drift",)):
            code, out, _ = run("read", *args)
            assert code == 0, (args, out)
