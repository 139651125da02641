"""Hostile input: malformed or dangerous desired states are refused before any request, naming the key.

``tests/test_config.py`` holds a 50-case corpus of text edits (bad TOML, wrong types, unknown keys,
ranges, a domain outside the zone, an unscoped trust subject, a public bucket, TLS below 1.2 ...).
This file adds what it lacks -- ARNs where names belong, injection-shaped strings, nan/inf, huge
integers, wrong containers, names outside the zone, undecodable files -- checks "zero requests" at a
counting *server* for real subprocesses (not only the in-process recorder), and runs
property-based tests (hypothesis): any mutation of the valid desired state either validates or
fails with a ConfigError naming a key path; never another exception.
"""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner import config
from provisioner.errors import ConfigError
from tests.conftest import DESIRED
from tests.faults import FaultInjector, child_env, provision_cmd

BASE_TEXT = DESIRED.read_text()
BASE = tomllib.loads(BASE_TEXT)
ROLE_ARN = "arn:aws:iam::123456789012:role/slurm-factory-github-actions"


# --- a small TOML writer (inline tables: enough for any dict tomllib can produce) ----------------

def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON escapes (\\uXXXX, \\n, \\") are TOML basic-string escapes
    if isinstance(v, list):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_val(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def dumps(data: dict) -> str:
    return "\n".join(f"{_key(k)} = {_val(v)}" for k, v in data.items()) + "\n"


def mutate(path: str, value=None, *, delete: bool = False) -> dict:
    """A copy of the valid desired state with one key path (``a.b.0.c``) set to ``value`` or deleted."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    cur = data
    for p in parents:
        cur = cur[int(p)] if isinstance(cur, list) else cur.setdefault(p, {})
    if delete:
        del cur[int(last) if isinstance(cur, list) else last]
    elif isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value
    return data


# (id, key path to set, value, key path the message must name, fragment of the expectation)
HOSTILE = [
    # invalid names and ARNs where a name belongs
    ("role name is an ARN", "github_role.name", ROLE_ARN, "github_role.name", "IAM role name"),
    ("user name is an ARN", "admin_user.name", "arn:aws:iam::123456789012:user/james", "admin_user.name", "IAM user name"),
    ("bucket name is an ARN", "s3.buildcache.name", "arn:aws:s3:::slurm-factory-spack-buildcache-4b670",
     "s3.buildcache.name", "bucket name"),
    ("topic name is an ARN", "alarms.topic", "arn:aws:sns:us-east-1:123456789012:slurm-factory-alarms", "alarms.topic",
     "SNS topic name"),
    ("OIDC url is a provider ARN", "github_oidc.url",
     "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", "github_oidc.url", "https://"),
    ("action is a resource ARN", "github_role.actions.0", "arn:aws:s3:::slurm-factory-spack-buildcache-4b670/*",
     "github_role.actions[0]", "IAM action"),
    ("output is an ARN, not a reference", "outputs.BucketArn", "arn:aws:s3:::slurm-factory-spack-buildcache-4b670",
     "outputs.BucketArn", "reference"),
    ("policy name with a slash", "github_role.policy_name", "../../etc/passwd", "github_role.policy_name", "policy name"),
    ("stack name with shell metacharacters", "stack.name", "x; rm -rf /", "stack.name", "stack name"),
    ("stack name empty", "stack.name", "", "stack.name", "stack name"),
    ("unicode bucket name", "s3.logs.name", "slurm-fäctory-logs", "s3.logs.name", "bucket name"),
    ("NUL in an alarm name", "alarms.alarm.0.name", "high\x00error", "alarms.alarm[0].name", "alarm name"),
    ("cache policy name with spaces", "cdn.cache.name", "my cache", "cdn.cache.name", "cache policy name"),
    # trust policy: any repository could assume the role
    ("subject without a ref part", "github_role.subjects.0", "repo:vantagecompute/slurm-factory",
     "github_role.subjects[0]", "scoped to one repository"),
    ("subject for any owner", "github_role.subjects.0", "repo:*/slurm-factory:*", "github_role.subjects[0]",
     "scoped to one repository"),
    ("subject with a repo wildcard suffix", "github_role.subjects.0", "repo:vantagecompute/slurm-factory*:*",
     "github_role.subjects[0]", "scoped to one repository"),
    ("subject is an environment claim only", "github_role.subjects.0", "environment:production",
     "github_role.subjects[0]", "scoped to one repository"),
    ("admin user gets iam:*", "admin_user.actions", ["iam:*"], "admin_user.actions[0]", "s3: action"),
    ("admin user gets *", "admin_user.actions", ["*"], "admin_user.actions[0]", "IAM action"),
    # public / weak transport
    ("public log bucket", "s3.logs.block_public_access", False, "s3.logs.block_public_access", "true"),
    ("TLS 1.1", "cdn.minimum_protocol_version", "TLSv1.1_2016", "cdn.minimum_protocol_version", "one of"),
    ("SSLv3", "cdn.minimum_protocol_version", "SSLv3", "cdn.minimum_protocol_version", "one of"),
    ("dedicated-IP SSL (legacy clients)", "cdn.ssl_support_method", "vip", "cdn.ssl_support_method", "one of"),
    ("KMS encryption the OAI cannot read", "s3.buildcache.encryption", "aws:kms", "s3.buildcache.encryption", "one of"),
    # outside the zone
    ("SAN outside the zone", "certificate.subject_alternative_names", ["cache.example.com"],
     "certificate.subject_alternative_names[0]", "inside the zone"),
    ("wildcard certificate of another zone", "certificate.domain", "*.example.com", "certificate.domain",
     "inside the hosted zone"),
    ("alias not covered", "cdn.aliases", ["cdn.example.com"], "cdn.aliases[0]", "covered by the certificate"),
    ("domain with a trailing space", "certificate.domain", "slurm-factory-spack-binary-cache.vantagecompute.ai ",
     "certificate.domain", "fully qualified"),
    ("zone is a single label", "dns.zone", "localhost", "dns.zone", "fully qualified"),
    # numbers
    ("integer beyond 64 bits", "s3.buildcache.lifecycle.noncurrent_days", 2 ** 70,
     "s3.buildcache.lifecycle.noncurrent_days", "between 1 and"),
    ("float where an integer belongs", "s3.buildcache.lifecycle.noncurrent_days", 90.5,
     "s3.buildcache.lifecycle.noncurrent_days", "an integer"),
    ("boolean where an integer belongs", "cdn.cache.min_ttl", True, "cdn.cache.min_ttl", "an integer"),
    ("nan threshold", "alarms.alarm.0.threshold", float("nan"), "alarms.alarm[0].threshold", "finite number"),
    ("inf threshold", "alarms.alarm.0.threshold", float("inf"), "alarms.alarm[0].threshold", "finite number"),
    ("negative TTL", "dns.validation_record_ttl", -1, "dns.validation_record_ttl", "between 0 and"),
    ("session of one minute", "github_role.max_session_duration", 60, "github_role.max_session_duration",
     "between 3600 and 43200"),
    ("zero evaluation periods", "alarms.alarm.0.evaluation_periods", 0, "alarms.alarm[0].evaluation_periods",
     "between 1 and"),
    ("datapoints above periods", "alarms.alarm.0.datapoints_to_alarm", 5, "alarms.alarm[0].datapoints_to_alarm",
     "between 1 and 2"),
    # containers and types
    ("table where a list belongs", "cdn.aliases", {"a": "b"}, "cdn.aliases", "a list of strings"),
    ("list where a table belongs", "cdn.cache", [1, 2], "cdn.cache", "a table"),
    ("string where a boolean belongs", "cdn.ipv6", "true", "cdn.ipv6", "true or false"),
    ("integer tag value", "tags.Project", 3, "tags.Project", "string tag value"),
    ("too many thumbprints", "github_oidc.thumbprints", ["a" * 40] * 6, "github_oidc.thumbprints", "0..5 entries"),
    ("no client ids", "github_oidc.client_ids", [], "github_oidc.client_ids", "1..100 entries"),
    ("unknown key deep down", "cdn.cache.brotlii", True, "cdn.cache.brotlii", "known keys"),
    ("unknown key in an alarm", "alarms.alarm.1.actions", ["arn:aws:sns:x"], "alarms.alarm[1].actions", "known keys"),
]

# files that are not TOML text at all: (id, bytes)
NOT_TEXT = [
    ("empty file", b""),
    ("UTF-8 BOM", b"\xef\xbb\xbf" + BASE_TEXT.encode()),
    ("undecodable bytes", BASE_TEXT.encode().replace(b"slurm-factory", b"slurm-\xff\xfe", 1)),
    ("binary garbage", bytes(range(256)) * 4),
    ("duplicate key", (BASE_TEXT.replace('name = "slurm-factory"', 'name = "slurm-factory"\nname = "x"', 1)).encode()),
    ("JSON instead of TOML", json.dumps(BASE).encode()),
]


def test_corpus_covers_the_issue_and_is_large_enough():
    from tests.test_config import MALFORMED

    assert len(MALFORMED) + len(HOSTILE) + len(NOT_TEXT) >= 40
    assert len(HOSTILE) >= 40
    ids = " ".join(h[0] for h in HOSTILE) + " ".join(m[0] for m in MALFORMED)
    for kind in ("ARN", "TLS", "public", "subject", "outside", "unknown", "toml", "type"):
        assert kind.lower() in ids.lower(), kind


@pytest.mark.parametrize("name,path,value,named,expect", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_desired_state_is_refused_before_any_request(cli, desired_file, name, path, value, named, expect):
    desired_file.write_text(dumps(mutate(path, value)))
    for args in (("validate",), ("plan",), ("apply", "--auto-approve"), ("destroy", "--force"), ("drift",)):
        r = cli(*args)
        assert r.code == 1, (args, r.output)
        assert r.calls == [], f"{args[0]} made AWS calls on hostile input: {r.calls}"
        assert "Traceback" not in r.output
        assert re.search(rf"{re.escape(str(desired_file))}: {re.escape(named)}(?=[:\s])", r.output), r.output
        assert expect in r.output, r.output


@pytest.mark.parametrize("name,data", NOT_TEXT, ids=[n[0] for n in NOT_TEXT])
def test_files_that_are_not_a_desired_state(cli, desired_file, name, data):
    desired_file.write_bytes(data)
    r = cli("apply", "--auto-approve")
    assert r.code == 1 and r.calls == [] and "Traceback" not in r.output, r.output
    assert str(desired_file) in r.output


def test_a_directory_is_not_a_desired_state(cli, tmp_path):
    r = cli("plan", file=tmp_path)
    assert r.code == 1 and r.calls == [] and "readable file" in r.output, r.output


def test_hostile_input_makes_zero_requests_at_the_server(tmp_path):
    """The real executable against a counting server: not one request reaches it."""
    from provisioner.sandbox import Server

    inj = FaultInjector()
    with Server(app=inj) as server:
        env = child_env(server.url, str(tmp_path))
        picks = [h for h in HOSTILE if h[0] in ("role name is an ARN", "subject for any owner", "public log bucket",
                                                "TLS 1.1", "wildcard certificate of another zone", "inf threshold")]
        files = []
        for i, (_n, path, value, named, _e) in enumerate(picks):
            f = tmp_path / f"hostile{i}.toml"
            f.write_text(dumps(mutate(path, value)))
            files.append((f, named))
        bad_toml = tmp_path / "bad.toml"
        bad_toml.write_text(BASE_TEXT.replace("[stack]", "[stack", 1))
        files.append((bad_toml, "valid TOML"))
        for i, (f, named) in enumerate(files):
            for args in (("apply", "--auto-approve"),) + ((("destroy", "--force"), ("plan",)) if i < 2 else ()):
                r = subprocess.run(provision_cmd(*args, "-f", str(f)), env=env, capture_output=True, text=True,
                                   timeout=60)
                assert r.returncode == 1 and named in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        assert inj.requests() == [], [str(x) for x in inj.requests()]


# --- property-based ------------------------------------------------------------------------------

def _paths(node, prefix=""):
    """Every key path of the valid state (``a.b``, ``a.list.0``), tables and leaves alike."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for k, v in items:
        p = f"{prefix}.{k}" if prefix else str(k)
        out.append(p)
        out.extend(_paths(v, p))
    return out


PATHS = _paths(BASE)
scalars = st.one_of(
    st.booleans(), st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1), st.integers(),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=80),
    st.sampled_from(["", " ", "arn:aws:iam::123456789012:role/x", "repo:*/*:*", "*", "../..", "TLSv1_2016",
                     "us-east-1", "AES256", "\x00", "https://token.actions.githubusercontent.com"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                      max_leaves=8)


def _check(fn):
    """fn() validates, or raises ConfigError naming a key path (or the file, for TOML-level errors)."""
    try:
        desired = fn()
    except ConfigError as e:
        assert str(e).startswith("f.toml"), str(e)
        if e.path:
            assert f"f.toml: {e.path}: expected " in str(e)
        return None
    # an accepted state must also build its resources without an exception
    from provisioner.reconcilers import build

    build(desired)
    return desired


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(path=st.sampled_from(PATHS), value=values)
def test_any_value_at_any_key_path_validates_or_names_a_key_path(path, value):
    try:
        data = mutate(path, value)
    except (KeyError, IndexError, TypeError, ValueError):
        return  # the path no longer exists after an earlier segment changed (not a product case)
    _check(lambda: config.from_dict(data, "f.toml"))
    # the same through TOML text where TOML can express it
    try:
        text = dumps(data)
        tomllib.loads(text)
    except (TypeError, tomllib.TOMLDecodeError):
        return
    _check(lambda: config.loads(text, file="f.toml"))


@SETTINGS
@given(path=st.sampled_from(PATHS), key=st.text(min_size=1, max_size=20), value=scalars)
def test_unknown_keys_are_refused_by_path(path, key, value):
    data = copy.deepcopy(BASE)
    cur = data
    for p in path.split("."):
        cur = cur[int(p)] if isinstance(cur, list) else cur[p]
    if not isinstance(cur, dict) or key in cur or path in ("tags", "outputs"):
        return  # tags/outputs take free-form keys (validated as tag keys / output names)
    cur[key] = value
    with pytest.raises(ConfigError) as e:
        config.from_dict(data, "f.toml")
    assert e.value.path, str(e.value)


@SETTINGS
@given(path=st.sampled_from(PATHS))
def test_deleting_any_key_validates_or_names_a_key_path(path):
    _check(lambda: config.from_dict(mutate(path, delete=True), "f.toml"))


@SETTINGS
@given(text=st.text(max_size=300))
def test_random_text_is_valid_toml_or_a_clear_error(text):
    _check(lambda: config.loads(text, file="f.toml"))


@SETTINGS
@given(pos=st.integers(min_value=0, max_value=len(BASE_TEXT)), cut=st.integers(min_value=0, max_value=40),
       insert=st.text(max_size=12))
def test_edited_desired_state_text_is_valid_or_a_clear_error(pos, cut, insert):
    _check(lambda: config.loads(BASE_TEXT[:pos] + insert + BASE_TEXT[pos + cut:], file="f.toml"))
