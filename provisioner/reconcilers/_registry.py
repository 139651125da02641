"""The stack's ownership registry: the natural keys of what we made (or adopted) that takes no tags.

An SSM parameter ``/provision/<stack>/owned`` in the stack's region, beside the apply lock (same
IAM scope, ``ssm:GetParameter``/``PutParameter``/``DeleteParameter`` on ``/provision/<stack>/*``);
``provisioner/ownership.py`` explains why a parameter and not TXT owner records. Keys:

- ``route53:<zone id>:<fqdn>:<type>``: a record set we created with CREATE or adopted;
- ``s3:<bucket>``: a bucket we created (the proof between ``CreateBucket`` and its first tag write).

Written ahead (before the create, under the apply lock, read right before each write), removed
after a delete. Reads are memoised per plan step (one ``GetParameter``, and only when a resource
needs the registry to decide: everything taggable is proved by its tag first).
"""

from __future__ import annotations

import threading
from typing import Iterable

from botocore.exceptions import ClientError

from .. import ownership as own
from ..aws import error_code
from ..context import Context


def _name(ctx: Context) -> str:
    return own.registry_name(ctx.desired.stack.name)


def _fetch(ctx: Context) -> set[str]:
    ssm = ctx.client("ssm", ctx.desired.stack.region)
    try:
        got = ssm.get_parameter(Name=_name(ctx))
    except ClientError as e:
        if error_code(e) == "ParameterNotFound":
            return set()
        raise
    return own.decode_registry(got["Parameter"].get("Value"))


def owned_keys(ctx: Context) -> set[str]:
    """What the registry holds (memoised for this plan/apply step)."""
    return set(ctx.memo(("ownership-registry", ctx.desired.stack.name), lambda: frozenset(_fetch(ctx))))


def registered(ctx: Context, key: str) -> bool:
    return key in owned_keys(ctx)


#: one read-modify-write of the parameter at a time within this process (a concurrent apply's
#: record writes); the apply lock serialises processes
_RMW = threading.Lock()


def register(ctx: Context, keys: Iterable[str]) -> None:
    """Add ``keys`` (read right before: the apply lock serialises writers). No write when all are there."""
    with _RMW:
        _register(ctx, set(keys))


def _register(ctx: Context, keys: set[str]) -> None:
    have = _fetch(ctx)
    if keys <= have:
        return
    ssm = ctx.client("ssm", ctx.desired.stack.region)
    ssm.put_parameter(Name=_name(ctx), Value=own.encode_registry(have | keys), Type="String", Overwrite=True,
                      Description=f"provision: what stack {ctx.desired.stack.name} owns that takes no tags")
    ctx.forget()


def unregister(ctx: Context, keys: Iterable[str]) -> None:
    with _RMW:
        _unregister(ctx, set(keys))


def _unregister(ctx: Context, keys: set[str]) -> None:
    have = _fetch(ctx)
    if not keys & have:
        return
    ssm = ctx.client("ssm", ctx.desired.stack.region)
    left = have - keys
    if left:
        ssm.put_parameter(Name=_name(ctx), Value=own.encode_registry(left), Type="String", Overwrite=True)
    else:
        try:
            ssm.delete_parameter(Name=_name(ctx))
        except ClientError as e:
            if error_code(e) != "ParameterNotFound":
                raise
    ctx.forget()


def record_key(zone_id: str, fqdn: str, rtype: str) -> str:
    return f"route53:{zone_id}:{fqdn}:{rtype}"


def bucket_key(name: str) -> str:
    return f"s3:{name}"
