"""The conventions every CLI has, as cron, CI and a new user rely on them: exit codes (usage errors
exit 1, never 2), JSON errors for --json runs, every error of a file from `validate`, --version and
`version`, -h, metavars, shell completion, defaults from the environment, colour (NO_COLOR, --color,
a real terminal through a pty)."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from provisioner import __version__, config
from provisioner.cli import app
from provisioner.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DESIRED = ROOT / "desired_state.toml"
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]
SGR = re.compile(r"\x1b\[[0-9;]*m")  # a colour (Select Graphic Rendition) escape


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), prog_name="provision", env=env, catch_exceptions=False)


def child(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT,
          under_bash: bool = False) -> subprocess.CompletedProcess:
    """``python -m provisioner ARGS`` as a child process; ``under_bash``: as a child of a bash (a parent
    shell that is not replaced by the command: ``; exit $?`` keeps bash from exec'ing it)."""
    cmd = [sys.executable, "-m", "provisioner", *args]
    if under_bash:
        cmd = ["bash", "-c", '"$@"; exit $?', "bash", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


# --- exit codes --------------------------------------------------------------------------------------


def test_every_command_is_covered():
    assert {"validate", "plan", "drift", "apply", "destroy", "unlock", "outputs", "show", "preflight", "policy",
            "version", "sandbox", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("cmd", COMMANDS)
def test_a_bad_flag_exits_1_with_the_usage_message(cmd):
    r = run(cmd, "--no-such-flag")
    assert r.exit_code == 1, r.output  # not click's 2: 2 is "changes / drift found"
    assert f"Usage: provision {cmd} [OPTIONS]" in r.stderr
    assert "No such option: --no-such-flag" in r.stderr


@pytest.mark.parametrize("args,message", [
    ((), "Usage: provision [OPTIONS] COMMAND [ARGS]..."),  # a missing command
    (("frobnicate",), "No such command 'frobnicate'"),
    (("plan", "--format", "xml"), "Invalid value for '--format'"),
    (("drift", "--log-format", "yaml"), "Invalid value for '--log-format'"),
    (("apply", "--color", "sometimes"), "Invalid value for '--color'"),
    (("apply", "--lock-timeout", "soon"), "Invalid value for '--lock-timeout'"),
    (("plan", "--report", "plan.xml"), "the format comes from the extension"),
    (("plan", "--json", "--format", "markdown"), "--json is short for --format json"),
    (("outputs", "A", "B"), "Got unexpected extra argument"),
])
def test_usage_errors_exit_1(args, message):
    r = run(*args)
    assert r.exit_code == 1, r.output
    assert message in r.stderr and "Usage: provision" in r.stderr, r.stderr


def test_the_real_executable_exits_1_on_usage_errors(tmp_path):
    r = child("drift", "--jsn", cwd=tmp_path)
    assert r.returncode == 1 and "No such option: --jsn" in r.stderr and r.stdout == ""
    r = child(cwd=tmp_path)
    assert r.returncode == 1 and "Usage: provision [OPTIONS] COMMAND" in r.stderr


# --- JSON errors ------------------------------------------------------------------------------------------


def assert_error_object(text: str, kind: str) -> dict:
    data = json.loads(text)
    assert data["format_version"] == 1 and data["tool"] == "provision"
    assert set(data["error"]) == {"message", "kind", "resource", "key_path"}
    assert data["error"]["kind"] == kind and data["error"]["message"]
    return data


def test_json_runs_that_fail_print_a_json_error_object(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(DESIRED.read_text().replace("noncurrent_days = 90", "noncurrent_days = -5"))
    for args in (("plan", "--json"), ("drift", "--format", "json"), ("show", "--json", "--offline"),
                 ("outputs", "--json"), ("preflight", "--json")):
        r = child(*args, "-f", str(bad), cwd=tmp_path)
        assert r.returncode == 1, (args, r.stderr)
        data = assert_error_object(r.stdout, "config")
        assert data["error"]["key_path"] == "s3.buildcache.lifecycle.noncurrent_days", args
        assert data["error"]["message"] == (f"{bad}: s3.buildcache.lifecycle.noncurrent_days: expected an integer "
                                            "between 1 and 36500, found -5 (integer)")
        assert f"Error: {data['error']['message']}" in r.stderr  # and still said to a person on stderr
    # a usage error in a JSON run: the object too, kind "usage"
    r = child("drift", "--json", "--no-such-flag", cwd=tmp_path)
    assert r.returncode == 1
    assert assert_error_object(r.stdout, "usage")["error"]["message"] == "No such option: --no-such-flag"
    # a text run that fails prints nothing on stdout
    r = child("plan", "-f", str(bad), cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""


def test_an_aws_failure_names_the_resource(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: every read fails at once
    monkeypatch.setenv("PROVISION_MAX_ATTEMPTS", "1")
    runner = CliRunner()
    r = runner.invoke(app, ["plan", "--json", "-f", str(DESIRED)], catch_exceptions=False)
    assert r.exit_code == 1, r.output
    data = assert_error_object(r.stdout, "aws")
    assert data["error"]["resource"] and data["error"]["resource"] in data["error"]["message"]


def test_a_failed_report_says_so_in_the_report_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[stack]\nname = 1\n")
    r = child("drift", "-f", str(bad), "--report", "drift.json", "--report", "drift.md", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert_error_object((tmp_path / "drift.json").read_text(), "config")
    assert "provision drift: failed" in (tmp_path / "drift.md").read_text()


# --- validate: every error of the file --------------------------------------------------------------------

ERRORS = {  # key path -> (edit of the seed, the message that key alone gives)
    "stack.nmae": (("[stack]\n", '[stack]\nnmae = "x"\n'),
                   "stack.nmae: expected one of the known keys (account_id, name, region), found unknown key 'nmae'"),
    "s3.buildcache.lifecycle.noncurrent_days": (("noncurrent_days = 90", "noncurrent_days = -5"),
                                                "s3.buildcache.lifecycle.noncurrent_days: expected an integer between 1 "
                                                "and 36500, found -5 (integer)"),
    "s3.logs.versioning": (('versioning = false', 'versioning = "no"'),
                           "s3.logs.versioning: expected true or false, found 'no'"),
    "cdn.price_class": (('price_class = "PriceClass_100"', 'price_class = "PriceClass_1"'),
                        "cdn.price_class: expected one of 'PriceClass_100', 'PriceClass_200', 'PriceClass_All', "
                        "found 'PriceClass_1'"),
    "github_role.subjects[0]": (('"repo:vantagecompute/slurm-factory:*"', '"repo:*/*:*"'),
                                "github_role.subjects[0]: expected a subject scoped to one repository, like "
                                "'repo:OWNER/REPO:*' (without it any GitHub repository could assume the role), "
                                "found 'repo:*/*:*'"),
    "alarms.topic": (('topic = "slurm-factory-alarms"', 'topic = "bad topic"'),
                     "alarms.topic: expected an SNS topic name (letters, digits, '-', '_'), found 'bad topic'"),
}


def edited(*keys: str) -> str:
    text = DESIRED.read_text()
    for k in keys:
        (old, new), _ = ERRORS[k]
        assert old in text, f"the seed changed: {old!r}"
        text = text.replace(old, new, 1)
    return text


def test_each_error_alone_has_todays_single_error_message(tmp_path):
    for key, (_edit, message) in ERRORS.items():
        f = tmp_path / f"{key}.toml"
        f.write_text(edited(key))
        with pytest.raises(ConfigError) as e:
            config.load(f)
        assert str(e.value) == f"{f}: {message}", key
        assert [str(x) for x in e.value.errors] == [f"{f}: {message}"], key


def test_validate_reports_every_error_of_the_file(tmp_path):
    f = tmp_path / "desired_state.toml"
    f.write_text(edited(*ERRORS))
    expected = [f"{f}: {m}" for _e, m in ERRORS.values()]
    with pytest.raises(ConfigError) as e:
        config.load(f)
    assert str(e.value) == expected[0]  # load still raises the first, message as ever
    assert sorted(str(x) for x in e.value.errors) == sorted(expected)

    r = run("validate", "-f", str(f))
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert sorted(ln for ln in lines if ln.startswith("Error: ")) == sorted(f"Error: {m}" for m in expected)
    assert lines[-1] == f"{f}: invalid: {len(expected)} errors"

    r = run("validate", "-f", str(f), "--json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["valid"] is False and data["file"] == str(f)
    assert {e["key_path"] for e in data["errors"]} == set(ERRORS)
    for item in data["errors"]:
        assert item["file"] == str(f) and item["message"] == f"{f}: {item['key_path']}: expected {item['expected']}" \
            + (f", found {item['found']}" if item["found"] is not None else "")
    assert data["error"]["message"] == expected[0] and data["error"]["kind"] == "config"


def test_validate_json_on_a_valid_file():
    r = run("validate", "-f", str(DESIRED), "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["valid"] is True and data["errors"] == [] and data["stack"] == "slurm-factory"


def test_a_check_that_cuts_a_section_short_still_lets_the_rest_be_checked(tmp_path):
    """An alias the certificate does not cover stops the [cdn] parse at that key; the keys after it
    (price_class) and the other sections are still checked."""
    text = edited("cdn.price_class", "alarms.topic").replace(
        'aliases = ["slurm-factory-spack-binary-cache.vantagecompute.ai"]', 'aliases = ["other.vantagecompute.ai"]', 1)
    with pytest.raises(ConfigError) as e:
        config.loads(text, "f.toml")
    paths = [x.path for x in e.value.errors]
    assert paths == ["cdn.aliases[0]", "cdn.price_class", "alarms.topic"], paths


# --- version, help, metavars, completion -----------------------------------------------------------------


def test_version_flag_and_command():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"]
    r = run("--version")
    assert r.exit_code == 0 and r.stdout == f"provision {__version__}\n"
    r = run("version")
    assert r.exit_code == 0 and r.stdout.splitlines()[0] == f"provision {__version__}"
    assert re.search(r"^python 3\.\d+", r.stdout, re.M) and re.search(r"^botocore \d", r.stdout, re.M)
    data = json.loads(run("version", "--json").stdout)
    assert data["tool_version"] == __version__ and data["boto3_version"] and data["botocore_version"]
    assert data["python_version"].startswith("3.")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_dash_h_is_help_on_every_command(cmd):
    r = run(cmd, "-h")
    assert r.exit_code == 0 and r.stdout.startswith(f"Usage: provision {cmd} ")
    assert "-h, --help" in r.stdout


def test_help_shows_clear_metavars_and_environment_defaults():
    plan = run("plan", "-h").stdout
    for text in ("-f, --file PATH", "--profile NAME", "--region REGION", "--report PATH", "-o, --out PATH",
                 "--format <text|json|markdown>", "--log-format <console|json>", "--color <auto|always|never>",
                 "PROVISION_FILE", "PROVISION_PROFILE", "AWS_PROFILE", "PROVISION_LOG_FORMAT"):
        assert text in plan, text
    apply = run("apply", "-h").stdout
    assert "--lock-timeout SECONDS" in apply and "PROVISION_LOCK_TIMEOUT" in apply and "[PLAN]" in apply
    assert "[PLANFILE]" in run("show", "-h").stdout
    assert "--port N" in run("sandbox", "-h").stdout
    top = run("-h").stdout
    assert "--install-completion" in top and "--show-completion" in top and "--version" in top


def test_shell_completion_completes_commands_and_options(tmp_path):
    # a child process of a bash, as an operator runs it: --show-completion detects the shell from the
    # parent processes (shellingham), and a test run with no shell above it (a detached CI job) has none.
    # In-process, typer's completion state depends on what ran before.
    script = child("--show-completion", cwd=tmp_path, under_bash=True)
    assert script.returncode == 0 and "_PROVISION_COMPLETE=complete_bash" in script.stdout, script.stderr
    env = {**os.environ, "_PROVISION_COMPLETE": "complete_bash", "COMP_WORDS": "provision dr", "COMP_CWORD": "1"}
    r = child(env=env, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.split() == ["drift"]
    env.update(COMP_WORDS="provision plan --for", COMP_CWORD="2")
    assert child(env=env, cwd=tmp_path).stdout.split() == ["--format"]


# --- defaults from the environment ---------------------------------------------------------------------------


def test_provision_file_and_log_format_from_the_environment(tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text(DESIRED.read_text().replace('name = "slurm-factory"', 'name = "from-env"', 1))
    r = run("validate", env={"PROVISION_FILE": str(other)})
    assert r.exit_code == 0 and "stack 'from-env'" in r.stdout
    r = run("validate", "-f", str(DESIRED), env={"PROVISION_FILE": str(other)})  # the flag wins
    assert "stack 'slurm-factory'" in r.stdout
    r = run("validate", env={"PROVISION_FILE": str(other), "PROVISION_LOG_FORMAT": "yaml"})
    assert r.exit_code == 1 and "Invalid value for '--log-format'" in r.stderr  # the variable is read, and checked


def test_provision_profile_and_aws_profile_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    r = run("preflight", "-f", str(DESIRED), env={"PROVISION_PROFILE": "from-provision-env", "AWS_PROFILE": "aws-env"})
    assert r.exit_code == 1 and "from-provision-env" in r.output, r.output  # PROVISION_PROFILE first
    r = run("preflight", "-f", str(DESIRED), env={"AWS_PROFILE": "aws-env"})
    assert r.exit_code == 1 and "aws-env" in r.output, r.output


def test_lock_timeout_from_the_environment(aws_env, cli, monkeypatch):
    import boto3

    from provisioner import lock

    ssm = boto3.client("ssm", endpoint_url=aws_env.url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    holder = {"holder": "ci@elsewhere:1", "host": "elsewhere", "pid": 1, "since": "2026-01-01T00:00:00Z",
              "command": "apply"}
    ssm.put_parameter(Name=lock.name_for("slurm-factory"), Value=json.dumps(holder), Type="String")
    r = cli("apply", "--auto-approve")
    assert r.code == 1 and "not waiting (--lock-timeout 0)" in r.output, r.output
    monkeypatch.setenv("PROVISION_LOCK_TIMEOUT", "0.6")
    t = time.monotonic()
    r = cli("apply", "--auto-approve")
    assert r.code == 1 and "waited 1s" in r.output and time.monotonic() - t >= 0.6, r.output


# --- colour -----------------------------------------------------------------------------------------------------


def test_color_flag_on_plan_text(aws_env, cli):
    r = cli("plan", "--color", "always")
    assert r.code == 2 and "\x1b[32m+\x1b[0m \x1b[1ms3_bucket.buildcache\x1b[0m  will be created" in r.output
    for args in (("plan",), ("plan", "--color", "never")):  # not a terminal / never
        r = cli(*args)
        assert r.code == 2 and "  + s3_bucket.buildcache  will be created" in r.output and not SGR.search(r.output)


def test_color_always_wins_over_no_color_as_flags_should(aws_env, cli, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert SGR.search(cli("plan", "--color", "always").output)


def test_no_color_and_term_dumb_decide_auto(monkeypatch):
    from provisioner.logs import color_enabled

    class Tty:
        def isatty(self) -> bool:
            return True

    for extra, want in (({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False), ({"NO_COLOR": ""}, True)):
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("TERM", "xterm")
        for k, v in extra.items():
            monkeypatch.setenv(k, v)
        assert color_enabled(Tty(), "auto") is want, extra  # type: ignore[arg-type]
        assert color_enabled(Tty(), "never") is False and color_enabled(None, "always") is True
    assert color_enabled(io.StringIO(), "auto") is False  # not a terminal


def in_a_pty(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run the CLI with stdin, stdout and stderr on a pseudo-terminal; its exit code and all it wrote."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "provisioner", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, cwd=cwd, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=30), out.decode("utf-8", "replace")


def test_colour_on_a_real_terminal_and_never_with_no_color(own_server, tmp_path):
    import boto3

    server, env = own_server
    (tmp_path / "desired_state.toml").write_text(DESIRED.read_text())
    env = {k: v for k, v in env.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color"}
    code, out = in_a_pty(["apply", "--auto-approve"], env, tmp_path)  # a terminal: colour
    assert code == 0 and "Apply complete" in out, out[-3000:]
    logs = [ln for ln in out.splitlines() if "creating" in ln and "s3_bucket.buildcache" in ln]
    assert logs and SGR.search(logs[0]), logs  # the console log renderer colours a terminal
    assert "\x1b[32m+\x1b[0m" in out  # and so does the plan

    s3 = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    for extra, args in (({"NO_COLOR": "1"}, []), ({"TERM": "dumb"}, []), ({}, ["--color", "never"])):
        s3.put_bucket_versioning(Bucket="slurm-factory-spack-buildcache-4b670",
                                 VersioningConfiguration={"Status": "Suspended"})
        code, out = in_a_pty(["apply", "--auto-approve", *args], env | extra, tmp_path)  # a repair: one update
        assert code == 0 and "Apply complete: 1 updated." in out, out[-3000:]
        assert "  ~ s3_bucket.buildcache  will be updated in place" in out
        logs = [ln for ln in out.splitlines() if "updating" in ln and "s3_bucket.buildcache" in ln]
        assert logs, out
        assert not SGR.search(out), (extra, args, SGR.findall(out)[:5])
        assert "\x1b" not in "".join(logs), (extra, args, logs)  # no escape codes in the logs at all


@pytest.fixture
def own_server(tmp_path):
    from provisioner.sandbox import Server, create_fixtures, sandbox_env
    from tests.test_cli_subprocess import base_env

    with Server() as server:
        server.reset()
        create_fixtures(server.url)
        env = base_env(tmp_path)
        env.update(sandbox_env(server.url))
        yield server, env
