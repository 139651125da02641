"""The only place that makes boto3 sessions and clients.

Standard AWS configuration applies: the credential chain, ``AWS_PROFILE``/``--profile``,
``AWS_REGION``/``--region`` and ``AWS_ENDPOINT_URL`` (botocore's own variable, which is how the
sandbox and the tests point the tool at moto). Retries: botocore ``standard`` mode for throttling
and transient errors (tier 1); named eventual-consistency errors are retried in ``retry.py`` (tier 2).

Every API call (one per operation, page or waiter poll; not per HTTP retry) is reported to the
observers registered with :func:`observe_calls` — that is how tests and the read-only check count
mutating calls.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

READ_PREFIXES = ("Get", "List", "Describe", "Head")
#: Operations that only read although their name does not say so.
READ_OPERATIONS = frozenset({"GetCallerIdentity"})

# CloudFront, IAM and Route53 are global services whose control plane lives in us-east-1, and ACM
# certificates for CloudFront must be requested there: those clients are always made in us-east-1.
GLOBAL_REGION = "us-east-1"
GLOBAL_SERVICES = frozenset({"cloudfront", "iam", "route53", "sts"})


#: the bookkeeping parameters: the apply lock and the apply record (the ownership registry is not)
_LOCK_PARAM = re.compile(rb'"Name": "/provision/[^"]*/(apply-lock|last-apply)"')


def is_mutating(operation: str) -> bool:
    return not (operation.startswith(READ_PREFIXES) or operation in READ_OPERATIONS)


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict = field(compare=False, hash=False, repr=False, default_factory=dict)

    @property
    def lock(self) -> bool:
        """A call on the apply lock (``provisioner/lock.py``) or the apply record (``provisioner/applied.py``):
        bookkeeping, not a change to the stack. (The ownership registry ``/provision/<stack>/owned`` is
        part of the stack: counted.)"""
        if self.service != "ssm":
            return False
        body = self.params.get("body") or b""  # params: the serialised request (JSON protocol for SSM)
        raw = body if isinstance(body, bytes) else str(body).encode()
        return _LOCK_PARAM.search(raw) is not None

    @property
    def mutating(self) -> bool:
        """A write to the stack (the apply lock's own writes are not counted: see ``lock``)."""
        return is_mutating(self.operation) and not self.lock

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}"


_observers: list[Callable[[Call], None]] = []
_observers_lock = threading.Lock()


@contextmanager
def observe_calls(callback: Callable[[Call], None]) -> Iterator[None]:
    with _observers_lock:
        _observers.append(callback)
    try:
        yield
    finally:
        with _observers_lock:
            _observers.remove(callback)


class CallRecorder:
    """Collects every API call made while active: ``with CallRecorder() as rec: ...``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._cm: AbstractContextManager[None] | None = None

    def __call__(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def __enter__(self) -> "CallRecorder":
        self._cm = observe_calls(self)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._cm is not None
        self._cm.__exit__(*exc)

    @property
    def mutating(self) -> list[Call]:
        return [c for c in self.calls if c.mutating]

    def names(self, mutating_only: bool = False) -> list[str]:
        return [str(c) for c in (self.mutating if mutating_only else self.calls)]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


def _notify(model: Any, params: dict[str, Any] | None = None, **_kw: Any) -> None:
    if not _observers:
        return
    call = Call(model.service_model.service_name, model.name, params or {})
    for cb in list(_observers):
        cb(call)


class Aws:
    """A boto3 session plus cached, thread-safe clients (clients are; creating them is not)."""

    def __init__(self, profile: str | None = None, region: str | None = None, *, max_attempts: int | None = None,
                 connect_timeout: float = 10, read_timeout: float = 60):
        import boto3  # lazy: keeps `provision --help` fast
        from botocore.config import Config
        from botocore.exceptions import ProfileNotFound

        try:
            self.session = boto3.Session(profile_name=profile, region_name=region)
        except ProfileNotFound as e:  # --profile, PROVISION_PROFILE or AWS_PROFILE names no profile
            from .errors import ProvisionError

            raise ProvisionError(f"AWS profile: {e}") from None
        self.region = region or self.session.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        attempts = max_attempts or int(os.environ.get("PROVISION_MAX_ATTEMPTS", "6"))
        self.config = Config(
            retries={"mode": "standard", "total_max_attempts": attempts},
            max_pool_connections=32,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra="provision/0.1",
        )
        self.session.events.register("before-call.*.*", _notify)
        self._clients: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()
        self._account: str | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        if service in GLOBAL_SERVICES:
            region = GLOBAL_REGION
        region = region or self.region
        key = (service, region)
        c = self._clients.get(key)
        if c is None:
            with self._lock:
                c = self._clients.get(key)
                if c is None:
                    c = self.session.client(service, region_name=region, config=self.config)
                    self._clients[key] = c
        return c

    def account_id(self) -> str:
        """The credentials' account (sts:GetCallerIdentity, asked once)."""
        if self._account is None:
            self._account = str(self.client("sts").get_caller_identity()["Account"])
        return self._account


def error_code(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code", ""))
    return ""


def http_status(exc: BaseException) -> int:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return int(resp.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0
