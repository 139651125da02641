"""Waits see completion soon (issue 21): the first re-poll after ~0.5 s, then the pauses double up to
the waiter's interval, each wait bounded by its time limit. No real time passes: the pauses are
recorded on a fake clock."""

from __future__ import annotations

import io
import itertools
import json
import types

import pytest
from botocore.exceptions import WaiterError

from provisioner import context
from provisioner.context import Context, Progress, poll_schedule
from provisioner.errors import ProvisionError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.polls: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(round(s, 6))
        self.now += s


class Waiter:
    def __init__(self, clock: FakeClock, done_at: float) -> None:
        self.clock, self.done_at = clock, done_at

    def wait(self, **kwargs) -> None:
        self.clock.polls.append(round(self.clock.now, 6))
        if self.clock.now < self.done_at:
            raise WaiterError("w", "Max attempts exceeded", {})


class Client:
    def __init__(self, waiter: Waiter) -> None:
        self.waiter = waiter

    def get_waiter(self, name: str) -> Waiter:
        return self.waiter


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    c = FakeClock()
    monkeypatch.setattr(context, "_sleep", c.sleep)
    monkeypatch.setattr(context, "_clock", lambda: c.now)
    monkeypatch.delenv("PROVISION_POLL_SECONDS", raising=False)  # tests/conftest.py sets 0.05
    monkeypatch.delenv("PROVISION_POLL_SCALE", raising=False)
    monkeypatch.delenv("PROVISION_POLL_CAP_SECONDS", raising=False)
    return c


def wait(clock: FakeClock, done_at: float, delay: float, timeout: float = 3600) -> None:
    desired = types.SimpleNamespace(adopt=())  # all a Context needs of a desired state here
    ctx = Context(desired=desired, aws=None, progress=Progress(interactive=False, every=1e9))  # type: ignore[arg-type]
    ctx.wait_for("thing", Client(Waiter(clock, done_at)), "w", delay=delay, timeout=timeout)


def test_schedule_starts_soon_then_backs_off_to_the_interval():
    assert list(itertools.islice(poll_schedule(15), 7)) == [0.5, 1, 2, 4, 8, 15, 15]
    assert list(itertools.islice(poll_schedule(0.05), 3)) == [0.05, 0.05, 0.05]


def test_a_quick_settle_is_seen_within_a_second(clock):
    wait(clock, done_at=1.2, delay=20)  # CloudFront's interval: today the first re-poll came at 20 s
    assert clock.polls == [0, 0.5, 1.5]
    assert clock.sleeps == [0.5, 1]


def test_a_long_wait_polls_at_the_waiter_interval_capped_at_a_few_seconds(clock):
    wait(clock, done_at=60, delay=15)  # ACM's interval 15 s, capped at 5 s: seen within 5 s
    assert clock.sleeps == [0.5, 1, 2, 4] + [5] * 11
    assert clock.polls[-1] == 62.5 and len(clock.polls) == 16
    clock.sleeps.clear()
    wait(clock, done_at=clock.now + 3, delay=2)  # an interval under the cap is the waiter's own
    assert max(clock.sleeps) == 2


def test_the_cap_is_overridable(clock, monkeypatch):
    monkeypatch.setenv("PROVISION_POLL_CAP_SECONDS", "15")
    wait(clock, done_at=60, delay=15)
    assert clock.sleeps == [0.5, 1, 2, 4, 8, 15, 15, 15]
    assert clock.polls[-1] == 60.5 and len(clock.polls) == 9


def test_each_wait_is_bounded_by_its_time_limit(clock):
    with pytest.raises(ProvisionError, match="not done after 10s"):
        wait(clock, done_at=1e9, delay=20, timeout=10)
    assert clock.sleeps == [0.5, 1, 2, 4, 2.5]  # the last pause is cut: one poll falls on the limit
    assert clock.polls[-1] == 10


def test_poll_seconds_still_overrides_the_interval(clock, monkeypatch):
    monkeypatch.setenv("PROVISION_POLL_SECONDS", "0.05")
    wait(clock, done_at=0.2, delay=15)
    assert set(clock.sleeps) == {0.05} and len(clock.sleeps) == 4


def test_poll_scale_scales_first_pause_and_interval(clock, monkeypatch):
    monkeypatch.setenv("PROVISION_POLL_SCALE", "0.1")
    wait(clock, done_at=6, delay=20)
    assert clock.sleeps[:5] == [0.05, 0.1, 0.2, 0.4, 0.5]  # the 5 s cap is scaled too
    assert max(clock.sleeps) == 0.5


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_concurrent_waits_share_one_display_and_the_log_names_every_pending_wait(capsys):
    from provisioner.logs import configure

    tty = FakeTTY()
    p = Progress(stream=tty)
    p.tick("CloudFront distribution E1 to deploy", 5, 1800)
    p.tick("Route53 change (route53_record.alias_a)", 2, 600)
    assert len(p._live) == 2 and p._bar is not None  # one display, a line each
    p.done("Route53 change (route53_record.alias_a)", 3)
    assert list(p._live) == ["CloudFront distribution E1 to deploy"] and p._bar is not None
    p.done("CloudFront distribution E1 to deploy", 70)
    out = tty.getvalue()
    assert "waiting for Route53 change (route53_re" in out  # (cut to the 80 columns of a StringIO)
    assert "Route53 change (route53_record.alias_a): done after 3s" in out
    assert out.rstrip().endswith("CloudFront distribution E1 to deploy: done after 1m10s")
    assert not p._live and p._bar is None  # the display is stopped with the last wait

    configure("json")
    p = Progress(stream=io.StringIO(), every=30)
    p.tick("certificate to be issued", 0)
    p.tick("distribution to deploy", 0)
    p.stop("certificate to be issued")  # a failed wait: no longer pending
    p.tick("distribution to deploy", 31)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(x["target"], x.get("also_pending")) for x in lines] == [
        ("certificate to be issued", None), ("distribution to deploy", ["certificate to be issued"]),
        ("distribution to deploy", None)]
