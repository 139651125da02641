"""IAM: the GitHub Actions OIDC identity provider, the deploy role, and the admin user.

Resources (addresses and outputs are part of the shared interface):

``iam_oidc_provider.github`` {arn}
    Found by URL (``list_open_id_connect_providers`` once, memoised, then ``get`` on the match;
    IAM returns the Url without ``https://``). Compared: client ids (sorted set), thumbprints
    (sorted lower-case set, only when the TOML declares some), tags (only our keys).
    The provider is account-wide and may be shared with other stacks or tools: an existing one
    is adopted and its client ids/thumbprints corrected in place, but an adopted provider that does
    not carry our ``provision:stack`` tag is *not* tagged as ours (tagging would make ``destroy``
    delete something we did not create). Destroy deletes it only when it carries our tag and no
    role other than ours trusts it.

``iam_role.github_actions`` {arn, name}
    Found by name. Compared: path, description, max session duration, trust policy, our named
    inline policy, tags (only our keys). The trust policy is built from the provider's ARN output
    (``sts:AssumeRoleWithWebIdentity``, ``aud`` StringEquals, ``sub`` StringLike the list of
    repository-scoped subjects); the inline policy from the bucket's ARN output (bucket + ``/*``).
    Policies are compared in canonical form (``provisioner.policy``) and differences are reported
    per statement/field. Like Terraform's ``aws_iam_role_policy``, only the inline policy named in
    the TOML is managed: other inline or attached policies someone added are left alone and are
    not reported as drift.

``iam_user.admin`` {arn, name}
    Found by name. Compared: path, our named inline policy (full access to the bucket and its
    objects), tags (only our keys). The tool never creates access keys, login profiles or any other
    credential, and never prints one.

Reads make one call per thing (get_role, get_role_policy, get_user, get_user_policy, one list +
one get for the provider): six read calls for a no-op IAM plan. Writes right after creating a
principal (a trust policy naming a provider just created; a policy on a role/user just created)
go through the bounded ``iam_propagation`` retry policy.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from .. import policy as pol
from .. import retry
from ..aws import error_code
from ..config import DesiredState
from ..errors import PreconditionError
from ..model import FieldChange, Resource, diff_fields, has_unknown

PROVIDER = "iam_oidc_provider.github"
ROLE = "iam_role.github_actions"
USER = "iam_user.admin"
BUCKET = "s3_bucket.buildcache"
TRUST_SID = "GitHubActionsOIDC"


def _tags(tagset: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (tagset or []) if not t["Key"].lower().startswith("aws:")}


def _tag_list(tags: dict[str, str]) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _missing(fn, *codes: str):
    """Call ``fn``; the named "not found" error codes become ``None`` (missing is a value)."""
    try:
        return fn()
    except ClientError as e:
        if error_code(e) in (codes or ("NoSuchEntity",)):
            return None
        raise


def _doc(value: Any) -> Any:
    """A live policy document as a dict (IAM may hand it back URL-encoded), or the raw value."""
    try:
        return pol.parse(value)
    except pol.PolicyError:
        return value  # not a policy document: it will differ from ours, shown as a whole


def _dumps(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"))


def _policy_changes(path: str, want: Any, have: Any) -> list[FieldChange]:
    if have is None:
        return [FieldChange(path, None, want, "ADD")]
    if has_unknown(want) or not isinstance(have, dict):
        return [FieldChange(path, have, want)]
    try:
        return pol.field_changes(path, want, have)
    except pol.PolicyError:  # live document is structurally broken: replace it whole
        return [FieldChange(path, have, want)]


def _diff_with_policies(desired: dict, live: dict, policy_keys: tuple[str, ...]) -> list[FieldChange]:
    plain = {k: v for k, v in desired.items() if k not in policy_keys}
    out = diff_fields(plain, live)
    for key in policy_keys:
        if key in desired:
            out.extend(_policy_changes(key, desired[key], live.get(key)))
    return out


# --------------------------------------------------------------------------------------------
# OIDC provider
# --------------------------------------------------------------------------------------------


class OidcProvider(Resource):
    service = "IAM OIDC provider"
    address = PROVIDER

    def __init__(self, desired: DesiredState):
        self.spec = desired.github_oidc

    def desired(self, ctx) -> dict:
        d: dict[str, Any] = {
            "url": self.spec.host,
            "client_ids": sorted(set(self.spec.client_ids)),
        }
        if self.spec.thumbprints:  # none declared: IAM manages them (it no longer needs any for GitHub)
            d["thumbprints"] = sorted({t.lower() for t in self.spec.thumbprints})
        d["tags"] = dict(ctx.tags)
        return d

    def _find_arn(self, ctx) -> str | None:
        iam = ctx.client("iam")

        def list_all() -> list[str]:
            # ListOpenIDConnectProviders takes no marker: one call lists them all.
            return [p["Arn"] for p in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])]

        want = self.spec.host.lower()
        for arn in ctx.memo(("iam", "oidc_providers"), list_all):
            if arn.split(":oidc-provider/", 1)[-1].rstrip("/").lower() == want:
                return arn
        return None

    def read(self, ctx) -> dict | None:
        arn = self._find_arn(ctx)
        if arn is None:
            return None
        iam = ctx.client("iam")
        got = _missing(lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
        if got is None:  # deleted between list and get
            return None
        tags = _tags(got.get("Tags"))
        return {
            "arn": arn,
            "url": str(got.get("Url", "")).removeprefix("https://").rstrip("/"),
            "client_ids": sorted(set(got.get("ClientIDList") or [])),
            "thumbprints": sorted({t.lower() for t in got.get("ThumbprintList") or []}),
            "tags": tags,
            # Shared provider we did not create: adopt its settings, never claim it with our tags.
            "adopted": tags.get("provision:stack") != ctx.desired.stack.name,
        }

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        if live.get("adopted"):
            desired = {k: v for k, v in desired.items() if k != "tags"}
        return diff_fields(desired, live)

    def outputs(self, ctx, live: dict) -> dict:
        return {"arn": live["arn"]}

    def create(self, ctx, desired: dict) -> None:
        iam = ctx.client("iam")
        kwargs: dict[str, Any] = {
            "Url": self.spec.url,
            "ClientIDList": list(desired["client_ids"]),
            "Tags": _tag_list(desired["tags"]),
        }
        if desired.get("thumbprints"):
            kwargs["ThumbprintList"] = list(desired["thumbprints"])
        try:
            iam.create_open_id_connect_provider(**kwargs)
        except ClientError as e:
            if error_code(e) != "EntityAlreadyExists":
                raise
            # Created meanwhile (another run, another stack): adopt it like plan would have.
            self.converge_existing(ctx, desired)

    def update(self, ctx, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        iam = ctx.client("iam")
        arn = live["arn"]
        top = {c.path.split(".", 1)[0] for c in changes}
        if "client_ids" in top:
            want, have = set(desired["client_ids"]), set(live.get("client_ids") or [])
            for cid in sorted(want - have):  # add first: the list is never empty in between
                iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=cid)
            for cid in sorted(have - want):
                iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=cid)
        if "thumbprints" in top:
            iam.update_open_id_connect_provider_thumbprint(
                OpenIDConnectProviderArn=arn, ThumbprintList=list(desired["thumbprints"]))
        if "tags" in top and not live.get("adopted"):
            have_tags = live.get("tags") or {}
            changed = {k: v for k, v in desired["tags"].items() if have_tags.get(k) != v}
            if changed:
                iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=_tag_list(changed))

    def _other_trusting_roles(self, ctx, arn: str) -> list[str]:
        """Roles other than ours whose trust policy names this provider (it is shared then).

        Our role counts as "other" when it is not tagged ours: destroy keeps it, so it keeps
        needing the provider."""
        ours = ctx.desired.github_role.name
        role_res, role_live = ctx.resources.get(ROLE), ctx.live.get(ROLE)
        ours_goes = role_live is None or role_res is None or role_res.owned(ctx, role_live)
        users: list[str] = []
        for page in ctx.client("iam").get_paginator("list_roles").paginate():
            for r in page.get("Roles", []):
                if r["RoleName"] == ours and ours_goes:
                    continue
                doc = r.get("AssumeRolePolicyDocument")
                text = doc if isinstance(doc, str) else json.dumps(doc or {})
                if arn in text or arn in _unquote(text):
                    users.append(r["RoleName"])
        return users

    def owned(self, ctx, live: dict) -> bool:
        if not super().owned(ctx, live):
            return False
        others = self._other_trusting_roles(ctx, live["arn"])
        if others:
            import structlog

            structlog.get_logger("provision").warning(
                "OIDC provider is trusted by other roles; destroy keeps it", resource=self.address,
                roles=others)
            return False
        return True

    def delete(self, ctx, live: dict) -> None:
        others = self._other_trusting_roles(ctx, live["arn"])
        if others:
            raise PreconditionError(
                f"OIDC provider {live['arn']} is trusted by other roles ({', '.join(sorted(others))}); not deleted")
        ctx.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=live["arn"])


def _unquote(text: str) -> str:
    import urllib.parse

    return urllib.parse.unquote(text)


# --------------------------------------------------------------------------------------------
# Role
# --------------------------------------------------------------------------------------------


def trust_policy(ctx) -> dict:
    """Web identity trust: only tokens for our audience and our repositories' subjects."""
    spec = ctx.desired.github_role
    host = ctx.desired.github_oidc.host
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": TRUST_SID,
            "Effect": "Allow",
            "Principal": {"Federated": ctx.out(PROVIDER, "arn")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{host}:aud": spec.audience},
                "StringLike": {f"{host}:sub": list(spec.subjects)},
            },
        }],
    }


def bucket_policy(sid: str, actions: tuple[str, ...], bucket_arn: Any) -> dict:
    """Identity policy on the bucket and its objects (one statement, both resources)."""
    objects = f"{bucket_arn}/*" if isinstance(bucket_arn, str) else bucket_arn
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": sid,
            "Effect": "Allow",
            "Action": list(actions),
            "Resource": [bucket_arn, objects],
        }],
    }


class GithubRole(Resource):
    service = "IAM role"
    address = ROLE
    depends_on = (PROVIDER, BUCKET)
    read_after = ()  # found by name

    def __init__(self, desired: DesiredState):
        self.spec = desired.github_role

    def desired(self, ctx) -> dict:
        s = self.spec
        return {
            "path": s.path,
            "description": s.description,
            "max_session_duration": s.max_session_duration,
            "trust_policy": trust_policy(ctx),
            "policy": bucket_policy("BuildcachePublish", s.actions, ctx.out(BUCKET, "arn")),
            "tags": dict(ctx.tags),
        }

    def read(self, ctx) -> dict | None:
        iam = ctx.client("iam")
        got = _missing(lambda: iam.get_role(RoleName=self.spec.name))
        if got is None:
            return None
        role = got["Role"]
        inline = _missing(lambda: iam.get_role_policy(RoleName=self.spec.name, PolicyName=self.spec.policy_name))
        return {
            "arn": role["Arn"],
            "path": role.get("Path", "/"),
            "description": role.get("Description", ""),
            "max_session_duration": role.get("MaxSessionDuration", 3600),
            "trust_policy": _doc(role.get("AssumeRolePolicyDocument")),
            "policy": _doc(inline["PolicyDocument"]) if inline else None,
            "tags": _tags(role.get("Tags")),
        }

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        return _diff_with_policies(desired, live, ("trust_policy", "policy"))

    def outputs(self, ctx, live: dict) -> dict:
        return {"arn": live["arn"], "name": self.spec.name}

    def create(self, ctx, desired: dict) -> None:
        iam = ctx.client("iam")
        kwargs: dict[str, Any] = {
            "RoleName": self.spec.name,
            "Path": desired["path"],
            "AssumeRolePolicyDocument": _dumps(desired["trust_policy"]),
            "MaxSessionDuration": desired["max_session_duration"],
            "Tags": _tag_list(desired["tags"]),
        }
        if desired["description"]:
            kwargs["Description"] = desired["description"]
        try:
            # Right after the provider is created IAM may not resolve it yet ("Invalid principal").
            retry.call("iam_propagation", lambda: iam.create_role(**kwargs))
        except ClientError as e:
            # created meanwhile (a crashed or concurrent run): converge it
            if error_code(e) != "EntityAlreadyExists" or not self.converge_existing(ctx, desired):
                raise
            return
        self._put_policy(ctx, desired)

    def _put_policy(self, ctx, desired: dict) -> None:
        iam = ctx.client("iam")
        body = _dumps(desired["policy"])
        retry.call("iam_propagation", lambda: iam.put_role_policy(
            RoleName=self.spec.name, PolicyName=self.spec.policy_name, PolicyDocument=body))

    def update(self, ctx, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        iam = ctx.client("iam")
        name = self.spec.name
        top = {c.path.split(".", 1)[0] for c in changes}
        if "path" in top:
            raise PreconditionError(
                f"IAM role {name!r} has path {live.get('path')!r}, the desired state says {desired['path']!r}; "
                "IAM cannot change a role's path (delete the role, or change the path back); nothing was changed")
        if "trust_policy" in top:
            body = _dumps(desired["trust_policy"])
            retry.call("iam_propagation", lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=body))
        if "policy" in top:
            self._put_policy(ctx, desired)
        if top & {"max_session_duration", "description"}:
            # Always both: the UpdateRole API reference says an omitted MaxSessionDuration is reset
            # to one hour (and the sandbox also clears an omitted Description). One call.
            iam.update_role(RoleName=name, MaxSessionDuration=desired["max_session_duration"],
                            Description=desired["description"])
        if "tags" in top:
            have = live.get("tags") or {}
            changed = {k: v for k, v in desired["tags"].items() if have.get(k) != v}
            if changed:
                iam.tag_role(RoleName=name, Tags=_tag_list(changed))

    def delete(self, ctx, live: dict) -> None:
        iam = ctx.client("iam")
        name = self.spec.name
        attached = [p["PolicyArn"] for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
                    for p in page.get("AttachedPolicies", [])]
        profiles = [p["InstanceProfileName"] for page in
                    iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name)
                    for p in page.get("InstanceProfiles", [])]
        if attached or profiles:
            what = [f"attached managed policies {attached}"] if attached else []
            what += [f"instance profiles {profiles}"] if profiles else []
            raise PreconditionError(
                f"IAM role {name!r} has {' and '.join(what)} that this tool did not add; "
                "detach/remove them first (nothing was deleted)")
        inline = [p for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
                  for p in page.get("PolicyNames", [])]
        for pname in inline:  # IAM refuses to delete a role that still has inline policies
            iam.delete_role_policy(RoleName=name, PolicyName=pname)
        iam.delete_role(RoleName=name)


# --------------------------------------------------------------------------------------------
# User
# --------------------------------------------------------------------------------------------


class AdminUser(Resource):
    service = "IAM user"
    address = USER
    depends_on = (BUCKET,)
    read_after = ()  # found by name

    def __init__(self, desired: DesiredState):
        self.spec = desired.admin_user

    def desired(self, ctx) -> dict:
        return {
            "path": self.spec.path,
            "policy": bucket_policy("BuildcacheAdmin", self.spec.actions, ctx.out(BUCKET, "arn")),
            "tags": dict(ctx.tags),
        }

    def read(self, ctx) -> dict | None:
        iam = ctx.client("iam")
        got = _missing(lambda: iam.get_user(UserName=self.spec.name))
        if got is None:
            return None
        user = got["User"]
        inline = _missing(lambda: iam.get_user_policy(UserName=self.spec.name, PolicyName=self.spec.policy_name))
        return {
            "arn": user["Arn"],
            "path": user.get("Path", "/"),
            "policy": _doc(inline["PolicyDocument"]) if inline else None,
            "tags": _tags(user.get("Tags")),
        }

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        return _diff_with_policies(desired, live, ("policy",))

    def outputs(self, ctx, live: dict) -> dict:
        return {"arn": live["arn"], "name": self.spec.name}

    def create(self, ctx, desired: dict) -> None:
        iam = ctx.client("iam")
        try:
            iam.create_user(UserName=self.spec.name, Path=desired["path"], Tags=_tag_list(desired["tags"]))
        except ClientError as e:
            if error_code(e) != "EntityAlreadyExists" or not self.converge_existing(ctx, desired):
                raise
            return
        # No access key, login profile or other credential is ever created here.
        self._put_policy(ctx, desired)

    def _put_policy(self, ctx, desired: dict) -> None:
        iam = ctx.client("iam")
        body = _dumps(desired["policy"])
        retry.call("iam_propagation", lambda: iam.put_user_policy(
            UserName=self.spec.name, PolicyName=self.spec.policy_name, PolicyDocument=body))

    def update(self, ctx, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        iam = ctx.client("iam")
        top = {c.path.split(".", 1)[0] for c in changes}
        if "path" in top:
            iam.update_user(UserName=self.spec.name, NewPath=desired["path"])
        if "policy" in top:
            self._put_policy(ctx, desired)
        if "tags" in top:
            have = live.get("tags") or {}
            changed = {k: v for k, v in desired["tags"].items() if have.get(k) != v}
            if changed:
                iam.tag_user(UserName=self.spec.name, Tags=_tag_list(changed))

    def delete(self, ctx, live: dict) -> None:
        iam = ctx.client("iam")
        name = self.spec.name
        # Credentials and memberships are someone's: refuse rather than delete them (counts only,
        # never ids or secrets).
        blockers = []
        keys = iam.list_access_keys(UserName=name).get("AccessKeyMetadata", [])
        if keys:
            blockers.append(f"{len(keys)} access key(s)")
        if _missing(lambda: iam.get_login_profile(UserName=name)) is not None:
            blockers.append("a console login profile")
        if iam.list_mfa_devices(UserName=name).get("MFADevices"):
            blockers.append("MFA device(s)")
        if iam.list_attached_user_policies(UserName=name).get("AttachedPolicies"):
            blockers.append("attached managed policies")
        if iam.list_groups_for_user(UserName=name).get("Groups"):
            blockers.append("group memberships")
        if blockers:
            raise PreconditionError(
                f"IAM user {name!r} has {', '.join(blockers)} that this tool did not create; "
                "remove them first (nothing was deleted)")
        for page in iam.get_paginator("list_user_policies").paginate(UserName=name):
            for pname in page.get("PolicyNames", []):
                iam.delete_user_policy(UserName=name, PolicyName=pname)
        iam.delete_user(UserName=name)


def resources(desired: DesiredState) -> list[Resource]:
    return [OidcProvider(desired), GithubRole(desired), AdminUser(desired)]
