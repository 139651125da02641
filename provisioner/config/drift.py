"""The [drift] section: ignore patterns for known, accepted differences (like driftctl's .driftignore)."""

from __future__ import annotations

import re

from .base import Section, bad

IGNORE_RE = re.compile(r"^[a-z0-9_*?\[\]]+\.[^\s:]+(:[^\s]+)?$")


def parse_drift(s: Section) -> tuple[str, ...]:
    """[drift] ignore: known, accepted differences (like driftctl's .driftignore), shown in reports."""
    patterns = s.strlist("ignore", [], item=lambda p, v: None if IGNORE_RE.match(v) else bad(
        s.file, p, "a pattern 'resource_type.name' or 'resource_type.name:field.path' (* and ? allowed)", v))
    s.done()
    check_protected(s.file, patterns)
    return patterns


#: (address, field) pairs no ignore pattern may cover: the grants and the exposure the cron check exists for
PROTECTED = (
    ("iam_role.github_actions", "trust_policy"),
    ("iam_role.github_actions", "trust_policy.Statement[Sid=GitHubActionsOIDC].Condition"),
    ("iam_role.github_actions", "policy"), ("iam_role.github_actions", "policy.Statement[Sid=BuildcachePublish].Action"),
    ("iam_role.github_actions", "inline_policies"), ("iam_role.github_actions", "attached_policies"),
    ("iam_user.admin", "policy"), ("iam_user.admin", "inline_policies"), ("iam_user.admin", "attached_policies"),
    ("iam_oidc_provider.github", "url"), ("iam_oidc_provider.github", "client_ids"),
    ("s3_bucket_policy.buildcache", "policy"), ("s3_bucket_policy.logs", "policy"),
    ("s3_bucket.buildcache", "public_access_block"), ("s3_bucket.logs", "public_access_block"),
    ("s3_bucket.buildcache", "public_access_block.BlockPublicPolicy"),
    ("cloudfront_distribution.cdn", "origins"), ("cloudfront_distribution.cdn", "origin"),
    ("cloudfront_distribution.cdn", "origin_access"), ("cloudfront_oai.buildcache", "comment"),
    ("sns_topic.alarms", "policy"),
    ("iam_role.github_actions", "UNEXPECTED"), ("s3_bucket_policy.buildcache", "UNEXPECTED"),
)


def covers(pattern: str, address: str, path: str) -> bool:
    """Whether an ignore pattern reaches the protected (address, path): it matches it as ``matches``
    does, or it names something below it (``inline_policies[Extra]`` is below ``inline_policies``)."""
    addr_pat, _, field_pat = pattern.partition(":")
    if field_pat and (field_pat.startswith(path + ".") or field_pat.startswith(path + "[")):
        import fnmatch

        return fnmatch.fnmatchcase(address, addr_pat)
    return matches((pattern,), address, path)


def check_protected(file: str, patterns: tuple[str, ...]) -> None:
    from ..errors import ConfigError

    for i, p in enumerate(patterns):
        if "UNEXPECTED" in p.upper():
            raise ConfigError(file, f"drift.ignore[{i}]", "a pattern that does not silence UNEXPECTED items "
                              "(undeclared grants are what the cron check is for)", p)
        for address, path in PROTECTED:
            if covers(p, address, path):
                raise ConfigError(file, f"drift.ignore[{i}]", "a pattern that leaves trust, inline/attached and "
                                  "bucket policies, public-access blocks and origins checked (it covers "
                                  f"{address}:{path})", p)


def matches(patterns: tuple[str, ...] | list[str], address: str, path: str | None) -> bool:
    """True when a ``[drift] ignore`` pattern accepts ``address`` (``path`` None: the whole resource)
    or the field ``path`` of it: fnmatch on both parts; a field pattern also matches the fields
    below it, and the path itself literally (paths like ``attached_policies[arn:...]`` hold ``[``,
    which fnmatch reads as a character class)."""
    import fnmatch

    for p in patterns:
        addr_pat, _, field_pat = p.partition(":")
        if not fnmatch.fnmatchcase(address, addr_pat):
            continue
        if not field_pat:
            return True
        if path is not None and (path == field_pat or fnmatch.fnmatchcase(path, field_pat)
                                 or path.startswith(field_pat + ".")):
            return True
    return False
