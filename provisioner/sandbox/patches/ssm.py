"""SSM Parameter Store as AWS has it: one write at a time per parameter.

AWS behaviour reproduced (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html,
Errors): ``TooManyUpdates``, "There are concurrent updates for a resource that supports one update at
a time", answered to a PutParameter while another write to the same parameter is still being applied
(two runs racing for the apply lock, ``provisioner/lock.py``). botocore's standard retry mode does not
retry this code. moto 5.2.1 applies writes one after the other and never answers it.

The sandbox models "still being applied" as a window after each PutParameter/DeleteParameter of a
name: ``PROVISION_SANDBOX_SSM_UPDATE_SECONDS`` (0 s: off unless a test asks, so the suite's own
direct writes to the lock parameter are not refused).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from moto.ssm import responses as ssm_responses
from moto.ssm.exceptions import SSMException

_lock = threading.Lock()
_written: dict[str, float] = {}  # parameter name -> when a write of it was last accepted


def _window() -> float:
    try:
        return max(0.0, float(os.environ.get("PROVISION_SANDBOX_SSM_UPDATE_SECONDS", "0")))
    except ValueError:
        return 0.0


def _claim(name: str) -> float | None:
    """Refuse a write while the previous one of ``name`` is in its window; else start a new window
    (-> the previous start, to put back if this write is refused for another reason)."""
    now = time.monotonic()
    with _lock:
        last = _written.get(name)
        if last is not None and now - last < _window():
            raise SSMException("TooManyUpdates",
                               "There are concurrent updates for a resource that supports one update at a time.")
        _written[name] = now
        return last


def _unclaim(name: str, last: float | None) -> None:
    with _lock:
        if last is None:
            _written.pop(name, None)
        else:
            _written[name] = last


def apply() -> None:
    """PutParameter answers TooManyUpdates inside the window of another write of the same name."""
    Response = ssm_responses.SimpleSystemManagerResponse
    orig_put = Response.put_parameter
    orig_delete = Response.delete_parameter

    def put_parameter(self: Any) -> Any:
        name = self._get_param("Name")
        last = _claim(name)
        try:
            return orig_put(self)
        except Exception:
            _unclaim(name, last)  # refused (ParameterAlreadyExists...): nothing was written
            raise

    def delete_parameter(self: Any) -> Any:
        out = orig_delete(self)
        with _lock:
            _written[self._get_param("Name")] = time.monotonic()
        return out

    Response.put_parameter = put_parameter
    Response.delete_parameter = delete_parameter
