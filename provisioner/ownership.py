"""Ownership: for every address, whose is the thing found under its natural key. Pure data, no AWS call.

A resource found under our natural key (bucket/role/user/topic/alarm by name, OIDC provider by URL,
records by zone/name/type, the distribution by our tag or its alias, the certificate, OAC/OAI and
cache policy through that distribution's config) is exactly one of:

``absent``   nothing there: plan creates it.
``ours``     proved ours: our ``provision:stack`` tag; for what takes no tags, our mark in it (the
             OAI's CallerReference or Comment, the OAC's description, the cache policy's comment),
             or, for what has no room for a mark at all (Route53 records; a bucket between
             ``CreateBucket`` and its first tag write), an entry in the stack's ownership registry.
``foreign``  it exists, it is not ours. Never changed, claimed or deleted unless the desired state
             adopts it on purpose (``[adopt] resources`` globs, or ``--adopt PATTERN``). While one
             is not adopted, ``plan`` exits 1 and ``apply`` refuses before its first write.
``shared``   account-wide things others may use (the GitHub OIDC provider: one per URL per
             account): never claimed with our tags, never deleted, only ever extended (client ids
             and thumbprints we need are added; nobody else's are removed).

Things that are part of another (a bucket's policy, a certificate's validation wait, the log
bucket's ACL grant, the distribution's monitoring subscription) *follow* their parent: adopting
the parent adopts them.

The ownership registry (``/provision/<stack>/owned``, an SSM parameter beside the apply lock)
holds the natural keys of what we created or adopted that takes no tags. Why SSM rather than
external-dns-style TXT owner records: the zone is the company's public zone (owner TXT records
would be published to the world and add records to every name we manage); a TXT record cannot sit
beside a CNAME of the same name (the validation records are CNAMEs, so owner records would need
mangled names); TXT record sets at a name are one set, so an owner string would change a user's
TXT (SPF, site verification) records; and the parameter namespace, its IAM permissions and its
lifetime are already the stack's (the apply lock lives there, serialising its writes).
It is written *before* the thing is made (write-ahead: a crash in between leaves an entry for
something absent, which the next apply creates; never something we made but forgot).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any, Iterable

ABSENT = "absent"
OURS = "ours"
FOREIGN = "foreign"
SHARED = "shared"

STACK_TAG = "provision:stack"
CFN_STACK_TAG = "aws:cloudformation:stack-name"
CFN_LOGICAL_TAG = "aws:cloudformation:logical-id"

#: the registry's SSM parameter (beside the apply lock, same IAM scope /provision/<stack>/*)
REGISTRY_NAME = "/provision/{stack}/owned"
REGISTRY_FORMAT = 1


@dataclass(frozen=True)
class Ownership:
    state: str  # ABSENT | OURS | FOREIGN | SHARED
    #: who else it belongs to, for messages ("CloudFormation stack X, logical id Y"), or ""
    detail: str = ""
    #: the address this one follows (a bucket policy follows its bucket): adopting that adopts this
    parent: str = ""

    @property
    def ours(self) -> bool:
        return self.state == OURS


def is_system_tag(key: str) -> bool:
    """``aws:`` tags belong to AWS services (CloudFormation, Elastic Beanstalk...): never ours to write."""
    return key.lower().startswith("aws:")


def system_tags(items: Iterable[dict] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """The ``aws:`` tags of an AWS tag list (``[{"Key": .., "Value": ..}]``)."""
    return {t[key]: t.get(value, "") for t in (items or []) if is_system_tag(t[key])}


def cloudformation_origin(tags: dict[str, str] | None) -> str:
    """"CloudFormation stack S, logical id L" from CloudFormation's system tags, or ""."""
    tags = tags or {}
    stack = tags.get(CFN_STACK_TAG)
    if not stack:
        return ""
    logical = tags.get(CFN_LOGICAL_TAG)
    return f"CloudFormation stack {stack}" + (f", logical id {logical}" if logical else "")


def by_tags(stack: str, tags: dict[str, str] | None, system: dict[str, str] | None = None) -> Ownership:
    """Ours when our ``provision:stack`` tag is there; foreign otherwise (naming CloudFormation's stack)."""
    tags = tags or {}
    if tags.get(STACK_TAG) == stack:
        return Ownership(OURS)
    other = tags.get(STACK_TAG)
    detail = cloudformation_origin(system)
    if not detail and other:
        detail = f"provision stack {other}"
    return Ownership(FOREIGN, detail)


def follow(parent_address: str, parent: Ownership | None) -> Ownership:
    """The ownership of a part of ``parent_address`` (its policy, its validation...)."""
    if parent is None or parent.state == ABSENT:
        return Ownership(ABSENT, parent=parent_address)
    detail = parent.detail
    if parent.state != OURS:
        detail = f"part of {parent_address}" + (f"; {detail}" if detail else "")
    return Ownership(parent.state, detail, parent_address)


def adopts(patterns: Iterable[str], address: str) -> bool:
    """True when an ``[adopt]``/``--adopt`` glob names ``address`` (``*``, ``?``, ``[...]``)."""
    return any(fnmatch.fnmatchcase(address, p) for p in patterns)


def not_owned_message(stack: str, detail: str) -> str:
    return f"exists, not owned by stack {stack}" + (f" ({detail})" if detail else "")


# -- the registry's value ----------------------------------------------------------------------


def registry_name(stack: str) -> str:
    return REGISTRY_NAME.format(stack=stack)


def decode_registry(text: str | None) -> set[str]:
    """The natural keys in the registry parameter's value (JSON); an unreadable value holds none."""
    if not text:
        return set()
    try:
        data: Any = json.loads(text)
    except ValueError:
        return set()
    if not isinstance(data, dict) or not isinstance(data.get("owned"), list):
        return set()
    return {k for k in data["owned"] if isinstance(k, str)}


def encode_registry(keys: Iterable[str]) -> str:
    return json.dumps({"format": REGISTRY_FORMAT, "owned": sorted(set(keys))}, separators=(",", ":"))


__all__ = [
    "ABSENT", "OURS", "FOREIGN", "SHARED", "Ownership", "is_system_tag", "system_tags", "cloudformation_origin",
    "by_tags", "follow", "adopts", "not_owned_message", "registry_name", "decode_registry", "encode_registry",
    "STACK_TAG", "CFN_STACK_TAG", "CFN_LOGICAL_TAG",
]
