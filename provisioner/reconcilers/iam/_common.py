"""IAM helpers shared by the provider, role and user: addresses, tags, not-found, policy documents and their diff."""

from __future__ import annotations

import json
from typing import Any, Callable, TypeVar

from botocore.exceptions import ClientError

from ... import ownership as own
from ... import policy as pol
from ... import retry
from ...aws import error_code
from ...model import FieldChange, diff_fields, has_unknown

T = TypeVar("T")

PROVIDER = "iam_oidc_provider.github"
ROLE = "iam_role.github_actions"
USER = "iam_user.admin"
BUCKET = "s3_bucket.buildcache"
TRUST_SID = "GitHubActionsOIDC"


def _tags(tagset: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (tagset or []) if not own.is_system_tag(t["Key"])}


def _not_ours(stack: str, tagset: list[dict] | None) -> bool:
    return _tags(tagset).get(own.STACK_TAG) != stack


def extra_policies(iam: Any, kind: str, name: str, ours: str) -> dict[str, list[str]]:
    """A role's/user's inline policies other than ``ours`` and its attached managed policies: read
    only on one that is not ours, i.e. what its previous owner put there (an adoption removes them,
    after our own policy is in place)."""
    if kind == "role":
        inline_pages = iam.get_paginator("list_role_policies").paginate(RoleName=name)
        attached_pages = iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
    else:
        inline_pages = iam.get_paginator("list_user_policies").paginate(UserName=name)
        attached_pages = iam.get_paginator("list_attached_user_policies").paginate(UserName=name)
    inline = [n for page in inline_pages for n in page.get("PolicyNames", []) if n != ours]
    attached = [p["PolicyArn"] for page in attached_pages for p in page.get("AttachedPolicies", [])]
    return {"inline": sorted(inline), "attached": sorted(attached)}


def extra_policy_changes(live: dict) -> list[FieldChange]:
    """What adopting removes: the previous owner's extra policies, one REMOVE per policy."""
    extra = live.get("extra_policies") or {}
    out = [FieldChange(f"extra_policies.inline.{n}", n, None, "REMOVE") for n in extra.get("inline", [])]
    out += [FieldChange(f"extra_policies.attached.{a}", a, None, "REMOVE") for a in extra.get("attached", [])]
    return out


def remove_extra_policies(iam: Any, kind: str, name: str, live: dict) -> None:
    """Delete/detach the previous owner's extra policies (call only once our own policy is in place)."""
    extra = live.get("extra_policies") or {}
    for pname in extra.get("inline", []):
        if kind == "role":
            _missing(lambda: iam.delete_role_policy(RoleName=name, PolicyName=pname))  # noqa: B023
        else:
            _missing(lambda: iam.delete_user_policy(UserName=name, PolicyName=pname))  # noqa: B023
    for arn in extra.get("attached", []):
        if kind == "role":
            _missing(lambda: iam.detach_role_policy(RoleName=name, PolicyArn=arn))  # noqa: B023
        else:
            _missing(lambda: iam.detach_user_policy(UserName=name, PolicyArn=arn))  # noqa: B023


def _tag_list(tags: dict[str, str]) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _missing(fn: Callable[[], T], *codes: str) -> T | None:
    """Call ``fn``; the named "not found" error codes become ``None`` (missing is a value)."""
    try:
        return fn()
    except ClientError as e:
        if error_code(e) in (codes or ("NoSuchEntity",)):
            return None
        raise


def _read_new(fn: Callable[[], T], *, new: bool) -> T | None:
    """Like ``_missing``, but for an entity this run created (or wrote) moments ago ``NoSuchEntity`` is
    IAM catching up, not absence: IAM is eventually consistent (IAM User Guide, "Changes that I make
    are not always immediately visible"), and Terraform reads a new role/provider the same way
    (``RetryWhenNewResourceNotFound``, 2 minutes). Bounded by the ``iam_new_entity_visible`` policy."""
    if new:
        return retry.call("iam_new_entity_visible", fn)
    return _missing(fn)


def _is_arn(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("arn:")


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


def bucket_policy(sid: str, actions: tuple[str, ...], bucket_arn: Any) -> dict:
    """Identity policy on the bucket: bucket-level actions on the bucket ARN, object actions on
    ``bucket/*`` (each action only where IAM evaluates it; a wildcard in both)."""
    from ...config.s3_actions import kinds

    objects = f"{bucket_arn}/*" if isinstance(bucket_arn, str) else bucket_arn
    on_bucket = [a for a in actions if "bucket" in kinds(a)]
    on_objects = [a for a in actions if "object" in kinds(a)]
    statements = []
    if on_bucket:
        statements.append({"Sid": f"{sid}Bucket", "Effect": "Allow", "Action": on_bucket, "Resource": bucket_arn})
    if on_objects:
        statements.append({"Sid": f"{sid}Objects", "Effect": "Allow", "Action": on_objects, "Resource": objects})
    return {"Version": "2012-10-17", "Statement": statements}
