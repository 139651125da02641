"""The [stack] and [tags] sections: stack name, region, account and the user's tags."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError, Described
from .base import Section

ACCOUNT_RE = re.compile(r"^\d{12}$")
TAG_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@dataclass(frozen=True)
class Stack:
    name: str
    region: str
    account_id: str | None
    tags: tuple[tuple[str, str], ...]  # user tags, merged with the ownership tags


def parse_stack(root: Section) -> Stack:
    s = root.section("stack")
    name = s.str("name", required=True, pattern=re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$"),
                 what="a stack name (letters, digits, '-'; starting with a letter; at most 63)")
    region = s.str("region", "us-east-1", pattern=REGION_RE, what="an AWS region name like 'us-east-1'")
    account = s.str("account_id", None, pattern=ACCOUNT_RE, what="a 12-digit AWS account id")
    s.done()
    t = root.section("tags", required=False)
    tags = []
    for k, v in t.data.items():
        t.used.add(k)
        if not TAG_KEY_RE.match(k) or k.lower().startswith("aws:"):
            raise ConfigError(root.file, f"tags.{k}", "a tag key (1-128 chars, not starting with 'aws:')", k)
        if k in ("ManagedBy",) or k.lower().startswith("provision:"):
            # provision:* tags are the tool's own records (provision:stack marks ownership,
            # provision:email-subscriptions the subscriptions it made): a user tag would forge them.
            raise ConfigError(root.file, f"tags.{k}", "a tag key outside the reserved ones (ManagedBy, provision:*, aws:*)", k)
        if not isinstance(v, str) or len(v) > 256:
            raise ConfigError(root.file, f"tags.{k}", "a string tag value of at most 256 characters", v)
        tags.append((k, v))
    if len(tags) > 40:
        raise ConfigError(root.file, "tags", "at most 40 tags", Described(f"{len(tags)} tags"))
    return Stack(name=name, region=region, account_id=account, tags=tuple(sorted(tags)))
