"""A converged seed stack on a request-logging sandbox, driven through `python -m provisioner` processes.

The end-to-end tests of issue 18 (tests/test_unexpected.py, test_orphans.py, test_causes.py) share
it: the sandbox runs in the test process behind ``tests.faults.FaultInjector`` (which logs every
request and classifies it read/mutating), and every command is a separate process pointed at it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tests.faults import FaultInjector, child_env, provision_cmd

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    desired: Path
    injector: FaultInjector

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """``provision ARGS -f <the stack's desired file>`` (unless ARGS name a file)."""
        file = () if "-f" in args or args[:1] in (("policy",),) else ("-f", str(self.desired))
        return subprocess.run(provision_cmd(*args, *file), env=self.env, cwd=self.desired.parent,
                              capture_output=True, text=True, timeout=timeout)

    def client(self, service: str, region: str = "us-east-1") -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(service, region_name=region, endpoint_url=self.url, aws_access_key_id="testing",
                            aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))

    def json(self, *args: str, codes: tuple[int, ...] = (0, 2)) -> tuple[int, dict]:
        r = self.run(*args, "--json")
        assert r.returncode in codes, r.stdout + r.stderr
        return r.returncode, json.loads(r.stdout)

    def apply(self, *args: str) -> list[str]:
        """``apply --auto-approve ARGS``; -> its mutating requests, sorted (SSM lock/record bookkeeping aside)."""
        self.injector.clear()
        r = self.run("apply", "--auto-approve", *args)
        assert r.returncode == 0, r.stdout + r.stderr
        return sorted(str(q) for q in self.injector.mutating() if q.service != "ssm")

    def edit(self, old: str, new: str) -> None:
        text = self.desired.read_text()
        assert old in text, old
        self.desired.write_text(text.replace(old, new, 1))

    def restore(self) -> None:
        shutil.copy(ROOT / "desired_state.toml", self.desired)


def stack(tmp: Path, *, applied: bool = True) -> Iterator[Stack]:
    """Generator for a module fixture: a fresh sandbox account, the seed applied (``applied``)."""
    from provisioner.sandbox import Server, create_fixtures

    desired = tmp / "desired_state.toml"
    shutil.copy(ROOT / "desired_state.toml", desired)
    inj = FaultInjector()
    with Server(app=inj) as server:
        server.reset()  # moto's state is per process: start from an empty account
        create_fixtures(server.url)
        s = Stack(server.url, child_env(server.url, str(tmp)), desired, inj)
        if applied:
            s.apply()
        yield s
