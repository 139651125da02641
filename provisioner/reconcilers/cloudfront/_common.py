"""CloudFront helpers shared by every resource of the package: client, addresses, lists, ETag writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

from ... import ownership as own
from ... import retry

if TYPE_CHECKING:
    from ...context import Context

T = TypeVar("T")

OAI_ADDR = "cloudfront_oai.buildcache"
OAC_ADDR = "cloudfront_oac.buildcache"
POLICY_ADDR = "cloudfront_cache_policy.buildcache"
RESPONSE_HEADERS_ADDR = "cloudfront_response_headers_policy.buildcache"
ORIGIN_REQUEST_ADDR = "cloudfront_origin_request_policy.buildcache"
DIST_ADDR = "cloudfront_distribution.cdn"
OAI_PREFIX = "origin-access-identity/cloudfront/"


def _cf(ctx: Context) -> Any:
    return ctx.client("cloudfront")


def _marker(ctx: Context) -> str:
    return f"provision:{ctx.desired.stack.name}"


def _marked(ctx: Context, text: str | None) -> bool:
    """Our mark in a comment/description: "(provision:<stack>)" exactly (not another stack whose
    name starts with ours)."""
    return f"({_marker(ctx)})" in (text or "")


def _tags_dict(items: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (items or []) if not t["Key"].lower().startswith("aws:")}


def _stale_etag_safe(fn: Callable[[], T]) -> T:
    """Run a read-ETag-then-write function; a stale ETag re-runs it (it re-reads), bounded."""
    return retry.call("cloudfront_stale_etag", fn)


def _pages(ctx: Context, operation: str, list_key: str, **params: Any) -> list[dict]:
    """Every item of a CloudFront list, following ``NextMarker`` by hand: every CloudFront list
    pages with Marker/NextMarker, and botocore has no paginator for some of them (none for
    ListOriginAccessControls or ListCachePolicies in 1.34, the lowest version pyproject allows)."""
    cf = _cf(ctx)
    out: list[dict] = []
    marker = None
    while True:
        kwargs = dict(params, Marker=marker) if marker else dict(params)
        got = getattr(cf, operation)(**kwargs).get(list_key, {})
        out.extend(got.get("Items") or [])
        marker = got.get("NextMarker")
        if not marker:
            return out


def _list_all(ctx: Context, operation: str, list_key: str, *, fresh: bool = False) -> list[dict]:
    """Every item of a CloudFront list, memoised for the plan (``fresh`` bypasses it)."""
    def fetch() -> list[dict]:
        return _pages(ctx, operation, list_key)

    return fetch() if fresh else ctx.memo(f"cloudfront:{operation}", fetch)


def _list_custom(ctx: Context, operation: str, list_key: str, item_key: str, memo_key: str, *,
                 fresh: bool = False, type_: str = "custom") -> list[dict]:
    """Every custom (or, with ``type_="managed"``, AWS-managed) policy of a CloudFront policy list,
    memoised under ``memo_key`` (``fresh`` bypasses it)."""
    def fetch() -> list[dict]:
        return [i[item_key] for i in _pages(ctx, operation, list_key, Type=type_)]

    return fetch() if fresh else ctx.memo(memo_key, fetch)


def _delete_with_etag(ctx: Context, get_operation: str, delete_operation: str, ident: str) -> None:
    """Delete with the current ETag; stale ETags are re-read, 'in use' is waited out (bounded)."""
    cf = _cf(ctx)

    def attempt() -> None:
        etag = getattr(cf, get_operation)(Id=ident)["ETag"]
        getattr(cf, delete_operation)(Id=ident, IfMatch=etag)

    retry.call("cloudfront_in_use", lambda: _stale_etag_safe(attempt))


def _in_use(ctx: Context, *path: str) -> str:
    """A value of the live distribution's config (``"origin", "origin_access_control_id"``), or "".

    How a foreign OAC/OAI/cache policy/certificate is found: the way its previous owner left it,
    through the config of the distribution that carries our alias."""
    value: Any = ctx.live.get(DIST_ADDR) or {}
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def _through_distribution(ctx: Context, kind: str) -> own.Ownership:
    """Foreign, named as what the alias's distribution uses (and that distribution's owner, if known)."""
    dist = ctx.live.get(DIST_ADDR) or {}
    origin = own.cloudformation_origin(dist.get("system_tags"))
    detail = f"the {kind} of distribution {dist.get('id')}" if dist.get("id") else ""
    if origin:
        detail += f" of {origin.split(',')[0]}"
    return own.Ownership(own.FOREIGN, detail)
