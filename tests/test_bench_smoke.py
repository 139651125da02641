"""scripts/bench runs (reduced mode) and reports a sane structure. A smoke test, NOT a timed test:
no wall-time figure is asserted (those live in BENCHMARKS.md); only counts and shapes are.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "scripts" / "bench"


def _bench_module():
    loader = importlib.machinery.SourceFileLoader("provision_bench", str(BENCH))
    spec = importlib.util.spec_from_loader("provision_bench", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def test_scaled_desired_state_is_valid_and_adds_n_alarms_and_records():
    from provisioner import config

    bench = _bench_module()
    base = config.loads(bench.DESIRED.read_text())
    d = config.loads(bench.scaled_toml(3))
    assert len(d.alarms.alarms) == len(base.alarms.alarms) + 3
    assert len(d.dns.records) == len(base.dns.records) + 3
    assert d.outputs == base.outputs  # the extras went before [outputs], which stays whole


def test_request_classification():
    bench = _bench_module()
    auth = "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{}/aws4_request, SignedHeaders=host"

    def env(service, method, path, qs="", **extra):
        return {"HTTP_AUTHORIZATION": auth.format(service), "REQUEST_METHOD": method, "PATH_INFO": path,
                "QUERY_STRING": qs, **extra}

    assert bench.classify(env("s3", "GET", "/b", "lifecycle="))[1:] == ("GetBucketLifecycleConfiguration", False)
    assert bench.classify(env("s3", "PUT", "/b", "versioning"))[1:] == ("PutBucketVersioning", True)
    assert bench.classify(env("s3", "HEAD", "/b"))[1:] == ("HeadBucket", False)
    assert bench.classify(env("acm", "POST", "/", HTTP_X_AMZ_TARGET="CertificateManager.ListCertificates"))[1:] \
        == ("ListCertificates", False)
    assert bench.classify(env("monitoring", "POST", "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm"))[1:] \
        == ("PutMetricAlarm", True)
    import io

    body = b"Action=UpdateRole&Version=2010-05-08&RoleName=r"
    e = env("iam", "POST", "/", CONTENT_TYPE="application/x-www-form-urlencoded; charset=utf-8",
            CONTENT_LENGTH=str(len(body)), **{"wsgi.input": io.BytesIO(body)})
    assert bench.classify(e) == ("iam", "UpdateRole", True)
    assert e["wsgi.input"].read() == body  # the app still gets the body


def test_bench_quick_mode_reports_sane_structure(tmp_path):
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PROVISION_", "MOTO_"))}
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--no-warmup", "--only", "lifecycle,help",
                           "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "| noop_plan |" in proc.stdout and "| --help |" in proc.stdout
    r = json.loads(out.read_text())
    life = r["lifecycle"]
    assert set(life) == {"apply_from_empty", "noop_plan", "drift", "repair_3", "destroy"}
    for name, fig in life.items():
        assert fig["runs"] == 1
        w = fig["wall_s"]
        assert 0 < w["min"] <= w["median"] <= w["max"], name
        assert fig["requests"]["median"] > 0, name
        assert 0 < fig["peak_rss_mb"] < 4096, name
    assert life["noop_plan"]["mutating"]["max"] == 0
    assert life["drift"]["mutating"]["max"] == 0
    assert life["apply_from_empty"]["mutating"]["median"] > 0
    # repair after 3 out-of-band changes: exactly those 3 mutating calls (the bench asserts it too)
    assert sorted(life["repair_3"]["mutating_ops"]) == sorted(life["repair_3"]["expected_mutating_ops"])
    assert len(life["repair_3"]["mutating_ops"]) == 3
    assert r["help"]["requests"]["max"] == 0
