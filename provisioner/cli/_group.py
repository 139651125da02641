"""The command group every verb hangs on: exit codes and errors in one place.

* A usage error (an unknown flag, a bad value, a missing command) exits **1**, as Terraform does,
  not click's 2: 2 means "changes / drift found" to cron, systemd and CI (README: exit codes).
* A run asked for JSON (``--json``, ``--format json``) that fails prints a JSON error object on
  stdout as well (``render.error_json``), so a script never parses an empty stdout.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

import typer

# typer 0.28 carries its own trimmed copy of click (pyproject pins it): its usage errors and the
# current context come from there.
from typer._click.exceptions import BadParameter, ClickException, UsageError
from typer._click.globals import get_current_context
from typer.core import TyperGroup

from ..errors import EXIT_ERROR

__all__ = ["JSON_META", "TOLD_META", "BadParameter", "ClickException", "UsageError", "get_current_context",
           "ProvisionGroup", "wants_json"]

#: ``ctx.meta`` key (shared by every context of one run): the command's stdout is JSON
JSON_META = "provision.json"
#: ``ctx.meta`` key: the error was already told (stderr, JSON, reports); say nothing more
TOLD_META = "provision.told"


def wants_json(args: Sequence[str]) -> bool:
    """Whether a command line asks for JSON on stdout (read before click has parsed it)."""
    args = list(args)
    if "--" in args:
        args = args[:args.index("--")]
    for i, a in enumerate(args):
        if a == "--json" or a == "--format=json" or (a == "--format" and args[i + 1:i + 2] == ["json"]):
            return True
    return False


class ProvisionGroup(TyperGroup):
    """typer's group, with usage errors exiting 1 and failures told in JSON to a JSON run."""

    _argv: list[str] = []

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, windows_expand_args: bool = True,
             **extra: Any) -> Any:
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                            standalone_mode=standalone_mode, windows_expand_args=windows_expand_args, **extra)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as e:
            self._usage(e)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as e:
            self._usage(e)
            raise
        except (ClickException, typer.Exit, typer.Abort):
            raise
        except Exception as e:
            self._crash(ctx, e)
            raise

    def _usage(self, e: Any) -> None:
        e.exit_code = EXIT_ERROR
        if wants_json(self._argv) and not getattr(e, "_provision_told", False):
            from ..render import error_json, to_json

            message = e.format_message() if type(e).__name__ != "NoArgsIsHelpError" else "missing command"
            typer.echo(to_json(error_json(e, kind="usage", message=message)))
            e._provision_told = True

    def _crash(self, ctx: Any, e: BaseException) -> None:
        """Not a ProvisionError (those are told by the command): a bug. JSON runs still get an object."""
        if ctx.meta.get(TOLD_META) or not (ctx.meta.get(JSON_META) or wants_json(self._argv)):
            return
        from ..render import error_json, to_json

        typer.echo(to_json(error_json(e, message=f"{type(e).__name__}: {e}")))
