"""Faults between the tool and AWS: throttling, 503s, connection resets, responses lost after the fact.

The faulty server is ``tests/faults.py`` (a WSGI wrapper around the patched moto app). Each error
is in the protocol shape of the service it pretends to be; botocore's ``standard`` retry mode
(``provisioner/aws.py``) retries all of them. The tool itself is a real subprocess
(``python -m provisioner apply --auto-approve``) with ``PROVISION_MAX_ATTEMPTS=10``, its botocore
retry sleeps scaled by 0.05 for speed (``tests.faults.provision_cmd``; same retries, shorter sleeps).

Also here: "nothing lost" -- every code path that could delete the buildcache bucket or its objects
is tried, and the server-side request log shows no DeleteBucket/DeleteObject(s) on it.
"""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from tests.faults import child_env, duplicates, inventory, provision_cmd

BUCKET = "slurm-factory-spack-buildcache-4b670"
DOMAIN = "slurm-factory-spack-binary-cache.vantagecompute.ai"
#: what one apply of desired_state.toml makes (each exactly once)
EXPECTED_COUNTS = {"buckets": 2, "distributions": 1, "certificates": 1, "oais": 1, "oacs": 0, "cache_policies": 1,
                   "topics": 1, "alarms": 3, "oidc_providers": 1, "roles": 1, "users": 1, "records": 3,
                   "lock_parameters": 0, "apply_records": 1, "ownership_registry": 1}


@pytest.fixture(autouse=True)
def _fast_deploys(monkeypatch):
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "0.05")


def _client(url, service, attempts=1):
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}))


READS = {
    "s3": lambda c: c.list_buckets(), "iam": lambda c: c.list_roles(), "sts": lambda c: c.get_caller_identity(),
    "sns": lambda c: c.list_topics(), "cloudwatch": lambda c: c.describe_alarms(),
    "cloudfront": lambda c: c.list_distributions(), "route53": lambda c: c.list_hosted_zones(),
    "acm": lambda c: c.list_certificates(), "resourcegroupstaggingapi": lambda c: c.get_resources(
        ResourceTypeFilters=["cloudwatch:alarm"]), "ssm": lambda c: c.describe_parameters(),
}
#: the throttling error code botocore parses from each service's own shape (all in THROTTLING_CODES)
THROTTLE = {"iam": "Throttling", "sts": "Throttling", "sns": "Throttling", "cloudfront": "Throttling",
            "route53": "Throttling", "resourcegroupstaggingapi": "ThrottledException", "ssm": "ThrottlingException"}


def _throttling_codes() -> frozenset[str]:
    from botocore.retries.standard import ThrottledRetryableChecker

    return frozenset(ThrottledRetryableChecker._THROTTLED_ERROR_CODES)


THROTTLING_CODES = _throttling_codes()


def test_each_fault_has_the_services_shape_and_is_retried(fresh, monkeypatch):
    from botocore.exceptions import ClientError, ConnectionClosedError
    from botocore.retries.standard import ExponentialBackoff

    original = ExponentialBackoff.delay_amount  # same retry decisions, 20x shorter sleeps
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, ctx: original(self, ctx) * 0.05)
    server, inj = fresh
    seen = []
    for service, read in READS.items():
        for kind in ("throttle", "unavailable", "reset"):
            inj.script = [kind]
            with pytest.raises((ClientError, ConnectionClosedError)) as e:
                read(_client(server.url, service))
            if kind == "reset":
                assert isinstance(e.value, ConnectionClosedError), (service, e.value)
            else:
                err = e.value.response
                status, code = err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]
                if service == "s3":
                    assert (status, code) == (503, "SlowDown")
                elif kind == "throttle":
                    assert status == 400 and code in THROTTLING_CODES, (service, status, code)
                    assert code == THROTTLE.get(service, code), (service, code)
                else:
                    assert (status, code) == (503, "ServiceUnavailable"), (service, status, code)
            # the same fault once, then success: the standard retry mode gets through
            inj.script = [kind]
            out = read(_client(server.url, service, attempts=3))
            assert out["ResponseMetadata"]["RetryAttempts"] == 1, (service, kind)
            seen.append((service, kind))
    assert len(seen) == 30
    # a fault before moto never reaches it: nothing was created by a throttled create
    inj.script = ["throttle"]
    with pytest.raises(ClientError):
        _client(server.url, "sns").create_topic(Name="never-made")
    assert _client(server.url, "sns").list_topics()["Topics"] == []


def _apply_under_faults(server, inj, tmp_path, desired_file, **faults):
    inj.clear()
    inj.configure(**faults)
    r = subprocess.run(provision_cmd("apply", "--auto-approve", "-f", str(desired_file), backoff_scale=0.05),
                       env=child_env(server.url, str(tmp_path)), capture_output=True, text=True, timeout=300)
    stats = Counter(x.outcome for x in inj.requests())
    lost_ops = [str(x) for x in inj.requests() if x.outcome == "lost"]
    inj.configure()  # faults off: the checks below go through a clean path
    return r, stats, lost_ops


def _assert_converged(server, desired_file):
    inv = inventory(server.url)
    assert duplicates(inv) == {}
    assert {k: len(v) for k, v in inv.items()} == EXPECTED_COUNTS, inv
    assert inv["distributions"] == [DOMAIN] and inv["certificates"] == [DOMAIN]
    from typer.testing import CliRunner

    from provisioner.cli import app

    plan = CliRunner().invoke(app, ["plan", "-f", str(desired_file)])
    assert plan.exit_code == 0 and "No changes" in plan.output, plan.output


def test_apply_from_empty_converges_with_30_percent_of_requests_failing_before_aws(fresh, tmp_path, desired_file):
    server, inj = fresh
    r, stats, _ = _apply_under_faults(server, inj, tmp_path, desired_file, rate=0.3, seed=8)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    failed = sum(n for k, n in stats.items() if k != "ok")
    assert failed / sum(stats.values()) >= 0.2 and all(stats[k] > 3 for k in ("throttle", "unavailable", "reset")), stats
    _assert_converged(server, desired_file)


def test_apply_converges_when_create_responses_are_lost_after_aws_made_them(fresh, tmp_path, desired_file):
    """The nasty case: the create happened, the client saw a connection error and retried it."""
    server, inj = fresh
    r, stats, lost = _apply_under_faults(server, inj, tmp_path, desired_file, rate=0.15, lost_rate=0.3, seed=3)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert stats["lost"] >= 5 and any(op.split(":")[1].startswith(("Create", "Request")) for op in lost), lost
    _assert_converged(server, desired_file)


def test_nothing_lost_no_code_path_deletes_the_buildcache_or_its_objects(fresh, tmp_path, desired_file, cli):
    """destroy --force (also under lost responses), a renamed bucket, retain flags: the buildcache stays."""
    server, inj = fresh
    # the cache already holds packages (it does in the real account); then the stack adopts the bucket
    s3 = _client(server.url, "s3", attempts=3)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for i in range(3):  # two versions of each object
        for v in (b"v1", b"v2"):
            s3.put_object(Bucket=BUCKET, Key=f"build_cache/pkg{i}.spack", Body=v * 10)
    before = sorted((v["Key"], v["VersionId"]) for v in s3.list_object_versions(Bucket=BUCKET)["Versions"])
    assert len(before) == 6
    assert cli("apply", "--auto-approve").code == 1  # not ours: adopted on purpose, never silently
    assert cli("apply", "--auto-approve", "--adopt", "s3_bucket.buildcache").code == 0

    # 1. destroy --force: everything of ours goes, the buildcache is retained (plan says so)
    r = cli("destroy", "--force")
    assert r.code == 0 and "retained" in r.output, r.output
    # 2. again, with mutating responses lost and requests failing: retries must not widen the blast radius
    assert cli("apply", "--auto-approve").code == 0
    inj.configure(rate=0.2, lost_rate=0.3, seed=5)
    subprocess.run(provision_cmd("destroy", "--force", "-f", str(desired_file), backoff_scale=0.05),
                   env=child_env(server.url, str(tmp_path)), capture_output=True, text=True, timeout=300)
    inj.configure()
    # 3. the bucket renamed in the TOML: apply makes the new one and leaves the old alone; destroy too
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(desired_file.read_text().replace(f'name = "{BUCKET}"\n', 'name = "slurm-factory-cache-2"\n'))
    assert cli("apply", "--auto-approve", file=renamed).code == 0
    assert cli("destroy", "--force", file=renamed).code == 0
    # 4. retain flags: turning retention off for the buildcache is refused before any call
    unretained = tmp_path / "unretained.toml"
    unretained.write_text(desired_file.read_text().replace("retain_on_destroy = true               # the seed",
                                                           "retain_on_destroy = false               # the seed"))
    r = cli("destroy", "--force", file=unretained)
    assert r.code == 1 and r.calls == [] and "s3.buildcache.retain_on_destroy" in r.output
    # ... and turning it off for the log bucket deletes (at most) the log bucket
    logs_off = tmp_path / "logs-off.toml"
    text = desired_file.read_text()
    i = text.index("[s3.logs]")
    logs_off.write_text(text[:i] + text[i:].replace("retain_on_destroy = true", "retain_on_destroy = false", 1))
    assert cli("apply", "--auto-approve", file=logs_off).code == 0
    cli("destroy", "--force", file=logs_off)

    deletes = [(str(x), x.path, x.outcome) for x in inj.requests()
               if x.operation in ("DeleteBucket", "DeleteObject", "DeleteObjects")
               and x.path.strip("/").split("/")[0] == BUCKET]
    assert deletes == [], deletes
    # reading over plain HTTP needs the TLS-only bucket policy out of the way (a test-side change)
    s3.delete_bucket_policy(Bucket=BUCKET)
    after = sorted((v["Key"], v["VersionId"]) for v in s3.list_object_versions(Bucket=BUCKET)["Versions"])
    assert after == before
    assert [s3.get_object(Bucket=BUCKET, Key=f"build_cache/pkg{i}.spack")["Body"].read() for i in range(3)] == \
        [b"v2" * 10] * 3
    assert BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]
