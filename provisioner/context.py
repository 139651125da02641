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
from .batching import Batches
from .config import DesiredState
from .errors import ProvisionError
from .model import Resource, Unknown

log = structlog.get_logger("provision")

FIRST_POLL_SECONDS = 0.5  # the first re-poll of a wait: soon, so a quick settle is seen quickly
POLL_BACKOFF = 2.0  # then each pause doubles, up to the waiter's own interval
POLL_CAP_SECONDS = 5.0  # and never longer than this (PROVISION_POLL_CAP_SECONDS): a settle is seen within seconds
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

    The interval is the waiter's ``delay`` capped at ``POLL_CAP_SECONDS`` (``PROVISION_POLL_CAP_SECONDS``):
    a deploy that ends is seen within a few seconds, not a 20 s interval later.
    ``PROVISION_POLL_SECONDS`` replaces the interval (the first pause is then at most that);
    ``PROVISION_POLL_SCALE`` multiplies both (the timing bench scales AWS's durations and the
    product's poll intervals together)."""
    scale = float(os.environ.get("PROVISION_POLL_SCALE", "1") or 1)
    cap = float(os.environ.get("PROVISION_POLL_CAP_SECONDS", "") or POLL_CAP_SECONDS)
    interval = float(os.environ.get("PROVISION_POLL_SECONDS", "") or min(delay, cap))
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
        self.batches = Batches()  # writes that share one request (a Route53 change batch per zone)

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
        to ``delay`` (the waiter's interval) capped at ``POLL_CAP_SECONDS``: a settle that takes
        seconds is seen within a second or two, a long one within the cap. The last pause is cut so
        that one poll falls on the time limit. Thread-safe: concurrent waits share one display."""
        from botocore.exceptions import WaiterError

        first, interval = wait_intervals(delay)
        pauses = poll_schedule(interval, first)
        waiter = client.get_waiter(waiter_name)
        self.progress.limit(description, timeout)
        start = _clock()
        try:
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
        finally:
            self.progress.stop(description)  # a failed wait's line goes too (done() already removed a finished one)


class Progress:
    """Long waits, several at once (a concurrent apply): on a terminal one live ``rich.progress``
    display with a line per pending wait (spinner, elapsed, the wait's time limit, what); otherwise
    a structured log line every ``every`` seconds per wait, naming every wait pending. rich is
    imported at the first wait drawn on a terminal, never before: ``plan``/``drift`` do not pay for it."""

    def __init__(self, stream: IO[str] | None = None, interactive: bool | None = None, every: float = 30.0):
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.every = every
        self._last_log: dict[str, float] = {}
        self._bar: Any = None  # the one rich display, while a wait is drawn
        self._live: dict[str, Any] = {}  # description -> (task id, its clock), while drawn
        self._limits: dict[str, float] = {}  # description -> the wait's time limit, when it has one
        self._pending: dict[str, None] = {}  # every wait ticking now, in the order they started
        self._lock = threading.RLock()

    def limit(self, description: str, seconds: float) -> None:
        """The time limit of the wait ``description`` (shown beside the elapsed time)."""
        self._limits[description] = seconds

    def tick(self, description: str, elapsed: float, limit: float | None = None) -> None:
        limit = self._limits.get(description) if limit is None else limit
        with self._lock:
            self._pending[description] = None
            if self.interactive:
                self._draw(description, elapsed, limit)
                return
            last = self._last_log.get(description, -1e9)
            if not (elapsed - last >= self.every or last < 0):
                return
            self._last_log[description] = elapsed
            others = [d for d in self._pending if d != description]
        extra: dict[str, Any] = {"limit_s": round(limit)} if limit is not None else {}
        if others:
            extra["also_pending"] = others
        log.info("waiting", target=description, elapsed_s=round(elapsed, 1), **extra)

    def done(self, description: str, elapsed: float) -> None:
        with self._lock:
            bar = self._remove(description)
            if self.interactive:
                if elapsed > 0.5:
                    line = f"  {description}: done after {_fmt_elapsed(elapsed)}"
                    if bar is not None and self._bar is not None:  # others still drawn: above them
                        bar.console.print(line, markup=False, highlight=False)
                    else:
                        self.stream.write(f"\r{line}          \n")
                        self.stream.flush()
                return
        if elapsed > 0.5:
            log.info("waited", target=description, elapsed_s=round(elapsed, 1))

    def stop(self, description: str) -> None:
        """The wait ``description`` ended (failed, or done already): its line goes."""
        with self._lock:
            self._remove(description)

    def finish(self) -> None:
        """Stop the display and forget every wait still pending (a step that failed)."""
        with self._lock:
            bar, self._bar = self._bar, None
            self._live.clear()
            self._pending.clear()
        if bar is not None:
            bar.stop()

    def _remove(self, description: str) -> Any:
        """Drop one wait (the lock is held); stop the display when it was the last. Returns the display."""
        self._pending.pop(description, None)
        live = self._live.pop(description, None)
        bar = self._bar
        if live is not None and bar is not None:
            bar.remove_task(live[0])
            if not self._live:
                bar.stop()
                self._bar = None
        return bar

    def _draw(self, description: str, elapsed: float, limit: float | None) -> None:
        """Add the wait's line at its first tick; later ticks set its clock (rich redraws between)."""
        live = self._live.get(description)
        if live is None:
            if self._bar is None:
                try:
                    self._bar = _rich_progress(self.stream)
                except ImportError:  # pragma: no cover - rich comes with typer; a plain line without it
                    self.stream.write(f"\r  waiting for {description} ... {_fmt_elapsed(elapsed)} elapsed")
                    self.stream.flush()
                    return
                self._bar.start()
            since = [time.monotonic() - elapsed]
            limit_text = f"of at most {_fmt_elapsed(limit)}" if limit is not None else ""
            task = self._bar.add_task(description, total=None, since=since, limit_text=limit_text)
            self._live[description] = live = (task, since)
        live[1][0] = time.monotonic() - elapsed
        self._bar.refresh()


def _rich_progress(stream: IO[str]) -> Any:
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import ProgressColumn, SpinnerColumn, TextColumn
    from rich.table import Column
    from rich.text import Text

    from .logs import color_enabled

    class Elapsed(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{_fmt_elapsed(time.monotonic() - task.fields['since'][0])} elapsed")

    console = Console(file=stream, force_terminal=True, no_color=not color_enabled(stream),
                      highlight=False, soft_wrap=False)
    width = len("of at most 00m00s")
    # the clock first: on a narrow terminal it is the description that gets cut, not the numbers
    return Bar(SpinnerColumn(table_column=Column(no_wrap=True, min_width=1)),
               Elapsed(table_column=Column(no_wrap=True, min_width=13)),
               TextColumn("{task.fields[limit_text]}", table_column=Column(no_wrap=True, min_width=width)),
               TextColumn("waiting for {task.description}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
               console=console, transient=True, refresh_per_second=4, expand=True)


def _fmt_elapsed(s: float) -> str:
    m, sec = divmod(int(s), 60)
    return f"{m}m{sec:02d}s" if m else f"{sec}s"
