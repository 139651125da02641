"""The IAM reconcilers' policy comparison, as a table (no AWS call; runs in milliseconds).

Each live document below is one AWS could hand back for what the tool wrote (other order, string
vs list, case where IAM ignores it, URL-encoded as IAM's API returns it, Version/Sid spelling):
the role's and user's ``diff`` must be empty. The second table holds real differences: the diff
must name the statement and field, never print two blobs.
"""

from __future__ import annotations

import copy
import json
import urllib.parse
from pathlib import Path

import pytest

from provisioner import config
from provisioner.engine import Context
from provisioner.reconcilers.iam import AdminUser, GithubRole, OidcProvider

HOST = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"
BUCKET_ARN = "arn:aws:s3:::slurm-factory-spack-buildcache-4b670"
SUBJECT = "repo:vantagecompute/slurm-factory:*"
ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject"]


@pytest.fixture(scope="module")
def ctx():
    desired = Path(__file__).resolve().parent.parent / "desired_state.toml"
    c = Context(config.load(desired), aws=None)
    c.outs["iam_oidc_provider.github"] = {"arn": PROVIDER_ARN}
    c.outs["s3_bucket.buildcache"] = {"arn": BUCKET_ARN}
    return c


def role_live(ctx, trust=None, policy=None) -> dict:
    role = GithubRole(ctx.desired)
    live = copy.deepcopy(role.desired(ctx))
    if trust is not None:
        live["trust_policy"] = trust
    if policy is not None:
        live["policy"] = policy
    return live


def trust(**over):
    stmt = {
        "Sid": "GitHubActionsOIDC",
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"},
                      "StringLike": {f"{HOST}:sub": [SUBJECT]}},
    }
    stmt.update(over)
    return {"Version": "2012-10-17", "Statement": [stmt]}


OBJECT_ACTIONS = [a for a in ACTIONS if a != "s3:ListBucket"]


def publish(actions=OBJECT_ACTIONS, resources=(f"{BUCKET_ARN}/*",), **over):
    """The role's policy: bucket actions on the bucket, object actions (varied here) on bucket/*."""
    bucket = {"Sid": "BuildcachePublishBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": BUCKET_ARN}
    stmt = {"Sid": "BuildcachePublishObjects", "Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
    stmt.update(over)
    return {"Version": "2012-10-17", "Statement": [bucket, stmt]}


def enc(doc) -> str:
    return urllib.parse.quote(json.dumps(doc))


EQUIVALENT_TRUST = {
    "as-written": trust(),
    "sub-string-not-list": trust(Condition={"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"},
                                            "StringLike": {f"{HOST}:sub": SUBJECT}}),
    "aud-list-not-string": trust(Condition={"StringEquals": {f"{HOST}:aud": ["sts.amazonaws.com"]},
                                            "StringLike": {f"{HOST}:sub": [SUBJECT]}}),
    "condition-keys-other-case": trust(Condition={"StringEquals": {f"{HOST.upper()}:AUD": "sts.amazonaws.com"},
                                                  "StringLike": {f"{HOST}:Sub": SUBJECT}}),
    "action-list-lowercase": trust(Action=["sts:assumerolewithwebidentity"]),
    "federated-list": trust(Principal={"Federated": [PROVIDER_ARN]}),
    "statement-object": {"Version": "2012-10-17", "Statement": trust()["Statement"][0]},
    "url-encoded": enc(trust()),
    "json-string": json.dumps(trust()),
    "key-order": json.loads(json.dumps(trust(), sort_keys=True)),
}

EQUIVALENT_POLICY = {
    "as-written": publish(),
    "actions-reordered": publish(actions=reversed(OBJECT_ACTIONS)),
    "actions-other-case": publish(actions=[a.upper() for a in OBJECT_ACTIONS]),
    "actions-duplicated": publish(actions=OBJECT_ACTIONS + ["s3:getobject"]),
    "resource-string": publish(Resource=f"{BUCKET_ARN}/*"),
    "statements-reordered": {"Version": "2012-10-17", "Statement": publish()["Statement"][::-1]},
    "url-encoded": enc(publish()),
    "version-missing": {"Statement": publish()["Statement"]},
    "empty-condition": publish(Condition={}),
}


@pytest.mark.parametrize("doc", EQUIVALENT_TRUST.values(), ids=EQUIVALENT_TRUST.keys())
def test_equivalent_trust_policy_is_no_change(ctx, doc):
    from provisioner.reconcilers.iam import _doc

    role = GithubRole(ctx.desired)
    assert role.diff(role.desired(ctx), role_live(ctx, trust=_doc(doc))) == []


@pytest.mark.parametrize("doc", EQUIVALENT_POLICY.values(), ids=EQUIVALENT_POLICY.keys())
def test_equivalent_inline_policy_is_no_change(ctx, doc):
    from provisioner.reconcilers.iam import _doc

    role = GithubRole(ctx.desired)
    assert role.diff(role.desired(ctx), role_live(ctx, policy=_doc(doc))) == []


def test_user_policy_in_other_forms_is_no_change(ctx):
    from provisioner.reconcilers.iam import _doc

    user = AdminUser(ctx.desired)
    want = user.desired(ctx)
    for live_doc in (
        {"Version": "2012-10-17", "Statement": [
            {"Sid": "BuildcacheAdminObjects", "Effect": "Allow", "Action": "S3:*", "Resource": [f"{BUCKET_ARN}/*"]},
            {"Sid": "BuildcacheAdminBucket", "Effect": "Allow", "Action": ["s3:*"], "Resource": BUCKET_ARN}]},
        enc(want["policy"]),
    ):
        live = dict(want, policy=_doc(live_doc))
        assert user.diff(want, live) == []


DIFFERENT = {
    "sub-widened": (dict(trust_policy=trust(Condition={
        "StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"}, "StringLike": {f"{HOST}:sub": "*"}})),
        [f'trust_policy.Statement[Sid=GitHubActionsOIDC].Condition.StringLike.{HOST}:sub: ["*"] -> ["{SUBJECT}"]']),
    "aud-condition-dropped": (dict(trust_policy=trust(Condition={"StringLike": {f"{HOST}:sub": SUBJECT}})),
                              ["trust_policy.Statement[Sid=GitHubActionsOIDC].Condition.StringEquals: (absent) -> "
                               '{"token.actions.githubusercontent.com:aud":["sts.amazonaws.com"]}']),
    "wildcard-principal": (dict(trust_policy=trust(Principal="*")),
                           ['trust_policy.Statement[Sid=GitHubActionsOIDC].Principal: "*" -> '
                            f'{{"Federated":["{PROVIDER_ARN}"]}}']),
    "action-added": (dict(policy=publish(actions=OBJECT_ACTIONS + ["s3:PutObjectAcl"])),
                     ["policy.Statement[Sid=BuildcachePublishObjects].Action: - s3:putobjectacl"]),
    "objects-resource-widened": (dict(policy=publish(resources=[BUCKET_ARN, f"{BUCKET_ARN}/*"])),
                                 [f"policy.Statement[Sid=BuildcachePublishObjects].Resource: - {BUCKET_ARN}"]),
    "statement-added": (dict(policy={"Version": "2012-10-17", "Statement": publish()["Statement"] + [
        {"Sid": "Extra", "Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}),
        ['policy.Statement[Sid=Extra]: unexpected {"Action":["iam:*"],"Effect":"Allow","Resource":["*"],"Sid":"Extra"}']),
    "version-2008": (dict(policy=dict(publish(), Version="2008-10-17")), ["policy.Version: 2008-10-17 -> 2012-10-17"]),
}


@pytest.mark.parametrize("live_over,paths", DIFFERENT.values(), ids=DIFFERENT.keys())
def test_real_differences_are_named_by_statement_and_field(ctx, live_over, paths):
    role = GithubRole(ctx.desired)
    live = role_live(ctx, **{"trust": live_over.get("trust_policy"), "policy": live_over.get("policy")})
    changes = role.diff(role.desired(ctx), live)
    # a statement nobody declared is UNEXPECTED (issue 18), its canonical form the actual value
    got = [f"{c.path}: {c.new}" if c.kind == "NOTE" else
           f"{c.path}: unexpected {json.dumps(c.old, sort_keys=True, separators=(',', ':'))}" for c in changes]
    assert got == paths
    assert [c.kind for c in changes] == ["UNEXPECTED" if ": unexpected " in p else "NOTE" for p in paths]


def test_provider_diff_and_adopted_provider_tags(ctx):
    prov = OidcProvider(ctx.desired)
    want = prov.desired(ctx)
    live = {"arn": PROVIDER_ARN, "url": HOST, "client_ids": ["sts.amazonaws.com"],
            "thumbprints": sorted(want["thumbprints"]),
            "tags": dict(ctx.tags), "shared": False}
    assert prov.diff(want, live) == []
    # A shared provider (not ours): our tags are not compared, so never written; only extended.
    assert prov.diff(want, dict(live, tags={"Owner": "platform"}, shared=True)) == []
    theirs = dict(live, tags={"Owner": "platform"}, shared=True, client_ids=["other-team", "sts.amazonaws.com"])
    assert prov.diff(want, theirs) == []  # another team's client id is not ours to remove
    missing = dict(theirs, client_ids=["other-team"])
    assert [(c.path, c.new) for c in prov.diff(want, missing)] == [("client_ids", ["other-team", "sts.amazonaws.com"])]
    assert sorted(c.path for c in prov.diff(want, dict(live, tags={"Owner": "platform"}))) == [
        "tags.ManagedBy", "tags.Project", "tags.provision:stack"]
