"""SSM Parameter Store value sizes and tiers, as AWS has them.

AWS behaviour reproduced (Systems Manager User Guide, "Managing parameter tiers",
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
from typing import Any

STANDARD_MAX = 4096
ADVANCED_MAX = 8192
TOO_BIG = ("Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger "
           "parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see "
           "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")


def _import_moto_ssm() -> Any:
    """``moto.ssm.models``, imported with the caller's AWS profile hidden: it imports ``moto.ec2``,
    which builds a boto3 Session at import time (for its region list), and a profile that does not
    exist here (``provision demo`` masks the caller's configuration only after the sandbox starts)
    would make that fail. The profile plays no part in the region list."""
    hidden = {k: os.environ.pop(k) for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE") if k in os.environ}
    try:
        from moto.ssm import models as ssm_models
    finally:
        os.environ.update(hidden)
    return ssm_models


def apply() -> None:
    """PutParameter: size limits per tier; Intelligent-Tiering resolves to Standard or Advanced."""
    ssm_models = _import_moto_ssm()
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
