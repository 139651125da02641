"""Fault injection in front of the sandbox: a WSGI middleware around ``provisioner.sandbox.wsgi_app()``.

Used by the reliability tests and by ``scripts/reliability``. Serve it with
``provisioner.sandbox.Server(app=FaultInjector(...))`` (127.0.0.1 only) or :func:`serve`.

Every request is classified the way ``provisioner.aws.is_mutating`` classifies calls: the operation
name comes from ``X-Amz-Target`` (JSON protocol: ACM, the tagging API, SSM), the ``smithy-protocol``
path (CloudWatch, RPC v2 CBOR), the ``Action`` parameter (query protocol: IAM, STS, SNS), or, for
REST-XML services (S3, CloudFront, Route53), by matching method + path + query against the botocore
service model's ``requestUri`` (most specific match). The service is the SigV4 credential scope.

Faults (seeded RNG, so a run is reproducible):

- ``throttle``  BEFORE moto: the protocol's own throttling error: query/XML services HTTP 400
  ``Throttling`` ``<ErrorResponse>``; S3 HTTP 503 ``SlowDown``; CloudFront/Route53 HTTP 400
  ``Throttling``; JSON services HTTP 400 ``ThrottlingException`` (``ThrottledException`` for the
  tagging API, ``TooManyRequestsException`` for ACM every other time); CloudWatch (CBOR) HTTP 400
  ``Throttling`` (``x-amzn-query-error``).
- ``unavailable`` BEFORE moto: HTTP 503 ``ServiceUnavailable`` (``SlowDown`` for S3) in the same shapes.
- ``reset``  BEFORE moto: the connection is shut down without a response (botocore:
  ``ConnectionClosedError`` "Connection was closed before we received a valid response").
- ``lost``  AFTER moto executed a *mutating* request: the response is dropped the same way. The
  create/update happened, the client saw a connection error and retries (the nasty case).

A request answered with a BEFORE fault never reaches moto: it has no side effect.

Crash injection: :meth:`FaultInjector.kill_after` SIGKILLs a process right after the k-th mutating
request was executed by moto, before its response is delivered (the client never learns that its
last call succeeded: the worst moment to die).

Every request is logged (:class:`Request`) with the client's ``AWS_SDK_UA_APP_ID`` (``app/<id>`` in
the User-Agent), so concurrent clients can be told apart at the server.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote

from provisioner.aws import is_mutating

SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "tagging": "resourcegroupstaggingapi"}
REST_SERVICES = ("s3", "cloudfront", "route53")
BEFORE_KINDS = ("throttle", "unavailable", "reset")


@dataclass
class Request:
    n: int
    service: str
    operation: str
    mutating: bool
    path: str
    outcome: str  # ok | throttle | unavailable | reset | lost | killed
    status: int  # HTTP status moto answered (0 when moto never saw it)
    client: str  # AWS_SDK_UA_APP_ID of the caller, "" if none
    t: float

    @property
    def executed(self) -> bool:
        """moto executed it (it may have had a side effect)."""
        return self.outcome in ("ok", "lost", "killed")

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}"


# ---------------------------------------------------------------------------------------------
# classification
# ---------------------------------------------------------------------------------------------

_rest_cache: dict[str, list[tuple[str, re.Pattern, tuple[str, ...], int, str]]] = {}
_rest_lock = threading.Lock()


def _rest_routes(service: str):
    with _rest_lock:
        routes = _rest_cache.get(service)
        if routes is None:
            import botocore.session

            model = botocore.session.get_session().get_service_model(service)
            routes = []
            for name in model.operation_names:
                http = model.operation_model(name).http
                uri = http.get("requestUri", "/")
                path, _, query = uri.partition("?")
                rx = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(path))
                rx = re.sub(r"\\\{[^}]+\\\}", "[^/]+", rx)
                keys = tuple(q.split("=")[0] for q in query.split("&") if q)
                literal = len(re.sub(r"\{[^}]+\}", "", uri))
                deprecated = bool(model.operation_model(name).deprecated)
                routes.append((http.get("method", "GET"), re.compile(f"^{rx}/?$"), keys, literal - deprecated, name))
            routes.sort(key=lambda r: -r[3])  # most specific first; a deprecated twin (PutBucketLifecycle) last
            _rest_cache[service] = routes
    return routes


def rest_operation(service: str, method: str, path: str, query: dict) -> str:
    for m, rx, keys, _lit, name in _rest_routes(service):
        if m == method and rx.match(path) and all(k in query for k in keys):
            return name
    return f"{method} {path}"


def classify(environ: dict, body: bytes) -> tuple[str, str, str]:
    """-> (service, operation, protocol) of one request."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request", auth)
    signing = m.group(1) if m else ""
    service = SIGNING_TO_SERVICE.get(signing, signing)
    path = unquote(environ.get("PATH_INFO", "/"))
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1], "json"
    if environ.get("HTTP_SMITHY_PROTOCOL", "").startswith("rpc-v2-cbor"):
        return service, path.rstrip("/").rsplit("/", 1)[-1], "cbor"
    if "Action" in query:
        return service, query["Action"][0], "query"
    if environ.get("REQUEST_METHOD") == "POST" and b"Action=" in body[:4096]:
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return service, form["Action"][0], "query"
    if service in REST_SERVICES:
        op = rest_operation(service, environ.get("REQUEST_METHOD", "GET"), path, query)
        if op in ("CopyObject", "UploadPartCopy") and "HTTP_X_AMZ_COPY_SOURCE" not in environ:
            op = "PutObject" if op == "CopyObject" else "UploadPart"  # same method and path: by header
        return service, op, "rest-xml"
    return service or "?", f"{environ.get('REQUEST_METHOD')} {path}", "rest-xml"


def request_is_mutating(environ: dict, operation: str) -> bool:
    if " " in operation:  # unmatched REST request: by method
        return environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD")
    return is_mutating(operation)


# ---------------------------------------------------------------------------------------------
# error bodies, per protocol
# ---------------------------------------------------------------------------------------------


def _cbor_text(s: str) -> bytes:
    b = s.encode()
    if len(b) < 24:
        return bytes([0x60 + len(b)]) + b
    if len(b) < 256:
        return bytes([0x78, len(b)]) + b
    return bytes([0x79, len(b) >> 8, len(b) & 0xFF]) + b


def _cbor_map(d: dict[str, str]) -> bytes:
    out = bytes([0xA0 + len(d)])
    for k, v in d.items():
        out += _cbor_text(k) + _cbor_text(v)
    return out


def error_response(service: str, protocol: str, kind: str, seq: int) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of a throttling / unavailable error in the service's own shape."""
    rid = f"fault-{seq:06d}"
    if protocol == "json":
        if kind == "throttle":
            code = "ThrottledException" if service == "resourcegroupstaggingapi" else (
                "TooManyRequestsException" if service == "acm" and seq % 2 else "ThrottlingException")
            status = "400 Bad Request"
        else:
            code, status = "ServiceUnavailable", "503 Service Unavailable"
        body = json.dumps({"__type": code, "message": "Rate exceeded" if kind == "throttle" else "Service unavailable"})
        return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", rid)], body.encode()
    if protocol == "cbor":
        code, status = (("Throttling", "400 Bad Request") if kind == "throttle"
                        else ("ServiceUnavailable", "503 Service Unavailable"))
        body = _cbor_map({"__type": code, "message": "Rate exceeded"})
        return status, [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                        ("x-amzn-query-error", f"{code};{'Sender' if kind == 'throttle' else 'Receiver'}"),
                        ("x-amzn-RequestId", rid)], body
    if service == "s3":
        code = "SlowDown"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>Please reduce your request rate.</Message><RequestId>{rid}</RequestId></Error>")
        return "503 Slow Down", [("Content-Type", "application/xml"), ("x-amz-request-id", rid)], body.encode()
    code, status, typ = (("Throttling", "400 Bad Request", "Sender") if kind == "throttle"
                         else ("ServiceUnavailable", "503 Service Unavailable", "Receiver"))
    body = (f'<?xml version="1.0"?>\n<ErrorResponse><Error><Type>{typ}</Type><Code>{code}</Code>'
            f"<Message>Rate exceeded</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body.encode()


class _Dropped(ConnectionResetError):
    """Raised after shutting the socket down: werkzeug treats it as a dropped connection (quiet)."""


def _drop(environ: dict) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise _Dropped("fault injection: connection dropped")


# ---------------------------------------------------------------------------------------------
# the middleware
# ---------------------------------------------------------------------------------------------


class FaultInjector:
    """WSGI middleware: faults before/after moto, request log, crash injection. Thread-safe.

    ``rate``: fraction of requests failed BEFORE moto (kinds from ``kinds``, chosen at random);
    ``lost_rate``: fraction of *mutating* requests whose response is lost AFTER moto executed them;
    ``only``: optional predicate(Request-like fields) limiting which requests may fail;
    ``script``: explicit outcomes for the next requests (e.g. ``["throttle", "ok"]``), used first.
    """

    def __init__(self, app: Any = None, *, rate: float = 0.0, lost_rate: float = 0.0, seed: int = 0,
                 kinds: Iterable[str] = BEFORE_KINDS, only: Callable[[str, str, bool], bool] | None = None):
        if app is None:
            from provisioner.sandbox import wsgi_app

            app = wsgi_app()
        self.app = app
        self._lock = threading.Lock()
        self.configure(rate=rate, lost_rate=lost_rate, seed=seed, kinds=kinds, only=only)
        self.log: list[Request] = []
        self.script: list[str] = []
        self._kill: tuple[int, int] | None = None  # (k, pid)
        self._mutations = 0
        self.killed_at: Request | None = None
        self.delay: Callable[[Request], float] | None = None  # seconds to hold a request (before moto)
        #: called after moto executed each successful mutating request, before its response leaves
        #: (in the server's process: e.g. tests/live_stack.GrantCheck, an invariant on moto's state)
        self.on_mutation: Callable[[Request], None] | None = None

    def configure(self, *, rate: float = 0.0, lost_rate: float = 0.0, seed: int = 0,
                  kinds: Iterable[str] = BEFORE_KINDS, only=None) -> None:
        with self._lock:
            self.rate = rate
            self.lost_rate = lost_rate
            self.kinds = tuple(kinds)
            self.only = only
            self.rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self.on_mutation = None
            self.log = []
            self.script = []
            self._kill = None
            self._mutations = 0
            self.killed_at = None

    def kill_after(self, k: int, pid: int) -> None:
        """SIGKILL ``pid`` once moto has executed the k-th mutating request (counted from now)."""
        with self._lock:
            self._kill = (k, pid)
            self._mutations = 0
            self.killed_at = None

    # -- reporting -----------------------------------------------------------------------------
    def requests(self, *, client: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.log if client is None or r.client == client]

    def mutating(self, *, executed: bool = True) -> list[Request]:
        return [r for r in self.requests() if r.mutating and (r.executed or not executed)]

    def outcomes(self) -> Counter:
        return Counter(r.outcome for r in self.requests())

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response):
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation, protocol = classify(environ, body)
        mutating = request_is_mutating(environ, operation)
        ua = environ.get("HTTP_USER_AGENT", "")
        m = re.search(r"\bapp/(\S+)", ua)
        with self._lock:
            rec = Request(len(self.log) + 1, service, operation, mutating, environ.get("PATH_INFO", ""),
                          "ok", 0, m.group(1) if m else "", time.monotonic())
            self.log.append(rec)
            outcome = self._choose(rec)
            rec.outcome = outcome
        if self.delay is not None:
            d = self.delay(rec)
            if d:
                time.sleep(d)
        if outcome in ("throttle", "unavailable"):
            status, headers, payload = error_response(service, protocol, outcome, rec.n)
            start_response(status, headers + [("Content-Length", str(len(payload)))])
            return [payload]
        if outcome == "reset":
            _drop(environ)

        captured: dict[str, Any] = {}

        def _start(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: captured.setdefault("early", []).append(data)

        it = self.app(environ, _start)
        try:
            payload = b"".join(captured.get("early", [])) + b"".join(it)
        finally:
            if hasattr(it, "close"):
                it.close()
        rec.status = int(str(captured.get("status", "0")).split()[0])
        if outcome == "lost":
            _drop(environ)
        if mutating and rec.status < 400:
            self._after_mutation(rec, environ)
        start_response(captured["status"], captured["headers"])
        return [payload]

    def _choose(self, rec: Request) -> str:
        if self.script:
            choice = self.script.pop(0)
            return "lost" if choice == "lost" and not rec.mutating else choice
        if self.only is not None and not self.only(rec.service, rec.operation, rec.mutating):
            return "ok"
        x = self.rng.random()
        if x < self.rate:
            return self.rng.choice(self.kinds)
        if rec.mutating and x < self.rate + self.lost_rate:
            return "lost"
        return "ok"

    def _after_mutation(self, rec: Request, environ: dict) -> None:
        if self.on_mutation is not None:
            self.on_mutation(rec)
        with self._lock:
            if self._kill is None:
                return
            self._mutations += 1
            k, pid = self._kill
            if self._mutations != k:
                return
            self._kill = None
            self.killed_at = rec
            rec.outcome = "killed"
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        _drop(environ)


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    """Until ``pid`` no longer runs (a zombie counts as gone: /proc state Z)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except (FileNotFoundError, ProcessLookupError):
            return
        time.sleep(0.005)


def serve(**kwargs: Any):
    """Start a sandbox Server wrapped in a FaultInjector -> (server, injector). Caller stops it."""
    from provisioner.sandbox import Server

    inj = FaultInjector(**kwargs)
    server = Server(app=inj).start()
    return server, inj


__all__ = ["FaultInjector", "Request", "classify", "error_response", "serve", "BEFORE_KINDS"]


# ---------------------------------------------------------------------------------------------
# what exists (through a clean path: call with faults off)
# ---------------------------------------------------------------------------------------------


def inventory(url: str) -> dict[str, list[str]]:
    """Every resource kind the stack creates, listed by name (duplicates show as repeated names)."""
    import boto3
    from botocore.config import Config

    def c(svc: str):
        return boto3.client(svc, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))

    cf, r53 = c("cloudfront"), c("route53")
    inv: dict[str, list[str]] = {}
    inv["buckets"] = sorted(b["Name"] for b in c("s3").list_buckets()["Buckets"])
    dl = cf.list_distributions()["DistributionList"]
    inv["distributions"] = sorted(",".join(d.get("Aliases", {}).get("Items", [])) for d in dl.get("Items", []))
    inv["certificates"] = sorted(x["DomainName"] for x in c("acm").list_certificates(
        CertificateStatuses=["PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT",
                             "REVOKED", "FAILED"])["CertificateSummaryList"])
    oais = cf.list_cloud_front_origin_access_identities()["CloudFrontOriginAccessIdentityList"]
    inv["oais"] = sorted(o["Comment"] for o in oais.get("Items", []))
    oacs = cf.list_origin_access_controls()["OriginAccessControlList"]
    inv["oacs"] = sorted(o["Name"] for o in oacs.get("Items", []))
    cps = cf.list_cache_policies(Type="custom")["CachePolicyList"]
    inv["cache_policies"] = sorted(p["CachePolicy"]["CachePolicyConfig"]["Name"] for p in cps.get("Items", []))
    inv["topics"] = sorted(t["TopicArn"].rsplit(":", 1)[-1] for t in c("sns").list_topics()["Topics"])
    inv["alarms"] = sorted(a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"])
    inv["oidc_providers"] = sorted(p["Arn"].split("/", 1)[-1] for p in
                                   c("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"])
    inv["roles"] = sorted(r["RoleName"] for r in c("iam").list_roles()["Roles"])
    inv["users"] = sorted(u["UserName"] for u in c("iam").list_users()["Users"])
    records: list[str] = []
    for z in r53.list_hosted_zones()["HostedZones"]:
        for rr in r53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]:
            if rr["Type"] not in ("SOA", "NS"):
                records.append(f"{rr['Name']} {rr['Type']}")
    inv["records"] = sorted(records)
    params = sorted(p["Name"] for p in c("ssm").describe_parameters()["Parameters"])
    inv["lock_parameters"] = [p for p in params if p.endswith("/apply-lock")]
    inv["apply_records"] = [p for p in params if p.endswith("/last-apply")]  # bookkeeping an apply leaves (issue 18)
    inv["ownership_registry"] = [p for p in params if p.endswith("/owned")]  # /provision/<stack>/owned
    return inv


def duplicates(inv: dict[str, list[str]]) -> dict[str, list[str]]:
    """Names listed more than once, per kind."""
    return {k: sorted({x for x in v if v.count(x) > 1}) for k, v in inv.items() if len(set(v)) != len(v)}


# ---------------------------------------------------------------------------------------------
# running the real executable against a server
# ---------------------------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: fast, bounded waits for the sandbox (the product defaults are for real AWS); attempts high enough
#: that 30% failed requests still get through (botocore standard mode retries throttles and resets)
TUNING = {"PROVISION_RETRY_SCALE": "0.01", "PROVISION_POLL_SECONDS": "0.05", "PROVISION_MAX_ATTEMPTS": "10",
          "PROVISION_SANDBOX_DEPLOY_SECONDS": "0.1", "MOTO_ACM_VALIDATION_WAIT": "0"}


def child_env(url: str, tmp: str, app_id: str = "", **extra: str) -> dict[str, str]:
    """The environment of a `python -m provisioner` child pointed at ``url`` (no real credentials)."""
    from provisioner.sandbox import sandbox_env

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PROVISION_"))}
    env.update(TUNING)
    env.update(sandbox_env(url))
    env["AWS_CONFIG_FILE"] = os.path.join(tmp, "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(tmp, "no-aws-credentials")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    if app_id:
        env["AWS_SDK_UA_APP_ID"] = app_id
    env.update(extra)
    return env


def provision_cmd(*args: str, backoff_scale: float | None = None) -> list[str]:
    """``python -m provisioner ARGS``; with ``backoff_scale``, botocore's retry sleeps are scaled first.

    botocore's standard mode sleeps rand(0, 1) * min(2**(attempt-1), 20) seconds before each retry.
    Scaling that delay changes only how long the child sleeps, not
    which errors it retries or how often: a test with 30% failures then takes seconds, not a minute.
    ``scripts/reliability`` runs unscaled, so RELIABILITY.md shows real wall times.
    """
    import sys

    if backoff_scale is None:
        return [sys.executable, "-m", "provisioner", *args]
    code = ("import runpy, tests.faults as f; f.scale_sdk_backoff(%r); "
            "runpy.run_module('provisioner', run_name='__main__', alter_sys=True)" % backoff_scale)
    return [sys.executable, "-c", code, *args]


def scale_sdk_backoff(scale: float) -> None:
    from botocore.retries.standard import ExponentialBackoff

    original = ExponentialBackoff.delay_amount

    def delay_amount(self, context):
        return original(self, context) * scale

    ExponentialBackoff.delay_amount = delay_amount
