"""What the role and the user carry that the desired state does not declare: UNEXPECTED in drift,
removed by apply (only the calls needed: one per thing).

Read on every plan, started together with the role's/user's own reads (``_parallel``):

- inline policies other than ours (``ListRolePolicies``/``ListUserPolicies``; the document of each
  extra one, shown in the report) -> ``inline_policies[<name>]``, removed with Delete*Policy;
- attached managed policies (``ListAttached*Policies``) -> ``attached_policies[<arn>]``, Detach*Policy;
- the permissions boundary (in ``GetRole``/``GetUser``) -> ``permissions_boundary``,
  Delete*PermissionsBoundary;
- the user's group memberships (``ListGroupsForUser``) -> ``groups[<name>]``: reported, never removed
  (``GROUP_KEPT``: IAM authorises RemoveUserFromGroup on the group, so the operator policy would need
  it on every group of the account, i.e. the power to take anyone out of any group).

Other trust statements on the role are UNEXPECTED statements of ``trust_policy`` (``policy``'s
statement diff); the role's instance profiles and the user's credentials (access keys, login
profile, MFA devices) are not read here: see ``reconcilers.coverage``.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Callable

from botocore.exceptions import ClientError

from ...aws import error_code
from ...model import UNEXPECTED, FieldChange
from .._parallel import start
from ._common import _doc, _missing

if TYPE_CHECKING:
    from ...context import Context

_PATH = re.compile(r"^(inline_policies|attached_policies|groups)\[(.*)\]$")


def _listing(call: Callable[[], list[Any]]) -> Callable[[], list[Any] | None]:
    def run() -> list[Any] | None:
        try:
            return call()
        except ClientError as e:
            if error_code(e) == "NoSuchEntity":  # the principal does not exist (yet): nothing on it
                return None
            raise
    return run


#: why a group membership is reported and left for a person to remove
GROUP_KEPT = ("removing the user from a group needs iam:RemoveUserFromGroup on the group, which the operator "
              "policy does not grant (it would reach every group of the account): remove it by hand")


def _pages(iam: Any, operation: str, key: str, item: str | None, **params: Any) -> list[Any]:
    out: list[Any] = []
    for page in iam.get_paginator(operation).paginate(**params):
        out.extend(x[item] if item else x for x in page.get(key, []))
    return out


def start_role(ctx: Context, name: str, ours: str) -> Callable[[dict], dict]:
    """Start the role's list reads; the returned function (given GetRole's ``Role``) gives
    ``{"undeclared": {path: value}}`` for the live value."""
    iam = ctx.client("iam")
    got = start({
        "inline": _listing(lambda: _pages(iam, "list_role_policies", "PolicyNames", None, RoleName=name)),
        "attached": _listing(lambda: _pages(iam, "list_attached_role_policies", "AttachedPolicies", "PolicyArn",
                                            RoleName=name)),
    })

    def finish(role: dict) -> dict:
        lists = got()
        return {"undeclared": _found(
            lists, role, ours, lambda n: iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"])}

    return finish


def start_user(ctx: Context, name: str, ours: str) -> Callable[[dict], dict]:
    """The user's list reads (inline, attached, groups); as ``start_role``."""
    iam = ctx.client("iam")
    got = start({
        "inline": _listing(lambda: _pages(iam, "list_user_policies", "PolicyNames", None, UserName=name)),
        "attached": _listing(lambda: _pages(iam, "list_attached_user_policies", "AttachedPolicies", "PolicyArn",
                                            UserName=name)),
        "groups": _listing(lambda: _pages(iam, "list_groups_for_user", "Groups", "GroupName", UserName=name)),
    })

    def finish(user: dict) -> dict:
        lists = got()
        found = _found(lists, user, ours, lambda n: iam.get_user_policy(UserName=name, PolicyName=n)["PolicyDocument"])
        return {"undeclared": found, "undeclared_kept": {p: GROUP_KEPT for p in found if p.startswith("groups[")}}

    return finish


def _found(lists: dict[str, Any], principal: dict, ours: str, document: Callable[[str], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pname in sorted(set(lists.get("inline") or []) - {ours}):
        try:
            out[f"inline_policies[{pname}]"] = _doc(document(pname))
        except ClientError as e:
            if error_code(e) != "NoSuchEntity":  # deleted between list and get
                raise
    for arn in sorted(set(lists.get("attached") or [])):
        out[f"attached_policies[{arn}]"] = arn.rsplit("/", 1)[-1]
    for group in sorted(set(lists.get("groups") or [])):
        out[f"groups[{group}]"] = group
    boundary = (principal.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary:
        out["permissions_boundary"] = boundary
    return out


def _removals(changes: tuple[FieldChange, ...]) -> list[tuple[str, str]]:
    out = []
    for c in changes:
        if c.kind != UNEXPECTED or c.report_only:
            continue
        if c.path == "permissions_boundary":
            out.append(("permissions_boundary", ""))
            continue
        m = _PATH.match(c.path)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


#: principal -> its name parameter and, per UNEXPECTED kind, the call that removes one (and its key
#: parameter); a user's ``groups[...]`` are report-only (GROUP_KEPT), so no call removes them
_REMOVALS: dict[str, tuple[str, dict[str, tuple[str, str | None]]]] = {
    "role": ("RoleName", {"inline_policies": ("delete_role_policy", "PolicyName"),
                          "attached_policies": ("detach_role_policy", "PolicyArn"),
                          "permissions_boundary": ("delete_role_permissions_boundary", None)}),
    "user": ("UserName", {"inline_policies": ("delete_user_policy", "PolicyName"),
                          "attached_policies": ("detach_user_policy", "PolicyArn"),
                          "permissions_boundary": ("delete_user_permissions_boundary", None)}),
}


def remove(ctx: Context, principal: str, name: str, changes: tuple[FieldChange, ...]) -> None:
    """Remove what ``changes`` names as UNEXPECTED on the role or user (one call each; one already
    gone is what we wanted)."""
    iam = ctx.client("iam")
    name_param, calls = _REMOVALS[principal]
    for kind, key in _removals(changes):
        if kind not in calls:
            continue
        operation, key_param = calls[kind]
        params = {name_param: name, **({key_param: key} if key_param else {})}
        _missing(functools.partial(getattr(iam, operation), **params))


SHARED_PROVIDER = "shared OIDC provider (not tagged as this stack's): other stacks may use it; reported, never removed"


def client_id_extras(have: list[str], want: set[str], shared: bool) -> dict:
    """Client ids on the provider that the desired state does not name -> ``client_ids[<id>]``;
    on a shared provider (adopted, not ours) they are only reported."""
    extra = sorted(set(have) - want)
    found = {f"client_ids[{cid}]": cid for cid in extra}
    return {"undeclared": found, "undeclared_kept": {p: SHARED_PROVIDER for p in found} if shared else {}}


def remove_client_ids(ctx: Context, arn: str, changes: tuple[FieldChange, ...]) -> None:
    """RemoveClientIDFromOpenIDConnectProvider for each removable UNEXPECTED ``client_ids[<id>]``."""
    iam = ctx.client("iam")
    for c in changes:
        m = re.match(r"^client_ids\[(.*)\]$", c.path)
        if c.kind == UNEXPECTED and not c.report_only and m:
            cid = m.group(1)
            _missing(functools.partial(iam.remove_client_id_from_open_id_connect_provider,
                                       OpenIDConnectProviderArn=arn, ClientID=cid))
