"""JSON log lines stay one per line when the concurrent apply logs from several threads.

CI once failed parsing stderr: two threads' "waiting" lines shared one line, because ``print``
writes the text and its newline in two writes. The logger writes each line whole, under a lock.
"""

from __future__ import annotations

import json
import sys
import threading

import structlog

from provisioner import logs


class _Recording:
    """A stderr that records every write (and yields the GIL between them, as real I/O does)."""

    def __init__(self):
        self.writes: list[str] = []

    def write(self, s: str) -> int:
        self.writes.append(s)
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_each_json_log_line_is_written_whole_from_many_threads(monkeypatch):
    rec = _Recording()
    monkeypatch.setattr(sys, "stderr", rec)
    logs.configure("json")
    try:
        log = structlog.get_logger("t")
        start = threading.Barrier(8)

        def work(n: int) -> None:
            start.wait()
            for i in range(50):
                log.info("waiting", target=f"thread{n}", elapsed_s=i)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        logs.configure("console")
    # every write is one complete line: no write holds a part of a line or two lines
    assert len(rec.writes) == 400
    assert all(w.endswith("\n") and w.count("\n") == 1 for w in rec.writes)
    parsed = [json.loads(w) for w in rec.writes]
    assert sorted((p["target"], p["elapsed_s"]) for p in parsed) == sorted(
        (f"thread{n}", i) for n in range(8) for i in range(50))
