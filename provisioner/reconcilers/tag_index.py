"""Everything tagged ``provision:stack=<stack>``, from one Resource Groups Tagging API walk.

``GetResources`` with our tag and the kinds of resource this tool makes (``TYPES``: one paginated
walk, 100 per page, memoised for the plan) lists every taggable resource of ours in a region:
alarms, SNS topics, certificates, buckets, distributions (global, listed in us-east-1). It serves:

- the alarms' tags (one listing instead of one call per alarm: ``cloudwatch.alarms``);
- the certificate's and the distribution's tags when they carry ours (``tags``);
- orphans: what carries our tag but the desired state no longer names (``reconcilers.orphans``).

IAM users and roles are not listed by GetResources (the Tagging API reference, "Services that
support the Resource Groups Tagging API"): their ownership is read from IAM itself. The index is
eventually consistent: a resource tagged moments ago may be missing and a tag changed moments ago
may be stale, so ``tags`` trusts it only when it shows all our tags, and the caller confirms with
the service otherwise; orphans are confirmed before anything is deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..context import Context

INDEX_REGION = "us-east-1"  # CloudFront, ACM for CloudFront, the alarms and their topic live here
#: ResourceTypeFilters ("service[:resourceType]", GetResources API reference): what this tool tags
TYPES = ["cloudwatch:alarm", "sns", "acm", "s3", "cloudfront", "cloudtrail:trail"]


def from_items(items: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (items or [])}


def without_system(tags: dict[str, str]) -> dict[str, str]:
    """Without the ``aws:`` system tags (CloudFormation's, ``aws:createdBy``...)."""
    return {k: v for k, v in tags.items() if not k.lower().startswith("aws:")}


def as_items(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def regions(ctx: Context) -> list[str]:
    """The regions the stack's resources live in (the buckets in the stack's region)."""
    return sorted({INDEX_REGION, ctx.desired.stack.region})


def walk(ctx: Context, region: str) -> dict[str, dict[str, str]]:
    """ARN -> tags of every resource tagged as this stack's in ``region`` (memoised)."""
    def fetch() -> dict[str, dict[str, str]]:
        tg = ctx.client("resourcegroupstaggingapi", region)
        out: dict[str, dict[str, str]] = {}
        pages = tg.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": "provision:stack", "Values": [ctx.desired.stack.name]}], ResourceTypeFilters=TYPES,
            ResourcesPerPage=100)
        for page in pages:
            for m in page.get("ResourceTagMappingList", []):
                out[m["ResourceARN"]] = from_items(m.get("Tags"))  # system tags kept: full_tags gives them
        return out

    return ctx.memo(("tagging:get_resources", region), fetch)


def everything(ctx: Context) -> dict[str, dict[str, str]]:
    """ARN -> tags over every region of the stack."""
    out: dict[str, dict[str, str]] = {}
    for region in regions(ctx):
        out.update(walk(ctx, region))
    return out


def _listed_as_ours(ctx: Context, arn: str, region: str) -> dict[str, str] | None:
    """The walk's tags of ``arn`` (system tags included) when they show every tag of ours, else None."""
    listed = walk(ctx, region).get(arn)
    if listed is not None and all(listed.get(k) == v for k, v in ctx.tags.items()):
        return listed
    return None


def tags(ctx: Context, arn: str, confirm: Callable[[str], dict[str, str]], region: str = INDEX_REGION) -> dict[str, str]:
    """A resource's tags (without ``aws:`` ones) from the index when it shows every tag of ours on
    it, else ``confirm(arn)`` (the service's own ListTags call): a foreign resource, one tagged
    moments ago, or one whose tags changed are always read from the service."""
    listed = _listed_as_ours(ctx, arn, region)
    return without_system(listed) if listed is not None else confirm(arn)


def full_tags(ctx: Context, arn: str, confirm: Callable[[str], dict[str, str]],
              region: str = INDEX_REGION) -> dict[str, str]:
    """As ``tags``, system tags included (``confirm`` returns them too): what ownership reads."""
    listed = _listed_as_ours(ctx, arn, region)
    return dict(listed) if listed is not None else confirm(arn)
