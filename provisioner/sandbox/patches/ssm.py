"""SSM Parameter Store as AWS has it: one write at a time per parameter; value sizes and tiers.

1. AWS behaviour reproduced (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html,
Errors): ``TooManyUpdates``, "There are concurrent updates for a resource that supports one update at
a time", answered to a PutParameter while another write to the same parameter is still being applied
(two runs racing for the apply lock, ``provisioner/lock.py``). botocore's standard retry mode does not
retry this code. moto 5.2.1 applies writes one after the other and never answers it.

The sandbox models "still being applied" as a window after each PutParameter/DeleteParameter of a
name: ``PROVISION_SANDBOX_SSM_UPDATE_SECONDS`` (0 s: off unless a test asks, so the suite's own
direct writes to the lock parameter are not refused).

2. Value sizes and tiers. AWS behaviour reproduced (Systems Manager User Guide, "Managing parameter tiers",
https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html,
and the PutParameter API reference,
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html):

- a standard parameter holds at most 4 KB, an advanced one at most 8 KB; a larger value for a
  standard parameter is ``ValidationException`` ("Standard tier parameters support a maximum
  parameter value of 4096 characters...");
- ``Tier="Intelligent-Tiering"`` makes the parameter standard when the request fits it and advanced
  when it does not (the value is over 4 KB); the parameter and PutParameter's answer then say
  ``Standard`` or ``Advanced``, never "Intelligent-Tiering";
- an advanced parameter cannot go back to standard (``ValidationException``); overwriting it keeps
  it advanced.

moto 5.2.1 stores any size in any tier and echoes "Intelligent-Tiering" as the tier.
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


STANDARD_MAX = 4096
ADVANCED_MAX = 8192
TOO_BIG = ("Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger "
           "parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see "
           "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")


def apply_tiers() -> None:
    """PutParameter: size limits per tier; Intelligent-Tiering resolves to Standard or Advanced."""
    from moto.ssm import models as ssm_models
    from moto.ssm.exceptions import ValidationException

    Backend = ssm_models.SimpleSystemManagerBackend
    orig_put = Backend.put_parameter

    def put_parameter(self: Any, name: str, description: str, value: str, parameter_type: str,
                      allowed_pattern: str, keyid: str, overwrite: bool, tags: Any, data_type: str,
                      tier: str | None, policies: str | None) -> Any:
        versions = self._parameters.get(name) or []
        previous = versions[-1].tier if versions else None
        wanted = tier or previous or self.default_parameter_tier or "Standard"
        if wanted == "Intelligent-Tiering":
            wanted = "Advanced" if previous == "Advanced" or len(value or "") > STANDARD_MAX else "Standard"
        if previous == "Advanced" and wanted == "Standard":
            raise ValidationException("This parameter uses the advanced-parameter tier. You can't downgrade a "
                                      "parameter from the advanced-parameter tier to the standard-parameter tier.")
        if len(value or "") > (ADVANCED_MAX if wanted == "Advanced" else STANDARD_MAX):
            raise ValidationException(TOO_BIG if wanted == "Standard" else
                                      "1 validation error detected: Value at 'value' failed to satisfy constraint: "
                                      f"Member must have length less than or equal to {ADVANCED_MAX}")
        return orig_put(self, name, description, value, parameter_type, allowed_pattern, keyid, overwrite, tags,
                        data_type, wanted, policies)

    Backend.put_parameter = put_parameter
