"""What a report says about the run that made it: the JSON header and the markdown footer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import __version__

#: The JSON reports' format. Compatibility rule (README): new fields may appear in any release;
#: an existing field keeps its meaning and its type unless this number changes.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ReportMeta:
    stack: str | None = None
    account: str | None = None  # None: not known (no credentials asked, or the question failed)
    region: str | None = None
    generated_at: str | None = None  # ISO 8601, UTC
    source: str | None = None  # the desired state file
    desired_hash: str | None = None
    commit: str | None = None  # the git commit of the desired state, when known
    tool_version: str = __version__


def header(meta: ReportMeta | None) -> dict[str, Any]:
    """The header every JSON report starts with (README: "JSON reports")."""
    m = meta or ReportMeta()
    return {"format_version": FORMAT_VERSION, "tool": "provision", "tool_version": m.tool_version,
            "stack": m.stack, "account": m.account, "region": m.region, "generated_at": m.generated_at,
            "commit": m.commit}


def with_header(data: dict[str, Any], meta: ReportMeta | None) -> dict[str, Any]:
    out = header(meta)
    out.update(data)
    return out
