"""IAM OIDC identity provider for GitHub Actions: found by URL; shared when not ours (only extended); deleted only when ours alone.

One provider per URL per account: if it is not tagged ours, it is *shared* (another stack, team or
tool made it, e.g. the CDK custom resource of the original stack). A shared provider is never
claimed with our tags and never deleted; it is only ever extended: the client ids and thumbprints
we need are added, nobody else's are removed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ... import ownership as own
from ... import retry
from ...aws import error_code
from ...config import DesiredState
from ...errors import PreconditionError
from ...model import FieldChange, Resource, diff_fields
from . import undeclared
from ._common import PROVIDER, ROLE, _missing, _read_new, _tag_list, _tags

if TYPE_CHECKING:
    from ...context import Context


class OidcProvider(Resource):
    service = "IAM OIDC provider"
    address = PROVIDER

    def __init__(self, desired: DesiredState) -> None:
        self.spec = desired.github_oidc
        # The ARN CreateOpenIDConnectProvider answered in this run: ListOpenIDConnectProviders (and
        # GetOpenIDConnectProvider) may not show a provider created moments ago (IAM is eventually
        # consistent); Terraform keeps the create's ARN and never lists. Reads use it when the list lags.
        self._created_arn: str | None = None

    def desired(self, ctx: Context) -> dict:
        d: dict[str, Any] = {
            "url": self.spec.host,
            "client_ids": sorted(set(self.spec.client_ids)),
        }
        if self.spec.thumbprints:  # none declared: IAM manages them (it no longer needs any for GitHub)
            d["thumbprints"] = sorted({t.lower() for t in self.spec.thumbprints})
        d["tags"] = dict(ctx.tags)
        return d

    def _find_arn(self, ctx: Context) -> str | None:
        iam = ctx.client("iam")

        def list_all() -> list[str]:
            # ListOpenIDConnectProviders takes no marker: one call lists them all.
            return [p["Arn"] for p in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])]

        want = self.spec.host.lower()
        for arn in ctx.memo(("iam", "oidc_providers"), list_all):
            if arn.split(":oidc-provider/", 1)[-1].rstrip("/").lower() == want:
                return arn
        return self._created_arn  # created by this run, not listed yet (or None)

    def read(self, ctx: Context) -> dict | None:
        arn = self._find_arn(ctx)
        if arn is None:
            return None
        iam = ctx.client("iam")
        got = _read_new(lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn),
                        new=arn == self._created_arn)
        if got is None:  # deleted between list and get
            return None
        tags = _tags(got.get("Tags"))
        shared = tags.get(own.STACK_TAG) != ctx.desired.stack.name
        have, want = sorted(set(got.get("ClientIDList") or [])), set(self.spec.client_ids)
        return {
            "arn": arn,
            "url": str(got.get("Url", "")).removeprefix("https://").rstrip("/"),
            "client_ids": [c for c in have if c in want],  # ours present; others are UNEXPECTED
            "thumbprints": sorted({t.lower() for t in got.get("ThumbprintList") or []}),
            "tags": tags,
            # Shared provider we did not create: only extended, never claimed with our tags; client
            # ids of others are UNEXPECTED but report-only (never removed)
            "shared": shared,
            **undeclared.client_id_extras(have, want, shared=shared),
        }

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        if not live.get("shared"):
            return own.Ownership(own.OURS)
        other = (live.get("tags") or {}).get(own.STACK_TAG)
        return own.Ownership(own.SHARED, f"provision stack {other}" if other else "")

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        if live.get("shared"):  # extend only: what we need added to what is there; no tags of ours
            desired = {k: v for k, v in desired.items() if k != "tags"}
            for key in ("client_ids", "thumbprints"):
                if key in desired:
                    desired[key] = sorted(set(desired[key]) | set(live.get(key) or []))
        return diff_fields(desired, live)

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"arn": live["arn"]}

    def create(self, ctx: Context, desired: dict) -> None:
        iam = ctx.client("iam")
        kwargs: dict[str, Any] = {
            "Url": self.spec.url,
            "ClientIDList": list(desired["client_ids"]),
            "Tags": _tag_list(desired["tags"]),
        }
        if desired.get("thumbprints"):
            kwargs["ThumbprintList"] = list(desired["thumbprints"])
        try:
            made = retry.call("iam_propagation", lambda: iam.create_open_id_connect_provider(**kwargs))
            self._created_arn = made["OpenIDConnectProviderArn"]
        except ClientError as e:
            if error_code(e) != "EntityAlreadyExists":
                raise
            # Created meanwhile (another run, another stack): adopt it like plan would have.
            self.converge_existing(ctx, desired)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        iam = ctx.client("iam")
        arn = live["arn"]
        top = {c.path.split(".", 1)[0] for c in changes}
        if "client_ids" in top:
            want, have = set(desired["client_ids"]), set(live.get("client_ids") or [])
            for cid in sorted(want - have):  # add first: the list is never empty in between
                iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=cid)
            for cid in sorted(have - want) if not live.get("shared") else ():  # never someone else's
                iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=cid)
        if "thumbprints" in top:
            thumbs = set(desired["thumbprints"]) | (set(live.get("thumbprints") or []) if live.get("shared") else set())
            iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=sorted(thumbs))
        if "tags" in top and not live.get("shared"):
            have_tags = live.get("tags") or {}
            changed = {k: v for k, v in desired["tags"].items() if have_tags.get(k) != v}
            if changed:
                iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=_tag_list(changed))
        undeclared.remove_client_ids(ctx, arn, changes)

    def _other_trusting_roles(self, ctx: Context, arn: str) -> list[str]:
        """Roles other than ours whose trust policy names this provider (it is shared then).

        Our role counts as "other" when it is not tagged ours: destroy keeps it, so it keeps
        needing the provider."""
        ours = ctx.desired.github_role.name
        role_res, role_live = ctx.resources.get(ROLE), ctx.live.get(ROLE)
        ours_goes = role_live is None or role_res is None or role_res.owned(ctx, role_live)
        users: list[str] = []
        for page in ctx.client("iam").get_paginator("list_roles").paginate():
            for r in page.get("Roles", []):
                if r["RoleName"] == ours and ours_goes:
                    continue
                doc = r.get("AssumeRolePolicyDocument")
                text = doc if isinstance(doc, str) else json.dumps(doc or {})
                if arn in text or arn in _unquote(text):
                    users.append(r["RoleName"])
        return users

    def owned(self, ctx: Context, live: dict) -> bool:
        if not super().owned(ctx, live):
            return False
        others = self._other_trusting_roles(ctx, live["arn"])
        if others:
            import structlog

            structlog.get_logger("provision").warning(
                "OIDC provider is trusted by other roles; destroy keeps it", resource=self.address,
                roles=others)
            return False
        return True

    def delete(self, ctx: Context, live: dict) -> None:
        others = self._other_trusting_roles(ctx, live["arn"])
        if others:
            raise PreconditionError(
                f"OIDC provider {live['arn']} is trusted by other roles ({', '.join(sorted(others))}); not deleted")
        self._created_arn = None  # gone: a later read must see it absent, not wait for it
        # NoSuchEntity: deleted meanwhile, done (Terraform's delete treats it the same).
        _missing(lambda: ctx.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=live["arn"]))


def _unquote(text: str) -> str:
    import urllib.parse

    return urllib.parse.unquote(text)
