"""Undeclared but present is drift (issue 18): each thing that changes who can do what, or what the
public sees, added out of band to a converged stack, makes `provision drift` (a separate process)
exit 2 naming it with kind UNEXPECTED; `provision apply` removes it with exactly the calls needed
(counted at the sandbox, the apply lock's and apply record's SSM bookkeeping aside); drift is then
clean. Shared things (a subscription not ours, Object Lock) are reported and never removed.

The things are grouped per resource (one drift, one apply, one drift per group): the apply's
mutating requests must be exactly one removal call per thing.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.faults import FaultInjector, child_env, provision_cmd

BUCKET = "slurm-factory-spack-buildcache-4b670"
LOGS = f"{BUCKET}-logs"
ROLE = "slurm-factory-github-actions"
USER = "james"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
POWER = "arn:aws:iam::aws:policy/PowerUserAccess"
OTHER_CANONICAL = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
EVERYTHING = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The seed stack applied once on a request-logging sandbox; -> (run, client, injector)."""
    import shutil

    import boto3
    from botocore.config import Config

    from provisioner.sandbox import Server, create_fixtures
    from tests.conftest import DESIRED

    tmp = tmp_path_factory.mktemp("unexpected")
    desired = tmp / "desired_state.toml"
    shutil.copy(DESIRED, desired)
    inj = FaultInjector()
    with Server(app=inj) as server:
        server.reset()
        create_fixtures(server.url)
        env = child_env(server.url, str(tmp))

        def run(*args: str) -> subprocess.CompletedProcess:
            file = () if "-f" in args else ("-f", str(desired))
            return subprocess.run(provision_cmd(*args, *file), env=env, cwd=tmp, capture_output=True, text=True,
                                  timeout=300)

        def client(service: str):
            return boto3.client(service, region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="testing",
                                aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))

        r = run("apply", "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        yield run, client, inj


def drift_json(run) -> tuple[int, dict]:
    r = run("drift", "--json")
    assert r.returncode in (0, 2), r.stdout + r.stderr
    return r.returncode, json.loads(r.stdout)


def repair(run, inj) -> list[str]:
    """apply; -> the mutating requests it made (SSM lock/record bookkeeping aside)."""
    inj.clear()
    r = run("apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    return sorted(str(q) for q in inj.mutating() if q.service != "ssm")


def unexpected(report: dict) -> dict[tuple[str, str], dict]:
    return {(i["resource"], i["path"]): i for i in report["drift"] if i["kind"] == "UNEXPECTED"}


def _dist(client):
    cf = client("cloudfront")
    dist_id = cf.list_distributions()["DistributionList"]["Items"][0]["Id"]
    got = cf.get_distribution_config(Id=dist_id)
    return cf, dist_id, got["DistributionConfig"], got["ETag"]


# -- the out-of-band changes, grouped per resource: (paths drift must name, repair calls) ----------

def role_extras(client):
    iam = client("iam")
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=ADMIN)
    iam.put_role_policy(RoleName=ROLE, PolicyName="everything", PolicyDocument=EVERYTHING)
    iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=POWER)
    trust = json.loads(json.dumps(iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]))
    trust["Statement"].append({"Sid": "OtherAccount", "Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"AWS": "arn:aws:iam::999999999999:root"}})
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust))
    return ("iam_role.github_actions", [f"attached_policies[{ADMIN}]", "inline_policies[everything]",
                                        "permissions_boundary", "trust_policy.Statement[Sid=OtherAccount]"],
            ["iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
             "iam:UpdateAssumeRolePolicy"])


def user_extras(client):
    iam = client("iam")
    iam.attach_user_policy(UserName=USER, PolicyArn=ADMIN)
    iam.put_user_policy(UserName=USER, PolicyName="everything", PolicyDocument=EVERYTHING)
    iam.put_user_permissions_boundary(UserName=USER, PermissionsBoundary=POWER)
    return ("iam_user.admin", [f"attached_policies[{ADMIN}]", "inline_policies[everything]", "permissions_boundary"],
            ["iam:DeleteUserPermissionsBoundary", "iam:DeleteUserPolicy", "iam:DetachUserPolicy"])


def test_a_group_membership_is_reported_and_left_for_a_person(stack):
    # RemoveUserFromGroup is authorised on the group: granting it would reach every group of the
    # account, so drift reports the membership (exit 2) and apply leaves it (least privilege)
    run, client, inj = stack
    iam = client("iam")
    iam.create_group(GroupName="admins")
    iam.add_user_to_group(GroupName="admins", UserName=USER)
    code, report = drift_json(run)
    found = unexpected(report)
    assert code == 2 and found.keys() == {("iam_user.admin", "groups[admins]")}
    assert "iam:RemoveUserFromGroup" in found[("iam_user.admin", "groups[admins]")]["report_only"]
    assert repair(run, inj) == []
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=USER)["Groups"]] == ["admins"]
    iam.remove_user_from_group(GroupName="admins", UserName=USER)
    assert drift_json(run)[0] == 0


def provider_client_id(client):
    client("iam").add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER, ClientID="rogue")
    return "iam_oidc_provider.github", ["client_ids[rogue]"], ["iam:RemoveClientIDFromOpenIDConnectProvider"]


def bucket_cors(client):
    # CORS is main's s3_bucket_cors resource (issue 15): a bucket that declares no rules keeps none,
    # so rules someone added are its UNEXPECTED ``rules``
    client("s3").put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["PUT"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"]}]})
    return "s3_bucket_cors.buildcache", ["rules"], ["s3:DeleteBucketCors"]


def bucket_settings(client):
    s3 = client("s3")
    s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.create_bucket(Bucket="someone-elses-replica")
    s3.put_bucket_versioning(Bucket="someone-elses-replica", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/replicator", "Rules": [{
            "ID": "copy-out", "Status": "Enabled", "Priority": 1, "Filter": {},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": "arn:aws:s3:::someone-elses-replica"}}]})
    topic = client("sns").create_topic(Name="someone-elses-topic")["TopicArn"]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "TopicConfigurations": [{"Id": "new-objects", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_bucket_accelerate_configuration(Bucket=BUCKET, AccelerateConfiguration={"Status": "Enabled"})
    s3.put_bucket_request_payment(Bucket=BUCKET, RequestPaymentConfiguration={"Payer": "Requester"})
    return ("s3_bucket.buildcache", ["website", "replication", "notifications", "transfer_acceleration",
                                     "request_payer"],
            ["s3:DeleteBucketReplication", "s3:DeleteBucketWebsite",
             "s3:PutBucketAccelerateConfiguration", "s3:PutBucketNotificationConfiguration",
             "s3:PutBucketRequestPayment"])


def bucket_policy_statement(client):
    s3 = client("s3")
    doc = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    doc["Statement"].append({"Sid": "CrossAccountRead", "Effect": "Allow", "Action": "s3:GetObject",
                             "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(doc))
    return "s3_bucket_policy.buildcache", ["policy.Statement[Sid=CrossAccountRead]"], ["s3:PutBucketPolicy"]


def log_bucket_acl_grant(client):
    s3 = client("s3")
    acl = s3.get_bucket_acl(Bucket=LOGS)
    grants = acl["Grants"] + [{"Grantee": {"Type": "CanonicalUser", "ID": OTHER_CANONICAL}, "Permission": "READ"}]
    s3.put_bucket_acl(Bucket=LOGS, AccessControlPolicy={"Grants": grants, "Owner": acl["Owner"]})
    return "s3_bucket.logs", [f"acl.grants[{OTHER_CANONICAL}:READ]"], ["s3:PutBucketAcl"]


def distribution_extras(client):
    cf, dist_id, cfg, etag = _dist(client)
    cfg["Origins"]["Items"].append({"Id": "elsewhere", "DomainName": "elsewhere.example.com", "OriginPath": "",
                                    "CustomHeaders": {"Quantity": 0},
                                    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                                           "OriginProtocolPolicy": "https-only"}})
    cfg["Origins"]["Quantity"] = 2
    dcb = cfg["DefaultCacheBehavior"]
    behaviour = json.loads(json.dumps(dcb))
    behaviour.update(PathPattern="/private/*", TargetOriginId="elsewhere")
    cfg["CacheBehaviors"] = {"Quantity": 1, "Items": [behaviour]}
    cfg["WebACLId"] = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/someone/1234"
    dcb["FunctionAssociations"] = {"Quantity": 1, "Items": [
        {"FunctionARN": "arn:aws:cloudfront::123456789012:function/rewrite", "EventType": "viewer-request"}]}
    dcb["LambdaFunctionAssociations"] = {"Quantity": 1, "Items": [
        {"LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:edge:1", "EventType": "origin-request",
         "IncludeBody": False}]}
    dcb["FieldLevelEncryptionId"] = "FLEXAMPLE"
    dcb["TrustedKeyGroups"] = {"Enabled": True, "Quantity": 1, "Items": ["key-group-1"]}
    cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=cfg)
    dcb_ = "default_cache_behavior"
    return ("cloudfront_distribution.cdn",
            ["origins[elsewhere]", "cache_behaviors[/private/*]", "web_acl_id",
             f"{dcb_}.function_associations[viewer-request]", f"{dcb_}.lambda_function_associations[origin-request]",
             f"{dcb_}.field_level_encryption_id", f"{dcb_}.trusted_key_groups"],
            ["cloudfront:UpdateDistribution"])  # all of it in the one config write


GROUPS = [role_extras, user_extras, provider_client_id, bucket_settings, bucket_cors, bucket_policy_statement,
          log_bucket_acl_grant, distribution_extras]


@pytest.mark.parametrize("change", GROUPS, ids=[g.__name__ for g in GROUPS])
def test_undeclared_thing_is_drift_and_apply_removes_it_with_only_the_calls_needed(stack, change):
    run, client, inj = stack
    assert drift_json(run)[0] == 0  # converged before
    address, paths, calls = change(client)

    code, report = drift_json(run)
    assert code == 2, report
    found = unexpected(report)
    for path in paths:
        assert (address, path) in found, (path, sorted(found))
        assert not found[(address, path)].get("report_only"), found[(address, path)]
    assert {r for r, _ in found} == {address}, "only the changed resource drifts"

    assert repair(run, inj) == sorted(calls)
    code, report = drift_json(run)
    assert code == 0, report["drift"]


def test_the_log_delivery_grant_is_ours_and_survives_removing_another_grant(stack):
    from provisioner.reconcilers.s3_log_delivery import LOG_DELIVERY_CANONICAL_ID

    run, client, inj = stack
    log_bucket_acl_grant(client)
    assert unexpected(drift_json(run)[1]).keys() == {("s3_bucket.logs", f"acl.grants[{OTHER_CANONICAL}:READ]")}
    repair(run, inj)
    grantees = {g["Grantee"].get("ID") for g in client("s3").get_bucket_acl(Bucket=LOGS)["Grants"]}
    assert LOG_DELIVERY_CANONICAL_ID in grantees and OTHER_CANONICAL not in grantees


def test_another_certificate_on_the_distribution_is_a_change_of_the_declared_certificate(stack):
    run, client, inj = stack
    acm = client("acm")
    other = acm.request_certificate(DomainName="other.vantagecompute.ai", ValidationMethod="DNS")["CertificateArn"]
    cf, dist_id, cfg, etag = _dist(client)
    ours = cfg["ViewerCertificate"]["ACMCertificateArn"]
    cfg["ViewerCertificate"]["ACMCertificateArn"] = other
    cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=cfg)

    code, report = drift_json(run)
    assert code == 2
    assert [(i["path"], i["kind"], i["actual"], i["expected"]) for i in report["drift"]] == [
        ("viewer_certificate.acm_certificate_arn", "CHANGE", other, ours)]
    assert repair(run, inj) == ["cloudfront:UpdateDistribution"]
    assert drift_json(run)[0] == 0
    acm.delete_certificate(CertificateArn=other)


def test_a_subscription_that_is_not_ours_is_reported_never_removed(stack):
    run, client, inj = stack
    sns = client("sns")
    topic = "arn:aws:sns:us-east-1:123456789012:slurm-factory-alarms"
    sub = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://hooks.example.com/alarm?token=secret",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    try:
        r = run("drift")
        assert r.returncode == 2, r.stdout
        assert "subscriptions[https:https://hooks.example.com/alarm]: UNEXPECTED" in r.stdout, r.stdout
        assert "secret" not in r.stdout  # an endpoint's query string may carry a token
        assert repair(run, inj) == []  # never removed
        plan = run("plan")
        assert plan.returncode == 0, plan.stdout  # apply would change nothing
        assert "reported, not changed" in plan.stdout
    finally:
        sns.unsubscribe(SubscriptionArn=sub)
    assert drift_json(run)[0] == 0


def test_object_lock_is_reported_and_its_default_retention_removed(stack):
    run, client, inj = stack
    s3 = client("s3")
    s3.put_object_lock_configuration(Bucket=BUCKET, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    try:
        found = unexpected(drift_json(run)[1])
        assert found[("s3_bucket.buildcache", "object_lock")]["report_only"].startswith("S3 cannot turn Object Lock off")
        assert not found[("s3_bucket.buildcache", "object_lock.default_retention")].get("report_only")
        assert repair(run, inj) == ["s3:PutObjectLockConfiguration"]
        assert "Rule" not in s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]
        code, report = drift_json(run)
        assert code == 2 and [i["path"] for i in report["drift"]] == ["object_lock"]  # still reported
    finally:  # S3 cannot turn it off; the sandbox can (for the next tests of this module)
        from moto.s3.models import s3_backends

        bucket = s3_backends["123456789012"]["aws"].get_bucket(BUCKET)
        bucket.object_lock_enabled = False
        bucket.default_lock_mode, bucket.default_lock_days, bucket.default_lock_years = "", 0, 0
    assert drift_json(run)[0] == 0


def test_drift_ignore_accepts_one_and_apply_leaves_it_in_place(stack, tmp_path):
    run, client, inj = stack
    from tests.conftest import DESIRED

    # a grant cannot be accepted (issue 19: ignore patterns never cover trust, inline/attached policies...)
    refused = tmp_path / "refused.toml"
    refused.write_text(DESIRED.read_text().replace(
        "ignore = []", f'ignore = ["iam_role.github_actions:attached_policies[{ADMIN}]"]'))
    r = run("drift", "-f", str(refused))
    assert r.returncode == 1 and "drift.ignore[0]" in r.stderr and "attached_policies" in r.stderr, r.stderr

    # a setting that is not a grant can: website hosting accepted, transfer acceleration still drift
    s3 = client("s3")
    s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_accelerate_configuration(Bucket=BUCKET, AccelerateConfiguration={"Status": "Enabled"})
    desired = tmp_path / "accepting.toml"
    desired.write_text(DESIRED.read_text().replace("ignore = []", 'ignore = ["s3_bucket.buildcache:website"]'))
    r = run("drift", "--json", "-f", str(desired))
    assert r.returncode == 2, r.stdout + r.stderr  # the acceleration is still drift
    report = json.loads(r.stdout)
    assert [i["path"] for i in report["drift"]] == ["transfer_acceleration"]
    assert report["ignored"] == ["s3_bucket.buildcache:website"]

    inj.clear()
    r = run("apply", "--auto-approve", "-f", str(desired))
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(str(q) for q in inj.mutating() if q.service != "ssm") == ["s3:PutBucketAccelerateConfiguration"]
    assert s3.get_bucket_website(Bucket=BUCKET)["IndexDocument"] == {"Suffix": "index.html"}
    assert run("drift", "-f", str(desired)).returncode == 0  # accepted on purpose
    s3.delete_bucket_website(Bucket=BUCKET)
    assert drift_json(run)[0] == 0


def test_buildcache_acl_is_read_only_when_acls_are_enabled(stack):
    # BucketOwnerEnforced disables ACLs (S3 User Guide, "Controlling ownership of objects and
    # disabling ACLs"): the no-op plan skips GetBucketAcl; once someone enables them, the ownership
    # is drift and every grant beyond the owner's is UNEXPECTED, and apply removes both
    run, client, inj = stack
    s3 = client("s3")
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    acl = s3.get_bucket_acl(Bucket=BUCKET)
    s3.put_bucket_acl(Bucket=BUCKET, AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"] + [
        {"Grantee": {"Type": "CanonicalUser", "ID": OTHER_CANONICAL}, "Permission": "READ"}]})
    code, report = drift_json(run)
    assert code == 2
    assert ("s3_bucket.buildcache", f"acl.grants[{OTHER_CANONICAL}:READ]") in unexpected(report)
    assert ("s3_bucket.buildcache", "object_ownership") in {(i["resource"], i["path"]) for i in report["drift"]}
    assert "s3:PutBucketAcl" in repair(run, inj)
    assert drift_json(run)[0] == 0
