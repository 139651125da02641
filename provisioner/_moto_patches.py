"""Patches that make moto 5.2.1 behave like AWS where it does not.

Imported only by ``provisioner.sandbox.apply_patches`` (which checks the moto version
first). Every patch names the AWS behaviour it restores; the tests in
``tests/test_moto_patches.py`` state the same behaviour with the API reference and fail on
unpatched moto. moto 5.2.1 serialises responses from the botocore service model, reading
attributes by their model name or its snake_case form, so most patches only keep the data
that moto dropped and let moto's serializer write the XML/JSON.

Patches (see ``/work/shared/notes/moto-5.2.1.md`` for what moto does unpatched):

CloudFront
  * Origins keep ``S3OriginConfig`` and ``OriginAccessControlId`` exactly as sent; an
    ``OriginAccessIdentity`` naming no existing OAI is ``InvalidOriginAccessIdentity``; an
    update may not change ``CallerReference`` (``IllegalUpdate``).
  * Distribution ARN is ``arn:aws:cloudfront::ACCOUNT:distribution/ID``; tags live under
    it; tagging an ARN of a distribution that does not exist is ``NoSuchResource``.
  * ListDistributions: full ``DistributionSummary`` items, MaxItems/Marker/NextMarker.
  * ETags change on every update; a stale ``IfMatch`` is ``PreconditionFailed`` (412);
    deleting an enabled (or not yet deployed) distribution is ``DistributionNotDisabled``.
  * Status is ``InProgress`` for ``PROVISION_SANDBOX_DEPLOY_SECONDS`` (default 0.5) after
    create/update, then ``Deployed``; LastModifiedTime is the time of the last change.
    (moto's ``/moto-api/state-manager`` transitions no longer drive distribution status.)
  * Origin access identity API (create/get/get-config/list/update/delete).
  * OAC: ``GetOriginAccessControlConfig``; ``NoSuchOriginAccessControl`` on delete of a
    missing OAC; ETag changes on update; IfMatch checked; in-use and duplicate names refused.
  * Monitoring subscriptions (create/get/delete).
  * Invalidation status ``Completed`` (moto says ``COMPLETED``, which the waiter rejects).
S3
  * New buckets (and buckets after DeleteBucketEncryption) report SSE-S3 (AES256).
CloudWatch
  * DescribeAlarms: alarms in name order, MaxRecords/NextToken.
Route 53
  * ListHostedZonesByName: name order from DNSName/HostedZoneId on, MaxItems, IsTruncated,
    NextDNSName/NextHostedZoneId.
IAM
  * Add/RemoveClientIDTo/FromOpenIDConnectProvider.
ACM
  * ``settings.ACM_VALIDATION_WAIT = 0`` unless ``MOTO_ACM_VALIDATION_WAIT`` is set.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import os
import time
import uuid
from typing import Any

DEPLOY_SECONDS_ENV = "PROVISION_SANDBOX_DEPLOY_SECONDS"
DEFAULT_DEPLOY_SECONDS = "0.5"


def apply() -> None:
    """Apply every patch. Called once, under a lock, by ``sandbox.apply_patches``."""
    _patch_settings()
    _patch_cloudfront()
    _patch_s3()
    _patch_cloudwatch()
    _patch_route53()
    _patch_iam()
    _patch_cloudfront_cache_policies()
    _patch_acm()


# --------------------------------------------------------------------------- settings


def _patch_settings() -> None:
    from moto import settings

    # ACM certificates are ISSUED at once in the sandbox (DNS validation is not simulated),
    # unless the operator asked for a wait explicitly.
    if "MOTO_ACM_VALIDATION_WAIT" not in os.environ:
        settings.ACM_VALIDATION_WAIT = 0


# --------------------------------------------------------------------------- helpers


def _now_iso() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _deploy_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(DEPLOY_SECONDS_ENV, DEFAULT_DEPLOY_SECONDS)))
    except ValueError:
        return float(DEFAULT_DEPLOY_SECONDS)


def _int_param(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    return int(value)


# --------------------------------------------------------------------------- CloudFront


def _patch_cloudfront() -> None:
    from moto.cloudfront import models as cf_models
    from moto.cloudfront import responses as cf_responses
    from moto.cloudfront import urls as cf_urls
    from moto.cloudfront.exceptions import (
        CloudFrontException,
        InvalidIfMatchVersion,
        NoSuchDistribution,
    )
    from moto.core.common_models import BaseModel
    from moto.core.responses import ActionResult, EmptyResult
    from moto.utilities.utils import get_partition

    Origin = cf_models.Origin
    Distribution = cf_models.Distribution
    Backend = cf_models.CloudFrontBackend
    Response = cf_responses.CloudFrontResponse
    random_id = cf_models.random_id

    # Error codes and HTTP statuses come from the botocore model (moto looks them up by code).
    def _err(code: str, message: str) -> Exception:
        return CloudFrontException(code, message)

    def precondition_failed() -> Exception:
        return _err(
            "PreconditionFailed",
            "The precondition given in one or more of the request-header fields evaluated to false.",
        )

    def check_if_match(if_match: Any, etag: str) -> None:
        if not if_match:
            raise InvalidIfMatchVersion()
        if if_match != etag:
            raise precondition_failed()

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
        _mark_changed(self)

    def _mark_changed(dist: Any) -> None:
        dist._sandbox_changed_at = time.monotonic()
        dist.last_modified_time = _now_iso()

    def dist_status_get(self: Any) -> str:
        changed = getattr(self, "_sandbox_changed_at", None)
        if changed is not None and time.monotonic() - changed < _deploy_seconds():
            return "InProgress"
        return "Deployed"

    def dist_status_set(self: Any, value: str) -> None:  # moto's ManagedState may assign it
        pass

    Distribution.__init__ = dist_init
    Distribution.status = property(dist_status_get, dist_status_set)

    class _JustChanged:
        """A view of a distribution as the create/update response shows it: InProgress."""

        def __init__(self, dist: Any) -> None:
            self._dist = dist
            self.status = "InProgress"

        def __getattr__(self, name: str) -> Any:
            return getattr(self._dist, name)

    # -- backend state for the new APIs; __init__ also runs on reset --------------------------
    orig_backend_init = Backend.__init__

    def backend_init(self: Any, region_name: str, account_id: str) -> None:
        orig_backend_init(self, region_name, account_id)
        self.origin_access_identities: dict[str, OriginAccessIdentity] = {}
        self.monitoring_subscriptions: dict[str, dict[str, Any]] = {}

    Backend.__init__ = backend_init

    # -- distributions: origin access identity references must exist -------------------------
    def check_origin_access(backend: Any, config: dict[str, Any]) -> None:
        # AWS: InvalidOriginAccessIdentity, "The origin access identity is not valid or
        # doesn't exist." (CreateDistribution / UpdateDistribution errors).
        for origin in (config.get("Origins") or {}).get("Items") or []:
            if not isinstance(origin, dict):
                continue
            oai = ((origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity")) or ""
            if not oai:
                continue
            prefix = "origin-access-identity/cloudfront/"
            if not oai.startswith(prefix) or oai[len(prefix):] not in backend.origin_access_identities:
                raise _err(
                    "InvalidOriginAccessIdentity",
                    "The origin access identity is not valid or doesn't exist.",
                )

    orig_create_with_tags = Backend.create_distribution_with_tags

    def create_distribution_with_tags(self: Any, distribution_config: dict[str, Any], tags: Any):
        check_origin_access(self, distribution_config)
        return orig_create_with_tags(self, distribution_config, tags)

    Backend.create_distribution_with_tags = create_distribution_with_tags

    # -- distributions: ETag, IfMatch, delete rules -------------------------------------------
    orig_update = Backend.update_distribution

    def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any):
        if _id is None or _id not in self.distributions:
            raise NoSuchDistribution()
        dist = self.distributions[_id]
        check_if_match(if_match, dist.etag)
        if dist_config and dist_config.get("CallerReference") != dist.distribution_config.caller_reference:
            # AWS: the CallerReference of a distribution cannot be changed.
            raise _err("IllegalUpdate", "Origin and CallerReference cannot be updated.")
        check_origin_access(self, dist_config or {})
        dist, location, _ = orig_update(self, dist_config, _id, if_match)
        dist.etag = random_id()  # AWS: every change gives a new ETag
        _mark_changed(dist)
        return dist, location, dist.etag

    def delete_distribution(self: Any, distribution_id: str, if_match: Any) -> None:
        if distribution_id not in self.distributions:
            raise NoSuchDistribution()
        dist = self.distributions[distribution_id]
        check_if_match(if_match, dist.etag)
        if dist.distribution_config.Enabled or dist.status != "Deployed":
            raise _err(
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled.",
            )
        del self.distributions[distribution_id]
        self.tagger.delete_all_tags_for_resource(dist.arn)
        self.monitoring_subscriptions.pop(distribution_id, None)
        self.invalidations.pop(distribution_id, None)

    Backend.update_distribution = update_distribution
    Backend.delete_distribution = delete_distribution

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

    def _page(items: list[Any], marker: str, max_items: int, key: Any) -> tuple[list[Any], str | None]:
        """AWS CloudFront paging: results start after the item whose id is Marker."""
        start = 0
        if marker:
            ids = [key(i) for i in items]
            start = ids.index(marker) + 1 if marker in ids else len(items)
        page = items[start : start + max_items]
        more = start + max_items < len(items)
        return page, (key(page[-1]) if more and page else None)

    def list_distributions(self: Any) -> ActionResult:
        marker = self._get_param("Marker") or ""
        max_items = _int_param(self._get_param("MaxItems"), 100)
        dists = self.backend.list_distributions()
        page, next_marker = _page(dists, marker, max_items, lambda d: d.distribution_id)
        dist_list: dict[str, Any] = {
            "Marker": marker,
            "MaxItems": max_items,
            "IsTruncated": next_marker is not None,
            "Quantity": len(page),
            "Items": [_distribution_summary(d) for d in page] or None,
        }
        if next_marker is not None:
            dist_list["NextMarker"] = next_marker
        return ActionResult({"DistributionList": dist_list})

    Response.list_distributions = list_distributions

    orig_create_resp = Response.create_distribution
    orig_create_tags_resp = Response.create_distribution_with_tags
    orig_update_resp = Response.update_distribution

    def _in_progress(fn: Any) -> Any:
        def wrapper(self: Any) -> ActionResult:
            result = fn(self)
            body = dict(result.result)  # type: ignore[arg-type]
            body["Distribution"] = _JustChanged(body["Distribution"])
            return ActionResult(body)

        wrapper.__name__ = fn.__name__
        return wrapper

    Response.create_distribution = _in_progress(orig_create_resp)
    Response.create_distribution_with_tags = _in_progress(orig_create_tags_resp)
    Response.update_distribution = _in_progress(orig_update_resp)

    # -- tags: only existing distributions can be tagged --------------------------------------
    def _check_tag_resource(backend: Any, resource: str) -> None:
        if ":distribution/" in (resource or "") and resource not in {
            d.arn for d in backend.distributions.values()
        }:
            raise _err("NoSuchResource", "The specified resource does not exist.")

    for name in ("list_tags_for_resource", "tag_resource", "untag_resource"):
        orig_tag_fn = getattr(Backend, name)

        def tag_wrapper(self: Any, resource: str, *args: Any, _orig: Any = orig_tag_fn, **kw: Any) -> Any:
            _check_tag_resource(self, resource)
            return _orig(self, resource, *args, **kw)

        tag_wrapper.__name__ = name
        setattr(Backend, name, tag_wrapper)

    # -- origin access control ----------------------------------------------------------------
    orig_create_oac = Backend.create_origin_access_control

    def create_origin_access_control(self: Any, config_dict: dict[str, str]) -> Any:
        name = config_dict.get("Name")
        if any(c.name == name for c in self.origin_access_controls.values()):
            raise _err(
                "OriginAccessControlAlreadyExists",
                f"An origin access control with name {name} already exists.",
            )
        return orig_create_oac(self, config_dict)

    def update_origin_access_control(self: Any, control_id: str, config: dict[str, str], if_match: Any = None) -> Any:
        control = self.get_origin_access_control(control_id)
        check_if_match(if_match, control.etag)
        control.update(config)
        control.etag = random_id()
        return control

    def delete_origin_access_control(self: Any, control_id: str, if_match: Any = None) -> None:
        control = self.get_origin_access_control(control_id)  # NoSuchOriginAccessControl
        check_if_match(if_match, control.etag)
        for dist in self.distributions.values():
            for origin in dist.distribution_config.Origins["Items"]:
                if getattr(origin, "origin_access_control_id", None) == control_id:
                    raise _err(
                        "OriginAccessControlInUse",
                        "Cannot delete the origin access control because it's in use by one or more distributions.",
                    )
        del self.origin_access_controls[control_id]

    Backend.create_origin_access_control = create_origin_access_control
    Backend.update_origin_access_control = update_origin_access_control
    Backend.delete_origin_access_control = delete_origin_access_control

    def resp_update_oac(self: Any) -> ActionResult:
        control_id = self._get_param("Id")
        config = self._get_param("OriginAccessControlConfig", {})
        control = self.backend.update_origin_access_control(
            control_id, config, if_match=self._get_param("IfMatch")
        )
        return ActionResult(
            {
                "OriginAccessControl": {"Id": control.id, "OriginAccessControlConfig": control},
                "ETag": control.etag,
            }
        )

    def resp_delete_oac(self: Any) -> ActionResult:
        self.backend.delete_origin_access_control(
            self._get_param("Id"), if_match=self._get_param("IfMatch")
        )
        return EmptyResult()

    def resp_get_oac_config(self: Any) -> ActionResult:
        control = self.backend.get_origin_access_control(self._get_param("Id"))
        return ActionResult({"OriginAccessControlConfig": control, "ETag": control.etag})

    Response.update_origin_access_control = resp_update_oac
    Response.delete_origin_access_control = resp_delete_oac
    Response.get_origin_access_control_config = resp_get_oac_config

    # -- invalidations: AWS status values are "InProgress" and "Completed" (moto: COMPLETED,
    # which the invalidation_completed waiter never accepts) ---------------------------------
    orig_inval_init = cf_models.Invalidation.__init__

    def inval_init(self: Any, *args: Any, **kwargs: Any) -> None:
        orig_inval_init(self, *args, **kwargs)
        self.status = "Completed"

    cf_models.Invalidation.__init__ = inval_init

    # -- origin access identity (moto has no such API) ----------------------------------------
    class OriginAccessIdentity(BaseModel):
        def __init__(self, caller_reference: str, comment: str) -> None:
            self.id = "E" + random_id(length=13)
            self.caller_reference = caller_reference
            self.comment = comment
            self.s3_canonical_user_id = hashlib.sha256(
                f"{self.id}:{uuid.uuid4()}".encode()
            ).hexdigest()
            self.etag = random_id()

        @property
        def cloud_front_origin_access_identity_config(self) -> dict[str, str]:
            return {"CallerReference": self.caller_reference, "Comment": self.comment}

        @property
        def location(self) -> str:
            return f"https://cloudfront.amazonaws.com/2020-05-31/origin-access-identity/cloudfront/{self.id}"

    def no_such_oai() -> Exception:
        return _err(
            "NoSuchCloudFrontOriginAccessIdentity",
            "The specified origin access identity does not exist.",
        )

    def get_oai(self: Any, oai_id: str) -> OriginAccessIdentity:
        if oai_id not in self.origin_access_identities:
            raise no_such_oai()
        return self.origin_access_identities[oai_id]

    def create_oai(self: Any, config: dict[str, Any]) -> tuple[OriginAccessIdentity, bool]:
        caller_ref = config.get("CallerReference") or ""
        comment = config.get("Comment") or ""
        for oai in self.origin_access_identities.values():
            if oai.caller_reference == caller_ref:
                if oai.comment == comment:
                    return oai, False  # same request again: the original answer
                raise _err(
                    "CloudFrontOriginAccessIdentityAlreadyExists",
                    "If the CallerReference is a value you already sent in a previous request to "
                    "create an identity but the content of the CloudFrontOriginAccessIdentityConfig "
                    "is different from the original request, CloudFront returns a "
                    "CloudFrontOriginAccessIdentityAlreadyExists error.",
                )
        oai = OriginAccessIdentity(caller_ref, comment)
        self.origin_access_identities[oai.id] = oai
        return oai, True

    def update_oai(self: Any, oai_id: str, config: dict[str, Any], if_match: Any) -> OriginAccessIdentity:
        oai = self.get_cloud_front_origin_access_identity(oai_id)
        check_if_match(if_match, oai.etag)
        if (config.get("CallerReference") or "") != oai.caller_reference:
            raise _err("IllegalUpdate", "Origin and CallerReference cannot be updated.")
        oai.comment = config.get("Comment") or ""
        oai.etag = random_id()
        return oai

    def delete_oai(self: Any, oai_id: str, if_match: Any) -> None:
        oai = self.get_cloud_front_origin_access_identity(oai_id)
        check_if_match(if_match, oai.etag)
        ref = f"origin-access-identity/cloudfront/{oai_id}"
        for dist in self.distributions.values():
            for origin in dist.distribution_config.Origins["Items"]:
                s3 = getattr(origin, "s3_origin_config", None) or {}
                if s3.get("OriginAccessIdentity") == ref:
                    raise _err(
                        "CloudFrontOriginAccessIdentityInUse",
                        "The CloudFront origin access identity is still being used.",
                    )
        del self.origin_access_identities[oai_id]

    Backend.get_cloud_front_origin_access_identity = get_oai
    Backend.create_cloud_front_origin_access_identity = create_oai
    Backend.update_cloud_front_origin_access_identity = update_oai
    Backend.delete_cloud_front_origin_access_identity = delete_oai

    def _oai_result(oai: OriginAccessIdentity) -> dict[str, Any]:
        return {
            "Id": oai.id,
            "S3CanonicalUserId": oai.s3_canonical_user_id,
            "CloudFrontOriginAccessIdentityConfig": oai.cloud_front_origin_access_identity_config,
        }

    def resp_create_oai(self: Any) -> ActionResult:
        config = self._get_param("CloudFrontOriginAccessIdentityConfig", {}) or {}
        oai, _created = self.backend.create_cloud_front_origin_access_identity(config)
        return ActionResult(
            {
                "CloudFrontOriginAccessIdentity": _oai_result(oai),
                "Location": oai.location,
                "ETag": oai.etag,
            }
        )

    def resp_get_oai(self: Any) -> ActionResult:
        oai = self.backend.get_cloud_front_origin_access_identity(self._get_param("Id"))
        return ActionResult({"CloudFrontOriginAccessIdentity": _oai_result(oai), "ETag": oai.etag})

    def resp_get_oai_config(self: Any) -> ActionResult:
        oai = self.backend.get_cloud_front_origin_access_identity(self._get_param("Id"))
        return ActionResult(
            {
                "CloudFrontOriginAccessIdentityConfig": oai.cloud_front_origin_access_identity_config,
                "ETag": oai.etag,
            }
        )

    def resp_list_oais(self: Any) -> ActionResult:
        marker = self._get_param("Marker") or ""
        max_items = _int_param(self._get_param("MaxItems"), 100)
        oais = list(self.backend.origin_access_identities.values())
        page, next_marker = _page(oais, marker, max_items, lambda o: o.id)
        oai_list: dict[str, Any] = {
            "Marker": marker,
            "MaxItems": max_items,
            "IsTruncated": next_marker is not None,
            "Quantity": len(page),
            "Items": [
                {"Id": o.id, "S3CanonicalUserId": o.s3_canonical_user_id, "Comment": o.comment}
                for o in page
            ]
            or None,
        }
        if next_marker is not None:
            oai_list["NextMarker"] = next_marker
        return ActionResult({"CloudFrontOriginAccessIdentityList": oai_list})

    def resp_update_oai(self: Any) -> ActionResult:
        oai = self.backend.update_cloud_front_origin_access_identity(
            self._get_param("Id"),
            self._get_param("CloudFrontOriginAccessIdentityConfig", {}) or {},
            self._get_param("IfMatch"),
        )
        return ActionResult({"CloudFrontOriginAccessIdentity": _oai_result(oai), "ETag": oai.etag})

    def resp_delete_oai(self: Any) -> ActionResult:
        self.backend.delete_cloud_front_origin_access_identity(
            self._get_param("Id"), self._get_param("IfMatch")
        )
        return EmptyResult()

    Response.create_cloud_front_origin_access_identity = resp_create_oai
    Response.get_cloud_front_origin_access_identity = resp_get_oai
    Response.get_cloud_front_origin_access_identity_config = resp_get_oai_config
    Response.list_cloud_front_origin_access_identities = resp_list_oais
    Response.update_cloud_front_origin_access_identity = resp_update_oai
    Response.delete_cloud_front_origin_access_identity = resp_delete_oai

    # -- monitoring subscriptions (moto has no such API) --------------------------------------
    def no_such_subscription() -> Exception:
        return _err(
            "NoSuchMonitoringSubscription",
            "A monitoring subscription does not exist for the specified distribution.",
        )

    def resp_create_monitoring(self: Any) -> ActionResult:
        dist_id = self._get_param("DistributionId")
        self.backend.get_distribution(dist_id)  # NoSuchDistribution
        sub = self._get_param("MonitoringSubscription", {}) or {}
        # AWS answers Create for an existing subscription by replacing it (Terraform's
        # aws_cloudfront_monitoring_subscription updates through CreateMonitoringSubscription).
        self.backend.monitoring_subscriptions[dist_id] = sub
        return ActionResult({"MonitoringSubscription": sub})

    def resp_get_monitoring(self: Any) -> ActionResult:
        dist_id = self._get_param("DistributionId")
        self.backend.get_distribution(dist_id)
        if dist_id not in self.backend.monitoring_subscriptions:
            raise no_such_subscription()
        return ActionResult({"MonitoringSubscription": self.backend.monitoring_subscriptions[dist_id]})

    def resp_delete_monitoring(self: Any) -> ActionResult:
        dist_id = self._get_param("DistributionId")
        self.backend.get_distribution(dist_id)
        if self.backend.monitoring_subscriptions.pop(dist_id, None) is None:
            raise no_such_subscription()
        return EmptyResult()

    Response.create_monitoring_subscription = resp_create_monitoring
    Response.get_monitoring_subscription = resp_get_monitoring
    Response.delete_monitoring_subscription = resp_delete_monitoring

    # -- routes (read when the backend app / mock is set up) ----------------------------------
    dispatch = Response.dispatch
    cf_urls.url_paths.update(
        {
            "{0}/2020-05-31/origin-access-identity/cloudfront$": dispatch,
            "{0}/2020-05-31/origin-access-identity/cloudfront/(?P<oai_id>[^/]+)$": dispatch,
            "{0}/2020-05-31/origin-access-identity/cloudfront/(?P<oai_id>[^/]+)/config$": dispatch,
            "{0}/2020-05-31/distributions/(?P<distribution_id>[^/]+)/monitoring-subscription$": dispatch,
        }
    )


# --------------------------------------------------------------------------- S3


def _patch_s3() -> None:
    from moto.s3 import models as s3_models

    # AWS (since 5 January 2023): every bucket has SSE-S3 default encryption; deleting the
    # bucket's encryption configuration returns it to that default.
    def default_encryption() -> dict[str, Any]:
        return {
            "Rule": {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                "BucketKeyEnabled": "false",
            }
        }

    orig_bucket_init = s3_models.FakeBucket.__init__

    def bucket_init(self: Any, *args: Any, **kwargs: Any) -> None:
        orig_bucket_init(self, *args, **kwargs)
        self.encryption = default_encryption()

    def delete_bucket_encryption(self: Any, bucket_name: str) -> None:
        self.get_bucket(bucket_name).encryption = default_encryption()

    s3_models.FakeBucket.__init__ = bucket_init
    s3_models.S3Backend.delete_bucket_encryption = delete_bucket_encryption


# --------------------------------------------------------------------------- CloudWatch


def _patch_cloudwatch() -> None:
    from moto.cloudwatch import responses as cw_responses
    from moto.cloudwatch.exceptions import CloudWatchException

    Response = cw_responses.CloudWatchResponse
    orig_describe = Response.describe_alarms

    # AWS: alarms come in name order, at most MaxRecords (1-100, default 50) per page, with
    # a NextToken for the rest.
    def describe_alarms(self: Any) -> Any:
        result = orig_describe(self)
        body = result.result
        alarms = sorted(
            list(body["MetricAlarms"]) + list(body["CompositeAlarms"]), key=lambda a: a.name
        )
        max_records = _int_param(self._get_param("MaxRecords"), 50)
        if not 1 <= max_records <= 100:
            raise CloudWatchException(
                "InvalidParameterValue", "The parameter MaxRecords must be between 1 and 100."
            )
        token = self._get_param("NextToken")
        if token:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise CloudWatchException("InvalidNextToken", "The service couldn't process the NextToken.")
            alarms = [a for a in alarms if a.name > after]
        page = alarms[:max_records]
        out: dict[str, Any] = {
            "MetricAlarms": [a for a in page if a.rule is None],
            "CompositeAlarms": [a for a in page if a.rule is not None],
        }
        if len(alarms) > max_records:
            out["NextToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        return type(result)(out)

    Response.describe_alarms = describe_alarms


# --------------------------------------------------------------------------- Route 53


def _patch_route53() -> None:
    from moto.core.responses import ActionResult
    from moto.route53 import responses as r53_responses
    from moto.route53.exceptions import InvalidInput

    Response = r53_responses.Route53

    def reversed_labels(name: str) -> str:
        return ".".join(reversed(name.rstrip(".").lower().split(".")))

    # AWS: zones sorted by name with labels reversed (com.example.www), then by id; the list
    # starts at DNSName (and HostedZoneId) and includes every zone after it, MaxItems (default
    # 100) at a time, with IsTruncated / NextDNSName / NextHostedZoneId.
    def list_hosted_zones_by_name(self: Any) -> ActionResult:
        dns_name = self._get_param("DNSName")
        zone_id = self._get_param("HostedZoneId")
        if zone_id and not dns_name:
            raise InvalidInput("The DNSName must be specified when HostedZoneId is specified.")
        max_items = _int_param(self._get_param("MaxItems"), 100)
        zones = sorted(
            self.backend.zones.values(), key=lambda z: (reversed_labels(z.name), z.resource_id)
        )
        if dns_name:
            dns_name = dns_name if dns_name.endswith(".") else dns_name + "."
            start = (reversed_labels(dns_name), (zone_id or "").split("/")[-1])
            zones = [z for z in zones if (reversed_labels(z.name), z.resource_id) >= start]
        page = zones[:max_items]
        result: dict[str, Any] = {
            "HostedZones": page,
            "IsTruncated": len(zones) > max_items,
            "MaxItems": str(max_items),
        }
        if dns_name:
            result["DNSName"] = dns_name
        if zone_id:
            result["HostedZoneId"] = zone_id
        if len(zones) > max_items:
            nxt = zones[max_items]
            result["NextDNSName"] = nxt.name
            result["NextHostedZoneId"] = nxt.resource_id
        return ActionResult(result)

    Response.list_hosted_zones_by_name = list_hosted_zones_by_name


# --------------------------------------------------------------------------- IAM


def _patch_iam() -> None:
    from moto.core.responses import EmptyResult
    from moto.iam import models as iam_models
    from moto.iam import responses as iam_responses
    from moto.iam.exceptions import IAMException

    Backend = iam_models.IAMBackend
    Response = iam_responses.IamResponse

    # AWS: adding a client ID that is already registered is a no-op; removing one that is not
    # registered is a no-op; an unknown provider is NoSuchEntity; at most 100 client IDs.
    def add_client_id(self: Any, arn: str, client_id: str) -> None:
        provider = self.get_open_id_connect_provider(arn)
        if client_id in provider.client_id_list:
            return
        if len(client_id) > 255 or not client_id:
            raise IAMException("InvalidInput", "ClientID must be between 1 and 255 characters.")
        if len(provider.client_id_list) >= 100:
            raise IAMException("LimitExceeded", "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
        provider.client_id_list.append(client_id)

    def remove_client_id(self: Any, arn: str, client_id: str) -> None:
        provider = self.get_open_id_connect_provider(arn)
        if client_id in provider.client_id_list:
            provider.client_id_list.remove(client_id)

    Backend.add_client_id_to_open_id_connect_provider = add_client_id
    Backend.remove_client_id_from_open_id_connect_provider = remove_client_id

    def resp_add(self: Any) -> Any:
        self.backend.add_client_id_to_open_id_connect_provider(
            self._get_param("OpenIDConnectProviderArn"), self._get_param("ClientID")
        )
        return EmptyResult()

    def resp_remove(self: Any) -> Any:
        self.backend.remove_client_id_from_open_id_connect_provider(
            self._get_param("OpenIDConnectProviderArn"), self._get_param("ClientID")
        )
        return EmptyResult()

    Response.add_client_id_to_open_id_connect_provider = resp_add
    Response.remove_client_id_from_open_id_connect_provider = resp_remove


# --------------------------------------------------------------------------- CloudFront cache policies


def _patch_cloudfront_cache_policies() -> None:
    """CloudFront cache policies (moto 5.2.1 has no such API), as the API reference describes them.

    * CreateCachePolicy / GetCachePolicy / GetCachePolicyConfig / ListCachePolicies (Type
      managed|custom, Marker/MaxItems) / UpdateCachePolicy / DeleteCachePolicy, with an ETag
      that changes on every update and ``IfMatch`` checked (``PreconditionFailed``).
    * ``CachePolicyAlreadyExists`` for a second custom policy with the same name;
      ``NoSuchCachePolicy``; ``CachePolicyInUse`` when a distribution's behaviour names it;
      ``IllegalDelete``/``IllegalUpdate`` for managed policies. The managed policy
      CachingOptimized (658327ea-f89d-4fab-a63d-7e88639e58f6) is listed as Type=managed.
    * Distributions: a ``CachePolicyId`` naming no policy is ``NoSuchCachePolicy``;
      ``ForwardedValues`` together with ``CachePolicyId`` is ``InvalidArgument`` ("The parameter
      ForwardedValues cannot be used when a cache policy is associated to the cache behavior.");
      with a cache policy the behaviour's echo carries no ForwardedValues/MinTTL/DefaultTTL/MaxTTL
      (moto fills in defaults for them).
    """
    import copy

    from moto.cloudfront import models as cf_models
    from moto.cloudfront import responses as cf_responses
    from moto.cloudfront import urls as cf_urls
    from moto.cloudfront.exceptions import CloudFrontException, InvalidIfMatchVersion
    from moto.core.responses import ActionResult, EmptyResult

    Backend = cf_models.CloudFrontBackend
    Response = cf_responses.CloudFrontResponse
    Behaviour = cf_models.DefaultCacheBehaviour
    random_id = cf_models.random_id

    def _err(code: str, message: str) -> Exception:
        return CloudFrontException(code, message)

    def no_such() -> Exception:
        return _err("NoSuchCachePolicy", "The cache policy does not exist.")

    managed_id = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    managed_config = {
        "Comment": "Policy with caching enabled. Supports Gzip and Brotli compression.",
        "Name": "Managed-CachingOptimized",
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
        "MinTTL": 1,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True,
            "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }

    def _policies(backend: Any) -> dict[str, dict[str, Any]]:
        if not hasattr(backend, "_sandbox_cache_policies"):
            backend._sandbox_cache_policies = {
                managed_id: {"id": managed_id, "type": "managed", "config": managed_config,
                             "etag": random_id(), "modified": _now_iso()}
            }
        return backend._sandbox_cache_policies

    def _norm_config(config: dict[str, Any]) -> dict[str, Any]:
        config = copy.deepcopy(config or {})
        for k in ("DefaultTTL", "MaxTTL", "MinTTL"):
            if config.get(k) is not None:
                config[k] = int(config[k])
        return config

    def _get(backend: Any, policy_id: Any) -> dict[str, Any]:
        policy = _policies(backend).get(policy_id or "")
        if policy is None:
            raise no_such()
        return policy

    def _in_use(backend: Any, policy_id: str) -> bool:
        for dist in backend.distributions.values():
            cfg = dist.distribution_config
            behaviours = [cfg.DefaultCacheBehavior] + list((cfg.CacheBehaviors or {}).get("Items") or [])
            if any(getattr(b, "cache_policy_id", "") == policy_id for b in behaviours):
                return True
        return False

    def _result(policy: dict[str, Any]) -> dict[str, Any]:
        return {"Id": policy["id"], "LastModifiedTime": policy["modified"], "CachePolicyConfig": policy["config"]}

    def resp_create(self: Any) -> ActionResult:
        config = _norm_config(self._get_param("CachePolicyConfig", {}))
        name = config.get("Name")
        if any(p["config"].get("Name") == name for p in _policies(self.backend).values()):
            raise _err("CachePolicyAlreadyExists", "A cache policy with this name already exists.")
        policy_id = str(uuid.uuid4())
        policy = {"id": policy_id, "type": "custom", "config": config, "etag": random_id(), "modified": _now_iso()}
        _policies(self.backend)[policy_id] = policy
        return ActionResult({
            "CachePolicy": _result(policy),
            "Location": f"https://cloudfront.amazonaws.com/2020-05-31/cache-policy/{policy_id}",
            "ETag": policy["etag"],
        })

    def resp_get(self: Any) -> ActionResult:
        policy = _get(self.backend, self._get_param("Id"))
        return ActionResult({"CachePolicy": _result(policy), "ETag": policy["etag"]})

    def resp_get_config(self: Any) -> ActionResult:
        policy = _get(self.backend, self._get_param("Id"))
        return ActionResult({"CachePolicyConfig": policy["config"], "ETag": policy["etag"]})

    def resp_list(self: Any) -> ActionResult:
        wanted = self._get_param("Type")
        marker = self._get_param("Marker") or ""
        max_items = _int_param(self._get_param("MaxItems"), 100)
        items = [p for p in _policies(self.backend).values() if not wanted or p["type"] == wanted]
        start = 0
        if marker:
            ids = [p["id"] for p in items]
            start = ids.index(marker) + 1 if marker in ids else len(items)
        page = items[start : start + max_items]
        out: dict[str, Any] = {
            "MaxItems": max_items,
            "Quantity": len(page),
            "Items": [{"Type": p["type"], "CachePolicy": _result(p)} for p in page] or None,
        }
        if start + max_items < len(items) and page:
            out["NextMarker"] = page[-1]["id"]
        return ActionResult({"CachePolicyList": out})

    def resp_update(self: Any) -> ActionResult:
        policy = _get(self.backend, self._get_param("Id"))
        if_match = self._get_param("IfMatch")
        if not if_match:
            raise InvalidIfMatchVersion()
        if if_match != policy["etag"]:
            raise _err("PreconditionFailed",
                       "The precondition given in one or more of the request-header fields evaluated to false.")
        if policy["type"] == "managed":
            raise _err("IllegalUpdate", "Managed cache policies cannot be updated.")
        config = _norm_config(self._get_param("CachePolicyConfig", {}))
        name = config.get("Name")
        if any(p["config"].get("Name") == name and p is not policy for p in _policies(self.backend).values()):
            raise _err("CachePolicyAlreadyExists", "A cache policy with this name already exists.")
        policy.update(config=config, etag=random_id(), modified=_now_iso())
        return ActionResult({"CachePolicy": _result(policy), "ETag": policy["etag"]})

    def resp_delete(self: Any) -> ActionResult:
        policy = _get(self.backend, self._get_param("Id"))
        if_match = self._get_param("IfMatch")
        if not if_match:
            raise InvalidIfMatchVersion()
        if if_match != policy["etag"]:
            raise _err("PreconditionFailed",
                       "The precondition given in one or more of the request-header fields evaluated to false.")
        if policy["type"] == "managed":
            raise _err("IllegalDelete", "Managed cache policies cannot be deleted.")
        if _in_use(self.backend, policy["id"]):
            raise _err("CachePolicyInUse", "Cannot delete the cache policy because it is attached to one or more cache behaviors.")
        del _policies(self.backend)[policy["id"]]
        return EmptyResult()

    Response.create_cache_policy = resp_create
    Response.get_cache_policy = resp_get
    Response.get_cache_policy_config = resp_get_config
    Response.list_cache_policies = resp_list
    Response.update_cache_policy = resp_update
    Response.delete_cache_policy = resp_delete

    # -- behaviours: a cache policy excludes the legacy ForwardedValues and TTL settings --------
    orig_behaviour_init = Behaviour.__init__

    def behaviour_init(self: Any, config: dict[str, Any]) -> None:
        policy_id = config.get("CachePolicyId") or ""
        if policy_id and config.get("ForwardedValues"):
            raise _err("InvalidArgument",
                       "The parameter ForwardedValues cannot be used when a cache policy is associated to the cache behavior.")
        orig_behaviour_init(self, config)
        if policy_id:
            self.forwarded_values = None
            self.min_ttl = self.default_ttl = self.max_ttl = None

    Behaviour.__init__ = behaviour_init

    def check_policies(backend: Any, config: dict[str, Any]) -> None:
        behaviours = [config.get("DefaultCacheBehavior") or {}]
        behaviours += list(((config.get("CacheBehaviors") or {}).get("Items")) or [])
        for b in behaviours:
            policy_id = (b.get("CachePolicyId") if isinstance(b, dict) else None) or ""
            if policy_id and policy_id not in _policies(backend):
                raise no_such()

    orig_create = Backend.create_distribution_with_tags
    orig_update = Backend.update_distribution

    def create_distribution_with_tags(self: Any, distribution_config: dict[str, Any], tags: Any):
        check_policies(self, distribution_config)
        return orig_create(self, distribution_config, tags)

    def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any):
        check_policies(self, dist_config or {})
        return orig_update(self, dist_config, _id, if_match)

    Backend.create_distribution_with_tags = create_distribution_with_tags
    Backend.update_distribution = update_distribution

    dispatch = Response.dispatch
    cf_urls.url_paths.update(
        {
            "{0}/2020-05-31/cache-policy$": dispatch,
            "{0}/2020-05-31/cache-policy/(?P<cache_policy_id>[^/]+)$": dispatch,
            "{0}/2020-05-31/cache-policy/(?P<cache_policy_id>[^/]+)/config$": dispatch,
        }
    )


# --------------------------------------------------------------------------- ACM


def _patch_acm() -> None:
    """A deleted certificate's idempotency token no longer answers with that certificate.

    moto 5.2.1 keeps the token -> ARN mapping after ``DeleteCertificate`` and then fails the next
    ``RequestCertificate`` with that token (HTTP 500, KeyError): a destroy followed by an apply in
    one sandbox session crashed. AWS never answers 500 here; the RequestCertificate reference says
    repeated calls with one token within an hour "request only one certificate". With the
    certificate gone there is nothing to return, so the sandbox treats the request as new.
    """
    from moto.acm.models import AWSCertificateManagerBackend

    original = AWSCertificateManagerBackend.delete_certificate

    def delete_certificate(self, arn: str) -> None:
        original(self, arn)
        for token in [t for t, v in self._idempotency_tokens.items() if v.get("arn") == arn]:
            del self._idempotency_tokens[token]

    AWSCertificateManagerBackend.delete_certificate = delete_certificate
