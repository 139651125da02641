"""The concurrent apply's scheduler (issue 21), on fake resources: independent writes overlap, a
write waits for the writes it depends on and for the settles it names, settles run beside the
writes, and a failure stops new writes, lets in-flight ones finish and reports every failure."""

from __future__ import annotations

import threading
import time

import pytest

from provisioner.engine import scheduling
from provisioner.model import Resource


class R(Resource):
    def __init__(self, address: str, depends_on: tuple[str, ...] = (), needs: tuple[str, ...] = ()):
        self.address, self.depends_on, self.needs = address, depends_on, needs


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, what: str, addr: str) -> None:
        with self.lock:
            self.events.append((what, addr))

    def index(self, what: str, addr: str) -> int:
        return self.events.index((what, addr))


def steps(log: Log, *, settles: set[str] = frozenset(), fail: set[str] = frozenset(), pause: float = 0.05,
          barrier: threading.Barrier | None = None) -> scheduling.Steps:
    def write(r: Resource) -> bool:
        log.add("start", r.address)
        if barrier is not None and r.address in ("a", "b"):
            barrier.wait(timeout=5)  # both in flight at once, or this times out
        time.sleep(pause)
        if r.address in fail:
            log.add("failed", r.address)
            raise RuntimeError(f"{r.address} broke")
        log.add("written", r.address)
        return r.address in settles

    def settle(r: Resource) -> None:
        time.sleep(pause * 4)
        log.add("settled", r.address)

    return scheduling.Steps(wanted=lambda r: True, write=write, settle=settle,
                            needs_settled=lambda r: getattr(r, "needs", ()))


def test_independent_writes_run_at_once_and_dependents_wait_for_the_writes():
    log = Log()
    res = [R("a"), R("b"), R("c", ("a", "b"))]
    scheduling.run(res, steps(log, barrier=threading.Barrier(2)), workers=4)
    assert log.index("start", "c") > max(log.index("written", "a"), log.index("written", "b"))


def test_a_dependent_needs_only_the_identity_unless_it_names_the_settle():
    log = Log()
    res = [R("dist"), R("alias", ("dist",)), R("contract", ("dist",), needs=("dist",))]
    scheduling.run(res, steps(log, settles={"dist"}), workers=4)
    assert log.index("written", "alias") < log.index("settled", "dist")  # identity: right after the write
    assert log.index("start", "contract") > log.index("settled", "dist")  # settled state: after the settle
    assert ("settled", "dist") in log.events  # the run ends only when every settle finished


def test_a_failure_stops_new_writes_lets_in_flight_ones_finish_and_reports_every_failure():
    log = Log()
    res = [R("a"), R("b"), R("c"), R("after_a", ("a",)), R("after_c", ("c",))]
    with pytest.raises(scheduling.Failures) as e:
        scheduling.run(res, steps(log, fail={"a", "b"}, settles={"c"}), workers=4)
    assert sorted(str(x) for x in e.value.errors) == ["a broke", "b broke"]  # both, in the order they came
    assert "a broke" in str(e.value) and "b broke" in str(e.value)
    assert ("written", "c") in log.events and ("settled", "c") in log.events  # in flight: finished
    assert ("start", "after_a") not in log.events and ("start", "after_c") not in log.events  # nothing new


def test_one_failure_is_raised_as_it_is():
    log = Log()
    with pytest.raises(RuntimeError, match="a broke"):
        scheduling.run([R("a"), R("b", ("a",))], steps(log, fail={"a"}), workers=2)
    assert ("start", "b") not in log.events


class K(R):
    def __init__(self, address: str, depends_on: tuple[str, ...] = (), key: str | None = None):
        super().__init__(address, depends_on)
        self.key = key


def test_writes_ready_together_with_one_key_are_one_batch_and_their_settles_one_task():
    """Route53 records of one zone ready together share one change batch (issue 21): here x and y
    (key z) are ready after a; w has the key too but is ready at the start, so it goes alone."""
    log = Log()
    calls: list[tuple[str, ...]] = []
    settle_threads: dict[str, str] = {}

    def write(r: Resource) -> bool:
        calls.append((r.address,))
        return True

    def write_batch(rs: list[Resource]) -> list[bool]:
        calls.append(tuple(sorted(r.address for r in rs)))
        return [True for _ in rs]

    def settle(r: Resource) -> None:
        settle_threads[r.address] = threading.current_thread().name
        log.add("settled", r.address)

    res = [K("a"), K("w", key="z"), K("x", ("a",), key="z"), K("y", ("a",), key="z"), K("v", ("a",))]
    scheduling.run(res, scheduling.Steps(wanted=lambda r: True, write=write, settle=settle,
                                         needs_settled=lambda r: (), batch_key=lambda r: getattr(r, "key", None),
                                         write_batch=write_batch), workers=4)
    assert sorted(calls) == [("a",), ("v",), ("w",), ("x", "y")]
    assert {e[1] for e in log.events} == {"a", "v", "w", "x", "y"}
    assert settle_threads["x"] == settle_threads["y"], "one settle task for the batch"


def test_a_failed_batch_starts_no_new_write():
    calls: list[str] = []

    def write(r: Resource) -> bool:
        calls.append(r.address)
        return False

    def write_batch(rs: list[Resource]) -> list[bool]:
        raise RuntimeError("batch refused")

    res = [K("x", key="z"), K("y", key="z"), K("after", ("x",))]
    with pytest.raises(RuntimeError, match="batch refused"):
        scheduling.run(res, scheduling.Steps(wanted=lambda r: True, write=write, settle=lambda r: None,
                                             needs_settled=lambda r: (), batch_key=lambda r: getattr(r, "key", None),
                                             write_batch=write_batch), workers=2)
    assert calls == []
