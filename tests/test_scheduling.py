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
