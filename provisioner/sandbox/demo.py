"""`provision demo`: the whole operator workflow in one run, against an embedded sandbox.

The sandbox (patched moto, ``provisioner.sandbox``) runs in this process on a free 127.0.0.1 port;
the AWS environment points at it only for the duration of the demo (credentials files, profile and
any real endpoint are masked), so the demo cannot touch a real account. Each step runs the real
CLI command in-process and checks its exit code (and, for drift, that the report names the change).
The CLI's ``demo`` command passes its typer ``app`` to :func:`run`: this module never imports the CLI.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

REPO_DESIRED = Path(__file__).resolve().parents[2] / "desired_state.toml"

#: out-of-band change the demo makes, and what drift must then report
OOB_RESOURCE = "s3_bucket.buildcache"
OOB_FIELD = "versioning"


def default_file() -> str:
    """The repository's desired_state.toml: the working directory's, else the one beside the package."""
    here = Path("desired_state.toml")
    return str(here if here.is_file() else REPO_DESIRED)


@contextlib.contextmanager
def sandbox_environment(url: str, scratch: str) -> Iterator[None]:
    """Point boto3 at the sandbox, and only at it, until the block ends (then restore os.environ)."""
    from .server import sandbox_env

    saved = dict(os.environ)
    try:
        for k in list(os.environ):
            if k.startswith("AWS_") or k == "PROVISION_PROFILE":
                del os.environ[k]
        os.environ.update(sandbox_env(url))
        os.environ["AWS_CONFIG_FILE"] = os.path.join(scratch, "no-aws-config")
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(scratch, "no-aws-credentials")
        # a local server answers at once: poll every half second rather than real AWS's 15-30 s
        os.environ.setdefault("PROVISION_POLL_SECONDS", "0.5")
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class _Tee(io.TextIOBase):
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.buf = io.StringIO()

    def write(self, s: str) -> int:
        self.buf.write(s)
        self.stream.write(s)
        return len(s)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


#: one step: title, CLI arguments (None: ``check`` alone is the step), expected exit code, output check
Step = tuple[str, list[str] | None, int, Callable[[str], tuple[bool, str]] | None]


def run(app: Callable[..., Any], file: str | None = None, out: IO[str] | None = None) -> int:
    """Run the demo steps, each through ``app`` (the CLI's typer app); 0 when every step behaved."""
    from .. import config
    from ..errors import ProvisionError
    from .server import SandboxError, Server, create_fixtures

    out = out or sys.stdout
    file = file or default_file()

    def say(msg: str = "") -> None:
        out.write(msg + "\n")
        out.flush()

    try:
        desired = config.load(file)
    except ProvisionError as e:
        say(f"Error: {e}")
        return 1
    try:
        server = Server().start()
    except SandboxError as e:
        say(f"Error: {e}")
        return 1
    results: list[tuple[str, bool, str]] = []
    started = time.monotonic()
    say(f"provision demo: {file} against an embedded sandbox at {server.url} (no real AWS account is touched)")
    try:
        with tempfile.TemporaryDirectory(prefix="provision-demo-") as scratch, \
                sandbox_environment(server.url, scratch):
            zone_id = create_fixtures(server.url, desired.dns.zone)
            say(f"sandbox fixture: hosted zone {desired.dns.zone} ({zone_id}), as in the real account")
            steps = _steps(file, desired, server.url)
            for n, (title, argv, expect, check) in enumerate(steps, 1):
                say("")
                say(f"==> [{n}/{len(steps)}] {title}")
                if argv is None:
                    assert check is not None, title  # a step without a command is a check
                    ok, detail = check("")
                else:
                    say(f"$ provision {' '.join(argv)}")
                    tee = _Tee(out)
                    with contextlib.redirect_stdout(tee), contextlib.redirect_stderr(tee):
                        code = _invoke(app, argv)
                    ok = code == expect
                    detail = f"exit {code}" + ("" if ok else f", expected {expect}")
                    if ok and check is not None:
                        ok, more = check(tee.buf.getvalue())
                        detail += f"; {more}"
                results.append((title, ok, detail))
                say(f"--- {'ok' if ok else 'UNEXPECTED'}: {detail}")
                if not ok:
                    break
    finally:
        server.stop()
    say("")
    say(f"==> summary ({time.monotonic() - started:.1f}s)")
    for title, ok, detail in results:
        say(f"  [{'ok' if ok else 'FAIL'}] {title}: {detail}")
    passed = len(results) == len(_titles()) and all(ok for _t, ok, _d in results)
    say("Demo passed: every step behaved as expected." if passed else "Demo FAILED (see the step above).")
    return 0 if passed else 1


def _invoke(app: Callable[..., Any], argv: list[str]) -> int:
    try:
        code = app(argv, standalone_mode=False, prog_name="provision")
    except SystemExit as e:  # pragma: no cover - click in standalone paths
        code = e.code if isinstance(e.code, int) else 1
    except Exception as e:  # noqa: BLE001 - a crash is a failed step, reported
        sys.stdout.write(f"Error: {type(e).__name__}: {e}\n")
        return 1
    return int(code or 0)


def _titles() -> list[str]:
    return [t for t, *_ in _steps("x", None, "")]


def _steps(file: str, desired: Any, url: str) -> list[Step]:
    f = ["-f", file]

    def out_of_band(_output: str) -> tuple[bool, str]:
        import boto3

        from .server import SANDBOX_ACCESS_KEY, SANDBOX_REGION, SANDBOX_SECRET_KEY

        s3 = boto3.client("s3", endpoint_url=url, region_name=SANDBOX_REGION, aws_access_key_id=SANDBOX_ACCESS_KEY,
                          aws_secret_access_key=SANDBOX_SECRET_KEY)
        bucket = desired.buildcache.name
        try:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        except Exception as e:  # noqa: BLE001
            return False, f"could not change the bucket: {e}"
        return True, (f"$ aws s3api put-bucket-versioning --bucket {bucket} "
                      "--versioning-configuration Status=Suspended (behind provision's back)")

    def names_the_drift(output: str) -> tuple[bool, str]:
        ok = OOB_RESOURCE in output and OOB_FIELD in output
        return ok, (f"drift names {OOB_RESOURCE} {OOB_FIELD}" if ok else
                    f"drift report does not name {OOB_RESOURCE} {OOB_FIELD}")

    def says_no_changes(output: str) -> tuple[bool, str]:
        return "No changes" in output, "no changes" if "No changes" in output else "plan not empty"

    return [
        ("preflight: credentials, account, region, hosted zone", ["preflight", *f], 0, None),
        ("plan: everything to create (exit 2 = changes)", ["plan", *f], 2, None),
        ("apply: create the stack in dependency order", ["apply", "--auto-approve", *f], 0, None),
        ("plan again: nothing to do (exit 0)", ["plan", *f], 0, says_no_changes),
        ("out-of-band change: someone suspends bucket versioning by hand", None, 0, out_of_band),
        ("drift: the change is reported (exit 2)", ["drift", *f], 2, names_the_drift),
        ("apply: repair exactly what drifted", ["apply", "--auto-approve", *f], 0, None),
        ("drift: clean again (exit 0)", ["drift", *f], 0, None),
        ("outputs: read from live state", ["outputs", *f], 0, None),
    ]
