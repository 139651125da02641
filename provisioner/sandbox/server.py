"""The sandbox server: moto 5.2.1, patched where it differs from AWS, on 127.0.0.1, and its fixtures.

With ``provisioner.sandbox.patches`` this package is the only code that imports moto, and it does
so lazily, inside functions: ``import provisioner.sandbox`` is cheap and works without moto
installed until a function that needs moto is called.

Public interface (re-exported by ``provisioner.sandbox``; other modules code against these names)::

    MOTO_VERSION, SANDBOX_REGION, SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, SandboxError,
    apply_patches(), wsgi_app(), Server, create_fixtures(endpoint_url, zone_name), sandbox_env(url),
    iam_enforcement()

What the patches change, and why, is documented in ``provisioner/sandbox/patches/``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import urllib.request
from typing import Any, Iterator

MOTO_VERSION = "5.2.1"

SANDBOX_REGION = "us-east-1"
SANDBOX_ACCESS_KEY = "testing"
SANDBOX_SECRET_KEY = "testing"

_lock = threading.Lock()
_applied = False


class SandboxError(RuntimeError):
    """The sandbox cannot run as asked (wrong moto version, moto missing, server failure)."""


def _installed_moto_version() -> str | None:
    """The installed moto version, or None when moto is not installed (tests patch this)."""
    from importlib import metadata

    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return None


def _check_moto_version() -> None:
    installed = _installed_moto_version()
    if installed is None:
        raise SandboxError(
            f"the sandbox needs moto {MOTO_VERSION} (pip install 'moto[server]=={MOTO_VERSION}'),"
            " but moto is not installed"
        )
    if installed != MOTO_VERSION:
        raise SandboxError(
            f"the sandbox patches exactly moto {MOTO_VERSION}, but moto {installed} is installed;"
            f" install moto[server]=={MOTO_VERSION}"
        )


def apply_patches() -> None:
    """Patch moto in-process so it behaves like AWS where moto 5.2.1 does not.

    Idempotent and thread-safe. Affects the server app (``wsgi_app``) and ``mock_aws`` alike.
    Raises SandboxError if the installed moto is not MOTO_VERSION.
    """
    global _applied
    with _lock:
        if _applied:
            return
        _check_moto_version()
        with without_caller_profile():  # moto builds boto3 Sessions at import time
            from . import patches

            patches.apply()
        _applied = True


#: the caller's AWS configuration, which the sandbox (a stand-in for AWS) must never read
CALLER_PROFILE_VARS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@contextlib.contextmanager
def without_caller_profile() -> Iterator[None]:
    """Hide the caller's profile and config files while moto loads (a missing profile would crash it)."""
    saved = {k: os.environ.pop(k) for k in CALLER_PROFILE_VARS if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def wsgi_app() -> Any:
    """moto's server WSGI application (as ``moto.server`` builds it), with every patch applied."""
    apply_patches()
    with without_caller_profile():
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )

        app = DomainDispatcherApplication(create_backend_app)
    return app


class Server:
    """A threaded werkzeug server for ``wsgi_app()`` (or ``app``, e.g. a wrapper around it).

    Binds 127.0.0.1 only. ``port=0`` picks a free port; ``url``/``port`` are valid after start().
    """

    host = "127.0.0.1"

    def __init__(self, port: int = 0, app: Any = None) -> None:
        self._requested_port = port
        self._app = app
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port: int = port
        self.url: str = ""

    def start(self) -> Server:
        if self._server is not None:
            return self
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _QuietHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log
                pass

        app = self._app if self._app is not None else wsgi_app()
        if self._app is not None:
            apply_patches()
        try:
            self._server = make_server(
                self.host, self._requested_port, app, threaded=True, request_handler=_QuietHandler
            )
        except (OSError, SystemExit) as exc:  # werkzeug exits when the port is taken
            raise SandboxError(
                f"cannot start the sandbox on {self.host}:{self._requested_port}:"
                f" {exc if isinstance(exc, OSError) else 'address already in use'}"
            ) from None
        self.port = int(self._server.server_port)
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def reset(self) -> None:
        """Clear all state (POST {url}/moto-api/reset)."""
        if not self.url:
            raise SandboxError("the sandbox server is not started")
        req = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Server(url={self.url!r})"


@contextlib.contextmanager
def iam_enforcement() -> Iterator[None]:
    """IAM enforcement on for every request served in this process while the block runs.

    moto's switch (``moto.settings.INITIAL_NO_AUTH_ACTION_COUNT``, read from the environment when
    moto is imported and consulted on every request) set to 0, with the ``iam_authz`` patch's
    AWS-like evaluation. Requests must then be signed with an access key of an IAM user of the
    sandbox (the sandbox's own ``testing`` key is no IAM user: ``InvalidClientTokenId``), whose
    identity policies decide. Process-wide, like moto's setting: servers in one process share it.
    """
    apply_patches()
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    before = (settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = before


def sandbox_env(url: str) -> dict[str, str]:
    """The environment that points the AWS SDK (and this tool) at the sandbox at ``url``."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": SANDBOX_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET_KEY,
        "AWS_DEFAULT_REGION": SANDBOX_REGION,
        "AWS_REGION": SANDBOX_REGION,
    }


def create_fixtures(endpoint_url: str, zone_name: str = "vantagecompute.ai") -> str:
    """Create what the real account already has: the public hosted zone ``zone_name``.

    Creates the zone only if no zone of that name exists. Returns its bare id (no
    ``/hostedzone/`` prefix).
    """
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "route53",
        endpoint_url=endpoint_url,
        region_name=SANDBOX_REGION,
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
        config=Config(retries={"total_max_attempts": 2}),
    )
    fqdn = zone_name.rstrip(".") + "."
    marker: dict[str, str] = {}
    while True:
        page = client.list_hosted_zones(**marker)
        for zone in page.get("HostedZones", []):
            if zone["Name"] == fqdn and not zone.get("Config", {}).get("PrivateZone"):
                return zone["Id"].split("/")[-1]
        if not page.get("IsTruncated"):
            break
        marker = {"Marker": page["NextMarker"]}
    created = client.create_hosted_zone(
        Name=fqdn,
        CallerReference=f"sandbox-fixture-{fqdn}",
        HostedZoneConfig={"Comment": "sandbox fixture (exists in the real account)", "PrivateZone": False},
    )
    return created["HostedZone"]["Id"].split("/")[-1]


__all__ = [
    "MOTO_VERSION",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_REGION",
    "SANDBOX_SECRET_KEY",
    "SandboxError",
    "Server",
    "apply_patches",
    "create_fixtures",
    "iam_enforcement",
    "sandbox_env",
    "wsgi_app",
]
