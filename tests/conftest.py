"""Shared test harness.

- ``moto_server`` (session): the patched sandbox (``provisioner.sandbox.Server``) on 127.0.0.1,
  a free port; ``aws_env`` (function) resets it, creates the hosted-zone fixture and points boto3
  at it through ``AWS_ENDPOINT_URL`` (the standard variable the product honours).
- ``recorder``: every API call the product makes (botocore ``before-call``), to assert which calls
  and how many mutating calls a command made.
- ``cli``: runs the real typer app in-process and returns (exit_code, output, calls).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DESIRED = ROOT / "desired_state.toml"

# Fast, bounded retries and waits in tests (the product defaults are for real AWS).
os.environ.setdefault("PROVISION_RETRY_SCALE", "0.01")
os.environ.setdefault("PROVISION_POLL_SECONDS", "0.05")
os.environ.setdefault("PROVISION_MAX_ATTEMPTS", "3")
os.environ.setdefault("PROVISION_SANDBOX_DEPLOY_SECONDS", "0.2")
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")
for _k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_k, None)


def pytest_collection_modifyitems(config, items):
    """Long tests first: with two workers, a minute-long test started last would run alone."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("long") else 1)


@pytest.fixture(scope="session")
def moto_server():
    from provisioner.sandbox import Server

    server = Server().start()
    yield server
    server.stop()


def use_clean_sandbox(server, monkeypatch, tmp_path) -> str:
    """Reset ``server``, point this process's AWS SDK at it, create the hosted zone -> zone id."""
    from provisioner.sandbox import create_fixtures, sandbox_env

    server.reset()
    for k, v in sandbox_env(server.url).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    return create_fixtures(server.url)


@pytest.fixture
def aws_env(moto_server, monkeypatch, tmp_path):
    """A clean sandbox account with the hosted zone the real account has; env points at it."""
    zone_id = use_clean_sandbox(moto_server, monkeypatch, tmp_path)
    return Env(url=moto_server.url, zone_id=zone_id, server=moto_server)


@pytest.fixture(scope="module")
def faulty_server():
    """The sandbox behind the fault-injecting, request-logging wrapper of tests/faults.py."""
    from provisioner.sandbox import Server
    from tests.faults import FaultInjector

    inj = FaultInjector()
    server = Server(app=inj).start()
    yield server, inj
    server.stop()


@pytest.fixture
def fresh(faulty_server, monkeypatch, tmp_path):
    """A clean account on the faulty server (no faults configured), env pointing at it, log empty."""
    server, inj = faulty_server
    inj.configure()
    use_clean_sandbox(server, monkeypatch, tmp_path)
    inj.clear()
    return server, inj


@dataclass
class Env:
    url: str
    zone_id: str
    server: object

    def client(self, service: str, region: str = "us-east-1"):
        import boto3
        from botocore.config import Config

        return boto3.client(service, region_name=region, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def recorder():
    from provisioner.aws import CallRecorder

    with CallRecorder() as rec:
        yield rec


@dataclass
class Result:
    code: int
    output: str
    calls: list
    stderr: str = ""
    stdout: str = ""  # stdout alone (``output`` also has stderr: logs, risk findings)

    @property
    def mutating(self) -> list[str]:
        return [str(c) for c in self.calls if c.mutating]


@pytest.fixture
def desired_file(tmp_path) -> Path:
    """A private copy of the repository's desired_state.toml that a test may edit."""
    p = tmp_path / "desired_state.toml"
    shutil.copy(DESIRED, p)
    return p


@pytest.fixture
def cli(desired_file):
    """Run the real CLI in-process: cli("plan", "--json") -> Result(code, output, calls)."""
    from typer.testing import CliRunner

    from provisioner.aws import CallRecorder
    from provisioner.cli import app

    def run(*args: str, file: Path | None = None, input: str | None = None) -> Result:
        argv = list(args)
        if "-f" not in argv and "--file" not in argv and args and args[0] not in ("sandbox", "demo", "policy"):
            argv += ["-f", str(file or desired_file)]
        runner = CliRunner()
        with CallRecorder() as rec:
            res = runner.invoke(app, argv, input=input, catch_exceptions=False)
        return Result(res.exit_code, res.output, list(rec.calls), getattr(res, "stderr", "") or "",
                      getattr(res, "stdout", "") or "")

    return run
