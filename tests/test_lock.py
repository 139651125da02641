"""Concurrent runs: the apply lock (provisioner/lock.py, an SSM parameter) keeps two writers apart.

Two real `python -m provisioner apply` processes against one sandbox; the server (tests/faults.py)
records every request with the caller's AWS_SDK_UA_APP_ID, so the order of mutating requests per
process is read at the server, not from the processes' own account of it.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time

import pytest

from provisioner import lock
from tests.faults import child_env, inventory, provision_cmd

STACK = "slurm-factory"
LOCK = lock.name_for(STACK)





def _body(call) -> bytes:
    body = call.params.get("body") or b""
    return body if isinstance(body, bytes) else str(body).encode()


def _ssm(url):
    import boto3

    return boto3.client("ssm", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _start(url, tmp_path, app_id, *extra):
    env = child_env(url, str(tmp_path), app_id)
    return subprocess.Popen(provision_cmd("apply", "--auto-approve", "-f", str(tmp_path / "desired_state.toml"), *extra),
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(pred, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def _writers(inj):
    """Client ids of the successful mutating requests, in server order (lock writes included)."""
    return [r.client for r in inj.requests() if r.mutating and r.executed and r.status < 400]


def _runs(seq):
    out = []
    for c in seq:
        if not out or out[-1] != c:
            out.append(c)
    return out


def test_second_apply_fails_at_once_naming_the_holder(fresh, tmp_path, desired_file, monkeypatch):
    server, inj = fresh
    # A holds the lock for 10 s or more: B (a new process, ~2 s to start on a loaded CI machine) reads
    # it while A works. CI once saw A finish first with 2 s, and B then rightly found nothing to do.
    monkeypatch.setenv("PROVISION_SANDBOX_DEPLOY_SECONDS", "10")
    (tmp_path / "desired_state.toml").write_text(desired_file.read_text())
    a = _start(server.url, tmp_path, "A")
    try:
        assert _wait_for(lambda: any(r.client == "A" and r.operation == "PutParameter" and r.status == 200
                                     for r in inj.requests())), "A never took the lock"
        b = subprocess.run(provision_cmd("apply", "--auto-approve", "-f", "desired_state.toml"),
                           env=child_env(server.url, str(tmp_path), "B"), cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
        a_out, a_err = a.communicate(timeout=120)
    finally:
        a.kill()
    assert a.returncode == 0, a_out + a_err
    assert b.returncode == 1, b.stdout + b.stderr
    msg = b.stderr
    assert "locked by another run" in msg and f"@{socket.gethostname()}:{a.pid}" in msg, msg
    assert re.search(r"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", msg) and "(apply)" in msg, msg
    assert "provision unlock --force" in msg and "Traceback" not in msg
    # at the server: B wrote nothing at all. Its plan saw changes (A not done: its one PutParameter
    # failed, ParameterAlreadyExists) or none (A waiting for the deploy: B only read the lock)
    b_writes = [(str(r), r.status) for r in inj.requests(client="B") if r.mutating]
    assert b_writes in ([("ssm:PutParameter", 400)], []), b_writes
    assert "No changes" not in b.stdout, "a plan taken while another apply runs is not shown as final"
    assert _wait_for(lambda: not inventory(server.url)["lock_parameters"], 5), "A did not release the lock"


def test_two_waiting_applies_never_interleave_mutating_calls(fresh, tmp_path, desired_file):
    server, inj = fresh
    (tmp_path / "desired_state.toml").write_text(desired_file.read_text())
    a = _start(server.url, tmp_path, "A", "--lock-timeout", "120")
    b = _start(server.url, tmp_path, "B", "--lock-timeout", "120")
    try:
        outs = {n: p.communicate(timeout=180) for n, p in (("A", a), ("B", b))}
    finally:
        a.kill()
        b.kill()
    assert a.returncode == 0 and b.returncode == 0, outs
    seq = _writers(inj)
    assert len(_runs(seq)) == 2, f"mutating calls interleaved: {_runs(seq)}"
    first, second = _runs(seq)
    # the first did the work; the second waited, then found nothing to do (lock put + delete only)
    assert seq.count(first) > 20
    assert [str(r) for r in inj.requests(client=second) if r.mutating and r.status < 400] == \
        ["ssm:PutParameter", "ssm:DeleteParameter"]
    assert "waiting for the apply lock" in outs[second][1]
    assert "No changes" in outs[second][0]
    inv = inventory(server.url)
    assert inv["distributions"] == ["slurm-factory-spack-binary-cache.vantagecompute.ai"] and not inv["lock_parameters"]


def test_lock_left_by_a_killed_run_is_reported_then_broken(fresh, tmp_path, desired_file, cli):
    server, inj = fresh
    (tmp_path / "desired_state.toml").write_text(desired_file.read_text())
    p = _start(server.url, tmp_path, "K")
    inj.kill_after(3, p.pid)  # lock taken, two resource writes done
    p.wait(timeout=60)
    assert p.returncode == -9, p.stderr.read()
    value = _ssm(server.url).get_parameter(Name=LOCK)["Parameter"]["Value"]
    assert json.loads(value)["pid"] == p.pid

    # reported: unlock without --force names the holder; plan and drift neither wait nor care
    r = cli("unlock")
    assert r.code == 1 and f":{p.pid} (apply) since " in r.output and "--force" in r.output, r.output
    for cmd in ("plan", "drift"):
        r = cli(cmd)
        # the lock is not read (drift reads only the apply record, for the causes: issue 18)
        lock_reads = [c for c in r.calls if c.lock and b"apply-lock" in (c.params.get("body") or b"")]
        assert r.code == 2 and not lock_reads, (cmd, r.output)

    # a holder on another host cannot be known dead: refused until broken explicitly
    other = json.loads(value) | {"host": "ci-runner-7", "holder": f"ci@ci-runner-7:{p.pid}"}
    _ssm(server.url).put_parameter(Name=LOCK, Value=json.dumps(other), Type="String", Overwrite=True)
    r = cli("apply", "--auto-approve")
    assert r.code == 1 and "ci@ci-runner-7" in r.output and r.mutating == [], r.output
    r = cli("unlock", "--force")
    assert r.code == 0 and "lock broken" in r.output and "ci@ci-runner-7" in r.output
    r = cli("unlock")
    assert r.code == 0 and "not locked" in r.output


def test_a_dead_holder_on_this_host_is_broken_automatically(fresh, tmp_path, desired_file, cli):
    server, inj = fresh
    (tmp_path / "desired_state.toml").write_text(desired_file.read_text())
    p = _start(server.url, tmp_path, "K")
    inj.kill_after(1, p.pid)  # killed right after taking the lock
    p.wait(timeout=60)
    assert p.returncode == -9
    assert inventory(server.url)["lock_parameters"] == [LOCK]
    r = cli("apply", "--auto-approve")  # a plain re-run on the same host: the holder's pid is gone
    assert r.code == 0, r.output
    assert "breaking a stale lock" in r.output or "breaking a stale lock" in r.stderr
    assert not inventory(server.url)["lock_parameters"]
    # a no-op apply takes no lock at all (it only looks for a dead run's lock): not one write
    seen = len(inj.requests())
    again = cli("apply", "--auto-approve")
    assert again.code == 0 and again.mutating == []
    assert [str(c) for c in again.calls if c.lock] == ["ssm:GetParameter"]
    assert not [x for x in inj.requests()[seen:] if x.mutating], [str(x) for x in inj.requests()[seen:]]
    assert not inventory(server.url)["lock_parameters"]


def test_nothing_to_do_while_another_run_holds_the_lock_is_not_final(fresh, cli):
    """A converged stack, and another live run's lock: that run may be changing things right now,
    so "No changes" would be a snapshot of its apply half done. Apply fails at once naming it, or
    with --lock-timeout waits for it and plans again (as Terraform's apply waits for the state lock)."""
    server, _ = fresh
    assert cli("apply", "--auto-approve").code == 0
    foreign = {"holder": "ci@elsewhere:1", "host": "elsewhere", "pid": 1, "since": "2026-01-01T00:00:00Z",
               "command": "apply"}
    ssm = _ssm(server.url)
    ssm.put_parameter(Name=LOCK, Value=json.dumps(foreign), Type="String")
    r = cli("apply", "--auto-approve")
    assert r.code == 1 and "locked by another run: ci@elsewhere:1 (apply)" in r.output, r.output
    assert "No changes" not in r.output and r.mutating == []
    assert [str(c) for c in r.calls if c.lock and c.mutating] == [], "the no-op path only reads the lock"

    import threading

    from provisioner.aws import observe_calls

    ended = threading.Event()

    def end_that_run_once_we_saw_it(call) -> None:  # not on a timer: a slow start would miss it
        if call.lock and call.operation == "GetParameter" and not ended.is_set():
            ended.set()
            threading.Timer(0.5, lambda: ssm.delete_parameter(Name=LOCK)).start()

    with observe_calls(end_that_run_once_we_saw_it):
        r = cli("apply", "--auto-approve", "--lock-timeout", "30")
    assert ended.is_set()
    assert r.code == 0, r.output
    assert "Another run held the lock" in r.output and "No changes" in r.output and r.mutating == []
    assert not inventory(server.url)["lock_parameters"], "our lock, taken after the wait, is released"


def test_break_lock_flag_and_waiting_bound(fresh, cli):
    server, inj = fresh
    foreign = {"holder": "ci@elsewhere:1", "host": "elsewhere", "pid": 1, "since": "2026-01-01T00:00:00Z",
               "command": "apply"}
    _ssm(server.url).put_parameter(Name=LOCK, Value=json.dumps(foreign), Type="String")
    t = time.monotonic()
    r = cli("apply", "--auto-approve", "--lock-timeout", "0.5")  # an empty account: changes to make
    assert r.code == 1 and "ci@elsewhere:1 (apply) since 2026-01-01T00:00:00Z" in r.output, r.output
    assert "waited" in r.output and 0.5 <= time.monotonic() - t < 10
    assert r.mutating == [], "nothing was changed without the lock"
    r = cli("destroy", "--force")  # nothing to destroy: no lock needed, the foreign lock is left alone
    assert r.code == 0 and inventory(server.url)["lock_parameters"] == [LOCK], r.output
    r = cli("destroy", "--force", "--break-lock")  # nothing to destroy; the foreign lock is broken first
    assert r.code == 0, r.output
    assert not inventory(server.url)["lock_parameters"]


def test_release_never_deletes_a_lock_that_is_no_longer_ours(fresh):
    server, _ = fresh
    ssm = _ssm(server.url)
    lk = lock.Lock(ssm, LOCK, "apply").acquire()
    ssm.put_parameter(Name=LOCK, Value='{"holder": "someone-else"}', Type="String", Overwrite=True)
    lk.release()
    assert json.loads(ssm.get_parameter(Name=LOCK)["Parameter"]["Value"]) == {"holder": "someone-else"}
    assert lock.break_lock(ssm, LOCK) == {"holder": "someone-else"}
    mine = lock.Lock(ssm, LOCK, "apply").acquire()
    with pytest.raises(lock.LockHeld, match="not waiting"):
        lock.Lock(ssm, LOCK, "destroy").acquire()  # this process is alive: never broken automatically
    mine.release()
    assert lock.break_lock(ssm, LOCK) is None


def test_policy_grants_the_lock_parameter_only(cli):
    r = cli("policy", "--apply")
    doc = json.loads(r.output)
    st = [s for s in doc["Statement"] if s["Sid"] == "WriteLock"][0]
    assert st["Resource"] == f"arn:aws:ssm:us-east-1:123456789012:parameter/provision/{STACK}/*"
    # the lock and the apply record next to it (GetParameterHistory: `provision history`, issue 18)
    assert sorted(st["Action"]) == ["ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameterHistory",
                                    "ssm:PutParameter"]
    assert not any("ssm:" in a for s in doc["Statement"] if s["Sid"] != "WriteLock"
                   for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
