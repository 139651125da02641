"""The `provision` command line. Exit codes: 0 no changes/no drift, 2 changes/drift, 1 error.

Rooms: ``_common`` (app, options, sessions, lock, confirmation), ``reconcile`` (validate, plan,
drift, apply, destroy), ``operate`` (unlock, outputs, show, preflight, policy), ``sandbox_verbs``
(sandbox, demo). Heavy modules (boto3, the reconcilers) are imported inside the commands so
``--help`` stays fast.
"""

from __future__ import annotations

import sys

# Each module registers its commands on app; this order is their order in --help.
# isort: off
from . import reconcile, operate, sandbox_verbs  # noqa: F401
# isort: on
from ._common import _echo, _interactive, app

__all__ = ["app", "main", "_interactive"]


def _import_structlog_without_rich() -> None:
    """Import structlog with ``rich`` hidden: structlog imports rich (when installed) only to draw
    exception tracebacks, which this tool never logs, and that import is ~70 ms of every command
    (BENCHMARKS.md). Without rich, structlog uses its plain traceback formatter."""
    if "structlog" in sys.modules or "rich" in sys.modules:
        return
    sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` raises ImportError
    try:
        import structlog  # noqa: F401
    finally:
        del sys.modules["rich"]


def main() -> None:  # console script
    argv = sys.argv[1:]
    if argv and not {"--help", "-h"} & set(argv):  # help needs no logging: keep `--help` light
        _import_structlog_without_rich()
    try:
        app(prog_name="provision")
    except KeyboardInterrupt:  # pragma: no cover
        _echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
