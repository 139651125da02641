"""Start independent reads at once and collect them later (one round trip instead of several).

A reconciler's ``read`` starts the sub-resource reads of what it does not declare together with its
own, and collects them at the end: ``extras = start({...})`` ... ``extras()`` -> results by key.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable


def start(calls: dict[str, Callable[[], Any]]) -> Callable[[], dict[str, Any]]:
    """Run every call in its own thread now; the returned function waits and returns the results by
    key (raising the first error, in key order)."""
    if not calls:
        return dict
    pool = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="read-extra")
    futures: dict[str, Future] = {k: pool.submit(fn) for k, fn in calls.items()}
    pool.shutdown(wait=False)

    def collect() -> dict[str, Any]:
        return {k: f.result() for k, f in futures.items()}

    return collect
