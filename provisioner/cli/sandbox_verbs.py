"""The sandbox verbs: serve the AWS sandbox, run the demo. The only product code that imports the sandbox (lazily)."""

from __future__ import annotations

import sys

import typer

from ._common import _echo, _fail, app


@app.command()
def sandbox(
    port: int = typer.Option(0, "--port", metavar="N", help="Port on 127.0.0.1 (default: a free one)."),
    zone: str = typer.Option("vantagecompute.ai", "--zone", metavar="ZONE", help="Hosted zone to create as a fixture."),
) -> None:
    """Run the AWS-faithful sandbox (patched moto) on 127.0.0.1 until SIGINT/SIGTERM.

    Prints the `export ...` lines that point this tool (and any AWS SDK) at it.
    """
    import os
    import signal
    import threading

    from ..sandbox import SandboxError, Server, create_fixtures, sandbox_env
    from ..sandbox.server import CALLER_PROFILE_VARS

    for var in CALLER_PROFILE_VARS:  # this process only serves the sandbox: never the caller's AWS config
        os.environ.pop(var, None)
    try:
        server = Server(port=port).start()
    except SandboxError as e:
        raise _fail(e) from None
    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()

    old = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        zone_id = create_fixtures(server.url, zone)
        _echo(f"# provision sandbox: patched moto on {server.url} (hosted zone {zone}: {zone_id})")
        for k, v in sandbox_env(server.url).items():
            _echo(f"export {k}={v}")
        _echo("# serving until Ctrl-C (SIGINT) or SIGTERM")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        server.stop()
    _echo("# sandbox stopped", err=True)


@app.command()
def demo(
    file: str = typer.Option("", "-f", "--file", metavar="PATH", help="Desired state file (default: the repository's desired_state.toml)."),
) -> None:
    """The whole workflow in one run against an embedded sandbox: plan, apply, plan (no changes),
    an out-of-band change, drift (exit 2), apply to repair, drift clean, outputs.

    Never touches real AWS. Exit 0 when every step behaved as expected, 1 otherwise.
    """
    from ..sandbox.demo import run

    raise typer.Exit(run(app, file or None))
