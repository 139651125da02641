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
    return patterns


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
