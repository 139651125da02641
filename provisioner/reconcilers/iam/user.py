"""IAM admin user: path, our named inline policy on the bucket, tags; never a credential."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

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
    USER,
    _diff_with_policies,
    _doc,
    _dumps,
    _missing,
    _read_new,
    _tag_list,
    _tags,
    bucket_policy,
)

if TYPE_CHECKING:
    from ...context import Context


class AdminUser(Resource):
    service = "IAM user"
    address = USER
    depends_on = (BUCKET,)
    read_after = ()  # found by name

    def __init__(self, desired: DesiredState) -> None:
        assert desired.admin_user is not None  # built only when [admin_user] is declared
        self.spec = desired.admin_user
        self._created = False  # this run created the user / wrote its policy: reads retry IAM's lag
        self._policy_written = False

    def desired(self, ctx: Context) -> dict:
        return {
            "path": self.spec.path,
            "policy": bucket_policy("BuildcacheAdmin", self.spec.actions, ctx.out(BUCKET, "arn")),
            "tags": dict(ctx.tags),
        }

    def read(self, ctx: Context) -> dict | None:
        iam = ctx.client("iam")
        extras = undeclared.start_user(ctx, self.spec.name, self.spec.policy_name)  # concurrent with the gets
        got = _read_new(lambda: iam.get_user(UserName=self.spec.name), new=self._created)
        if got is None:
            return None
        user = got["User"]
        inline = _read_new(lambda: iam.get_user_policy(UserName=self.spec.name, PolicyName=self.spec.policy_name),
                           new=self._policy_written)
        live = {
            "arn": user["Arn"],
            "path": user.get("Path", "/"),
            "policy": _doc(inline["PolicyDocument"]) if inline else None,
            "tags": _tags(user.get("Tags")),
            "system_tags": own.system_tags(user.get("Tags")),
            **extras(user),
        }
        return live

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        return _diff_with_policies(desired, live, ("policy",))

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"arn": live["arn"], "name": self.spec.name}

    def create(self, ctx: Context, desired: dict) -> None:
        iam = ctx.client("iam")
        try:
            retry.call("iam_propagation", lambda: iam.create_user(
                UserName=self.spec.name, Path=desired["path"], Tags=_tag_list(desired["tags"])))
        except ClientError as e:
            if error_code(e) != "EntityAlreadyExists" or not self.converge_existing(ctx, desired):
                raise
            return
        self._created = True
        # No access key, login profile or other credential is ever created here.
        self._put_policy(ctx, desired)

    def _put_policy(self, ctx: Context, desired: dict) -> None:
        iam = ctx.client("iam")
        body = _dumps(desired["policy"])
        retry.call("iam_propagation", lambda: iam.put_user_policy(
            UserName=self.spec.name, PolicyName=self.spec.policy_name, PolicyDocument=body))
        self._policy_written = True

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        iam = ctx.client("iam")
        top = {c.path.split(".", 1)[0] for c in changes}
        if "path" in top:
            iam.update_user(UserName=self.spec.name, NewPath=desired["path"])
        if "policy" in top:
            self._put_policy(ctx, desired)
        # what nobody declared (an adopted principal: its previous owner's policies) goes once ours
        # is in place, and before our tag marks it ours
        undeclared.remove(ctx, "user", self.spec.name, changes)
        if "tags" in top:  # last: our tag is the mark that it is ours
            have = live.get("tags") or {}
            changed = {k: v for k, v in desired["tags"].items() if have.get(k) != v}
            if changed:
                iam.tag_user(UserName=self.spec.name, Tags=_tag_list(changed))

    def delete(self, ctx: Context, live: dict) -> None:
        iam = ctx.client("iam")
        name = self.spec.name
        self._created = self._policy_written = False  # a later read must see it absent
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
                _missing(functools.partial(iam.delete_user_policy, UserName=name, PolicyName=pname))
        # As for the role: DeleteConflict right after the policies went is IAM catching up; gone is done.
        _missing(lambda: retry.call("iam_delete_conflict", lambda: iam.delete_user(UserName=name)))
