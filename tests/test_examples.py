"""examples/staging.toml: a second stack with other names and choices, in the same account.

Proves nothing is hard-coded to the seed's values, and that two stacks side by side stay apart:
each one's plan is empty after both are applied, and destroying staging leaves production whole.
"""

from __future__ import annotations

import json

from tests.conftest import ROOT

STAGING = ROOT / "examples" / "staging.toml"


def test_staging_example_is_valid(cli):
    r = cli("validate", file=STAGING)
    assert r.code == 0, r.output
    assert r.calls == []


def test_staging_and_production_side_by_side(aws_env, cli, desired_file):
    r = cli("apply", "--auto-approve", file=STAGING)
    assert r.code == 0, r.output
    r = cli("apply", "--auto-approve")  # production (the repository's desired state)
    assert r.code == 0, r.output

    for f in (STAGING, desired_file):
        r = cli("plan", file=f)
        assert r.code == 0, (f, r.output)
        assert r.mutating == []

    cf = aws_env.client("cloudfront")
    dists = cf.list_distributions()["DistributionList"]["Items"]
    assert sorted(d["Aliases"]["Items"][0] for d in dists) == [
        "slurm-factory-spack-binary-cache.vantagecompute.ai", "staging-cache.vantagecompute.ai"]
    staging = [d for d in dists if d["Aliases"]["Items"] == ["staging-cache.vantagecompute.ai"]][0]
    origin = staging["Origins"]["Items"][0]
    assert origin["OriginAccessControlId"], "staging uses origin access control"
    assert staging["PriceClass"] == "PriceClass_200"

    records = aws_env.client("route53").list_resource_record_sets(HostedZoneId=aws_env.zone_id)["ResourceRecordSets"]
    txt = [r for r in records if r["Type"] == "TXT" and r["Name"] == "staging-status.vantagecompute.ai."]
    assert txt and txt[0]["ResourceRecords"] == [{"Value": '"staging buildcache"'}]

    role = aws_env.client("iam").get_role(RoleName="slurm-factory-staging-github-actions")["Role"]
    assert role["MaxSessionDuration"] == 3600
    trust = role["AssumeRolePolicyDocument"]
    # exact subjects: StringEquals (StringLike only for wildcards)
    subs = trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert "StringLike" not in trust["Statement"][0]["Condition"]
    assert sorted(subs if isinstance(subs, list) else [subs]) == [
        "repo:vantagecompute/slurm-factory:environment:staging", "repo:vantagecompute/slurm-factory:ref:refs/heads/main"]

    outs = json.loads(cli("outputs", "--json", file=STAGING).output)
    assert outs["BucketName"] == "slurm-factory-staging-buildcache"
    assert outs["PublicUrl"] == "https://staging-cache.vantagecompute.ai"

    # destroying staging deletes staging's resources only; production stays converged
    r = cli("destroy", "--force", file=STAGING)
    assert r.code == 0, r.output
    r = cli("plan", file=desired_file)
    assert r.code == 0, r.output
    dists = cf.list_distributions()["DistributionList"].get("Items", [])
    assert [d["Aliases"]["Items"][0] for d in dists] == ["slurm-factory-spack-binary-cache.vantagecompute.ai"]
