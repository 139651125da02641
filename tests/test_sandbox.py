"""The sandbox package: its interface, the server, the version check and the import contract."""

from __future__ import annotations

import ast
import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from provisioner.sandbox import (
    MOTO_VERSION,
    SandboxError,
    Server,
    apply_patches,
    create_fixtures,
    sandbox_env,
    wsgi_app,
)
from provisioner.sandbox import server as sandbox_server

FAST = Config(retries={"total_max_attempts": 1})
PACKAGE = Path(__file__).resolve().parent.parent / "provisioner"


@pytest.fixture(scope="module")
def server():
    with Server() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server):
    server.reset()


def client(server, service):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=FAST,
    )


def test_server_binds_loopback_only(server):
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0
    assert server._server.server_address[0] == "127.0.0.1"
    # reachable on loopback
    with urllib.request.urlopen(f"{server.url}/moto-api/data.json", timeout=5) as resp:
        assert resp.status == 200


def test_server_start_stop_and_context_manager():
    srv = Server()
    assert srv.start() is srv
    port = srv.port
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    srv.stop()
    srv.stop()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with Server() as srv2:
        assert srv2.url.startswith("http://127.0.0.1:")


def test_server_port_in_use_is_a_sandbox_error(server):
    with pytest.raises(SandboxError, match=str(server.port)):
        Server(port=server.port).start()


def test_reset_clears_state(server):
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="reset-me")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["reset-me"]
    server.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_server_with_wrapping_app_sees_patches():
    # An outside harness (request counting, fault injection) wraps wsgi_app() and still gets
    # the patched AWS.
    inner = wsgi_app()
    seen: list[str] = []

    def counting(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    with Server(app=counting) as srv:
        cf = client(srv, "cloudfront")
        cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig={"CallerReference": "r", "Comment": ""}
        )
    assert seen == ["/2020-05-31/origin-access-identity/cloudfront"]


def test_sandbox_env():
    env = sandbox_env("http://127.0.0.1:1234")
    assert env == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1234",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }


def test_sandbox_env_points_boto3_at_server(server, monkeypatch):
    for key, value in sandbox_env(server.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    s3 = boto3.session.Session().client("s3", config=FAST)
    s3.create_bucket(Bucket="via-env")
    assert [b["Name"] for b in client(server, "s3").list_buckets()["Buckets"]] == ["via-env"]


def test_create_fixtures_creates_zone_once(server):
    zone_id = create_fixtures(server.url)
    assert "/" not in zone_id
    assert create_fixtures(server.url) == zone_id
    r53 = client(server, "route53")
    zones = r53.list_hosted_zones()["HostedZones"]
    assert [(z["Name"], z["Id"]) for z in zones] == [("vantagecompute.ai.", f"/hostedzone/{zone_id}")]
    assert zones[0]["Config"]["PrivateZone"] is False
    other = create_fixtures(server.url, zone_name="example.org")
    assert other != zone_id
    assert len(r53.list_hosted_zones()["HostedZones"]) == 2


def test_apply_patches_is_idempotent():
    apply_patches()
    apply_patches()
    from moto.cloudfront import urls

    routes = [p for p in urls.url_paths if "origin-access-identity" in p]
    assert len(routes) == 3


def test_version_check_refuses_other_moto(monkeypatch):
    monkeypatch.setattr(sandbox_server, "_applied", False)
    monkeypatch.setattr(sandbox_server, "_installed_moto_version", lambda: "5.0.0")
    with pytest.raises(SandboxError) as ei:
        sandbox_server.apply_patches()
    assert "5.0.0" in str(ei.value) and MOTO_VERSION in str(ei.value)
    monkeypatch.setattr(sandbox_server, "_installed_moto_version", lambda: None)
    with pytest.raises(SandboxError, match="not installed"):
        sandbox_server.apply_patches()


def test_installed_moto_is_the_pinned_version():
    assert sandbox_server._installed_moto_version() == MOTO_VERSION == "5.2.1"


def test_acm_wait_respects_explicit_env():
    # MOTO_ACM_VALIDATION_WAIT set explicitly wins over the sandbox's 0.
    code = (
        "import moto.settings as s; from provisioner.sandbox import apply_patches; "
        "apply_patches(); print(s.ACM_VALIDATION_WAIT)"
    )
    root = str(PACKAGE.parent)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True)
    assert out.stdout.strip() == "0"
    env["MOTO_ACM_VALIDATION_WAIT"] = "7"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True)
    assert out.stdout.strip() == "7"


def test_import_sandbox_does_not_import_moto():
    code = (
        "import sys, json; import provisioner.sandbox; "
        "print(json.dumps(sorted(m for m in sys.modules if m == 'moto' or m.startswith(('moto.', 'boto3', 'botocore', 'werkzeug')))))"
    )
    root = str(PACKAGE.parent)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": root}, check=True,
    )
    assert json.loads(out.stdout) == []


def _imports_moto(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "moto" or a.name.startswith("moto.") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
            node.module == "moto" or node.module.startswith("moto.")
        ):
            return True
    return False


def test_only_sandbox_modules_import_moto():
    sandbox_dir = PACKAGE / "sandbox"
    offenders = [
        str(p.relative_to(PACKAGE.parent))
        for p in sorted(PACKAGE.rglob("*.py"))
        if sandbox_dir not in p.parents and _imports_moto(p)
    ]
    assert offenders == []
    # and the checker itself sees an import where there is one
    assert _imports_moto(sandbox_dir / "patches" / "s3.py")



def _functions_importing_sandbox(path: Path) -> set[str]:
    """The functions of ``path`` that import provisioner.sandbox ("" for a module-level import)."""
    found: set[str] = set()

    def visit(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            mods: list[str] = []
            if isinstance(child, ast.Import):
                mods = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = ".".join([*(["provisioner"] if child.level else []), *([child.module] if child.module else [])])
                mods = [base] + [f"{base}.{a.name}" for a in child.names]
            if any(m == "provisioner.sandbox" or m.startswith("provisioner.sandbox.") for m in mods):
                found.add(func)
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), "")
    return found


def test_product_code_imports_the_sandbox_only_lazily_from_the_cli() -> None:
    sandbox_dir = PACKAGE / "sandbox"
    importers = {
        str(p.relative_to(PACKAGE.parent)): sorted(_functions_importing_sandbox(p))
        for p in sorted(PACKAGE.rglob("*.py"))
        if sandbox_dir not in p.parents and _functions_importing_sandbox(p)
    }
    assert importers == {"provisioner/cli/sandbox_verbs.py": ["demo", "sandbox"]}
