"""The face's renderings: human text (``text``), JSON with a header (``json``), markdown for pull
requests and job summaries (``markdown``, imported by the CLI only when asked for: ``plan`` and
``drift`` pay nothing for it); ``drift`` tells a plan as drift; ``meta`` is what a report says
about its run."""

from __future__ import annotations

from .drift import KINDS, apply_ignores, drift_items
from .json import config_error_json, drift_json, error_json, plan_json, to_json
from .meta import FORMAT_VERSION, ReportMeta, header, with_header
from .text import SYMBOL, drift_text, paint, plan_text

__all__ = [
    "KINDS", "apply_ignores", "drift_items", "config_error_json", "drift_json", "error_json", "plan_json", "to_json",
    "FORMAT_VERSION", "ReportMeta", "header",
    "with_header", "SYMBOL", "drift_text", "paint", "plan_text",
]
