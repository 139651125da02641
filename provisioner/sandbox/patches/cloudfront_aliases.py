"""CloudFront: one distribution per alternate domain name (CNAME), as AWS enforces it.

AWS behaviour reproduced (CloudFront API reference):

- https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateDistribution.html#API_CreateDistribution_Errors
  (and CreateDistributionWithTags): ``CNAMEAlreadyExists`` "The CNAME specified is already defined
  for CloudFront." (HTTP 409) when an alias of the new distribution is already an alias of another
  distribution.
- https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html#API_UpdateDistribution_Errors:
  the same error when an update adds an alias another distribution has.

moto 5.2.1 accepts any number of distributions with the same alias, so a tool that creates a twin
instead of adopting the distribution that serves the name would pass against it and fail on AWS.
Exact names only (AWS also refuses some overlapping wildcards; the stack uses none).
"""

from __future__ import annotations

from typing import Any

from moto.cloudfront import models as cf_models

from ._common import cf_error


def aliases_of(config: Any) -> set[str]:
    """The aliases of a DistributionConfig (request dict or moto's parsed config object)."""
    raw = config.get("Aliases") if isinstance(config, dict) else getattr(config, "Aliases", None)
    items = (raw or {}).get("Items") if isinstance(raw, dict) else None
    if isinstance(items, dict):  # the XML parse: {"CNAME": "a"} or {"CNAME": ["a", "b"]}
        items = items.get("CNAME")
    if isinstance(items, str):
        items = [items]
    return {str(i).lower().rstrip(".") for i in items or [] if i}


def _check_free(backend: Any, config: dict[str, Any], own_id: str | None = None) -> None:
    """CNAMEAlreadyExists for an alias another distribution has. A create that repeats the
    CallerReference of an existing distribution is that distribution's request again: CloudFront
    answers it by CallerReference (the original, or ``DistributionAlreadyExists`` when the config
    differs: CreateDistribution API reference, CallerReference), never with CNAMEAlreadyExists."""
    wanted = aliases_of(config)
    if not wanted:
        return
    ref = config.get("CallerReference") if own_id is None else None
    for dist_id, dist in backend.distributions.items():
        if ref is not None and dist.distribution_config.caller_reference == ref:
            continue
        if dist_id != own_id and wanted & aliases_of(dist.distribution_config):
            raise cf_error("CNAMEAlreadyExists", "The CNAME specified is already defined for CloudFront.")


def apply() -> None:
    Backend = cf_models.CloudFrontBackend
    orig_create = Backend.create_distribution_with_tags
    orig_update = Backend.update_distribution

    def create_distribution_with_tags(self: Any, distribution_config: dict[str, Any], tags: Any) -> Any:
        _check_free(self, distribution_config)
        return orig_create(self, distribution_config, tags)

    def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any) -> Any:
        _check_free(self, dist_config or {}, _id)
        return orig_update(self, dist_config, _id, if_match)

    Backend.create_distribution_with_tags = create_distribution_with_tags
    Backend.update_distribution = update_distribution
