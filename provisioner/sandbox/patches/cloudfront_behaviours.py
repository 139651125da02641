"""CloudFront cache behaviours keep their function associations, as AWS has them.

AWS behaviour reproduced (CloudFront API reference): a default or path cache behaviour keeps
``FunctionAssociations`` (CloudFront Functions) and ``LambdaFunctionAssociations`` (Lambda@Edge)
exactly as sent, and ``GetDistributionConfig`` returns them
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DefaultCacheBehavior.html,
https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CacheBehavior.html,
API_FunctionAssociations.html, API_LambdaFunctionAssociations.html). moto 5.2.1 accepts them and
always answers ``Quantity: 0``, so a function attached by hand would be invisible.
"""

from __future__ import annotations

from typing import Any

from moto.cloudfront import models as cf_models


def apply() -> None:
    """DefaultCacheBehaviour (and CacheBehaviour, its subclass) keep both association lists."""
    Behaviour = cf_models.DefaultCacheBehaviour
    orig_init = Behaviour.__init__

    def behaviour_init(self: Any, config: dict[str, Any]) -> None:
        orig_init(self, config)
        for key, attr in (("FunctionAssociations", "function_associations"),
                          ("LambdaFunctionAssociations", "lambda_function_associations")):
            block = config.get(key) or {}
            items = block.get("Items") or []
            setattr(self, attr, {"Quantity": len(items), "Items": items} if items else {"Quantity": 0})

    Behaviour.__init__ = behaviour_init
