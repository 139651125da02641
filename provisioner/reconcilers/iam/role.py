"""IAM role for GitHub Actions: the OIDC trust policy, our named inline policy on the bucket, tags."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ... import ownership as own
from ... import retry
from ...aws import error_code
from ...config import DesiredState
from ...errors import PreconditionError
from ...model import FieldChange, Resource
from . import undeclared
from ._common import (
    BUCKET,
    PROVIDER,
    ROLE,
    TRUST_SID,
    _diff_with_policies,
    _doc,
    _dumps,
    _is_arn,
    _missing,
    _read_new,
    _tag_list,
    _tags,
    bucket_policy,
)

if TYPE_CHECKING:
    from ...context import Context


def trust_policy(ctx: Context) -> dict:
    """Web identity trust: only tokens for our audience and our repositories' subjects.

    Exact subjects are matched with ``StringEquals``; only subjects with a wildcard use
    ``StringLike`` (a ``*`` or ``?`` in an exact subject would otherwise be a pattern). Conditions of
    one statement all apply, so the two kinds are two statements."""
    spec = ctx.desired.github_role
    host = ctx.desired.github_oidc.host
    exact = [s for s in spec.subjects if "*" not in s and "?" not in s]
    wild = [s for s in spec.subjects if s not in exact]
    statements = []
    for sid, op, subs in ((TRUST_SID, "StringEquals", exact), (TRUST_SID + "Wildcard", "StringLike", wild)):
        if not subs:
            continue
        cond: dict[str, dict] = {"StringEquals": {f"{host}:aud": spec.audience}}
        cond.setdefault(op, {})[f"{host}:sub"] = subs
        statements.append({
            "Sid": sid if (exact and wild) else TRUST_SID,
            "Effect": "Allow",
            "Principal": {"Federated": ctx.out(PROVIDER, "arn")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": cond,
        })
    return {"Version": "2012-10-17", "Statement": statements}


class GithubRole(Resource):
    service = "IAM role"
    address = ROLE
    depends_on = (PROVIDER, BUCKET)
    read_after = ()  # found by name

    def __init__(self, desired: DesiredState) -> None:
        self.spec = desired.github_role
        # What this run created: the role's ARN (CreateRole's answer) and whether the inline policy was
        # written; reads right after are retried while IAM does not show them yet (_read_new).
        self._created_arn: str | None = None
        self._policy_written = False

    def desired(self, ctx: Context) -> dict:
        s = self.spec
        return {
            "path": s.path,
            "description": s.description,
            "max_session_duration": s.max_session_duration,
            "trust_policy": trust_policy(ctx),
            "policy": bucket_policy("BuildcachePublish", s.actions, ctx.out(BUCKET, "arn")),
            "tags": dict(ctx.tags),
        }

    def read(self, ctx: Context) -> dict | None:
        iam = ctx.client("iam")
        extras = undeclared.start_role(ctx, self.spec.name, self.spec.policy_name)  # concurrent with the gets
        got = _read_new(lambda: iam.get_role(RoleName=self.spec.name), new=self._created_arn is not None)
        if got is None:
            return None
        role = got["Role"]
        inline = _read_new(lambda: iam.get_role_policy(RoleName=self.spec.name, PolicyName=self.spec.policy_name),
                           new=self._policy_written)
        # Right after CreateRole, GetRole can answer the role's unique id (AROA...) as its Arn
        # (Terraform's role.go waitRoleARNIsNotUniqueID): keep the ARN CreateRole answered.
        arn = role["Arn"] if _is_arn(role.get("Arn")) or not self._created_arn else self._created_arn
        live = {
            "arn": arn,
            "path": role.get("Path", "/"),
            "description": role.get("Description", ""),
            "max_session_duration": role.get("MaxSessionDuration", 3600),
            "trust_policy": _doc(role.get("AssumeRolePolicyDocument")),
            "policy": _doc(inline["PolicyDocument"]) if inline else None,
            "tags": _tags(role.get("Tags")),
            "system_tags": own.system_tags(role.get("Tags")),
            **extras(role),
        }
        return live

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        return _diff_with_policies(desired, live, ("trust_policy", "policy"))

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"arn": live["arn"], "name": self.spec.name}

    def create(self, ctx: Context, desired: dict) -> None:
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
            made = retry.call("iam_propagation", lambda: iam.create_role(**kwargs))
            self._created_arn = made["Role"]["Arn"]
        except ClientError as e:
            # created meanwhile (a crashed or concurrent run): converge it
            if error_code(e) != "EntityAlreadyExists" or not self.converge_existing(ctx, desired):
                raise
            return
        self._put_policy(ctx, desired)

    def _put_policy(self, ctx: Context, desired: dict) -> None:
        iam = ctx.client("iam")
        body = _dumps(desired["policy"])
        retry.call("iam_propagation", lambda: iam.put_role_policy(
            RoleName=self.spec.name, PolicyName=self.spec.policy_name, PolicyDocument=body))
        self._policy_written = True

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
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
        # what nobody declared (an adopted principal: its previous owner's policies) goes once ours
        # is in place, and before our tag marks it ours
        undeclared.remove(ctx, "role", name, changes)
        if top & {"max_session_duration", "description"}:
            # Always both: the UpdateRole API reference says an omitted MaxSessionDuration is reset
            # to one hour (and the sandbox also clears an omitted Description). One call.
            iam.update_role(RoleName=name, MaxSessionDuration=desired["max_session_duration"],
                            Description=desired["description"])
        if "tags" in top:  # last: our tag is the mark that it is ours (an adoption commits here)
            have = live.get("tags") or {}
            changed = {k: v for k, v in desired["tags"].items() if have.get(k) != v}
            if changed:
                iam.tag_role(RoleName=name, Tags=_tag_list(changed))

    def delete(self, ctx: Context, live: dict) -> None:
        iam = ctx.client("iam")
        name = self.spec.name
        self._created_arn, self._policy_written = None, False  # a later read must see it absent
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
            _missing(functools.partial(iam.delete_role_policy, RoleName=name, PolicyName=pname))
        # DeleteConflict right after the policies went is IAM catching up (Terraform's deleteRole
        # retries it); NoSuchEntity means it is gone already: done.
        _missing(lambda: retry.call("iam_delete_conflict", lambda: iam.delete_role(RoleName=name)))
