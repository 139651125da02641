"""CloudFront distributions, their origins, tags and invalidations, as AWS has them.

AWS behaviour reproduced (CloudFront API reference, https://docs.aws.amazon.com/cloudfront/latest/APIReference/):

- API_Origin.html, API_S3OriginConfig.html: an origin keeps ``S3OriginConfig`` (an empty
  ``OriginAccessIdentity`` with OAC) and ``OriginAccessControlId`` exactly as sent.
- API_CreateDistribution.html#API_CreateDistribution_Errors and
  API_UpdateDistribution.html#API_UpdateDistribution_Errors: an ``OriginAccessIdentity`` naming no
  existing OAI is ``InvalidOriginAccessIdentity``; an update may not change ``CallerReference``
  (``IllegalUpdate``).
- API_Distribution.html: the ARN is ``arn:aws:cloudfront::ACCOUNT:distribution/ID`` (no region);
  ``Status`` is ``InProgress`` for ``PROVISION_SANDBOX_DEPLOY_SECONDS`` (default 0.5) after a create
  or update, then ``Deployed`` (API_GetDistribution.html / API_Distribution.html: "When the status
  is Deployed, the distribution's information is fully propagated to all CloudFront edge
  locations"; AWS announced in 2020 that configuration changes propagate "within 5 minutes", the
  older Developer Guide said up to 15; issue 21's bench uses 240 s); ``LastModifiedTime`` is the
  time of the last change (moto's ``/moto-api/state-manager`` transitions no longer drive
  distribution status; unpatched moto answers Deployed on the first read).
- API_UpdateDistribution.html, API_DeleteDistribution.html: the ETag changes on every update; a
  stale ``IfMatch`` is ``PreconditionFailed`` (412); deleting an enabled (or not yet deployed)
  distribution is ``DistributionNotDisabled``.
- API_ListDistributions.html, API_DistributionSummary.html: full summaries, MaxItems/Marker/NextMarker.
- API_ListTagsForResource.html and the service authorization reference
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html):
  tags live under the distribution ARN; tagging the ARN of a distribution that does not exist is
  ``NoSuchResource``.
- API_Invalidation.html: invalidation status is ``Completed`` (moto says ``COMPLETED``, which the
  ``invalidation_completed`` waiter never accepts).

This module also adds the backend state of the emulated APIs (OAIs, monitoring subscriptions):
``CloudFrontBackend.__init__`` also runs on reset.
"""

from __future__ import annotations

import os
import time
from typing import Any

from moto.cloudfront import models as cf_models
from moto.cloudfront import responses as cf_responses
from moto.cloudfront.exceptions import NoSuchDistribution
from moto.core.responses import ActionResult
from moto.utilities.utils import get_partition

from ._common import cf_error, check_if_match, int_param, now_iso, page

DEPLOY_SECONDS_ENV = "PROVISION_SANDBOX_DEPLOY_SECONDS"
DEFAULT_DEPLOY_SECONDS = "0.5"
OAI_PREFIX = "origin-access-identity/cloudfront/"


def deploy_seconds() -> float:
    """How long a changed distribution stays InProgress (read on every status read)."""
    try:
        return max(0.0, float(os.environ.get(DEPLOY_SECONDS_ENV, DEFAULT_DEPLOY_SECONDS)))
    except ValueError:
        return float(DEFAULT_DEPLOY_SECONDS)


def mark_changed(dist: Any) -> None:
    dist._sandbox_changed_at = time.monotonic()
    dist.last_modified_time = now_iso()


def check_origin_access(backend: Any, config: dict[str, Any]) -> None:
    """AWS: InvalidOriginAccessIdentity, "The origin access identity is not valid or doesn't exist."
    (CreateDistribution / UpdateDistribution errors)."""
    for origin in (config.get("Origins") or {}).get("Items") or []:
        if not isinstance(origin, dict):
            continue
        oai = ((origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity")) or ""
        if not oai:
            continue
        if not oai.startswith(OAI_PREFIX) or oai[len(OAI_PREFIX):] not in backend.origin_access_identities:
            raise cf_error(
                "InvalidOriginAccessIdentity",
                "The origin access identity is not valid or doesn't exist.",
            )


class _JustChanged:
    """A view of a distribution as the create/update response shows it: InProgress."""

    def __init__(self, dist: Any) -> None:
        self._dist = dist
        self.status = "InProgress"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dist, name)


def _distribution_summary(dist: Any) -> dict[str, Any]:
    cfg = dist.distribution_config
    return {
        "Id": dist.distribution_id,
        "ARN": dist.arn,
        "Status": dist.status,
        "LastModifiedTime": dist.last_modified_time,
        "DomainName": dist.domain_name,
        "Aliases": cfg.Aliases,
        "Origins": cfg.Origins,
        "OriginGroups": cfg.OriginGroups,
        "DefaultCacheBehavior": cfg.DefaultCacheBehavior,
        "CacheBehaviors": cfg.CacheBehaviors,
        "CustomErrorResponses": cfg.CustomErrorResponses,
        "Comment": getattr(cfg, "Comment", ""),
        "PriceClass": cfg.PriceClass,
        "Enabled": cfg.Enabled,
        "ViewerCertificate": cfg.ViewerCertificate,
        "Restrictions": cfg.Restrictions,
        "WebACLId": cfg.WebACLId,
        "HttpVersion": cfg.HttpVersion,
        "IsIPV6Enabled": cfg.IsIPV6Enabled,
        "AliasICPRecordals": [],
        "Staging": bool(getattr(cfg, "Staging", False)),
    }


def _in_progress(fn: Any) -> Any:
    """A create/update response handler whose Distribution shows Status InProgress."""

    def wrapper(self: Any) -> ActionResult:
        result = fn(self)
        body = dict(result.result)
        body["Distribution"] = _JustChanged(body["Distribution"])
        return ActionResult(body)

    wrapper.__name__ = fn.__name__
    return wrapper


def apply() -> None:
    """Patch moto's CloudFront origins, distributions, tags and invalidations."""
    Origin = cf_models.Origin
    Distribution = cf_models.Distribution
    Backend = cf_models.CloudFrontBackend
    Response = cf_responses.CloudFrontResponse
    random_id = cf_models.random_id

    # -- origins: keep S3OriginConfig / OriginAccessControlId exactly as sent ---------------
    orig_origin_init = Origin.__init__

    def origin_init(self: Any, origin: dict[str, Any]) -> None:
        s3 = origin.get("S3OriginConfig")
        if s3 is not None:
            s3 = dict(s3)
            # An empty <OriginAccessIdentity/> (the form used with OAC) parses as None.
            if s3.get("OriginAccessIdentity") is None:
                s3["OriginAccessIdentity"] = ""
            origin["S3OriginConfig"] = s3
        orig_origin_init(self, origin)
        # moto's serializer reads these by the model's member names (snake_case form).
        self.s3_origin_config = s3
        self.origin_access_control_id = origin.get("OriginAccessControlId")

    Origin.__init__ = origin_init

    # -- distributions: real ARN, LastModifiedTime, time-based status -------------------------
    orig_dist_init = Distribution.__init__

    def dist_init(self: Any, account_id: str, region_name: str, config: dict[str, Any]) -> None:
        orig_dist_init(self, account_id, region_name, config)
        # AWS: arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE (no region).
        self.arn = f"arn:{get_partition(region_name)}:cloudfront::{account_id}:distribution/{self.distribution_id}"
        mark_changed(self)

    def dist_status_get(self: Any) -> str:
        changed = getattr(self, "_sandbox_changed_at", None)
        if changed is not None and time.monotonic() - changed < deploy_seconds():
            return "InProgress"
        return "Deployed"

    def dist_status_set(self: Any, value: str) -> None:  # moto's ManagedState may assign it
        pass

    Distribution.__init__ = dist_init
    Distribution.status = property(dist_status_get, dist_status_set)

    # -- backend state for the new APIs; __init__ also runs on reset --------------------------
    orig_backend_init = Backend.__init__

    def backend_init(self: Any, region_name: str, account_id: str) -> None:
        orig_backend_init(self, region_name, account_id)
        self.origin_access_identities = {}  # id -> cloudfront_access.OriginAccessIdentity
        self.monitoring_subscriptions = {}  # distribution id -> its MonitoringSubscription

    Backend.__init__ = backend_init

    # -- distributions: origin access identity references must exist -------------------------
    orig_create_with_tags = Backend.create_distribution_with_tags

    def create_distribution_with_tags(self: Any, distribution_config: dict[str, Any], tags: Any) -> Any:
        check_origin_access(self, distribution_config)
        return orig_create_with_tags(self, distribution_config, tags)

    Backend.create_distribution_with_tags = create_distribution_with_tags

    # -- distributions: ETag, IfMatch, delete rules -------------------------------------------
    orig_update = Backend.update_distribution

    def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any) -> Any:
        if _id is None or _id not in self.distributions:
            raise NoSuchDistribution()
        dist = self.distributions[_id]
        check_if_match(if_match, dist.etag)
        if dist_config and dist_config.get("CallerReference") != dist.distribution_config.caller_reference:
            # AWS: the CallerReference of a distribution cannot be changed.
            raise cf_error("IllegalUpdate", "Origin and CallerReference cannot be updated.")
        check_origin_access(self, dist_config or {})
        dist, location, _ = orig_update(self, dist_config, _id, if_match)
        dist.etag = random_id()  # AWS: every change gives a new ETag
        mark_changed(dist)
        return dist, location, dist.etag

    def delete_distribution(self: Any, distribution_id: str, if_match: Any) -> None:
        if distribution_id not in self.distributions:
            raise NoSuchDistribution()
        dist = self.distributions[distribution_id]
        check_if_match(if_match, dist.etag)
        if dist.distribution_config.Enabled or dist.status != "Deployed":
            raise cf_error(
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled.",
            )
        del self.distributions[distribution_id]
        from . import acm  # ACM keeps listing the deleted distribution in InUseBy for a while

        vc = getattr(dist.distribution_config, "ViewerCertificate", None)
        acm.note_distribution_deleted(dist.arn, getattr(vc, "acm_certificate_arn", "") or "")
        self.tagger.delete_all_tags_for_resource(dist.arn)
        self.monitoring_subscriptions.pop(distribution_id, None)
        self.invalidations.pop(distribution_id, None)

    Backend.update_distribution = update_distribution
    Backend.delete_distribution = delete_distribution

    def list_distributions(self: Any) -> ActionResult:
        marker = self._get_param("Marker") or ""
        max_items = int_param(self._get_param("MaxItems"), 100)
        dists = self.backend.list_distributions()
        items, next_marker = page(dists, marker, max_items, lambda d: d.distribution_id)
        dist_list: dict[str, Any] = {
            "Marker": marker,
            "MaxItems": max_items,
            "IsTruncated": next_marker is not None,
            "Quantity": len(items),
            "Items": [_distribution_summary(d) for d in items] or None,
        }
        if next_marker is not None:
            dist_list["NextMarker"] = next_marker
        return ActionResult({"DistributionList": dist_list})

    Response.list_distributions = list_distributions

    Response.create_distribution = _in_progress(Response.create_distribution)
    Response.create_distribution_with_tags = _in_progress(Response.create_distribution_with_tags)
    Response.update_distribution = _in_progress(Response.update_distribution)

    # -- tags: only existing distributions can be tagged --------------------------------------
    def _check_tag_resource(backend: Any, resource: str) -> None:
        if ":distribution/" in (resource or "") and resource not in {
            d.arn for d in backend.distributions.values()
        }:
            raise cf_error("NoSuchResource", "The specified resource does not exist.")

    for name in ("list_tags_for_resource", "tag_resource", "untag_resource"):
        orig_tag_fn = getattr(Backend, name)

        def tag_wrapper(self: Any, resource: str, *args: Any, _orig: Any = orig_tag_fn, **kw: Any) -> Any:
            _check_tag_resource(self, resource)
            return _orig(self, resource, *args, **kw)

        tag_wrapper.__name__ = name
        setattr(Backend, name, tag_wrapper)

    # -- invalidations: AWS status values are "InProgress" and "Completed" (moto: COMPLETED,
    # which the invalidation_completed waiter never accepts) ---------------------------------
    orig_inval_init = cf_models.Invalidation.__init__

    def inval_init(self: Any, *args: Any, **kwargs: Any) -> None:
        orig_inval_init(self, *args, **kwargs)
        self.status = "Completed"

    cf_models.Invalidation.__init__ = inval_init
