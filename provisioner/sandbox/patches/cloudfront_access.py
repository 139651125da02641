"""CloudFront origin access: the origin access identity API (moto has none) and OAC as AWS has it.

AWS behaviour reproduced (CloudFront API reference, https://docs.aws.amazon.com/cloudfront/latest/APIReference/):

- API_CreateCloudFrontOriginAccessIdentity.html and the Get/GetConfig/List/Update/Delete
  references: the whole OAI API. The same CallerReference and config again answer the original
  identity; the same CallerReference with another config is
  ``CloudFrontOriginAccessIdentityAlreadyExists``; an update may not change ``CallerReference``
  (``IllegalUpdate``); the ETag changes on update and ``IfMatch`` is checked; an unknown id is
  ``NoSuchCloudFrontOriginAccessIdentity``; lists page with MaxItems/Marker/NextMarker.
- API_DeleteCloudFrontOriginAccessIdentity.html: an OAI an origin still names is
  ``CloudFrontOriginAccessIdentityInUse``.
- API_GetOriginAccessControlConfig.html: the OAC config with its ETag.
- API_CreateOriginAccessControl.html: a second OAC with the same name is
  ``OriginAccessControlAlreadyExists``.
- API_DeleteOriginAccessControl.html (and UpdateOriginAccessControl): ``NoSuchOriginAccessControl``
  for a missing OAC; the ETag changes on update; ``IfMatch`` checked; an OAC an origin still uses
  is ``OriginAccessControlInUse``.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from moto.cloudfront import models as cf_models
from moto.cloudfront import responses as cf_responses
from moto.cloudfront import urls as cf_urls
from moto.core.common_models import BaseModel
from moto.core.responses import ActionResult, EmptyResult

from ._common import cf_error, check_if_match, int_param, page


class OriginAccessIdentity(BaseModel):
    def __init__(self, caller_reference: str, comment: str) -> None:
        self.id = "E" + cf_models.random_id(length=13)
        self.caller_reference = caller_reference
        self.comment = comment
        self.s3_canonical_user_id = hashlib.sha256(f"{self.id}:{uuid.uuid4()}".encode()).hexdigest()
        self.etag = cf_models.random_id()
        self.created = time.monotonic()  # S3 refuses it as a principal until it propagates (patches.s3)

    @property
    def cloud_front_origin_access_identity_config(self) -> dict[str, str]:
        return {"CallerReference": self.caller_reference, "Comment": self.comment}

    @property
    def location(self) -> str:
        return f"https://cloudfront.amazonaws.com/2020-05-31/origin-access-identity/cloudfront/{self.id}"


def _oai_result(oai: OriginAccessIdentity) -> dict[str, Any]:
    return {
        "Id": oai.id,
        "S3CanonicalUserId": oai.s3_canonical_user_id,
        "CloudFrontOriginAccessIdentityConfig": oai.cloud_front_origin_access_identity_config,
    }


def apply() -> None:
    """Patch moto's OAC rules and add the OAI API (backend, responses, routes)."""
    _apply_origin_access_control()
    _apply_origin_access_identity()


def _apply_origin_access_control() -> None:
    Backend = cf_models.CloudFrontBackend
    Response = cf_responses.CloudFrontResponse
    random_id = cf_models.random_id

    orig_create_oac = Backend.create_origin_access_control

    def create_origin_access_control(self: Any, config_dict: dict[str, str]) -> Any:
        name = config_dict.get("Name")
        if any(c.name == name for c in self.origin_access_controls.values()):
            raise cf_error(
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
                    raise cf_error(
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


def _apply_origin_access_identity() -> None:
    Backend = cf_models.CloudFrontBackend
    Response = cf_responses.CloudFrontResponse
    random_id = cf_models.random_id

    def no_such_oai() -> Exception:
        return cf_error(
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
                raise cf_error(
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
            raise cf_error("IllegalUpdate", "Origin and CallerReference cannot be updated.")
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
                    raise cf_error(
                        "CloudFrontOriginAccessIdentityInUse",
                        "The CloudFront origin access identity is still being used.",
                    )
        del self.origin_access_identities[oai_id]

    Backend.get_cloud_front_origin_access_identity = get_oai
    Backend.create_cloud_front_origin_access_identity = create_oai
    Backend.update_cloud_front_origin_access_identity = update_oai
    Backend.delete_cloud_front_origin_access_identity = delete_oai

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
        max_items = int_param(self._get_param("MaxItems"), 100)
        oais = list(self.backend.origin_access_identities.values())
        items, next_marker = page(oais, marker, max_items, lambda o: o.id)
        oai_list: dict[str, Any] = {
            "Marker": marker,
            "MaxItems": max_items,
            "IsTruncated": next_marker is not None,
            "Quantity": len(items),
            "Items": [
                {"Id": o.id, "S3CanonicalUserId": o.s3_canonical_user_id, "Comment": o.comment}
                for o in items
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

    # -- routes (read when the backend app / mock is set up) ----------------------------------
    dispatch = Response.dispatch
    cf_urls.url_paths.update(
        {
            "{0}/2020-05-31/origin-access-identity/cloudfront$": dispatch,
            "{0}/2020-05-31/origin-access-identity/cloudfront/(?P<oai_id>[^/]+)$": dispatch,
            "{0}/2020-05-31/origin-access-identity/cloudfront/(?P<oai_id>[^/]+)/config$": dispatch,
        }
    )
