"""CloudFront origin access: the origin access identity (OAI) and the origin access control (OAC)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ... import ownership as own
from ...aws import error_code
from ...model import FieldChange, Resource
from ._common import (
    DIST_ADDR,
    OAC_ADDR,
    OAI_ADDR,
    OAI_PREFIX,
    _cf,
    _delete_with_etag,
    _in_use,
    _list_all,
    _marked,
    _marker,
    _stale_etag_safe,
    _through_distribution,
)

if TYPE_CHECKING:
    from ...context import Context


# ---------------------------------------------------------------------------------------------
# Origin access identity
# ---------------------------------------------------------------------------------------------


def _list_oais(ctx: Context) -> list[dict]:
    return _list_all(ctx, "list_cloud_front_origin_access_identities", "CloudFrontOriginAccessIdentityList")


class OriginAccessIdentity(Resource):
    service = "CloudFront origin access identity"
    address = OAI_ADDR
    read_after = (DIST_ADDR,)  # without ours: the one the alias's distribution uses

    def caller_reference(self, ctx: Context) -> str:
        return f"provision-{ctx.desired.stack.name}-oai-buildcache"

    def comment(self, ctx: Context) -> str:
        return f"{ctx.desired.buildcache.name} ({_marker(ctx)})"

    def desired(self, ctx: Context) -> dict:
        return {"comment": self.comment(ctx)}

    def read(self, ctx: Context) -> dict | None:
        # Found by its comment (the list summaries carry no CallerReference; ownership is checked
        # against the CallerReference before any delete).
        want = self.comment(ctx)
        used = _in_use(ctx, "origin", "origin_access_identity").removeprefix(OAI_PREFIX)
        for match in (lambda i: i.get("Comment") == want, lambda i: bool(used) and i["Id"] == used):
            for item in _list_oais(ctx):
                if match(item):
                    return {"id": item["Id"], "s3_canonical_user_id": item["S3CanonicalUserId"],
                            "comment": item.get("Comment") or ""}
        return None

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {
            "id": live["id"],
            "s3_canonical_user_id": live["s3_canonical_user_id"],
            "iam_arn": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {live['id']}",
        }

    def create(self, ctx: Context, desired: dict) -> None:
        cf = _cf(ctx)
        config = {"CallerReference": self.caller_reference(ctx), "Comment": desired["comment"]}
        try:
            # Same CallerReference and config again: AWS answers with the existing identity.
            cf.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig=config)
        except ClientError as e:
            if error_code(e) != "CloudFrontOriginAccessIdentityAlreadyExists":
                raise
            # Ours (same CallerReference) with another comment: adopt it and restore the comment.
            oai_id = self._find_by_caller_reference(ctx)
            if oai_id is None:
                raise
            self._put_comment(ctx, oai_id, desired["comment"])

    def _find_by_caller_reference(self, ctx: Context) -> str | None:
        cf = _cf(ctx)
        ref = self.caller_reference(ctx)
        for page in cf.get_paginator("list_cloud_front_origin_access_identities").paginate():
            for item in page.get("CloudFrontOriginAccessIdentityList", {}).get("Items") or []:
                got = cf.get_cloud_front_origin_access_identity_config(Id=item["Id"])
                if got["CloudFrontOriginAccessIdentityConfig"]["CallerReference"] == ref:
                    return item["Id"]
        return None

    def _put_comment(self, ctx: Context, oai_id: str, comment: str) -> None:
        cf = _cf(ctx)

        def attempt() -> None:
            got = cf.get_cloud_front_origin_access_identity_config(Id=oai_id)
            config = dict(got["CloudFrontOriginAccessIdentityConfig"], Comment=comment)
            cf.update_cloud_front_origin_access_identity(
                Id=oai_id, IfMatch=got["ETag"], CloudFrontOriginAccessIdentityConfig=config)

        _stale_etag_safe(attempt)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        self._put_comment(ctx, live["id"], desired["comment"])

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        # OAIs take no tags: ours by our comment (the mark we write, also on one we adopted) or
        # our CallerReference (the one we created).
        if live.get("comment") == self.comment(ctx):
            return own.Ownership(own.OURS)
        got = _cf(ctx).get_cloud_front_origin_access_identity_config(Id=live["id"])
        if got["CloudFrontOriginAccessIdentityConfig"]["CallerReference"] == self.caller_reference(ctx):
            return own.Ownership(own.OURS)
        return _through_distribution(ctx, "origin access identity")

    def delete(self, ctx: Context, live: dict) -> None:
        _delete_with_etag(ctx, "get_cloud_front_origin_access_identity", "delete_cloud_front_origin_access_identity",
                          live["id"])


# ---------------------------------------------------------------------------------------------
# Origin access control
# ---------------------------------------------------------------------------------------------


def _list_oacs(ctx: Context, fresh: bool = False) -> list[dict]:
    return _list_all(ctx, "list_origin_access_controls", "OriginAccessControlList", fresh=fresh)


class OriginAccessControl(Resource):
    service = "CloudFront origin access control"
    address = OAC_ADDR
    read_after = (DIST_ADDR,)  # without ours: the one the alias's distribution uses

    def name(self, ctx: Context) -> str:
        return f"{ctx.desired.stack.name}-buildcache"[:64]

    def desired(self, ctx: Context) -> dict:
        return {
            # compared: adopting the CDK stack's OAC renames it, and the plan says so
            "name": self.name(ctx),
            "description": f"S3 origin {ctx.desired.buildcache.name} ({_marker(ctx)})",
            "signing_protocol": "sigv4",
            "signing_behavior": "always",
            "origin_type": "s3",
        }

    @staticmethod
    def _norm(item: dict) -> dict:
        return {
            "id": item["Id"],
            "name": item.get("Name"),
            "description": item.get("Description") or "",
            "signing_protocol": item.get("SigningProtocol"),
            "signing_behavior": item.get("SigningBehavior"),
            "origin_type": item.get("OriginAccessControlOriginType"),
        }

    def read(self, ctx: Context) -> dict | None:
        name = self.name(ctx)
        used = _in_use(ctx, "origin", "origin_access_control_id")
        for match in (lambda i: i.get("Name") == name, lambda i: bool(used) and i["Id"] == used):
            for item in _list_oacs(ctx):
                if match(item):
                    return self._norm(item)
        return None

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"id": live["id"]}

    def _config(self, ctx: Context, desired: dict) -> dict:
        return {
            "Name": self.name(ctx),
            "Description": desired["description"],
            "SigningProtocol": desired["signing_protocol"],
            "SigningBehavior": desired["signing_behavior"],
            "OriginAccessControlOriginType": desired["origin_type"],
        }

    def create(self, ctx: Context, desired: dict) -> None:
        try:
            _cf(ctx).create_origin_access_control(OriginAccessControlConfig=self._config(ctx, desired))
        except ClientError as e:
            if error_code(e) != "OriginAccessControlAlreadyExists":
                raise
            # Created meanwhile (a re-run after a crash): adopt and correct it.
            live = next((self._norm(i) for i in _list_oacs(ctx, fresh=True) if i.get("Name") == self.name(ctx)), None)
            if live is None:
                raise
            if self.diff(desired, live):
                self.update(ctx, desired, live, ())

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        cf = _cf(ctx)

        def attempt() -> None:
            etag = cf.get_origin_access_control_config(Id=live["id"])["ETag"]
            cf.update_origin_access_control(Id=live["id"], IfMatch=etag,
                                            OriginAccessControlConfig=self._config(ctx, desired))

        _stale_etag_safe(attempt)

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        # OACs take no tags: ours by name and the mark in the description (written at create/adopt).
        if live.get("name") == self.name(ctx) and _marked(ctx, live.get("description")):
            return own.Ownership(own.OURS)
        return _through_distribution(ctx, "origin access control") if live["id"] == _in_use(
            ctx, "origin", "origin_access_control_id") else own.Ownership(own.FOREIGN)

    def delete(self, ctx: Context, live: dict) -> None:
        _delete_with_etag(ctx, "get_origin_access_control_config", "delete_origin_access_control", live["id"])
