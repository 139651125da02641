"""Issue 19's hostile desired states: each refused (exit 1, its key path, zero requests); risky ones
give their finding, and ``--strict`` turns them into exit 1. Plus the output hygiene and the SNS
topic policy."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from tests.conftest import DESIRED

BASE = DESIRED.read_text()
SUB = 'subjects = ["repo:vantagecompute/slurm-factory:*"]'
ACTIONS = 'actions = ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject"]'
IGNORE = "ignore = []"


def role_actions(*acts: str) -> tuple[str, str]:
    return ACTIONS, "actions = " + json.dumps(list(acts))


def ignore(*pats: str) -> tuple[str, str]:
    return IGNORE, "ignore = " + json.dumps(list(pats))


def subjects(*subs: str) -> tuple[str, str]:
    return SUB, "subjects = " + json.dumps(list(subs))


def record(name: str, rtype: str, value: str = "ns-1.example.net.") -> tuple[str, str]:
    return "# --- CloudFront", f'[[dns.records]]\nname = "{name}"\ntype = "{rtype}"\nvalues = ["{value}"]\n\n# --- CloudFront'


def tag(key: str) -> tuple[str, str]:
    return 'Project = "slurm-factory"', f'Project = "slurm-factory"\n"{key}" = "x"'


# (id, (old, new) text edit, key path named, fragment of the expectation)
REFUSED = [
    # issuer
    ("issuer of an attacker", ('url = "https://token.actions.githubusercontent.com"', 'url = "https://token.evil.example"'),
     "github_oidc.url", "GitHub's issuer"),
    ("issuer look-alike", ('url = "https://token.actions.githubusercontent.com"',
                           'url = "https://token.actions.githubusercontent.com.evil.example"'), "github_oidc.url", "issuer"),
    ("issuer with a path", ('url = "https://token.actions.githubusercontent.com"',
                            'url = "https://token.actions.githubusercontent.com/evil"'), "github_oidc.url", "issuer"),
    # owners
    ("second owner", subjects("repo:vantagecompute/slurm-factory:environment:release", "repo:attacker/slurm-factory:*"),
     "github_role.subjects[1]", "owner"),
    ("second owner, other case of the first", subjects("repo:vantagecompute/a:ref:refs/heads/main", "repo:evil/a:ref:x"),
     "github_role.subjects[1]", "github_role.owners"),
    # TOML actions: not real, wrong resource, bucket admin, permanent deletes, wildcards (CI role)
    ("typo in an action", role_actions("s3:PutObjekt"), "github_role.actions[0]", "s3:PutObject"),
    ("action that does not exist", role_actions("s3:GetEverything"), "github_role.actions[0]", "IAM catalogue"),
    ("account-level action", role_actions("s3:ListAllMyBuckets"), "github_role.actions[0]", "bucket or its objects"),
    ("role: s3:*", role_actions("s3:*"), "github_role.actions[0]", "no wildcard"),
    ("role: s3:Put*", role_actions("s3:Put*"), "github_role.actions[0]", "no wildcard"),
    ("role: s3:?etObject", role_actions("s3:?etObject"), "github_role.actions[0]", "no wildcard"),
    ("role: PutBucketPolicy", role_actions("s3:PutObject", "s3:PutBucketPolicy"), "github_role.actions[1]",
     "bucket administration"),
    ("role: DeleteBucket", role_actions("s3:DeleteBucket"), "github_role.actions[0]", "bucket administration"),
    ("role: PutBucketVersioning", role_actions("s3:PutBucketVersioning"), "github_role.actions[0]", "bucket administration"),
    ("role: PutLifecycleConfiguration", role_actions("s3:PutLifecycleConfiguration"), "github_role.actions[0]",
     "bucket administration"),
    ("role: PutBucketPublicAccessBlock", role_actions("s3:PutBucketPublicAccessBlock"), "github_role.actions[0]",
     "bucket administration"),
    ("role: PutBucketAcl", role_actions("s3:PutBucketAcl"), "github_role.actions[0]", "bucket administration"),
    ("role: DeleteObjectVersion", role_actions("s3:DeleteObjectVersion"), "github_role.actions[0]", "permanent deletes"),
    ("role: BypassGovernanceRetention", role_actions("s3:BypassGovernanceRetention"), "github_role.actions[0]",
     "permanent deletes"),
    ("role: PutObjectAcl", role_actions("s3:PutObjectAcl"), "github_role.actions[0]", "does not change permissions"),
    ("user: typo", ('actions = ["s3:*"]', 'actions = ["s3:GetObjct"]'), "admin_user.actions[0]", "s3:GetObject"),
    ("user: wildcard matching nothing", ('actions = ["s3:*"]', 'actions = ["s3:Frobnicate*"]'), "admin_user.actions[0]",
     "IAM catalogue"),
    # reserved tags
    ("tag provision:stack", tag("provision:stack"), "tags.provision:stack", "reserved"),
    ("tag provision:email-subscriptions", tag("provision:email-subscriptions"), "tags.provision:email-subscriptions",
     "reserved"),
    ("tag Provision: any case", tag("Provision:anything"), "tags.Provision:anything", "reserved"),
    ("tag aws:", tag("aws:cloudformation:stack-name"), "tags.aws:cloudformation:stack-name", "aws:"),
    ("tag ManagedBy", tag("ManagedBy"), "tags.ManagedBy", "reserved"),
    # drift ignore patterns that would hide a backdoor
    ("ignore everything", ignore("*.*"), "drift.ignore[0]", "trust"),
    ("ignore the role", ignore("iam_role.github_actions"), "drift.ignore[0]", "trust"),
    ("ignore the trust policy", ignore("iam_role.github_actions:trust_policy"), "drift.ignore[0]", "trust_policy"),
    ("ignore a trust condition", ignore("iam_role.*:trust_policy*"), "drift.ignore[0]", "trust_policy"),
    ("ignore the inline policy", ignore("iam_role.github_actions:policy"), "drift.ignore[0]", "policy"),
    ("ignore the user's policy", ignore("iam_user.admin:pol*"), "drift.ignore[0]", "iam_user.admin:policy"),
    ("ignore attached policies", ignore("iam_*:attached_policies"), "drift.ignore[0]", "attached_policies"),
    ("ignore bucket policies", ignore("s3_bucket_policy.*"), "drift.ignore[0]", "s3_bucket_policy"),
    ("ignore public-access blocks", ignore("s3_bucket.*:public_access_block"), "drift.ignore[0]", "public_access_block"),
    ("ignore one PAB flag", ignore("s3_bucket.buildcache:public_access_block.BlockPublicPolicy"), "drift.ignore[0]",
     "public_access_block"),
    ("ignore origins", ignore("cloudfront_distribution.cdn:origin*"), "drift.ignore[0]", "origin"),
    ("ignore UNEXPECTED items", ignore("iam_role.github_actions:UNEXPECTED*"), "drift.ignore[0]", "UNEXPECTED"),
    ("ignore the topic policy", ignore("sns_topic.alarms:policy"), "drift.ignore[0]", "sns_topic.alarms:policy"),
    # records Route53 owns
    ("apex NS", record("vantagecompute.ai", "NS"), "dns.records[0].type", "apex NS"),
    ("SOA", record("vantagecompute.ai", "SOA", "ns.example. admin.example. 1 2 3 4 5"), "dns.records[0].type", "SOA"),
    ("SOA below the apex", record("x.vantagecompute.ai", "SOA", "a. b. 1 2 3 4 5"), "dns.records[0].type", "SOA"),
    # accepting what is not there
    ("accept an unknown finding", ('{id = "CF-OAI",', '{id = "NO-SUCH-RISK",'), "risks.accept[1].id", "one of"),
    ("accept without a reason", ('reason = "the seed uses an origin access identity; origin_access = \'oac\' is the '
                                 'planned switch"', 'reason = ""'), "risks.accept[1].reason", "non-empty"),
]

UNACCEPT = (re.search(r'  \{id = "GHA-OIDC-ANY-REF".*\n', BASE).group(0), "")

# (id, edits, finding id, key path)
RISKY = [
    ("seed sub, not accepted", [UNACCEPT], "GHA-OIDC-ANY-REF", "github_role.subjects[0]"),
    ("pull_request subject", [UNACCEPT, subjects("repo:vantagecompute/slurm-factory:pull_request")],
     "GHA-OIDC-PULL-REQUEST", "github_role.subjects[0]"),
    ("any ref of a second declared owner", [UNACCEPT, (SUB, 'subjects = ["repo:vantagecompute/slurm-factory:*", '
                                                  '"repo:partner/cache:*"]\nowners = ["vantagecompute", "partner"]')],
     "GHA-OIDC-ANY-REF", "github_role.subjects[1]"),
    ("TLS not required", ("require_tls = true                     # bucket policy", "require_tls = false # x"),
     "S3-TLS-OFF", "s3.buildcache.require_tls"),
    ("short retention", ("noncurrent_days = 90", "noncurrent_days = 3"), "S3-SHORT-RETENTION",
     "s3.buildcache.lifecycle.noncurrent_days"),
    ("write methods", ('allowed_methods = ["GET", "HEAD", "OPTIONS"]',
                       'allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]'),
     "CF-WRITE-METHODS", "cdn.allowed_methods"),
    ("old TLS policy", ('minimum_protocol_version = "TLSv1.2_2021"', 'minimum_protocol_version = "TLSv1.2_2018"'),
     "CF-OLD-TLS", "cdn.minimum_protocol_version"),
    ("logging off", ("[cdn.logging]\nenabled = true", "[cdn.logging]\nenabled = false"), "CF-LOGGING-OFF",
     "cdn.logging.enabled"),
    ("long sessions", ("max_session_duration = 10800", "max_session_duration = 43200"), "IAM-LONG-SESSION",
     "github_role.max_session_duration"),
    ("open topic", ('topic = "slurm-factory-alarms"', 'topic = "slurm-factory-alarms"\nrestrict_publishers = false'),
     "SNS-OPEN-PUBLISH", "alarms.restrict_publishers"),
]


def test_tables_cover_the_issue():
    assert len(REFUSED) >= 40
    ids = " ".join(r[0] for r in REFUSED).lower()
    for kind in ("issuer", "owner", "typo", "s3:*", "tag provision", "ignore the trust", "ignore bucket policies",
                 "public-access", "origins", "unexpected", "apex ns", "soa"):
        assert kind in ids, kind


@pytest.mark.parametrize("name,edit,path,expect", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_before_any_request(cli, desired_file, name, edit, path, expect):
    old, new = edit
    assert old in BASE, old
    desired_file.write_text(BASE.replace(old, new, 1))
    for args in (("validate",), ("plan",), ("apply", "--auto-approve"), ("destroy", "--force"), ("policy", "--apply")):
        r = cli(*args, "-f", str(desired_file)) if args[0] == "policy" else cli(*args)
        assert r.code == 1, (args, r.output)
        assert r.calls == [], f"{args[0]} made AWS calls: {r.calls}"
        assert "Traceback" not in r.output
        assert re.search(rf"{re.escape(str(desired_file))}: {re.escape(path)}(?=[:\s])", r.output), r.output
        assert expect in r.output, r.output


def test_apply_and_destroy_need_the_account_id(cli, desired_file):
    desired_file.write_text(BASE.replace('account_id = "123456789012"', "", 1))
    assert cli("validate").code == 0
    for args in (("apply", "--auto-approve"), ("destroy", "--force"), ("policy", "--read-only")):
        r = cli(*args, "-f", str(desired_file)) if args[0] == "policy" else cli(*args)
        assert r.code == 1 and r.calls == [], (args, r.output)
        assert f"{desired_file}: stack.account_id: expected a 12-digit AWS account id" in r.output, r.output


@pytest.mark.parametrize("name,edit,rid,path", RISKY, ids=[r[0] for r in RISKY])
def test_risky_states_give_their_finding_and_strict_fails(cli, desired_file, name, edit, rid, path):
    text = BASE
    for old, new in edit if isinstance(edit, list) else [edit]:
        assert old in text, old
        text = text.replace(old, new, 1)
    desired_file.write_text(text)
    r = cli("validate")
    assert r.code == 0, r.output
    line = [x for x in r.output.splitlines() if f"] {rid} at {path}:" in x]
    assert line and "NOT accepted" in line[0] and "Fix:" in line[0], r.output
    for args in (("validate", "--strict"), ("plan", "--strict")):
        s = cli(*args)
        assert s.code == 1 and rid in s.output and s.calls == [], (args, s.output)


def _write(text: str):
    import tempfile
    from pathlib import Path

    p = Path(tempfile.mkdtemp()) / "desired_state.toml"
    p.write_text(text)
    return p


def test_the_seed_ships_its_risks_accepted_and_listed(cli):
    r = cli("validate", "--strict")
    assert r.code == 0, r.output
    assert "GHA-OIDC-ANY-REF at github_role.subjects[0]" in r.output and "accepted: the seed's trust" in r.output
    assert "environment:release" in BASE  # the hardened form, in a comment
    assert not re.search(r"^\s*subjects = .*environment:release", BASE, re.M)
    # hardening (OAC) leaves the CF-OAI acceptance stale: listed, never an error
    r = cli("validate", "--strict", file=_write(BASE.replace('origin_access = "oai"', 'origin_access = "oac"', 1)))
    assert r.code == 0 and "CF-OAI is accepted but no longer raised" in r.output, r.output


# --- output hygiene -----------------------------------------------------------------------------

def test_control_characters_are_escaped_and_emails_masked():
    from provisioner.safe_text import escape_controls, mask_emails

    forged = "alice@host:1\r\x1b[2KApply complete: nothing changed.\u202e"
    out = escape_controls(forged)
    assert "\r" not in out and "\x1b" not in out and "\u202e" not in out
    assert out == "alice@host:1\\x0d\\x1b[2KApply complete: nothing changed.\\u202e"
    assert escape_controls("two\nlines") == "two\nlines"
    assert mask_emails('["ops@example.org", "a.b+c@sub.example.com"]') == '["o***@example.org", "a***@sub.example.com"]'
    assert mask_emails("arn:aws:iam::123456789012:role/x") == "arn:aws:iam::123456789012:role/x"


def test_a_forged_lock_holder_cannot_forge_a_terminal_line(aws_env, cli):
    from provisioner.lock import name_for

    ssm = aws_env.client("ssm")
    holder = "x\rApply complete: nothing changed.\n\x1b[1A"
    ssm.put_parameter(Name=name_for("slurm-factory"), Type="String",
                      Value=json.dumps({"holder": holder, "command": "apply", "since": "2026-01-01T00:00:00Z"}))
    r = cli("unlock")
    assert r.code == 1
    assert "\r" not in r.output and "\x1b" not in r.output and "\\x0d" in r.output, repr(r.output)
    assert not [ln for ln in r.output.splitlines() if ln.startswith("Apply complete")], r.output


def test_the_lock_helper_lives_in_a_private_directory(monkeypatch, tmp_path):
    from provisioner import lock

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with lock._host_mutex("/provision/s/apply-lock"):
        d = tmp_path / f"provision-{os.getuid()}"
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
        assert (d / "lock-provision_s_apply-lock").exists()
    d.chmod(0o777)
    with lock._host_mutex("/provision/s/apply-lock"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700  # repaired
    other = tmp_path / "elsewhere"
    other.mkdir()
    for f in d.iterdir():
        f.unlink()
    d.rmdir()
    d.symlink_to(other)  # someone planted a link where the directory goes
    with pytest.raises(Exception, match="not a directory owned by this user"):
        with lock._host_mutex("/provision/s/apply-lock"):
            pass


# --- the SNS topic policy ---------------------------------------------------------------------------

def test_topic_policy_limits_publishers_and_is_repaired(aws_env, cli, desired_file):
    assert cli("apply", "--auto-approve").code == 0
    sns = aws_env.client("sns")
    arn = "arn:aws:sns:us-east-1:123456789012:slurm-factory-alarms"
    doc = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    publish = [s for s in doc["Statement"] if s["Sid"] == "AllowCloudWatchAlarmsOfThisAccount"][0]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and publish["Action"] == "sns:Publish"
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert {s["Sid"] for s in doc["Statement"]} == {"AllowCloudWatchAlarmsOfThisAccount", "AccountOwner"}
    # someone opens the topic to the world
    doc["Statement"].append({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": arn})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(doc))
    d = cli("drift")
    assert d.code == 2 and "sns_topic.alarms  policy.Statement[Sid=Open]" in d.output, d.output
    r = cli("apply", "--auto-approve")
    assert r.code == 0 and r.mutating == ["sns:SetTopicAttributes"], (r.output, r.mutating)
    assert cli("drift").code == 0
