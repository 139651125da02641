"""The apply lock: one writer per stack and account, held in AWS itself (not a local file).

``apply`` and ``destroy`` hold it while they plan and change things; ``plan``, ``drift``, ``outputs``,
``show`` and ``preflight`` never take it (they only read).

Where: an SSM Parameter Store parameter ``/provision/<stack>/apply-lock`` in the stack's region.

- acquire: ``PutParameter(Overwrite=False)``, an atomic create-if-absent; ``ParameterAlreadyExists``
  means another run holds it; ``TooManyUpdates`` (another run's write of it is in flight) is retried
  briefly (``retry.ssm_concurrent_update``), after which the answer is one of those two. The value
  is JSON: ``{"holder": "user@host:pid", "since": ISO time, "command": "apply", "id": <random>}``;
  the message of a refused run names the holder and since when.
- release: ``GetParameter``, and ``DeleteParameter`` only if the value is still ours (the lock may
  have been broken and taken by another run meanwhile: then it is left alone, with a warning).
- wait: ``--lock-timeout SECONDS`` retries the create until then (default 0: fail at once).
- break: ``provision unlock --force`` (or ``apply --break-lock``) deletes it explicitly.
- a holder that is certainly dead is broken automatically: same host as us and its pid no longer
  runs (a run killed with SIGKILL, a crashed CI job on a reused machine). Only the host that ran
  the holder can know that, so a lock from another host is never broken without ``--force``.
  Automatic breaking is serialised on this host (``flock`` on a file in the temp directory) and
  re-reads the value under that lock, so two re-runs on one host cannot both break and take it.

Why SSM and not an S3 conditional write (``PutObject(IfNoneMatch='*')``), the alternative the issue
names: (1) the lock must exist before anything else does: the first apply *creates* the buckets, so
an object in our bucket cannot guard it; a separate lock bucket would be one more resource to
create, secure (TLS-only policy, public access block) and never delete; (2) releasing an S3 lock
is a ``DeleteObject``, and nothing may ever delete objects in the buildcache bucket ("nothing
lost"; tests/test_reliability_crash.py checks it at the server); (3) a parameter is free,
regional, needs no setup, and ``PutParameter`` without ``Overwrite`` is documented as failing with
``ParameterAlreadyExists`` when the name exists (an atomic create-if-absent, like ``If-None-Match``).
Its weakness: release and break are read-then-delete, not a compare-and-delete; the window is one
round trip and only matters when a lock is broken by hand while its holder is still alive.

IAM: ``ssm:PutParameter``, ``ssm:GetParameter``, ``ssm:DeleteParameter`` on
``arn:aws:ssm:*:*:parameter/provision/<stack>/*`` (``provision policy --apply``).

The lock's calls are reported to call observers like every other call, flagged ``Call.lock``:
they are bookkeeping, not changes to the stack, and are not counted in ``CallRecorder.mutating``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import json
import os
import socket
import tempfile
import time
import uuid
from typing import Any, Iterator

import structlog

from . import retry
from .aws import error_code
from .errors import ProvisionError

log = structlog.get_logger("provision.lock")

PREFIX = "/provision/"


class LockHeld(ProvisionError):
    """Another run holds the lock (after waiting ``timeout`` seconds)."""

    def __init__(self, name: str, info: dict, waited: float):
        self.name = name
        self.info = info
        holder = info.get("holder", "?")
        since = info.get("since", "?")
        age = _age(since)
        msg = (f"the stack is locked by another run: {holder} ({info.get('command', '?')}) since {since}"
               f"{f' ({age} ago)' if age else ''}; lock {name}")
        msg += f"; waited {waited:.0f}s" if waited else "; not waiting (--lock-timeout 0)"
        msg += ". If that run is gone, break the lock: provision unlock --force"
        super().__init__(msg)


def name_for(stack: str) -> str:
    return f"{PREFIX}{stack}/apply-lock"


def me() -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database entry (containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "?"
    host = socket.gethostname()
    return {"user": user, "host": host, "pid": os.getpid(), "holder": f"{user}@{host}:{os.getpid()}"}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _age(since: str) -> str:
    try:
        t = _dt.datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)
    except (TypeError, ValueError):
        return ""
    s = int((_dt.datetime.now(_dt.timezone.utc) - t).total_seconds())
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{max(s, 0)}s"


def _decode(value: str) -> dict:
    try:
        info = json.loads(value)
        return info if isinstance(info, dict) else {"holder": value}
    except ValueError:
        return {"holder": value}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) runs no code: it is gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def dead_here(info: dict) -> bool:
    """The holder ran on this host and its process no longer runs."""
    pid = info.get("pid")
    return info.get("host") == socket.gethostname() and isinstance(pid, int) and pid != os.getpid() \
        and not _pid_alive(pid)


class Lock:
    def __init__(self, client: Any, name: str, command: str):
        self.client = client
        self.name = name
        self.info = {**me(), "since": _now(), "command": command, "id": uuid.uuid4().hex}
        self.value = json.dumps(self.info, sort_keys=True)
        self.held = False
        self.broke: dict | None = None  # the stale holder we broke, if any
        self.holder: dict | None = None  # the live holder _break_if_dead last saw, if any

    def _try(self) -> bool:
        def put() -> None:
            self.client.put_parameter(Name=self.name, Value=self.value, Type="String", Overwrite=False,
                                      Description="provision: apply lock (deleted when the run ends)")

        try:
            # TooManyUpdates: another run's write of the lock is in flight (PutParameter API reference;
            # botocore does not retry it). Try again shortly: the answer is then taken or free.
            retry.call("ssm_concurrent_update", put)
        except Exception as e:  # noqa: BLE001
            if error_code(e) == "ParameterAlreadyExists":
                return False
            raise ProvisionError(f"taking the apply lock {self.name}: {_cause(e)}") from e
        self.held = True
        return True

    def current(self) -> tuple[str, dict] | None:
        try:
            v = self.client.get_parameter(Name=self.name)["Parameter"]["Value"]
        except Exception as e:  # noqa: BLE001
            if error_code(e) == "ParameterNotFound":
                return None
            raise ProvisionError(f"reading the apply lock {self.name}: {_cause(e)}") from e
        return v, _decode(v)

    def _delete(self) -> None:
        try:
            self.client.delete_parameter(Name=self.name)
        except Exception as e:  # noqa: BLE001
            if error_code(e) != "ParameterNotFound":
                raise ProvisionError(f"deleting the apply lock {self.name}: {_cause(e)}") from e

    def _break_if_dead(self) -> bool:
        """Break a lock whose holder certainly died (same host, pid gone). True if broken."""
        with _host_mutex(self.name):
            cur = self.current()
            if cur is None:
                return True
            value, info = cur
            if not dead_here(info):
                self.holder = info  # alive (or on another host): what other_holder() reports
                return False
            log.warning("breaking a stale lock: its process is gone", lock=self.name, holder=info.get("holder"),
                        since=info.get("since"))
            self._delete()
            self.broke = info
            return True

    def acquire(self, timeout: float = 0.0, *, force: bool = False) -> "Lock":
        start = time.monotonic()
        self.contended = False  # True when another live run held it and we waited for it
        poll = float(os.environ.get("PROVISION_POLL_SECONDS", "2"))
        if force:
            self.broke = break_lock(self.client, self.name)
        while True:
            if self._try():
                return self
            if self._break_if_dead() and self._try():
                return self
            cur = self.current()
            if cur is None:
                continue  # released between our create and our read: try again at once
            if cur[0] == self.value:  # our own create succeeded, its response was lost and the
                self.held = True      # SDK's retry saw ParameterAlreadyExists: we hold it
                return self
            waited = time.monotonic() - start
            if waited >= timeout:
                raise LockHeld(self.name, cur[1], waited if timeout else 0.0)
            self.contended = True
            log.info("waiting for the apply lock", holder=cur[1].get("holder"), since=cur[1].get("since"),
                     waited_s=round(waited, 1))
            time.sleep(max(0.0, min(poll, timeout - waited)))

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            cur = self.current()
            if cur is None or cur[0] != self.value:
                log.warning("the apply lock was broken while we held it; leaving the current one alone",
                            lock=self.name, now=(cur[1].get("holder") if cur else None))
                return
            self._delete()
        except ProvisionError as e:
            log.warning("could not release the apply lock", lock=self.name, error=str(e))


def _private_dir() -> str:
    """A directory only this user can enter (0700, owned by us, not a symlink): the host mutex's home.

    Not a predictable path in shared /tmp: another user could pre-create or link it there."""
    import stat

    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    uid = os.getuid() if hasattr(os, "getuid") else 0
    d = os.path.join(base, f"provision-{uid}")
    try:
        os.mkdir(d, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(d)
    if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != uid):
        raise ProvisionError(f"{d} is not a directory owned by this user; refusing to use it for the lock helper")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(d, 0o700)
    return d


@contextlib.contextmanager
def _host_mutex(name: str) -> Iterator[None]:
    import fcntl

    path = os.path.join(_private_dir(), "lock-" + name.strip("/").replace("/", "_"))
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _cause(e: BaseException) -> str:
    from .errors import _cause as cause

    return cause(e)


def client_for(aws: Any, desired: Any) -> Any:
    return aws.client("ssm", desired.stack.region)


@contextlib.contextmanager
def held(aws: Any, desired: Any, command: str, *, timeout: float = 0.0, force: bool = False) -> Iterator[Lock]:
    """Hold the stack's apply lock for the duration of the block (released on any exit but SIGKILL)."""
    lk = Lock(client_for(aws, desired), name_for(desired.stack.name), command)
    lk.acquire(timeout, force=force)
    if lk.broke:
        log.warning("broke the apply lock", lock=lk.name, holder=lk.broke.get("holder"), since=lk.broke.get("since"))
    try:
        yield lk
    finally:
        lk.release()


def other_holder(aws: Any, desired: Any) -> dict | None:
    """A run with nothing to change takes no lock. It still clears one left by a crashed run on this
    host (one read; a write only in that case) so the account converges, and -> the holder's info
    when another run holds it now: that run may still be changing things, so "no changes" would
    be a snapshot of an apply half done (the caller then waits for the lock, or fails at once)."""
    lk = Lock(client_for(aws, desired), name_for(desired.stack.name), "apply")
    return None if lk._break_if_dead() else lk.holder


def break_lock(client: Any, name: str) -> dict | None:
    """Delete the lock whoever holds it; -> the holder's info, or None if it was not held."""
    lk = Lock(client, name, "unlock")
    cur = lk.current()
    if cur is None:
        return None
    lk._delete()
    return cur[1]


__all__ = ["Lock", "LockHeld", "held", "break_lock", "name_for", "client_for", "dead_here", "other_holder", "PREFIX"]
