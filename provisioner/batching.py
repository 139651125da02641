"""Writes that share one request (issue 21): Route53 changes of one zone that are ready together
go in one ``ChangeResourceRecordSets``, so the A and AAAA aliases have one INSYNC wait, not two.

The engine writes a group of ready resources with the same ``batch_key`` in one thread, inside
``ctx.batches.collect()``. Each resource's write hands its part to ``ctx.batches.send(key, items,
send, ...)``, which queues it while collecting; once every write of the group has queued its part,
the engine calls ``flush()``: one request per key carrying every part's items in the order they
were queued (split where AWS's per-request limits say, ``fits``: never inside one part), and
each part is told its request's answer (``sent``). If the request fails, each part may
accept the failure (``failed`` -> True: e.g. a CREATE whose lost response was retried and whose
records are all there); the error is raised unless every part accepts it. Outside ``collect``
(a group of one, destroy) ``send`` sends at once. A group whose writes fail before ``flush``
sends nothing: its queue is dropped (AWS applies a change batch atomically, so a batch is never
half sent either).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context


class Batched:
    """Mixin of a resource whose writes can share one request with others of the same key."""

    def batch_key(self, ctx: "Context") -> Hashable | None:
        """Writes ready together with the same key go in one request (None: a request of its own)."""
        return None


Send = Callable[[list[Any], list[str]], Any]  # (every item, every part's label) -> the answer


@dataclass
class _Part:
    label: str
    sent: Callable[[Any], None]
    failed: Callable[[BaseException], bool]


@dataclass
class _Request:
    send: Send
    fits: Callable[[list[Any]], bool]
    items: list[Any] = field(default_factory=list)
    parts: list[_Part] = field(default_factory=list)


def _refuse(_e: BaseException) -> bool:
    return False


def _any(_items: list[Any]) -> bool:
    return True


class Queue:
    """The requests a group of writes queued, by key, until ``flush``."""

    def __init__(self) -> None:
        self._requests: dict[Hashable, list[_Request]] = {}

    def add(self, key: Hashable, items: list[Any], send: Send, part: _Part, fits: Callable[[list[Any]], bool]) -> None:
        reqs = self._requests.setdefault(key, [])
        if not reqs or (reqs[-1].items and not fits(reqs[-1].items + list(items))):
            reqs.append(_Request(send, fits))  # a part that does not fit alone is sent alone (AWS says why)
        reqs[-1].items.extend(items)
        reqs[-1].parts.append(part)

    def flush(self) -> None:
        requests, self._requests = self._requests, {}
        for reqs in requests.values():
            for req in reqs:
                _deliver(req)


def _deliver(req: _Request) -> None:
    try:
        answer = req.send(req.items, [p.label for p in req.parts])
    except Exception as e:  # noqa: BLE001 - each part says whether it can live with it
        if all(p.failed(e) for p in req.parts):
            return
        raise
    for p in req.parts:
        p.sent(answer)


class Batches:
    """One per apply (``ctx.batches``): the queue of the group being written in this thread, if any."""

    def __init__(self) -> None:
        self._local = threading.local()

    def send(self, key: Hashable, items: list[Any], send: Send, *, label: str, sent: Callable[[Any], None],
             failed: Callable[[BaseException], bool] = _refuse, fits: Callable[[list[Any]], bool] = _any) -> None:
        """Send ``items`` (now, or with the group's others at ``flush``); ``fits``: whether a list of
        items is within one request's limits."""
        part = _Part(label, sent, failed)
        queue: Queue | None = getattr(self._local, "queue", None)
        if queue is None:
            _deliver(_Request(send, fits, list(items), [part]))
        else:
            queue.add(key, items, send, part, fits)

    @contextlib.contextmanager
    def collect(self) -> Iterator[Queue]:
        """Queue this thread's sends until ``flush()``; what is not flushed when the block ends is dropped."""
        queue = Queue()
        self._local.queue = queue
        try:
            yield queue
        finally:
            self._local.queue = None


__all__ = ["Batched", "Batches", "Queue"]
