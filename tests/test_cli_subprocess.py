"""The real executable (`python -m provisioner ...`) as a cron job, CI step or operator would run it.

Each test starts (and stops) its own sandbox server on 127.0.0.1, or lets the command start one
(`sandbox`, `demo`), and checks exit codes and output of the separate process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "slurm-factory-spack-buildcache-4b670"
TUNING = {"PROVISION_RETRY_SCALE": "0.01", "PROVISION_POLL_SECONDS": "0.05", "PROVISION_MAX_ATTEMPTS": "3",
          "PROVISION_SANDBOX_DEPLOY_SECONDS": "0.2", "MOTO_ACM_VALIDATION_WAIT": "0"}


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(TUNING)
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
    return env


def provision(*args: str, env: dict, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "provisioner", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def own_server(tmp_path):
    """A sandbox server this test starts and stops, with the hosted-zone fixture; env for the child."""
    from provisioner.sandbox import Server, create_fixtures, sandbox_env

    with Server() as server:
        server.reset()  # moto's state is per process: start from an empty account whatever ran before
        create_fixtures(server.url)
        env = base_env(tmp_path)
        env.update(sandbox_env(server.url))
        yield server, env


def test_saved_plan_and_drift_as_separate_processes(own_server, tmp_path, monkeypatch):
    server, env = own_server
    # the server runs in this process: let the distribution deploy take long enough to be waited for
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "1.0")
    shutil.copy(ROOT / "desired_state.toml", tmp_path / "desired_state.toml")

    r = provision("plan", "-o", "plan.json", env=env, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Plan: " in r.stdout and json.loads((tmp_path / "plan.json").read_text())["has_changes"]
    r = provision("apply", "plan.json", "--log-format", "json", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Apply complete" in r.stdout
    # not a terminal: long waits are structured (JSON) log lines with elapsed time, on stderr
    waits = [json.loads(line) for line in r.stderr.splitlines() if '"waiting"' in line]
    assert waits and all("elapsed_s" in w and "target" in w for w in waits)

    r = provision("drift", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("no drift: ")

    import boto3

    s3 = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    r = provision("drift", "--json", "--publish-metric", "--log-format", "json", env=env, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    report = json.loads(r.stdout)
    assert report["resources_drifted"] == 1
    assert report["drift"][0]["resource"] == "s3_bucket.buildcache" and report["drift"][0]["path"] == "versioning"
    cw = boto3.client("cloudwatch", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    metrics = cw.list_metrics(Namespace="Provision/Drift")["Metrics"]
    assert metrics and metrics[0]["Dimensions"] == [{"Name": "Stack", "Value": "slurm-factory"}]

    # the saved plan is now stale: refused, exit 1, naming what moved
    r = provision("apply", "plan.json", env=env, cwd=tmp_path)
    assert r.returncode == 1
    assert "stale" in r.stderr and "s3_bucket.buildcache" in r.stderr


def test_sandbox_serves_until_sigint(tmp_path):
    env = base_env(tmp_path)
    env["AWS_PROFILE"] = "must-not-be-used"  # the sandbox never reads the caller's AWS configuration
    proc = subprocess.Popen([sys.executable, "-m", "provisioner", "sandbox"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        exports = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or line.startswith("# serving"):
                break
            if line.startswith("export "):
                k, _, v = line[len("export "):].strip().partition("=")
                exports[k] = v
        url = exports["AWS_ENDPOINT_URL"]
        assert url.startswith("http://127.0.0.1:")
        assert exports["AWS_REGION"] == "us-east-1" and exports["AWS_ACCESS_KEY_ID"] == "testing"

        import boto3

        kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                  aws_secret_access_key="testing")
        zones = boto3.client("route53", **kw).list_hosted_zones()["HostedZones"]
        assert [z["Name"] for z in zones] == ["vantagecompute.ai."]  # the fixture the real account has
        boto3.client("s3", **kw).create_bucket(Bucket="sandbox-check")
        assert proc.poll() is None

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert "sandbox stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sandbox_port_in_use_is_an_error(tmp_path):
    from provisioner.sandbox import Server

    with Server() as busy:
        r = provision("sandbox", "--port", str(busy.port), env=base_env(tmp_path), cwd=tmp_path, timeout=60)
    assert r.returncode == 1 and "cannot start the sandbox" in r.stderr


def test_demo_runs_the_whole_workflow(tmp_path):
    env = base_env(tmp_path)
    env.pop("PROVISION_POLL_SECONDS")  # the demo's own setting
    env["AWS_PROFILE"] = "must-not-be-used"  # the demo masks the caller's AWS configuration
    r = provision("demo", env=env, cwd=tmp_path, timeout=300)  # no desired_state.toml here: the repository's
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    for n, title in enumerate(["preflight", "plan:", "apply:", "plan again", "out-of-band change", "drift:",
                               "apply: repair", "drift: clean", "outputs"], 1):
        assert f"==> [{n}/9] {title}" in out, title
    assert "--- ok: exit 2; drift names s3_bucket.buildcache versioning" in out
    assert "  s3_bucket.buildcache  versioning: expected true, actual false" in out
    assert "PublicUrl              = https://slurm-factory-spack-binary-cache.vantagecompute.ai" in out
    assert "Demo passed: every step behaved as expected." in out


def test_demo_reports_a_bad_desired_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[stack]\nname = 1\n")
    r = provision("demo", "-f", str(bad), env=base_env(tmp_path), cwd=tmp_path, timeout=60)
    assert r.returncode == 1 and "Error: " in r.stdout
