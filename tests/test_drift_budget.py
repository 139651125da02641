"""The request budget of issue 18: a no-op plan and drift of desired_state.toml, with every undeclared
thing, orphans and coverage read, stay within 60 requests (CallRecorder: one per operation, page or
poll), make no mutating call, and read the apply record only when there is drift."""

from __future__ import annotations

from collections import Counter

BUDGET = 60


def _ssm_reads(r) -> list[str]:
    """The SSM parameters the run read (GetParameter names), sorted."""
    import json

    return sorted(json.loads(c.params["body"])["Name"] for c in r.calls if str(c) == "ssm:GetParameter")


def test_noop_plan_and_drift_stay_within_the_request_budget(aws_env, cli):
    assert cli("apply", "--auto-approve").code == 0
    for command in ("plan", "drift"):
        r = cli(command)
        assert r.code == 0, r.output
        ops = Counter(str(c) for c in r.calls)
        assert len(r.calls) <= BUDGET, (len(r.calls), sorted(ops.items()))
        assert r.mutating == []
        assert ops["resourcegroupstaggingapi:GetResources"] == 1  # one walk: alarms' tags, orphans, CDN/cert tags
        # the log bucket's ACL, read once for both readers; the buildcache's ACLs are disabled (BucketOwnerEnforced)
        assert ops["s3:GetBucketAcl"] == 1
        # the ownership registry is read (issue 16); with no drift, the apply record is not
        assert _ssm_reads(r) == ["/provision/slurm-factory/owned"]
    aws_env.client("s3").put_bucket_versioning(Bucket="slurm-factory-spack-buildcache-4b670",
                                               VersioningConfiguration={"Status": "Suspended"})
    r = cli("drift")
    assert r.code == 2
    assert _ssm_reads(r) == ["/provision/slurm-factory/last-apply", "/provision/slurm-factory/owned"]  # + the record
    assert len(r.calls) <= BUDGET + 1
