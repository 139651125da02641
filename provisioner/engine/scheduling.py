"""The concurrent apply's scheduler: writes in dependency order, settles beside them (issue 21).

A resource's write starts once the writes of its ``depends_on`` are done (and read after) and the
settles its ``needs_settled`` names are done; a write that left something pending gets a settle
task of its own, at once. Of the writes ready together, the ones more writes wait for start first.
Everything runs in one bounded pool (``PROVISION_APPLY_WORKERS``); the
run ends when every write and every settle it started has finished. After a failure no new write
starts; what is in flight (writes and their settles) finishes, then one error lists every failure.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import Callable

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
        running: dict[Future, tuple[str, str]] = {}

        def submit(kind: str, addr: str) -> None:
            fn = steps.write if kind == WRITE else steps.settle
            running[pool.submit(fn, by_addr[addr])] = (kind, addr)

        def start_ready() -> None:
            ready = sorted(ts.get_ready(), key=priority)
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
                    return
                if need:
                    parked[addr] = need
                else:
                    submit(WRITE, addr)

        start_ready()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in done:
                kind, addr = running.pop(f)
                exc = f.exception()
                if exc is not None:
                    errors.append(exc)
                    continue
                if kind == WRITE:
                    if f.result():
                        settling.add(addr)
                        submit(SETTLE, addr)  # at once, before any dependent is looked at
                    ts.done(addr)
                    continue
                settling.discard(addr)
                for waiting, need in list(parked.items()):
                    need.discard(addr)
                    if not need and not errors:
                        del parked[waiting]
                        submit(WRITE, waiting)
            if not errors:
                start_ready()
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise Failures(errors)
