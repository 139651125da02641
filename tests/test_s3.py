"""S3 end to end against the sandbox server: the four steps per setting, drift, repair, adoption.

Only the S3 resources are exercised here (``only_s3``), through the real engine and reconciler,
so the tests do not depend on the other services' reconcilers.
"""

from __future__ import annotations

import json
import re

import pytest

from provisioner import config, engine
from provisioner.aws import Aws, CallRecorder
from provisioner.model import CREATE, NOOP, UPDATE
from provisioner.reconcilers import s3 as s3rec

BUCKET = "slurm-factory-spack-buildcache-4b670"
LOGS = "slurm-factory-spack-buildcache-4b670-logs"


def s3_resources(desired):
    return [r for r in s3rec.resources(desired)]


def run(desired, action: str):
    """plan (and apply) the S3 resources only; returns (plan, calls)."""
    ctx = engine.Context(desired, Aws(region=desired.stack.region))
    res = s3_resources(desired)
    with CallRecorder() as rec:
        p = engine.plan(ctx, res)
        if action == "apply" and p.has_changes:
            engine.apply(ctx, p, res)
    return p, rec


@pytest.fixture
def desired(desired_file):
    return config.load(desired_file)


def test_apply_from_empty_creates_everything_then_plan_is_empty(aws_env, desired):
    p, rec = run(desired, "plan")
    assert [c.action for c in p.changes if c.address.startswith("s3_bucket.")] == [CREATE, CREATE]
    assert rec.mutating == [], "plan must not mutate"

    p, rec = run(desired, "apply")
    assert p.counts()["create"] == 5  # two buckets, their policies, the buildcache's request metrics
    s3 = aws_env.client("s3")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    enc = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    pab = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(pab[f] for f in s3rec.PAB_FLAGS)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["provision:stack"] == "slurm-factory" and tags["ManagedBy"] == "provision"
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"][0]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert s3.get_bucket_ownership_controls(Bucket=LOGS)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == \
        "BucketOwnerPreferred"

    p, rec = run(desired, "plan")
    assert not p.has_changes, [c for c in p.changes if c.action != NOOP]
    assert rec.mutating == []
    # applying again is a no-op: zero mutating calls
    p, rec = run(desired, "apply")
    assert rec.mutating == []


# Out-of-band change -> field the plan names -> exactly the calls the repair needs.
OUT_OF_BAND = [
    ("versioning suspended",
     lambda s3: s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"}),
     "s3_bucket.buildcache", "versioning", ["s3:PutBucketVersioning"]),
    ("lifecycle deleted",
     lambda s3: s3.delete_bucket_lifecycle(Bucket=BUCKET),
     "s3_bucket.buildcache", "lifecycle", ["s3:PutBucketLifecycleConfiguration"]),
    ("one public access flag off",
     lambda s3: s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
         "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True}),
     "s3_bucket.buildcache", "public_access_block.BlockPublicPolicy", ["s3:PutPublicAccessBlock"]),
    ("encryption removed",
     lambda s3: s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
         "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}),
     "s3_bucket.buildcache", "encryption", ["s3:PutBucketEncryption"]),
    ("ownership tag removed",
     lambda s3: s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "Project", "Value": "slurm-factory"}]}),
     "s3_bucket.buildcache", "tags.ManagedBy", ["s3:PutBucketTagging"]),
    ("bucket policy deleted",
     lambda s3: s3.delete_bucket_policy(Bucket=BUCKET),
     "s3_bucket_policy.buildcache", "policy", ["s3:PutBucketPolicy"]),
    ("TLS statement loosened",
     lambda s3: s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
         "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})),
     "s3_bucket_policy.buildcache", "policy", ["s3:PutBucketPolicy"]),
    ("log bucket ownership changed",
     lambda s3: s3.put_bucket_ownership_controls(Bucket=LOGS, OwnershipControls={
         "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}),
     "s3_bucket.logs", "object_ownership", ["s3:PutBucketOwnershipControls"]),
]


def test_out_of_band_changes_are_drift_and_apply_repairs_each_with_only_the_needed_calls(aws_env, cli):
    """One converged account; each case: change behind our back -> drift names it -> exact repair."""
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert cli("drift").code == 0
    for name, change, address, field, calls in OUT_OF_BAND:
        change(aws_env.client("s3"))

        r = cli("drift")
        assert r.code == 2, (name, r.output)
        assert address in r.output and field in r.output, (name, r.output)
        assert r.mutating == [], f"{name}: drift must be read-only"
        report = json.loads(cli("drift", "--json").output)
        assert report["drifted"] and any(
            d["resource"] == address and (d["path"].startswith(field.split(".")[0]) or d["kind"] == "MISSING")
            for d in report["drift"]), (name, report)

        r = cli("apply", "--auto-approve")
        assert r.code == 0, (name, r.output)
        assert r.mutating == calls, (name, r.output)

        r = cli("drift")
        assert r.code == 0, (name, r.output)
        assert r.mutating == []


def test_plan_output_shows_update_with_old_and_new(aws_env, cli):
    assert cli("apply", "--auto-approve").code == 0
    aws_env.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    r = cli("plan")
    assert r.code == 2
    assert "~ s3_bucket.buildcache" in r.output
    assert "~ versioning: false -> true" in r.output
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in r.output


def test_existing_bucket_is_adopted_and_corrected_in_place(aws_env, cli):
    s3 = aws_env.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="compilers/13.4.0/buildcache/index.json", Body=b"{}")
    r = cli("plan")  # someone's bucket under our name: never claimed silently
    assert r.code == 1
    assert "! s3_bucket.buildcache  exists, not owned by stack slurm-factory" in r.output
    assert cli("apply", "--auto-approve").mutating == []
    r = cli("plan", "--adopt", "s3_bucket.buildcache")  # adopted on purpose: updated, not created
    assert r.code == 2
    assert "> s3_bucket.buildcache  will be adopted and updated in place" in r.output, r.output
    r = cli("apply", "--auto-approve", "--adopt", "s3_bucket.buildcache")
    assert r.code == 0, r.output
    assert r.mutating.count("s3:CreateBucket") == 1  # only the log bucket
    assert not [c for c in r.mutating if "Object" in c], "no object is touched"
    # the TLS-only policy now denies this plain-HTTP test client: lift it to look at the data
    s3.delete_bucket_policy(Bucket=BUCKET)
    assert s3.get_object(Bucket=BUCKET, Key="compilers/13.4.0/buildcache/index.json")["Body"].read() == b"{}"
    assert cli("apply", "--auto-approve").mutating == ["s3:PutBucketPolicy"]
    assert cli("plan").code == 0


def test_foreign_tags_are_kept_when_tags_are_corrected(aws_env, cli):
    assert cli("apply", "--auto-approve").code == 0
    s3 = aws_env.client("s3")
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "CostCenter", "Value": "hpc"}]})
    r = cli("apply", "--auto-approve")
    assert r.mutating == ["s3:PutBucketTagging"]
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["CostCenter"] == "hpc" and tags["provision:stack"] == "slurm-factory"


def test_apply_never_deletes_a_bucket_even_when_the_config_renames_it(aws_env, cli, desired_file):
    assert cli("apply", "--auto-approve").code == 0
    text = desired_file.read_text().replace('name = "slurm-factory-spack-buildcache-4b670"\n',
                                            'name = "slurm-factory-spack-buildcache-renamed"\n')
    desired_file.write_text(text)
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    assert not [c for c in r.mutating if c.startswith("s3:Delete")]
    names = {b["Name"] for b in aws_env.client("s3").list_buckets()["Buckets"]}
    assert BUCKET in names and "slurm-factory-spack-buildcache-renamed" in names


def test_bucket_in_another_region_is_a_clear_error_with_no_change(aws_env, cli):
    s3 = aws_env.client("s3", "eu-west-1")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    r = cli("apply", "--auto-approve")  # not ours: refused before any write
    assert r.code == 1 and "not owned by stack slurm-factory" in r.output and r.mutating == []
    r = cli("apply", "--auto-approve", "--adopt", "s3_bucket.buildcache")  # adopted: it cannot move
    assert r.code == 1
    assert "cannot move region" in r.output
    # Nothing is written to that bucket. (Apply writes independent branches concurrently: the logs
    # bucket, which does not depend on it, may be created and configured meanwhile.)
    mine = re.compile(rf"{BUCKET}(?![\w-])")
    on_it = [str(c) for c in r.calls if c.mutating and c.service == "s3"
             and mine.search(str(c.params.get("url", "")) + str(c.params.get("url_path", "")))]
    assert not [c for c in on_it if c.startswith("s3:") and "Bucket" in c and c != "s3:CreateBucket"]


@pytest.mark.parametrize("field", ["versioning", "lifecycle", "public_access_block", "encryption", "tags", "object_ownership"])
def test_four_steps_per_setting(aws_env, desired, field):
    """Ansible's four steps per S3 setting: plan shows it, apply makes it, plan empty, apply no-op."""
    run(desired, "apply")
    s3 = aws_env.client("s3")
    # put the bucket in a state where exactly `field` differs
    undo = {
        "versioning": lambda: s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"}),
        "lifecycle": lambda: s3.delete_bucket_lifecycle(Bucket=BUCKET),
        "public_access_block": lambda: s3.delete_public_access_block(Bucket=BUCKET),
        "encryption": lambda: s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}),
        "tags": lambda: s3.delete_bucket_tagging(Bucket=BUCKET),
        "object_ownership": lambda: s3.put_bucket_ownership_controls(
            Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}),
    }[field]
    undo()
    p, rec = run(desired, "plan")  # 1. plan shows the change
    ch = {c.address: c for c in p.changes}["s3_bucket.buildcache"]
    assert ch.action == UPDATE and {f.path.split(".")[0] for f in ch.fields} == {field}
    assert rec.mutating == []
    p, rec = run(desired, "apply")  # 2. apply makes it
    assert len(rec.mutating) == 1
    p, rec = run(desired, "plan")  # 3. plan is empty
    assert not p.has_changes and rec.mutating == []
    p, rec = run(desired, "apply")  # 4. apply again: no mutating call
    assert rec.mutating == []


def test_drift_ignore_accepts_known_differences_visibly(aws_env, cli, desired_file):
    assert cli("apply", "--auto-approve").code == 0
    s3 = aws_env.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_bucket_lifecycle(Bucket=BUCKET)
    desired_file.write_text(desired_file.read_text().replace(
        "ignore = []", 'ignore = ["s3_bucket.build*:versioning"]'))
    r = cli("drift")
    assert r.code == 2, "the lifecycle difference is not ignored"
    assert "lifecycle" in r.output and "(ignored by [drift] ignore: s3_bucket.buildcache:versioning)" in r.output
    report = json.loads(cli("drift", "--json").output)
    assert report["ignored"] == ["s3_bucket.buildcache:versioning"]
    assert [d["path"] for d in report["drift"]] == ["lifecycle"]

    desired_file.write_text(desired_file.read_text().replace(
        'ignore = ["s3_bucket.build*:versioning"]', 'ignore = ["s3_bucket.buildcache:versioning", "s3_bucket.buildcache:lifecycle"]'))
    r = cli("drift")
    assert r.code == 0, r.output
    assert "ignored by [drift] ignore: s3_bucket.buildcache:lifecycle" in r.output
    # plan still shows (and apply still reverts) what drift ignores
    assert cli("plan").code == 2


def test_drift_ignore_pattern_is_validated(cli, desired_file):
    desired_file.write_text(desired_file.read_text().replace("ignore = []", 'ignore = ["not a pattern"]'))
    r = cli("drift")
    assert r.code == 1 and "drift.ignore[0]" in r.output and r.calls == []
