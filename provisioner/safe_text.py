"""Text from outside (AWS answers, the lock's holder) made safe to print, and e-mail addresses masked.

A lock holder or a policy Sid is text anyone with write access to the account chose: printed raw, a
carriage return or an ANSI sequence in it could forge a terminal line ("Apply complete: nothing
changed."). Every control or format character but the newline is shown as a Python-style escape.
"""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def _escape(c: str) -> str:
    o = ord(c)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def escape_controls(text: str, keep: str = "\n") -> str:
    """``text`` with every control (Cc) and format (Cf: bidi overrides, zero-width) character escaped."""
    if text.isprintable() and "\r" not in text:
        return text
    return "".join(c if c in keep or unicodedata.category(c) not in ("Cc", "Cf") else _escape(c) for c in text)


def mask_emails(text: str) -> str:
    """``ops@example.com`` -> ``o***@example.com`` (plan and drift, unless --show-sensitive)."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


_SGR = re.compile(r"(\x1b\[[0-9;]*m)")  # colour codes: only ever written by render/text.py itself


def for_terminal(text: str, color: bool = False) -> str:
    """``text`` with control characters escaped; with ``color``, the SGR colour codes kept (the
    caller coloured the text itself and escaped what came from outside before colouring it)."""
    if not color:
        return escape_controls(text)
    return "".join(p if _SGR.fullmatch(p) else escape_controls(p) for p in _SGR.split(text))
