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
