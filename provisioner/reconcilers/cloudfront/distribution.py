"""CloudFront distribution: found by our stack tag (else by its alias: foreign until adopted), created with tags,
updated with IfMatch; ``settle`` waits for Deployed (the write returns once the id and domain name are known)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ... import ownership as own
from ... import retry
from ...aws import error_code
from ...config import DesiredState
from ...errors import PreconditionError, ProvisionError
from ...model import FieldChange, Resource, Unknown, diff_fields
from .. import tag_index
from . import distribution_config, undeclared
from ._common import (
    DIST_ADDR,
    OAC_ADDR,
    OAI_ADDR,
    OAI_PREFIX,
    ORIGIN_REQUEST_ADDR,
    POLICY_ADDR,
    RESPONSE_HEADERS_ADDR,
    _cf,
    _list_all,
    _stale_etag_safe,
    _tags_dict,
)

if TYPE_CHECKING:
    from ...context import Context

DEPLOY_DELAY = 20.0  # seconds between distribution_deployed polls (real deploys take minutes)
DEPLOY_TIMEOUT = 40 * 60.0


def _list_distributions(ctx: Context, fresh: bool = False) -> list[dict]:
    return _list_all(ctx, "list_distributions", "DistributionList", fresh=fresh)


_ALREADY_EXISTS_ID = re.compile(r"Already exists:\s*([A-Z0-9]+)")


class Distribution(Resource):
    service = "CloudFront distribution"
    address = DIST_ADDR

    def __init__(self, desired: DesiredState):
        cdn = desired.cdn
        deps = ["s3_bucket.buildcache", "acm_certificate.cdn", "acm_validation.cdn"]
        if desired.logs is not None:
            deps.append("s3_bucket.logs")
        deps.append(OAI_ADDR if cdn.origin_access == "oai" else OAC_ADDR)
        if cdn.cache.kind == "custom":
            deps.append(POLICY_ADDR)
        if cdn.response_headers is not None:
            deps.append(RESPONSE_HEADERS_ADDR)
        if cdn.origin_request is not None:
            deps.append(ORIGIN_REQUEST_ADDR)
        if cdn.logging.enabled:  # the log-delivery grant before CloudFront is told to log there
            deps.append("s3_log_delivery.logs")
        self.depends_on = tuple(deps)
        self.read_after = ()  # found by alias/comment and tag: the read needs no other resource

    # -- identity ------------------------------------------------------------------------------
    def caller_reference(self, ctx: Context) -> str:
        return f"provision-{ctx.desired.stack.name}-distribution-cdn"

    def origin_id(self, ctx: Context) -> str:
        return f"s3-{ctx.desired.buildcache.name}"

    # -- desired -------------------------------------------------------------------------------
    def _certificate_arn(self, ctx: Context) -> Any:
        # The certificate must be ISSUED: acm_validation.cdn publishes the ARN only then.
        if ctx.managed("acm_validation.cdn"):
            return ctx.out("acm_validation.cdn", "arn")
        return ctx.out("acm_certificate.cdn", "arn")

    def _origin_domain(self, ctx: Context) -> Any:
        if ctx.managed("s3_bucket.buildcache"):
            return ctx.out("s3_bucket.buildcache", "regional_domain_name")
        b = ctx.desired.buildcache
        return f"{b.name}.s3.{ctx.desired.stack.region}.amazonaws.com"

    def _logs_domain(self, ctx: Context) -> Any:
        if ctx.managed("s3_bucket.logs"):
            return ctx.out("s3_bucket.logs", "domain_name")
        assert ctx.desired.logs is not None  # logging needs the log bucket (config)
        return f"{ctx.desired.logs.name}.s3.amazonaws.com"

    def desired(self, ctx: Context) -> dict:
        cdn = ctx.desired.cdn
        if cdn.origin_access == "oai":
            oai_id = ctx.out(OAI_ADDR, "id")
            origin = {
                "origin_access_identity": oai_id if isinstance(oai_id, Unknown) else OAI_PREFIX + oai_id,
                "origin_access_control_id": "",
            }
        else:
            origin = {"origin_access_identity": "", "origin_access_control_id": ctx.out(OAC_ADDR, "id")}
        origin["domain_name"] = self._origin_domain(ctx)
        dcb: dict[str, Any] = {
            "viewer_protocol_policy": cdn.viewer_protocol_policy,
            "allowed_methods": sorted(cdn.allowed_methods),
            "cached_methods": sorted(cdn.cached_methods),
            "compress": cdn.compress,
        }
        dcb["origin_request_policy_id"] = ctx.out(ORIGIN_REQUEST_ADDR, "id") if cdn.origin_request else ""
        dcb["response_headers_policy_id"] = ctx.out(RESPONSE_HEADERS_ADDR, "id") if cdn.response_headers else ""
        c = cdn.cache
        if c.kind == "custom":
            dcb["cache_policy_id"] = ctx.out(POLICY_ADDR, "id")
        else:
            dcb.update(cache_policy_id="", query_string=c.query_strings, cookies="none",
                       min_ttl=c.min_ttl, default_ttl=c.default_ttl, max_ttl=c.max_ttl)
        lg = cdn.logging
        logging = ({"enabled": True, "bucket": self._logs_domain(ctx), "prefix": lg.prefix,
                    "include_cookies": lg.include_cookies} if lg.enabled else {"enabled": False})
        return {
            "enabled": True,
            "aliases": sorted(cdn.aliases),
            "comment": cdn.comment,
            "price_class": cdn.price_class,
            "http_version": cdn.http_version,
            "ipv6": cdn.ipv6,
            "default_root_object": cdn.default_root_object,
            "origin": origin,
            "viewer_certificate": {
                "acm_certificate_arn": self._certificate_arn(ctx),
                "ssl_support_method": cdn.ssl_support_method,
                "minimum_protocol_version": cdn.minimum_protocol_version,
            },
            "default_cache_behavior": dcb,
            "geo_restriction": cdn.geo_restriction,
            "logging": logging,
            "custom_error_responses": sorted(
                ({"error_code": e.error_code, "response_code": e.response_code,
                  "response_page_path": e.response_page_path, "min_ttl": e.min_ttl} for e in cdn.error_responses),
                key=lambda e: e["error_code"]),
            "tags": dict(ctx.tags),
        }

    # -- read ----------------------------------------------------------------------------------
    normalise = staticmethod(distribution_config.normalise)

    def _all_tags(self, ctx: Context, arn: str) -> list[dict]:
        return _cf(ctx).list_tags_for_resource(Resource=arn).get("Tags", {}).get("Items") or []

    def _tags(self, ctx: Context, arn: str) -> dict[str, str]:
        return _tags_dict(self._all_tags(ctx, arn))

    def _find(self, ctx: Context) -> tuple[dict, list[dict]] | None:
        """(summary, tag list) of the distribution tagged as this stack's; else of the one that
        carries one of our aliases (CloudFront allows only one per alias: it is foreign); or None."""
        stack = ctx.desired.stack.name
        summaries = _list_distributions(ctx)
        aliases = set(ctx.desired.cdn.aliases)
        by_alias = [s for s in summaries if aliases & set((s.get("Aliases") or {}).get("Items") or [])]
        # Aliases removed out of band: fall back to the comment before giving up.
        by_comment = [s for s in summaries if s not in by_alias and s.get("Comment") == ctx.desired.cdn.comment]
        theirs = None
        for group in (by_alias, by_comment):
            for s in group:
                # the tagging-API walk's tags when they show ours (system tags kept), else ListTagsForResource
                items = tag_index.as_items(tag_index.full_tags(
                    ctx, s["ARN"], lambda a: tag_index.from_items(self._all_tags(ctx, a))))
                if _tags_dict(items).get("provision:stack") == stack:
                    return s, items
                if group is by_alias and theirs is None:
                    theirs = (s, items)
        return theirs

    def _live(self, ctx: Context, dist_id: str, arn: str, domain: str, tags: dict | list[dict]) -> dict:
        got = _cf(ctx).get_distribution_config(Id=dist_id)
        live = self.normalise(got["DistributionConfig"])
        items = tags if isinstance(tags, list) else [{"Key": k, "Value": v} for k, v in tags.items()]
        live.update(id=dist_id, arn=arn, domain_name=domain, tags=_tags_dict(items),
                    system_tags=own.system_tags(items), caller_reference=got["DistributionConfig"].get("CallerReference"),
                    **undeclared.live_extras(got["DistributionConfig"]))
        return live

    def read(self, ctx: Context) -> dict | None:
        found = self._find(ctx)
        if found is None:
            return None
        s, tags = found
        return self._live(ctx, s["Id"], s["ARN"], s["DomainName"], tags)

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        o = super().ownership(ctx, live)
        if o.state == own.FOREIGN and live.get("caller_reference") == self.caller_reference(ctx):
            return own.Ownership(own.OURS)  # our CallerReference (a create whose tags did not land)
        return o

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {
            "id": live["id"],
            "arn": live["arn"],
            "domain_name": live["domain_name"],
            "public_url": "https://" + ctx.desired.cdn.aliases[0],
        }

    # -- write ---------------------------------------------------------------------------------
    def build_config(self, ctx: Context, desired: dict, base: dict | None = None) -> dict:
        """``base`` (the live config, or a new skeleton) with every declared field set to desired."""
        if base is None:
            base = distribution_config.skeleton(self.caller_reference(ctx), self.origin_id(ctx))
        return distribution_config.build_config(ctx, desired, base, self.origin_id(ctx))

    def _wait(self, ctx: Context, dist_id: str) -> None:
        """A create/update returns at once (its id and domain name are known): ``settle`` waits."""
        vars(self)["_deploying"] = dist_id

    def needs_settled(self, ctx: Context) -> tuple[str, ...]:
        # Never created with an unissued certificate: acm_validation.cdn's write is the wait for
        # ISSUED (its ARN is published only then); named here so a settle of it would be honoured.
        return ("acm_validation.cdn",) if ctx.managed("acm_validation.cdn") else ()

    def settle(self, ctx: Context) -> None:
        """Wait until the last create/update is Deployed (not with --no-wait, as before)."""
        dist_id = vars(self).pop("_deploying", None)
        if dist_id is None or not ctx.wait:
            return
        ctx.wait_for(f"CloudFront distribution {dist_id} to deploy", _cf(ctx), "distribution_deployed",
                     delay=DEPLOY_DELAY, timeout=DEPLOY_TIMEOUT, Id=dist_id)

    def _put_config(self, ctx: Context, dist_id: str, desired: dict) -> None:
        """Read config + ETag right before, set the declared fields, UpdateDistribution(IfMatch)."""
        cf = _cf(ctx)

        def attempt() -> None:
            got = cf.get_distribution_config(Id=dist_id)
            cfg = self.build_config(ctx, desired, got["DistributionConfig"])
            cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=cfg)

        retry.call("cloudfront_certificate_not_ready", lambda: _stale_etag_safe(attempt))

    def create(self, ctx: Context, desired: dict) -> None:
        cf = _cf(ctx)
        cfg = self.build_config(ctx, desired)
        tags = {"Items": [{"Key": k, "Value": v} for k, v in sorted(desired["tags"].items())]}
        try:
            resp = retry.call("cloudfront_certificate_not_ready", lambda: cf.create_distribution_with_tags(
                DistributionConfigWithTags={"DistributionConfig": cfg, "Tags": tags}))
            dist_id = resp["Distribution"]["Id"]
        except ClientError as e:
            if error_code(e) != "DistributionAlreadyExists":
                raise
            dist_id = self._adopt(ctx, desired, e)
        self._wait(ctx, dist_id)

    def _adopt(self, ctx: Context, desired: dict, exc: ClientError) -> str:
        """Our CallerReference is taken: a distribution we created (a crash after create). Adopt it."""
        cf = _cf(ctx)
        msg = str(exc.response.get("Error", {}).get("Message", ""))
        m = _ALREADY_EXISTS_ID.search(msg)
        summaries = _list_distributions(ctx, fresh=True)
        ref = self.caller_reference(ctx)
        summary = None
        if m:
            summary = next((s for s in summaries if s["Id"] == m.group(1)), None)
        if summary is None:
            for s in summaries:
                if cf.get_distribution_config(Id=s["Id"])["DistributionConfig"].get("CallerReference") == ref:
                    summary = s
                    break
        if summary is None:
            raise ProvisionError(
                f"CloudFront says CallerReference {ref!r} is taken, but no distribution has it") from exc
        live = self._live(ctx, summary["Id"], summary["ARN"], summary["DomainName"], self._tags(ctx, summary["ARN"]))
        if live.get("caller_reference") != ref:
            raise PreconditionError(
                f"distribution {summary['Id']} does not carry CallerReference {ref!r}; not adopting it")
        changes = self.diff(desired, live)
        if any(c.path.split(".", 1)[0] == "tags" for c in changes):
            cf.tag_resource(Resource=summary["ARN"], Tags={"Items": [{"Key": k, "Value": v}
                                                                       for k, v in sorted(desired["tags"].items())]})
        if any(c.path.split(".", 1)[0] != "tags" for c in changes):
            self._put_config(ctx, summary["Id"], desired)
        return summary["Id"]

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        top = {c.path.split(".", 1)[0] for c in changes}
        if "tags" in top:
            _cf(ctx).tag_resource(Resource=live["arn"], Tags={"Items": [{"Key": k, "Value": v}
                                                                          for k, v in sorted(desired["tags"].items())]})
        if top - {"tags"}:
            self._put_config(ctx, live["id"], desired)
            self._wait(ctx, live["id"])

    def delete(self, ctx: Context, live: dict) -> None:
        cf = _cf(ctx)
        dist_id = live["id"]

        def disable() -> None:
            got = cf.get_distribution_config(Id=dist_id)
            cfg = got["DistributionConfig"]
            if not cfg.get("Enabled"):
                return
            cfg["Enabled"] = False
            cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=cfg)

        _stale_etag_safe(disable)
        # Deleting needs a disabled *and deployed* distribution, so destroy waits even with --no-wait.
        ctx.wait_for(f"CloudFront distribution {dist_id} to deploy (disabled)", cf, "distribution_deployed",
                     delay=DEPLOY_DELAY, timeout=DEPLOY_TIMEOUT, Id=dist_id)

        def remove() -> None:
            etag = cf.get_distribution(Id=dist_id)["ETag"]
            cf.delete_distribution(Id=dist_id, IfMatch=etag)

        _stale_etag_safe(remove)

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        return diff_fields(desired, live)
