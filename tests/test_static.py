"""Static checks that keep the house in shape: ruff, mypy (disallow_untyped_defs), the import-linter
layering contracts, and the size of the rooms. They run in the README's test command (scripts/test)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "provisioner"
BIN = Path(sys.executable).parent
MAX_LINES = 400


def _run(tool: str, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = BIN / tool
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", tool.replace("-", "_"), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_ruff_passes() -> None:
    r = _run("ruff", "check", "provisioner", "tests", "scripts/bench", "scripts/bench_timing.py", "scripts/reliability")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_passes_on_the_product_package() -> None:
    r = _run("mypy", "--no-incremental")
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_linter_contracts_are_kept() -> None:
    r = _run("lint-imports", "--no-cache")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "BROKEN" not in r.stdout and "0 broken" in r.stdout, r.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("reconcilers/s3/__init__.py", "from ... import cli", "Reconcilers never reach up"),
        ("config/__init__.py", "import boto3", "Config is pure"),
        ("engine/__init__.py", "from .. import cli", "Layers"),
        ("render/__init__.py", "from ..sandbox import wsgi_app", "never imports moto or the sandbox"),
    ],
)
def test_breaking_a_contract_fails_the_lint(tmp_path: Path, module: str, line: str, contract: str) -> None:
    """The contracts are not decoration: one forbidden import in a copy of the package breaks them."""
    shutil.copytree(PACKAGE, tmp_path / "provisioner", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "provisioner" / module
    target.write_text(target.read_text() + f"\n{line}  # injected by the test\n")
    env = {"PATH": str(BIN), "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)}
    r = _run("lint-imports", "--no-cache", cwd=tmp_path, env=env)
    assert r.returncode != 0, r.stdout
    broken = [ln for ln in r.stdout.splitlines() if "BROKEN" in ln]
    assert any(contract in ln for ln in broken) or contract in r.stdout.split("Broken contracts")[-1], r.stdout


def test_no_product_module_over_400_lines() -> None:
    too_big = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
               if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not too_big, too_big
