"""IAM reconciler: GitHub Actions OIDC provider, deploy role, admin user (issue 3).

End to end through the real CLI against the patched sandbox (fixture ``aws_env``), asserting the
recorded API calls. Covers Ansible's four steps, drift detection and repair for each out-of-band
change the issue names (plus a few more), adoption of a shared OIDC provider, destroy ownership
rules, the propagation retry (botocore Stubber: the sandbox never answers "Invalid principal"),
and the config validation of the trust policy's subjects/audience.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse

import pytest

ROLE = "slurm-factory-github-actions"
ROLE_POLICY = "slurm-factory-buildcache-publish"
USER = "james"
USER_POLICY = "slurm-factory-buildcache-admin"
BUCKET_ARN = "arn:aws:s3:::slurm-factory-spack-buildcache-4b670"
HOST = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"
SUBJECT = "repo:vantagecompute/slurm-factory:*"
THUMBS = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]


@pytest.fixture(autouse=True)
def s3_and_iam_only(monkeypatch):
    """Run with the S3 and IAM reconcilers only.

    Other services' modules are written concurrently in the same tree; pinning the registry keeps
    these tests about IAM (the S3 reconciler stays: the role's and user's policies name its bucket).
    Everything else is reported as "not yet managed".
    """
    from provisioner import reconcilers

    monkeypatch.setattr(reconcilers, "SERVICES", {k: v for k, v in reconcilers.SERVICES.items() if k in ("s3", "iam")})


def iam_mutating(result_or_calls) -> list[str]:
    calls = result_or_calls.calls if hasattr(result_or_calls, "calls") else result_or_calls
    return [str(c) for c in calls if c.mutating and c.service == "iam"]


def apply(cli):
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    return r


@pytest.fixture
def applied(aws_env, cli):
    """Everything applied from empty; returns a direct IAM client for out-of-band changes."""
    apply(cli)
    return aws_env.client("iam")


@pytest.fixture(scope="module")
def shared_env(moto_server, tmp_path_factory):
    """One sandbox account for the drift tests of this module (as ``aws_env``, set up once)."""
    from conftest import Env

    from provisioner.sandbox import create_fixtures, sandbox_env

    tmp = tmp_path_factory.mktemp("iam-shared")
    with pytest.MonkeyPatch.context() as mp:
        moto_server.reset()
        for k, v in sandbox_env(moto_server.url).items():
            mp.setenv(k, v)
        mp.setenv("AWS_CONFIG_FILE", str(tmp / "no-config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "no-credentials"))
        yield Env(url=moto_server.url, zone_id=create_fixtures(moto_server.url), server=moto_server)


@pytest.fixture
def converged(shared_env, cli):
    """Live state matching the desired state, without a reset + apply from empty per test.

    Each drift test ends converged (it asserts drift exit 0 last); this apply is then a read-only
    no-op, and repairs the account if an earlier test failed half-way. If a test using ``aws_env``
    reset the server in between, it creates everything again.
    """
    r = cli("apply", "--auto-approve")
    assert r.code == 0, r.output
    return shared_env.client("iam")


def trust_doc(sub=SUBJECT, aud="sts.amazonaws.com", principal=PROVIDER_ARN, sid="GitHubActionsOIDC"):
    stmt = {
        "Effect": "Allow",
        "Principal": {"Federated": principal},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{HOST}:aud": aud}, "StringLike": {f"{HOST}:sub": sub}},
    }
    if sid:
        stmt["Sid"] = sid
    return {"Version": "2012-10-17", "Statement": [stmt]}


def role_policy_doc(actions=("s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject")):
    """The role's inline policy: bucket-level actions on the bucket, object actions on bucket/*."""
    bucket = [a for a in actions if a.lower() == "s3:listbucket"]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "BuildcachePublishBucket", "Effect": "Allow", "Action": bucket, "Resource": BUCKET_ARN},
        {"Sid": "BuildcachePublishObjects", "Effect": "Allow", "Action": [a for a in actions if a not in bucket],
         "Resource": f"{BUCKET_ARN}/*"}]}


# --------------------------------------------------------------------------------------------
# Ansible's four steps, from empty
# --------------------------------------------------------------------------------------------


def test_plan_from_empty_shows_every_iam_create_and_makes_no_write(aws_env, cli):
    r = cli("plan", "--json")
    assert r.code == 2, r.output
    assert r.mutating == []
    plan = json.loads(r.output)
    actions = {c["address"]: c["action"] for c in plan["changes"]}
    assert actions["iam_oidc_provider.github"] == "create"
    assert actions["iam_role.github_actions"] == "create"
    assert actions["iam_user.admin"] == "create"
    assert actions["s3_bucket.buildcache"] == "create"  # the whole plan includes S3
    role = next(c for c in plan["changes"] if c["address"] == "iam_role.github_actions")
    fields = {f["path"]: f["expected"] for f in role["fields"]}
    assert fields["max_session_duration"] == 10800
    # The provider and bucket ARNs come from the other resources: unknown until they exist.
    assert fields["trust_policy"]["Statement"][0]["Principal"]["Federated"] == "(known after apply)"
    assert fields["policy"]["Statement"][0]["Resource"] == "(known after apply)"
    assert fields["policy"]["Statement"][1]["Resource"] == "(known after apply)"
    for section in ("github_oidc", "github_role", "admin_user"):
        assert section not in plan["unmanaged"]


def test_apply_from_empty_creates_all_then_plan_empty_and_reapply_noop(aws_env, cli):
    r = apply(cli)
    # Only the needed IAM writes, in dependency order (provider before the role that trusts it).
    got = iam_mutating(r)
    assert sorted(got) == sorted([
        "iam:CreateOpenIDConnectProvider", "iam:CreateUser", "iam:PutUserPolicy", "iam:CreateRole",
        "iam:PutRolePolicy"])
    assert got.index("iam:CreateOpenIDConnectProvider") < got.index("iam:CreateRole") < got.index("iam:PutRolePolicy")
    assert got.index("iam:CreateUser") < got.index("iam:PutUserPolicy")
    assert "s3:CreateBucket" in r.mutating  # S3 created in the same apply

    iam = aws_env.client("iam")
    prov = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert prov["ClientIDList"] == ["sts.amazonaws.com"]
    assert sorted(t.lower() for t in prov["ThumbprintList"]) == sorted(THUMBS)
    assert {t["Key"]: t["Value"] for t in prov["Tags"]}["provision:stack"] == "slurm-factory"

    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["MaxSessionDuration"] == 10800
    assert role["Description"].startswith("GitHub Actions")
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Federated": PROVIDER_ARN}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"},
                                  "StringLike": {f"{HOST}:sub": [SUBJECT]}}
    # split: bucket actions on the bucket, object actions on its objects
    bucket_st, objects_st = iam.get_role_policy(RoleName=ROLE, PolicyName=ROLE_POLICY)["PolicyDocument"]["Statement"]
    assert (bucket_st["Action"], bucket_st["Resource"]) == (["s3:ListBucket"], BUCKET_ARN)
    assert sorted(objects_st["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert objects_st["Resource"] == f"{BUCKET_ARN}/*"
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == [ROLE_POLICY]

    user_pol = iam.get_user_policy(UserName=USER, PolicyName=USER_POLICY)["PolicyDocument"]["Statement"]
    assert [(s["Action"], s["Resource"]) for s in user_pol] == [(["s3:*"], BUCKET_ARN), (["s3:*"], f"{BUCKET_ARN}/*")]
    assert {t["Key"] for t in iam.get_user(UserName=USER)["User"]["Tags"]} >= {"ManagedBy", "provision:stack"}
    # No credentials are ever created.
    assert iam.list_access_keys(UserName=USER)["AccessKeyMetadata"] == []
    assert not any(c.operation in ("CreateAccessKey", "CreateLoginProfile", "CreateServiceSpecificCredential")
                   for c in r.calls)
    assert "SecretAccessKey" not in r.output and "AKIA" not in r.output

    p = cli("plan")
    assert p.code == 0, p.output
    assert p.mutating == []
    assert "No changes" in p.output
    again = cli("apply", "--auto-approve")
    assert again.code == 0 and again.mutating == [], again.output


def test_noop_plan_reads_iam_with_one_call_per_thing(converged, cli):
    r = cli("plan")
    assert r.code == 0
    iam_calls = sorted(str(c) for c in r.calls if c.service == "iam")
    # one call per thing, plus one list per kind of undeclared thing (issue 18: extra inline and
    # attached policies, the user's groups; the permissions boundary comes with GetRole/GetUser)
    assert iam_calls == sorted([
        "iam:ListOpenIDConnectProviders", "iam:GetOpenIDConnectProvider", "iam:GetRole", "iam:GetRolePolicy",
        "iam:GetUser", "iam:GetUserPolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
        "iam:ListUserPolicies", "iam:ListAttachedUserPolicies", "iam:ListGroupsForUser"])


def test_outputs_name_the_role_and_user(applied, aws_env, desired_file):
    from provisioner import config, engine
    from provisioner.aws import Aws
    from provisioner.reconcilers import build

    desired = config.load(desired_file)
    ctx = engine.Context(desired, Aws(region="us-east-1"))
    resources, unmanaged = build(desired)
    engine.plan(ctx, resources, unmanaged)
    assert ctx.outs["iam_oidc_provider.github"] == {"arn": PROVIDER_ARN}
    assert ctx.outs["iam_role.github_actions"] == {"arn": f"arn:aws:iam::123456789012:role/{ROLE}", "name": ROLE}
    assert ctx.outs["iam_user.admin"] == {"arn": f"arn:aws:iam::123456789012:user/{USER}", "name": USER}
    assert engine.outputs(ctx)["GitHubActionsRoleArn"] == f"arn:aws:iam::123456789012:role/{ROLE}"


# --------------------------------------------------------------------------------------------
# Drift: out-of-band change -> drift exit 2 naming the field -> apply with only the needed calls
# --------------------------------------------------------------------------------------------


def _widen_sub(iam):
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust_doc(sub="*")))


def _add_action(iam):
    doc = role_policy_doc(("s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject", "s3:PutObjectAcl"))
    iam.put_role_policy(RoleName=ROLE, PolicyName=ROLE_POLICY, PolicyDocument=json.dumps(doc))


def _lower_session(iam):
    iam.update_role(RoleName=ROLE, MaxSessionDuration=3600)


def _remove_thumbprint(iam):
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=PROVIDER_ARN, ThumbprintList=THUMBS[:1])


def _delete_user_policy(iam):
    iam.delete_user_policy(UserName=USER, PolicyName=USER_POLICY)


def _change_description(iam):
    iam.update_role(RoleName=ROLE, Description="changed by hand")


def _extra_client_id(iam):
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN, ClientID="rogue-client")


def _client_id_replaced(iam):
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN, ClientID="other")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN,
                                                       ClientID="sts.amazonaws.com")


def _untag_role(iam):
    iam.untag_role(RoleName=ROLE, TagKeys=["Project"])


def _delete_role_policy(iam):
    iam.delete_role_policy(RoleName=ROLE, PolicyName=ROLE_POLICY)


def _principal_swapped(iam):
    other = "arn:aws:iam::123456789012:oidc-provider/evil.example.com"
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust_doc(principal=other)))


def _role_deleted(iam):
    iam.delete_role_policy(RoleName=ROLE, PolicyName=ROLE_POLICY)
    iam.delete_role(RoleName=ROLE)


DRIFTS = [
    # (id, out-of-band change, resource, text the drift report must contain, exact IAM repair calls)
    ("trust-sub-widened", _widen_sub, "iam_role.github_actions",
     f'trust_policy.Statement[Sid=GitHubActionsOIDC].Condition.StringLike.{HOST}:sub: ["*"] -> ["{SUBJECT}"]',
     ["iam:UpdateAssumeRolePolicy"]),
    ("inline-action-added", _add_action, "iam_role.github_actions",
     "policy.Statement[Sid=BuildcachePublishObjects].Action: - s3:putobjectacl", ["iam:PutRolePolicy"]),
    ("max-session-lowered", _lower_session, "iam_role.github_actions",
     "max_session_duration: expected 10800, actual 3600", ["iam:UpdateRole"]),
    ("thumbprint-removed", _remove_thumbprint, "iam_oidc_provider.github", "thumbprints: expected",
     ["iam:UpdateOpenIDConnectProviderThumbprint"]),
    ("user-policy-deleted", _delete_user_policy, "iam_user.admin", "policy: expected", ["iam:PutUserPolicy"]),
    # beyond the list
    ("description-changed", _change_description, "iam_role.github_actions",
     'description: expected "GitHub Actions', ["iam:UpdateRole"]),
    ("client-id-added", _extra_client_id, "iam_oidc_provider.github", "client_ids[rogue-client]: UNEXPECTED",
     ["iam:RemoveClientIDFromOpenIDConnectProvider"]),
    ("client-id-replaced", _client_id_replaced, "iam_oidc_provider.github", "client_ids: expected",
     ["iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider"]),
    ("role-tag-removed", _untag_role, "iam_role.github_actions", "tags.Project: expected", ["iam:TagRole"]),
    ("role-policy-deleted", _delete_role_policy, "iam_role.github_actions", "policy: expected",
     ["iam:PutRolePolicy"]),
    ("trust-principal-swapped", _principal_swapped, "iam_role.github_actions",
     "trust_policy.Statement[Sid=GitHubActionsOIDC].Principal.Federated: + " + PROVIDER_ARN,
     ["iam:UpdateAssumeRolePolicy"]),
    ("role-deleted", _role_deleted, "iam_role.github_actions", "missing", ["iam:CreateRole", "iam:PutRolePolicy"]),
]


@pytest.mark.parametrize("change,address,needle,repair", [d[1:] for d in DRIFTS], ids=[d[0] for d in DRIFTS])
def test_out_of_band_change_is_drift_and_apply_repairs_it(converged, cli, change, address, needle, repair):
    change(converged)

    d = cli("drift")
    assert d.code == 2, d.output
    assert d.mutating == []
    lines = [ln for ln in d.output.splitlines() if address in ln]
    assert lines and any(needle in ln for ln in lines), d.output
    # Only the changed resource drifts.
    assert "DRIFT: 1 of" in d.output, d.output

    a = apply(cli)
    assert a.mutating == repair, a.output  # exactly the needed calls, nothing on S3 or elsewhere

    again = cli("drift")
    assert again.code == 0, again.output
    assert again.mutating == []


@pytest.mark.parametrize("pattern,repl,field", [
    (r'^description = .*$', 'description = "new words"', "description"),
    (r'^max_session_duration = .*$', "max_session_duration = 7200", "max_session_duration"),
], ids=["description", "max-session-duration"])
def test_changed_desired_role_setting_is_one_update_role_keeping_the_other(converged, cli, desired_file,
                                                                           pattern, repl, field):
    """UpdateRole resets an omitted MaxSessionDuration to one hour (API reference): send both."""
    before = converged.get_role(RoleName=ROLE)["Role"]
    _edit(desired_file, pattern, repl)
    p = cli("plan", "--json")
    role = next(c for c in json.loads(p.output)["changes"] if c["address"] == "iam_role.github_actions")
    assert [f["path"] for f in role["fields"]] == [field]
    a = apply(cli)
    assert a.mutating == ["iam:UpdateRole"]
    after = converged.get_role(RoleName=ROLE)["Role"]
    other = "MaxSessionDuration" if field == "description" else "Description"
    assert after[other] == before[other]
    assert cli("plan").code == 0


def test_drift_names_the_statement_field_not_two_blobs(converged, cli):
    _add_action(converged)
    d = cli("drift", "--json")
    assert d.code == 2
    items = json.loads(d.output)["drift"]
    assert [(i["path"], i["kind"], i["expected"]) for i in items] == [
        ("policy.Statement[Sid=BuildcachePublishObjects].Action", "NOTE", "- s3:putobjectacl")]


def test_foreign_inline_policy_on_the_role_and_user_is_unexpected_and_removed(applied, cli):
    """Issue 18 turned this around: an inline policy nobody declared is a grant, so it is drift
    (UNEXPECTED, naming it) and apply deletes it (it used to be left alone, like Terraform's
    aws_iam_role_policy)."""
    other = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    applied.put_role_policy(RoleName=ROLE, PolicyName="added-by-someone", PolicyDocument=json.dumps(other))
    applied.put_user_policy(UserName=USER, PolicyName="added-by-someone", PolicyDocument=json.dumps(other))
    d = cli("drift")
    assert d.code == 2, d.output
    assert "iam_role.github_actions  inline_policies[added-by-someone]: UNEXPECTED" in d.output, d.output
    assert "iam_user.admin  inline_policies[added-by-someone]: UNEXPECTED" in d.output, d.output
    a = cli("apply", "--auto-approve")
    assert a.code == 0 and sorted(a.mutating) == ["iam:DeleteRolePolicy", "iam:DeleteUserPolicy"], a.output
    assert applied.list_role_policies(RoleName=ROLE)["PolicyNames"] == [ROLE_POLICY]
    assert cli("drift").code == 0


def test_extra_tags_added_by_others_are_not_drift(applied, cli):
    applied.tag_role(RoleName=ROLE, Tags=[{"Key": "CostCenter", "Value": "42"}])
    applied.tag_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN, Tags=[{"Key": "x", "Value": "y"}])
    assert cli("drift").code == 0


# --------------------------------------------------------------------------------------------
# Policy documents that differ only in order or form are not changes
# --------------------------------------------------------------------------------------------

# Each entry: a live document IAM could hold that is equivalent to what the tool writes.
EQUIVALENT_TRUST = [
    ("sub-as-string", trust_doc(sub=SUBJECT)),
    ("statement-as-object", {"Version": "2012-10-17", "Statement": trust_doc(sub=[SUBJECT])["Statement"][0]}),
    # (lower-case trust actions are left out: the sandbox refuses them on update_assume_role_policy)
    ("action-as-list", json.loads(json.dumps(trust_doc(sub=[SUBJECT])).replace(
        '"sts:AssumeRoleWithWebIdentity"', '["sts:AssumeRoleWithWebIdentity"]'))),
    ("condition-key-case", json.loads(json.dumps(trust_doc(sub=[SUBJECT])).replace(
        f"{HOST}:sub", "Token.Actions.GitHubUserContent.com:Sub"))),
    ("aud-as-list", trust_doc(sub=[SUBJECT], aud=["sts.amazonaws.com"])),
]

EQUIVALENT_ROLE_POLICY = [
    ("actions-reordered", role_policy_doc(("s3:ListBucket", "s3:DeleteObject", "s3:PutObject", "s3:GetObject"))),
    ("actions-lowercase-and-duplicated", role_policy_doc(
        ("s3:putobject", "s3:GetObject", "s3:GETOBJECT", "s3:ListBucket", "s3:DeleteObject"))),
    ("statements-reordered", {"Version": "2012-10-17", "Statement": role_policy_doc()["Statement"][::-1]}),
]


@pytest.mark.parametrize("doc", [d for _, d in EQUIVALENT_TRUST], ids=[i for i, _ in EQUIVALENT_TRUST])
def test_equivalent_trust_policy_written_out_of_band_is_not_drift(converged, cli, doc):
    converged.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(doc))
    d = cli("drift")
    assert d.code == 0, d.output


@pytest.mark.parametrize("doc", [d for _, d in EQUIVALENT_ROLE_POLICY], ids=[i for i, _ in EQUIVALENT_ROLE_POLICY])
def test_equivalent_inline_policy_written_out_of_band_is_not_drift(converged, cli, doc):
    converged.put_role_policy(RoleName=ROLE, PolicyName=ROLE_POLICY, PolicyDocument=json.dumps(doc))
    converged.put_user_policy(UserName=USER, PolicyName=USER_POLICY, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "BuildcacheAdminObjects", "Effect": "Allow", "Action": "S3:*", "Resource": [f"{BUCKET_ARN}/*"]},
            {"Sid": "BuildcacheAdminBucket", "Effect": "Allow", "Action": "s3:*", "Resource": BUCKET_ARN}]}))
    d = cli("drift")
    assert d.code == 0, d.output


def test_url_encoded_documents_as_iam_returns_them_read_as_dicts():
    """IAM's wire format is URL-encoded JSON (botocore usually decodes it; the read accepts both)."""
    from provisioner import policy as pol
    from provisioner.reconcilers import iam

    doc = trust_doc(sub=[SUBJECT])
    encoded = urllib.parse.quote(json.dumps(doc))
    assert iam._doc(encoded) == doc
    assert iam._policy_changes("trust_policy", doc, iam._doc(encoded)) == []
    # A stored document that is not JSON at all is shown (and replaced) whole, never crashes a plan.
    broken = iam._doc("%7Bnot%20json")
    changes = iam._policy_changes("trust_policy", doc, broken)
    assert [(c.path, c.kind) for c in changes] == [("trust_policy", "CHANGE")]
    assert pol.equivalent(doc, encoded)


# --------------------------------------------------------------------------------------------
# The shared OIDC provider: adopted, corrected in place, never claimed or deleted
# --------------------------------------------------------------------------------------------


def test_shared_provider_is_only_extended_never_claimed_nor_deleted(aws_env, cli, desired_file):
    """Another team's provider (untagged by us, their client id, one thumbprint in upper case): apply
    adds what we need and removes nothing of theirs; destroy keeps it."""
    iam = aws_env.client("iam")
    iam.create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=["other-team-client"], ThumbprintList=[THUMBS[0].upper()],
        Tags=[{"Key": "Owner", "Value": "platform-team"}])

    p = cli("plan", "--json")
    assert p.code == 2  # shared is not foreign: it does not block
    change = next(c for c in json.loads(p.output)["changes"] if c["address"] == "iam_oidc_provider.github")
    assert change["action"] == "update" and change["owner"] == "shared"
    fields = {f["path"]: f["expected"] for f in change["fields"] if f["kind"] != "UNEXPECTED"}
    assert fields == {"client_ids": ["sts.amazonaws.com"], "thumbprints": sorted(THUMBS)}
    # the other team's client id: reported (UNEXPECTED on a shared provider), never removed (issue 18)
    assert [(f["path"], bool(f.get("report_only"))) for f in change["fields"] if f["kind"] == "UNEXPECTED"] == [
        ("client_ids[other-team-client]", True)]
    assert "will be extended in place (shared" in cli("plan").output

    a = apply(cli)
    assert [c for c in iam_mutating(a) if "OpenIDConnect" in c] == [
        "iam:AddClientIDToOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint"]
    prov = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert sorted(prov["ClientIDList"]) == ["other-team-client", "sts.amazonaws.com"]
    assert sorted(t.lower() for t in prov["ThumbprintList"]) == sorted(THUMBS)
    assert {t["Key"]: t["Value"] for t in prov["Tags"]} == {"Owner": "platform-team"}  # not claimed as ours
    assert cli("plan").code == 0
    d = cli("drift")
    assert d.code == 2 and "client_ids[other-team-client]: UNEXPECTED (not in the desired state; not removed" in d.output

    plan = _destroy(desired_file, execute=True)
    notes = {c.address: (c.action, c.note) for c in plan.changes}
    assert notes["iam_oidc_provider.github"] == ("no-op", "retained (shared: never deleted)")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": PROVIDER_ARN}]
    prov = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert sorted(prov["ClientIDList"]) == ["other-team-client", "sts.amazonaws.com"]


# --------------------------------------------------------------------------------------------
# Destroy: only what carries our tag; inline policies first; credentials never touched
# --------------------------------------------------------------------------------------------


def _destroy(desired_file, execute: bool):
    from provisioner import config, engine
    from provisioner.aws import Aws
    from provisioner.reconcilers import build

    desired = config.load(desired_file)
    ctx = engine.Context(desired, Aws(region="us-east-1"))
    resources, _ = build(desired)
    plan = engine.destroy_plan(ctx, resources)
    if execute:
        engine.apply(ctx, plan, resources)
    return plan


def test_destroy_deletes_our_iam_resources_inline_policies_first(applied, desired_file, recorder):
    applied.put_role_policy(RoleName=ROLE, PolicyName="added-by-someone", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    plan = _destroy(desired_file, execute=True)
    actions = {c.address: c.action for c in plan.changes}
    assert actions["iam_role.github_actions"] == actions["iam_user.admin"] == "delete"
    assert actions["iam_oidc_provider.github"] == "delete"
    assert actions["s3_bucket.buildcache"] == "no-op"  # retained
    got = iam_mutating(recorder.calls)
    assert sorted(got) == sorted(["iam:DeleteUserPolicy", "iam:DeleteUser", "iam:DeleteRolePolicy",
                                  "iam:DeleteRolePolicy", "iam:DeleteRole", "iam:DeleteOpenIDConnectProvider"])
    assert got.index("iam:DeleteUserPolicy") < got.index("iam:DeleteUser")
    assert max(i for i, c in enumerate(got) if c == "iam:DeleteRolePolicy") < got.index("iam:DeleteRole")
    assert got.index("iam:DeleteRole") < got.index("iam:DeleteOpenIDConnectProvider")
    assert applied.list_roles()["Roles"] == [] and applied.list_users()["Users"] == []
    assert applied.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


@pytest.mark.parametrize("untag_role,other_role", [(True, False), (False, True)],
                         ids=["our-role-untagged", "another-role-trusts-provider"])
def test_destroy_keeps_untagged_role_and_a_provider_still_trusted(applied, desired_file, untag_role, other_role):
    if untag_role:
        applied.untag_role(RoleName=ROLE, TagKeys=["provision:stack", "ManagedBy"])
    if other_role:
        applied.create_role(RoleName="someone-elses",
                            AssumeRolePolicyDocument=json.dumps(trust_doc(sub="repo:a/b:*")))
    plan = _destroy(desired_file, execute=True)
    actions = {c.address: c.action for c in plan.changes}
    assert actions["iam_role.github_actions"] == ("no-op" if untag_role else "delete")
    assert actions["iam_oidc_provider.github"] == "no-op"  # a remaining role still trusts it
    assert actions["iam_user.admin"] == "delete"
    expected_roles = ({ROLE} if untag_role else set()) | ({"someone-elses"} if other_role else set())
    assert {r["RoleName"] for r in applied.list_roles()["Roles"]} == expected_roles
    assert applied.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": PROVIDER_ARN}]


def test_destroy_refuses_a_user_with_credentials_and_prints_no_secret(applied, desired_file):
    from provisioner.errors import ProvisionError

    key = applied.create_access_key(UserName=USER)["AccessKey"]
    with pytest.raises(ProvisionError) as e:
        _destroy(desired_file, execute=True)
    msg = str(e.value)
    assert "1 access key(s)" in msg and "nothing was deleted" in msg
    assert key["AccessKeyId"] not in msg and key["SecretAccessKey"] not in msg
    assert applied.get_user(UserName=USER)["User"]["UserName"] == USER
    assert applied.get_user_policy(UserName=USER, PolicyName=USER_POLICY)  # untouched


# --------------------------------------------------------------------------------------------
# IAM propagation retry (Stubber: the sandbox never answers "Invalid principal")
# --------------------------------------------------------------------------------------------


def _stubbed_ctx(desired_file):
    """A Context whose IAM client is stubbed. moto never rejects a trust policy naming a provider
    that was just created (AWS does, for up to a couple of minutes), so this path is tested with
    botocore's Stubber, which checks request shapes against the real IAM service model."""
    from botocore.stub import Stubber

    from provisioner import config, engine
    from provisioner.aws import Aws

    desired = config.load(desired_file)
    ctx = engine.Context(desired, Aws(region="us-east-1"))
    ctx.outs["iam_oidc_provider.github"] = {"arn": PROVIDER_ARN}
    ctx.outs["s3_bucket.buildcache"] = {"arn": BUCKET_ARN}
    iam = ctx.client("iam")
    return ctx, Stubber(iam)


INVALID_PRINCIPAL = ("MalformedPolicyDocument", "Invalid principal in policy: "
                     f'"Federated":"{PROVIDER_ARN}"')


def test_create_role_retries_invalid_principal_right_after_provider_creation(desired_file, monkeypatch):
    from provisioner.reconcilers.iam import GithubRole

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ctx, stub = _stubbed_ctx(desired_file)
    role = GithubRole(ctx.desired)
    desired = role.desired(ctx)
    stub.add_client_error("create_role", *INVALID_PRINCIPAL, http_status_code=400)
    stub.add_client_error("create_role", *INVALID_PRINCIPAL, http_status_code=400)
    stub.add_response("create_role", {"Role": {
        "Path": "/", "RoleName": ROLE, "RoleId": "AROAEXAMPLEEXAMPLE01", "Arn": f"arn:aws:iam::123456789012:role/{ROLE}",
        "CreateDate": "2026-01-01T00:00:00Z"}})
    stub.add_response("put_role_policy", {}, {
        "RoleName": ROLE, "PolicyName": ROLE_POLICY, "PolicyDocument": json.dumps(desired["policy"], separators=(",", ":"))})
    with stub:
        role.create(ctx, desired)
    stub.assert_no_pending_responses()


def test_invalid_principal_retry_is_bounded(desired_file, monkeypatch):
    from botocore.exceptions import ClientError

    from provisioner.model import FieldChange
    from provisioner.reconcilers.iam import GithubRole

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("PROVISION_RETRY_SCALE", "0.005")  # 120 s bound -> 0.6 s
    ctx, stub = _stubbed_ctx(desired_file)
    role = GithubRole(ctx.desired)
    desired = role.desired(ctx)
    for _ in range(200):
        stub.add_client_error("update_assume_role_policy", *INVALID_PRINCIPAL, http_status_code=400)
    t0 = time.monotonic()
    with stub, pytest.raises(ClientError):
        role.update(ctx, desired, {"trust_policy": trust_doc(sub="*")}, (FieldChange("trust_policy", None, None),))
    assert time.monotonic() - t0 < 5


# --------------------------------------------------------------------------------------------
# Validation: the trust policy must be scoped to repositories (no AWS call is made)
# --------------------------------------------------------------------------------------------


def _edit(desired_file, pattern: str, repl: str):
    text = desired_file.read_text()
    new, n = re.subn(pattern, repl, text, count=1, flags=re.M)
    assert n == 1, pattern
    desired_file.write_text(new)


BAD_TRUST = [
    ("wildcard-subject", r'^subjects = .*$', 'subjects = ["*"]', "github_role.subjects[0]"),
    ("any-repository", r'^subjects = .*$', 'subjects = ["repo:*/*:*"]', "github_role.subjects[0]"),
    ("any-repo-of-owner", r'^subjects = .*$', 'subjects = ["repo:vantagecompute/*:*"]', "github_role.subjects[0]"),
    ("owner-wildcard", r'^subjects = .*$', 'subjects = ["repo:vantage*/slurm-factory:*"]', "github_role.subjects[0]"),
    ("second-subject-unscoped", r'^subjects = .*$', f'subjects = ["{SUBJECT}", "repo:*"]', "github_role.subjects[1]"),
    ("not-a-repo-subject", r'^subjects = .*$', 'subjects = ["environment:prod"]', "github_role.subjects[0]"),
    ("no-subjects", r'^subjects = .*$', "subjects = []", "github_role.subjects"),
    ("subjects-missing", r'^subjects = .*$', "", "github_role.subjects"),
    ("audience-not-a-client-id", r'^audience = .*$', 'audience = "sigstore"', "github_role.audience"),
]


@pytest.mark.parametrize("pattern,repl,key", [b[1:] for b in BAD_TRUST], ids=[b[0] for b in BAD_TRUST])
def test_validate_refuses_unscoped_trust_policy(cli, desired_file, pattern, repl, key):
    _edit(desired_file, pattern, repl)
    for cmd in ("validate", "plan"):
        r = cli(cmd)
        assert r.code == 1, r.output
        assert key in r.output, r.output
        assert str(desired_file) in r.output
        assert r.calls == []  # refused before any AWS call


def test_validate_accepts_several_repository_scoped_subjects(cli, desired_file):
    _edit(desired_file, r'^subjects = .*$',
          f'subjects = ["{SUBJECT}", "repo:vantagecompute/slurm-factory:ref:refs/heads/main"]')
    r = cli("validate")
    assert r.code == 0, r.output
    assert r.calls == []
