"""The concurrent apply's scheduler: writes in dependency order, settles beside them (issue 21).

A resource's write starts once the writes of its ``depends_on`` are done (and read after) and the
settles its ``needs_settled`` names are done; a write that left something pending gets a settle
task of its own, at once. Of the writes ready together, the ones more writes wait for start first.
Writes ready together with the same ``batch_key`` (Route53 records of
one zone) are one task, ``write_batch``, and their settles one task after it (one INSYNC wait for
one change batch). Everything runs in one bounded pool (``PROVISION_APPLY_WORKERS``); the
run ends when every write and every settle it started has finished. After a failure no new write
starts; what is in flight (writes and their settles) finishes, then one error lists every failure.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import Callable, Hashable

from ..errors import ProvisionError
from ..model import Resource

APPLY_WORKERS = int(os.environ.get("PROVISION_APPLY_WORKERS", "8") or 8)

WRITE, SETTLE = "write", "settle"


class Failures(ProvisionError):
    """Several branches of a concurrent apply failed: every failure, in the order they came."""

    def __init__(self, errors: list[BaseException]):
        self.errors = errors
        super().__init__(f"{len(errors)} steps failed:\n  " + "\n  ".join(str(e) for e in errors))


@dataclass
class Steps:
    """What the engine does for one resource (each called with the resource)."""

    wanted: Callable[[Resource], bool]  # write it at all? (main thread, once its dependencies are done)
    write: Callable[[Resource], bool]  # in the pool; True when it left something to settle
    settle: Callable[[Resource], None]  # in the pool
    needs_settled: Callable[[Resource], tuple[str, ...]]  # (main thread, before its write starts)
    #: writes ready together with one key (not None) are written by one ``write_batch`` call
    batch_key: Callable[[Resource], Hashable | None] = lambda r: None
    #: in the pool: -> for each resource, True when it left something to settle
    write_batch: Callable[[list[Resource]], list[bool]] | None = None


def run(resources: list[Resource], steps: Steps, workers: int | None = None) -> None:
    by_addr = {r.address: r for r in resources}
    ts = TopologicalSorter({r.address: [d for d in r.depends_on if d in by_addr] for r in resources})
    ts.prepare()
    dependents: dict[str, set[str]] = {a: set() for a in by_addr}
    for r in resources:
        for d in r.depends_on:
            if d in dependents:
                dependents[d].add(r.address)

    def downstream(addr: str, seen: set[str]) -> set[str]:
        for d in dependents[addr] - seen:
            seen.add(d)
            downstream(d, seen)
        return seen

    # the pool starts first what most other writes wait for (the certificate before an alarm)
    reach = {a: len(downstream(a, set())) for a in by_addr}

    def priority(addr: str) -> tuple[int, str]:
        return -reach[addr], addr

    errors: list[BaseException] = []
    settling: set[str] = set()  # settles submitted and not finished
    parked: dict[str, set[str]] = {}  # ready writes -> the settles they still wait for
    with ThreadPoolExecutor(max_workers=workers or APPLY_WORKERS, thread_name_prefix="apply") as pool:
        running: dict[Future, tuple[str, tuple[str, ...]]] = {}

        def write(addrs: tuple[str, ...]) -> list[bool]:
            rs = [by_addr[a] for a in addrs]
            if len(rs) == 1 or steps.write_batch is None:
                return [steps.write(r) for r in rs]
            return steps.write_batch(rs)

        def settle(addrs: tuple[str, ...]) -> None:
            for a in addrs:
                steps.settle(by_addr[a])

        def launch(addrs: list[str]) -> None:
            """Submit these writes: one task per batch key, one per address without a key."""
            if errors:  # after a failure no new write starts
                return
            groups: dict[Hashable, list[str]] = {}
            for addr in addrs:
                try:
                    key = steps.batch_key(by_addr[addr])
                except Exception as e:  # noqa: BLE001 - reported with the others
                    errors.append(e)
                    return
                groups.setdefault(("batch", key) if key is not None else ("one", addr), []).append(addr)
            for group in groups.values():
                running[pool.submit(write, tuple(group))] = (WRITE, tuple(group))

        def start_ready() -> None:
            ready = sorted(ts.get_ready(), key=priority)
            now: list[str] = []
            while ready and not errors:
                addr = ready.pop(0)
                r = by_addr[addr]
                try:
                    if not steps.wanted(r):
                        ts.done(addr)
                        ready = sorted([*ready, *ts.get_ready()], key=priority)
                        continue
                    need = set(steps.needs_settled(r)) & settling
                except Exception as e:  # noqa: BLE001 - reported with the others
                    errors.append(e)
                    break
                if need:
                    parked[addr] = need
                else:
                    now.append(addr)
            launch(now)

        start_ready()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in done:
                kind, addrs = running.pop(f)
                exc = f.exception()
                if exc is not None:
                    errors.append(exc)
                    continue
                if kind == WRITE:
                    pending = tuple(a for a, left in zip(addrs, f.result(), strict=True) if left)
                    if pending:  # at once, before any dependent is looked at
                        settling.update(pending)
                        running[pool.submit(settle, pending)] = (SETTLE, pending)
                    for a in addrs:
                        ts.done(a)
                    continue
                settling.difference_update(addrs)
                released = []
                for waiting, need in list(parked.items()):
                    need.difference_update(addrs)
                    if not need and not errors:
                        del parked[waiting]
                        released.append(waiting)
                launch(released)
            if not errors:
                start_ready()
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise Failures(errors)
