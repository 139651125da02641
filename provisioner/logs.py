"""structlog, configured once: console lines on a terminal, JSON lines for cron and CI (stderr).

Colour (the console renderer here, the plan's ``+ ~ -`` in render.text, the progress line) is
decided in one place, :func:`color_enabled`: ``--color always`` / ``never`` say so; ``auto`` (the
default) colours only a terminal, and never when ``NO_COLOR`` is set (no-color.org) or
``TERM=dumb``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping, MutableMapping
from typing import IO, Any

import structlog

COLOR_MODES = ("auto", "always", "never")
_color_mode = "auto"


def _escape_controls(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """Values logged from AWS or the lock (a holder, an error message) never carry control characters."""
    from .safe_text import escape_controls

    return {k: escape_controls(v) if isinstance(v, str) else v for k, v in event.items()}


def color_enabled(stream: IO[str] | None = None, mode: str | None = None) -> bool:
    """Whether to write colour to ``stream`` (default: stdout) under ``mode`` (default: configured)."""
    mode = mode or _color_mode
    if mode == "always":  # an explicit flag wins over NO_COLOR, as no-color.org asks of flags
        return True
    if mode == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool((stream or sys.stdout).isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def configure(fmt: str = "console", level: int = logging.INFO, color: str = "auto") -> None:
    global _color_mode
    if color not in COLOR_MODES:
        raise ValueError(f"color: expected one of {COLOR_MODES}, found {color!r}")
    _color_mode = color
    renderer = (structlog.processors.JSONRenderer() if fmt == "json"
                else structlog.dev.ConsoleRenderer(colors=color_enabled(sys.stderr)))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _escape_controls,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_StderrLoggerFactory(),
        cache_logger_on_first_use=False,
    )


_write_lock = threading.Lock()


class _StderrLogger:
    """Writes to whatever sys.stderr is at call time (test runners swap it).

    One ``write`` of the whole line under a process-wide lock: the concurrent apply logs from
    several threads, and ``print`` writes the text and its newline apart, so two threads' JSON
    lines could otherwise share a line (cron and CI parse them one per line)."""

    def msg(self, message: str) -> None:
        with _write_lock:
            try:
                sys.stderr.write(message + "\n")
                sys.stderr.flush()
            except ValueError:  # stderr closed (end of an in-process CLI run): drop the line
                pass

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


class _StderrLoggerFactory:
    def __call__(self, *args: object) -> _StderrLogger:
        return _StderrLogger()
