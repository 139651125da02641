"""Policy documents: the error, the default Version and the statement field names shared by canonical form and diff."""

from __future__ import annotations

DEFAULT_VERSION = "2012-10-17"

_LIST_FIELDS_LOWER = ("Action", "NotAction")
_LIST_FIELDS = ("Resource", "NotResource")
_PRINCIPAL_FIELDS = ("Principal", "NotPrincipal")


class PolicyError(ValueError):
    """A policy document could not be parsed or is structurally invalid."""
