"""Prune's calls for the CloudWatch package's kinds (``reconcilers.orphans`` decides what to prune):
an alarm's and a topic's own tags (read right before deleting) and their deletion."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...context import Context


def _region(arn: str) -> str:
    return arn.split(":")[3]


def alarm_tags(ctx: Context, arn: str) -> list[dict]:
    return ctx.client("cloudwatch", _region(arn)).list_tags_for_resource(ResourceARN=arn).get("Tags", [])


def delete_alarm(ctx: Context, arn: str, name: str) -> None:
    ctx.client("cloudwatch", _region(arn)).delete_alarms(AlarmNames=[name])


def topic_tags(ctx: Context, arn: str) -> list[dict]:
    return ctx.client("sns", _region(arn)).list_tags_for_resource(ResourceArn=arn).get("Tags", [])


def delete_topic(ctx: Context, arn: str) -> None:
    ctx.client("sns", _region(arn)).delete_topic(TopicArn=arn)
