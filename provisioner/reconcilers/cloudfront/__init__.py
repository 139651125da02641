"""CloudFront: origin access (OAI or OAC), the cache policy, and the CDN distribution.

Resources (addresses other modules code against), one module per room beside ``_common`` (the
shared client, addresses, paginated lists and ETag writes):

- ``cloudfront_oai.buildcache`` (``origin_access``; ``cdn.origin_access = "oai"``, the seed): an
  origin access identity, found by its Comment among ``ListCloudFrontOriginAccessIdentities`` (one
  paginated, memoised list), created with a CallerReference derived from the stack name. OAIs take
  no tags: the CallerReference is the ownership mark. Outputs ``id``, ``s3_canonical_user_id``,
  ``iam_arn``.
- ``cloudfront_oac.buildcache`` (``origin_access``; ``"oac"``, AWS's current recommendation): an
  origin access control (SigV4, always sign, origin type s3), found by name. Output ``id``.
- ``cloudfront_cache_policy.buildcache`` (``cache_policy``; ``cdn.cache.policy = "custom"``): found
  by name among the custom cache policies. Output ``id``.
- ``cloudfront_response_headers_policy.buildcache`` (``response_headers_policy``; ``[cdn.response_headers]``)
  and ``cloudfront_origin_request_policy.buildcache`` (``origin_request_policy``;
  ``[cdn.origin_request]``): an AWS-managed policy found by name (a data source) or our custom one
  found by name (``_policy``: what managed and custom policies share). Output ``id``.
- ``cloudfront_distribution.cdn`` (``distribution``; its config is read and written by
  ``distribution_config``): found by our ``provision:stack`` tag (the list summaries' Aliases narrow
  the candidates, then ``ListTagsForResource``), created with ``CreateDistributionWithTags`` and a
  deterministic CallerReference. Outputs ``id``, ``arn``, ``domain_name``, ``public_url``.

The distribution's monitoring subscription (additional metrics) is ``cloudwatch``'s.

Why a custom cache policy (the choice the README quotes)
--------------------------------------------------------
The seed asks for "optimized caching" with gzip *and brotli* compression, a default TTL of 86400 s,
a maximum TTL of 31536000 s and query strings forwarded. CloudFront compresses with brotli only
for behaviours that use a cache policy: the legacy ``ForwardedValues``/TTL settings on a cache
behaviour compress with gzip only. AWS's managed ``CachingOptimized`` policy has the right TTLs
and both encodings but leaves query strings out of the cache key (and does not forward them),
which would change what the cache serves. So the default (``cdn.cache.policy = "custom"``) is a
custom cache policy: all query strings in the cache key, no headers, no cookies, gzip and brotli
on, min/default/max TTL 0/86400/31536000. ``policy = "legacy"`` gives the seed's settings without a
cache policy (``ForwardedValues`` with QueryString true, cookies none, the TTLs on the behaviour),
which compresses with gzip only (the config refuses brotli with it).

Comparison and updates
----------------------
AWS fills in many defaults in a distribution's config, so ``read`` builds a flat-ish dict of only
the fields the TOML declares from ``GetDistributionConfig`` (method and alias lists as sorted
sets, the target origin's access settings), and the diff never sees the rest. An update re-reads
the whole config and its ETag right before writing, changes only the declared fields in it and
sends it back with ``IfMatch``: one ``UpdateDistribution`` per repair. A stale ETag
(``PreconditionFailed``: someone changed it between our read and write) re-reads and retries;
``InvalidViewerCertificate`` right after a certificate is issued is retried for a bounded time.
After create/update the tool waits for ``Deployed`` (``--no-wait`` skips it).

Deleting (destroy only, only when tagged ours): disable, wait until deployed, delete with the new
ETag; then the OAI/OAC/cache policy (retried while CloudFront still reports them in use).
"""

from __future__ import annotations

from ...config import DesiredState

# Re-exported: importable from here as when this package was one module (tests use FieldChange).
from ...model import (
    FieldChange,  # noqa: F401
    Resource,
)
from . import origin_request_policy, response_headers_policy
from ._common import DIST_ADDR, OAC_ADDR, OAI_ADDR, OAI_PREFIX, POLICY_ADDR  # noqa: F401
from .cache_policy import CachePolicy
from .distribution import DEPLOY_DELAY, DEPLOY_TIMEOUT, Distribution  # noqa: F401
from .origin_access import OriginAccessControl, OriginAccessIdentity


def resources(desired: DesiredState) -> list[Resource]:
    cdn = desired.cdn
    out: list[Resource] = []
    out.append(OriginAccessIdentity() if cdn.origin_access == "oai" else OriginAccessControl())
    if cdn.cache.kind == "custom":
        out.append(CachePolicy())
    out.extend(response_headers_policy.resources(desired))
    out.extend(origin_request_policy.resources(desired))
    out.append(Distribution(desired))
    return out


__all__ = ["OriginAccessIdentity", "OriginAccessControl", "CachePolicy", "Distribution", "resources"]
