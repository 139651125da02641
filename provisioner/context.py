"""What a reconciler is handed: the desired state, AWS clients, live values read so far, waits.

Reconcilers code against this (and ``model.Resource``); the engine builds it and drives them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, Any, Callable, Iterator

import structlog

from . import ownership as own
from .config import DesiredState
from .errors import ProvisionError
from .model import Resource, Unknown

log = structlog.get_logger("provision")

FIRST_POLL_SECONDS = 0.5  # the first re-poll of a wait: soon, so a quick settle is seen quickly
POLL_BACKOFF = 2.0  # then each pause doubles, up to the waiter's own interval
_sleep = time.sleep  # module-level so a test can record the pauses (tests/test_wait_schedule.py)
_clock = time.monotonic


def poll_schedule(interval: float, first: float = FIRST_POLL_SECONDS, factor: float = POLL_BACKOFF) -> Iterator[float]:
    """The pauses between the polls of a wait: ``first`` (at most ``interval``), then geometric
    (``factor``) up to ``interval``, then ``interval`` for good."""
    pause = min(first, interval)
    while True:
        yield pause
        pause = min(pause * factor, interval)


def wait_intervals(delay: float) -> tuple[float, float]:
    """(first pause, interval) of a wait whose waiter polls every ``delay`` seconds.

    ``PROVISION_POLL_SECONDS`` replaces the interval (the first pause is then at most that);
    ``PROVISION_POLL_SCALE`` multiplies both (the timing bench scales AWS's durations and the
    product's poll intervals together)."""
    scale = float(os.environ.get("PROVISION_POLL_SCALE", "1") or 1)
    interval = float(os.environ.get("PROVISION_POLL_SECONDS", delay))
    return min(FIRST_POLL_SECONDS, interval) * scale, interval * scale


class Context:
    """What reconcilers see: the desired state, AWS clients, and live values/outputs read so far."""

    def __init__(self, desired: DesiredState, aws: Any, *, wait: bool = True, progress: "Progress | None" = None):
        self.desired = desired
        self.aws = aws
        self.wait = wait
        self.progress = progress or Progress()
        self.resources: dict[str, Resource] = {}
        self.live: dict[str, dict[str, Any] | None] = {}
        self.outs: dict[str, dict] = {}
        self.deferred: dict[str, str] = {}  # address -> what was not waited for (--no-wait)
        #: globs of the foreign resources adopted on purpose: [adopt] resources plus --adopt
        self.adopt: tuple[str, ...] = tuple(desired.adopt)
        self._cache: dict[Any, Any] = {}
        self._cache_lock = threading.Lock()
        self._key_locks: dict[Any, threading.Lock] = {}

    # -- AWS ---------------------------------------------------------------------------------
    def client(self, service: str, region: str | None = None) -> Any:
        return self.aws.client(service, region or self.desired.stack.region)

    @property
    def tags(self) -> dict[str, str]:
        return self.desired.tags

    # -- ownership ---------------------------------------------------------------------------
    def adopts(self, address: str, ownership: own.Ownership | None = None) -> bool:
        """True when the desired state (or --adopt) adopts ``address``, or the parent it follows."""
        parent = ownership.parent if ownership is not None else ""
        return own.adopts(self.adopt, address) or bool(parent and own.adopts(self.adopt, parent))

    # -- other resources ---------------------------------------------------------------------
    def managed(self, address: str) -> bool:
        return address in self.resources

    def out(self, address: str, key: str) -> Any:
        """An output of another resource, or Unknown when it does not exist yet."""
        outs = self.outs.get(address)
        if outs is None or key not in outs or outs[key] is None:
            return Unknown(f"{address}.{key}")
        return outs[key]

    # -- memo for batched reads (one list call serves many resources) ---------------------------
    def memo(self, key: Any, fn: Callable[[], Any]) -> Any:
        with self._cache_lock:
            if key in self._cache:
                return self._cache[key]
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            with self._cache_lock:
                if key in self._cache:
                    return self._cache[key]
            value = fn()
            with self._cache_lock:
                self._cache[key] = value
            return value

    def forget(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    def defer(self, address: str, what: str) -> None:
        """Record that a settle step was skipped (--no-wait): dependents wait for a later apply."""
        self.deferred[address] = what

    # -- waiting -----------------------------------------------------------------------------
    def wait_for(self, description: str, client: Any, waiter_name: str, *, delay: float, timeout: float,
                 **kwargs: Any) -> None:
        """Poll a boto3 waiter (its own acceptors), showing progress, bounded by ``timeout``.

        The first poll is at once, the next ``FIRST_POLL_SECONDS`` later, then the pauses double up
        to ``delay`` (the waiter's interval): a settle that takes seconds is seen within a second or
        two, a long one costs no more polls than the interval allows. The last pause is cut so that
        one poll falls on the time limit."""
        from botocore.exceptions import WaiterError

        first, interval = wait_intervals(delay)
        pauses = poll_schedule(interval, first)
        waiter = client.get_waiter(waiter_name)
        self.progress.limit(description, timeout)
        start = _clock()
        while True:
            try:
                waiter.wait(WaiterConfig={"Delay": 0, "MaxAttempts": 1}, **kwargs)
                self.progress.done(description, _clock() - start)
                return
            except WaiterError as e:
                reason = str(getattr(e, "kwargs", {}).get("reason", e))
                if "terminal failure" in reason:
                    raise ProvisionError(f"waiting for {description}: {reason}") from None
            elapsed = _clock() - start
            if elapsed >= timeout:
                raise ProvisionError(
                    f"waiting for {description}: not done after {elapsed:.0f}s; run apply again later to resume"
                )
            self.progress.tick(description, elapsed)
            _sleep(min(next(pauses), timeout - elapsed))


class Progress:
    """Long waits: on a terminal a live ``rich.progress`` line (spinner, what, elapsed, the wait's
    time limit); otherwise a structured log line every ``every`` seconds. rich is imported at the
    first wait drawn on a terminal, never before: ``plan``/``drift`` do not pay for it."""

    def __init__(self, stream: IO[str] | None = None, interactive: bool | None = None, every: float = 30.0):
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.every = every
        self._last_log: dict[str, float] = {}
        self._live: dict[str, Any] = {}  # description -> (rich Progress, its clock), while drawn
        self._limits: dict[str, float] = {}  # description -> the wait's time limit, when it has one
        self._lock = threading.Lock()

    def limit(self, description: str, seconds: float) -> None:
        """The time limit of the wait ``description`` (shown beside the elapsed time)."""
        self._limits[description] = seconds

    def tick(self, description: str, elapsed: float, limit: float | None = None) -> None:
        limit = self._limits.get(description) if limit is None else limit
        if self.interactive:
            with self._lock:
                self._draw(description, elapsed, limit)
            return
        last = self._last_log.get(description, -1e9)
        if elapsed - last >= self.every or last < 0:
            self._last_log[description] = elapsed
            extra = {"limit_s": round(limit)} if limit is not None else {}
            log.info("waiting", target=description, elapsed_s=round(elapsed, 1), **extra)

    def done(self, description: str, elapsed: float) -> None:
        if self.interactive:
            with self._lock:
                live = self._live.pop(description, None)
                if live is not None:
                    live[0].stop()
            if elapsed > 0.5:
                self.stream.write(f"\r  {description}: done after {_fmt_elapsed(elapsed)}          \n")
                self.stream.flush()
        elif elapsed > 0.5:
            log.info("waited", target=description, elapsed_s=round(elapsed, 1))

    def finish(self) -> None:
        """Stop every live line still drawn (a wait that failed, or a caller that only ticks)."""
        with self._lock:
            live, self._live = list(self._live.values()), {}
        for bar, _task in live:
            bar.stop()

    def _draw(self, description: str, elapsed: float, limit: float | None) -> None:
        """Start the live line at the first tick; later ticks set its clock (rich redraws it between)."""
        live = self._live.get(description)
        if live is None:
            since = [time.monotonic() - elapsed]
            try:
                bar = _rich_progress(self.stream, since, limit)
            except ImportError:  # pragma: no cover - rich comes with typer; a plain line without it
                self.stream.write(f"\r  waiting for {description} ... {_fmt_elapsed(elapsed)} elapsed")
                self.stream.flush()
                return
            bar.add_task(description, total=None)
            bar.start()
            self._live[description] = live = (bar, since)
        live[1][0] = time.monotonic() - elapsed
        live[0].refresh()


def _rich_progress(stream: IO[str], since: list[float], limit: float | None) -> Any:
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import ProgressColumn, SpinnerColumn, TextColumn
    from rich.table import Column
    from rich.text import Text

    from .logs import color_enabled

    class Elapsed(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{_fmt_elapsed(time.monotonic() - since[0])} elapsed")

    console = Console(file=stream, force_terminal=True, no_color=not color_enabled(stream),
                      highlight=False, soft_wrap=False)
    limit_text = f"of at most {_fmt_elapsed(limit)}" if limit is not None else ""
    # the clock first: on a narrow terminal it is the description that gets cut, not the numbers
    return Bar(SpinnerColumn(table_column=Column(no_wrap=True, min_width=1)),
               Elapsed(table_column=Column(no_wrap=True, min_width=13)),
               TextColumn(limit_text, table_column=Column(no_wrap=True, min_width=len(limit_text))),
               TextColumn("waiting for {task.description}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
               console=console, transient=True, refresh_per_second=4, expand=True)


def _fmt_elapsed(s: float) -> str:
    m, sec = divmod(int(s), 60)
    return f"{m}m{sec:02d}s" if m else f"{sec}s"
