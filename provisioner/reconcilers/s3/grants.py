"""Who a bucket policy lets CloudFront read as, and which of those grants live distributions use.

Helpers of ``s3_bucket_policy.buildcache`` (``policy``) for the engine's invariant (expand,
switch, contract): a grant is an origin access, ``("oai", <OAI id>)`` or ``("oac", <distribution
ARN>)``; ``in_use`` finds the ones live distributions' origins on the bucket use, in the memoised
``ListDistributions`` summaries, and whether one of those distributions is still deploying.
"""

from __future__ import annotations

from typing import Any

from ...context import Context
from ..cloudfront._common import OAI_PREFIX, _list_all

OAI_ARN = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "
CLOUDFRONT = "cloudfront.amazonaws.com"

Grant = tuple[str, str]


def _items(value: Any) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def grantees(stmt: dict, oai_by_canonical: dict[str, str] | None = None) -> set[Grant]:
    """The CloudFront origin accesses an Allow statement grants: ("oai", id) / ("oac", distribution ARN)."""
    if not isinstance(stmt, dict) or stmt.get("Effect") != "Allow" or not isinstance(stmt.get("Principal"), dict):
        return set()
    p = stmt["Principal"]
    out: set[Grant] = set()
    for v in _items(p.get("AWS")):
        if isinstance(v, str) and v.startswith(OAI_ARN):
            out.add(("oai", v[len(OAI_ARN):]))
    for v in _items(p.get("CanonicalUser")):
        if isinstance(v, str) and v in (oai_by_canonical or {}):
            out.add(("oai", (oai_by_canonical or {})[v]))
    if CLOUDFRONT in _items(p.get("Service")):
        for block in (stmt.get("Condition") or {}).values():
            for key, values in (block.items() if isinstance(block, dict) else ()):
                if key.lower() == "aws:sourcearn":
                    out.update(("oac", v) for v in _items(values) if isinstance(v, str))
    return out


def _on_bucket(domain: str, bucket: str) -> bool:
    d = (domain or "").lower()
    return d.startswith((f"{bucket}.s3.", f"{bucket}.s3-"))


def in_use(ctx: Context, bucket: str) -> tuple[set[Grant], bool]:
    """(the origin accesses live distributions use on ``bucket``, whether one of them is deploying)."""
    used: set[Grant] = set()
    deploying = False
    for s in _list_all(ctx, "list_distributions", "DistributionList"):
        origins = [o for o in (s.get("Origins") or {}).get("Items") or [] if _on_bucket(o.get("DomainName"), bucket)]
        if not origins:
            continue
        deploying = deploying or s.get("Status") != "Deployed"
        for o in origins:
            oai = (o.get("S3OriginConfig") or {}).get("OriginAccessIdentity") or ""
            if oai:
                used.add(("oai", oai.removeprefix(OAI_PREFIX)))
            if o.get("OriginAccessControlId"):
                used.add(("oac", s["ARN"]))
    return used, deploying


def oai_by_canonical(ctx: Context, stmts: list[dict]) -> dict[str, str]:
    """S3 may show an OAI principal by its canonical user id: canonical id -> OAI id (listed only when needed)."""
    if not any("CanonicalUser" in (s.get("Principal") or {}) for s in stmts if isinstance(s.get("Principal"), dict)):
        return {}
    items = _list_all(ctx, "list_cloud_front_origin_access_identities", "CloudFrontOriginAccessIdentityList")
    return {o["S3CanonicalUserId"]: o["Id"] for o in items if o.get("S3CanonicalUserId")}


def principals_exist(ctx: Context, accesses: set[Grant]) -> bool:
    """A grant to an OAI that is gone grants nobody (and S3 refuses such a policy): never kept."""
    oais = [a for kind, a in accesses if kind == "oai"]
    if not oais:
        return True
    ids = {o["Id"] for o in _list_all(ctx, "list_cloud_front_origin_access_identities",
                                      "CloudFrontOriginAccessIdentityList")}
    return all(a in ids for a in oais)


def without_sid(stmt: dict, taken: set[str]) -> dict:
    """A kept statement loses its Sid when one of ours has it (Sids are unique in a policy)."""
    return {k: v for k, v in stmt.items() if k != "Sid"} if stmt.get("Sid") in taken else stmt
