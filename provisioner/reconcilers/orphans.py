"""Orphans: resources tagged ``provision:stack=<stack>`` that the desired state no longer names.

Found from the stack's one tagging-API walk (``tag_index``): every ARN listed with our tag that is
not the ARN of a managed resource read by this plan. ``plan`` and ``drift`` list them; ``plan
--prune`` shows the ones prune may delete as deletions and ``apply --prune`` deletes those, with
destroy's protections:

- only what is provably ours: our tag *and* the ownership record of the last apply
  (``applied.owned_arns``: the ARNs this stack managed, or made and has not pruned yet). A tag can
  be copied onto anything by hand; a resource with our tag that no apply of ours recorded is listed
  ("not in this stack's apply record") and never deleted;
- only kinds prune knows how to delete cleanly: CloudWatch alarms, SNS topics, ACM certificates
  (not while a distribution uses one). Buckets are never deleted (the buildcache bucket and its data
  are retained; any bucket holds data), nor distributions (disable, wait, delete: ``destroy``, or by
  hand), nor any other kind;
- confirmed right before deleting: the service's own tags (not the index, which may lag) still say
  ours.

IAM roles and users are not listed by the tagging API, so an IAM orphan is not found (coverage:
``not_checked``). Route53 records and other untaggable things have no tag to find them by.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from botocore.exceptions import ClientError

from ..aws import error_code
from ..model import Orphan
from . import tag_index
from .cloudwatch import orphans as cw_orphans

if TYPE_CHECKING:
    from ..context import Context

NOT_RECORDED = ("not in this stack's apply record (/provision/{stack}/last-apply): our tag may have been copied "
                "onto it by hand; never deleted")
NO_RECORD = "no apply record of this stack to prove it ours (/provision/{stack}/last-apply); never deleted"

# ARN -> (address prefix, type, name group, why prune keeps it or "" when it may delete it)
KINDS: list[tuple[re.Pattern, str, str, str]] = [
    (re.compile(r"^arn:aws[\w-]*:cloudwatch:[^:]+:\d+:alarm:(?P<name>.+)$"), "cloudwatch_alarm", "CloudWatch alarm", ""),
    (re.compile(r"^arn:aws[\w-]*:sns:[^:]+:\d+:(?P<name>[^:]+)$"), "sns_topic", "SNS topic", ""),
    (re.compile(r"^arn:aws[\w-]*:acm:[^:]+:\d+:certificate/(?P<name>.+)$"), "acm_certificate", "ACM certificate", ""),
    (re.compile(r"^arn:aws[\w-]*:s3:::(?P<name>[^/]+)$"), "s3_bucket", "S3 bucket",
     "buckets and their data are never deleted by prune (empty and delete it by hand)"),
    (re.compile(r"^arn:aws[\w-]*:cloudfront::\d+:distribution/(?P<name>.+)$"), "cloudfront_distribution",
     "CloudFront distribution", "prune does not delete distributions (disable, wait and delete by hand)"),
]


def _kind(arn: str) -> tuple[str, str, str, str]:
    for pattern, prefix, label, kept in KINDS:
        m = pattern.match(arn)
        if m:
            return prefix, label, m.group("name"), kept
    service = arn.split(":")[2] if arn.count(":") >= 2 else "?"
    return f"{service}_resource", f"{service} resource", arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1], \
        "a kind prune does not delete"


def managed_arns(ctx: Context) -> set[str]:
    """ARNs of what this plan manages (live values read and their outputs)."""
    out: set[str] = set()
    for address, live in ctx.live.items():
        for source in (live or {}, ctx.outs.get(address) or {}):
            arn = source.get("arn") if isinstance(source, dict) else None
            if isinstance(arn, str):
                out.add(arn)
    return out


def find(ctx: Context, owned: Callable[[], set[str] | None]) -> list[Orphan]:
    """The orphans of this stack. ``owned()`` (called only when there are candidates: it reads the
    apply record) -> the ARNs the record proves ours, None without a record."""
    managed = managed_arns(ctx)
    stack = ctx.desired.stack.name
    candidates = {arn: tags for arn, tags in tag_index.everything(ctx).items()
                  if arn not in managed and tags.get("provision:stack") == stack}
    if not candidates:
        return []
    proved = owned()
    out = []
    for arn in sorted(candidates):
        prefix, label, name, kept = _kind(arn)
        ours = proved is not None and arn in proved
        if not ours:
            kept = (NO_RECORD if proved is None else NOT_RECORDED).format(stack=stack)
        out.append(Orphan(address=f"{prefix}.{name}", type=label, arn=arn, name=name,
                          why=f"tagged provision:stack={stack}, not named by {ctx.desired.source}",
                          ours=ours, deletable=ours and not kept, kept=kept))
    return out


# -- deleting (apply --prune) -----------------------------------------------------------------------

def _region(arn: str) -> str:
    return arn.split(":")[3]


def _still_ours(ctx: Context, o: Orphan) -> bool:
    """The service's own tags, read right before deleting (the index may lag)."""
    stack = ctx.desired.stack.name
    try:
        if o.address.startswith("cloudwatch_alarm."):
            tags = cw_orphans.alarm_tags(ctx, o.arn)
        elif o.address.startswith("sns_topic."):
            tags = cw_orphans.topic_tags(ctx, o.arn)
        elif o.address.startswith("acm_certificate."):
            tags = ctx.client("acm", _region(o.arn)).list_tags_for_certificate(CertificateArn=o.arn).get("Tags", [])
        else:
            return False
    except ClientError as e:
        if error_code(e) in ("ResourceNotFoundException", "ResourceNotFound", "NotFound", "NotFoundException"):
            return False  # gone already
        raise
    return any(t.get("Key") == "provision:stack" and t.get("Value") == stack for t in tags)


def delete(ctx: Context, o: Orphan) -> str:
    """Delete one orphan prune may delete; -> "" when deleted, else why it was kept."""
    if not o.deletable:
        return o.kept or "not deletable"
    if not _still_ours(ctx, o):
        return "no longer tagged as this stack's (or already gone): not deleted"
    if o.address.startswith("cloudwatch_alarm."):
        cw_orphans.delete_alarm(ctx, o.arn, o.name)
    elif o.address.startswith("sns_topic."):
        cw_orphans.delete_topic(ctx, o.arn)
    elif o.address.startswith("acm_certificate."):
        acm = ctx.client("acm", _region(o.arn))
        in_use = acm.describe_certificate(CertificateArn=o.arn)["Certificate"].get("InUseBy") or []
        if in_use:
            return f"in use by {', '.join(in_use)}: not deleted"
        acm.delete_certificate(CertificateArn=o.arn)
    return ""


#: prune order: what uses the others first (alarms notify topics; certificates last)
ORDER = ("cloudwatch_alarm.", "sns_topic.", "acm_certificate.")


def prune_order(orphans: list[Orphan]) -> list[Orphan]:
    def rank(o: Orphan) -> int:
        return next((i for i, p in enumerate(ORDER) if o.address.startswith(p)), len(ORDER))

    return sorted(orphans, key=lambda o: (rank(o), o.address))

