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
