"""CloudWatch helpers shared by the topic, the monitoring subscription and the alarms: region, addresses, tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...context import Context

ALARM_REGION = "us-east-1"  # CloudFront metrics live only in us-east-1
DIST = "cloudfront_distribution.cdn"
TOPIC = "sns_topic.alarms"
MONITORING = "cloudfront_monitoring.cdn"


def _tags(items: list[dict] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in (items or []) if not t[key].lower().startswith("aws:")}


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _account_id(ctx: Context) -> str:
    if ctx.desired.stack.account_id:
        return ctx.desired.stack.account_id
    return ctx.memo("sts:account_id", ctx.aws.account_id)
