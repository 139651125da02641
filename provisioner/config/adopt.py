"""The [adopt] section: foreign resources to take over on purpose (like Terraform's import blocks).

``resources = ["cloudfront_distribution.cdn", "iam_role.*", "*"]``: globs (``*``, ``?``, ``[...]``)
on plan addresses. A resource found under our natural key that is not ours is never changed
unless a pattern here (or ``--adopt PATTERN`` on plan/apply) names it; reviewable in git.
"""

from __future__ import annotations

import re

from .base import Section, bad

ADOPT_RE = re.compile(r"^[a-z0-9_*?\[\]]+(\.[^\s:]+)?$")


def parse_adopt(s: Section) -> tuple[str, ...]:
    patterns = s.strlist("resources", [], item=lambda p, v: None if ADOPT_RE.match(v) else bad(
        s.file, p, "a resource address pattern like 'iam_role.github_actions', 'route53_record.*' or '*'", v))
    s.done()
    return tuple(patterns)
