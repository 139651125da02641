"""CloudWatch alarms on the distribution's metrics, read in batches (DescribeAlarms chunks, one tag listing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import ownership as own
from ... import retry
from ...config import Alarm
from ...model import FieldChange, Resource, Whole
from .. import tag_index
from ._common import ALARM_REGION, DIST, MONITORING, TOPIC, _tag_list, _tags

if TYPE_CHECKING:
    from ...context import Context

DESCRIBE_CHUNK = 100  # DescribeAlarms: AlarmNames holds at most 100 names; MaxRecords at most 100
#: CloudFront metrics that exist only with the monitoring subscription ("additional metrics").
ADDITIONAL_METRICS = frozenset({
    "CacheHitRate", "OriginLatency", "401ErrorRate", "403ErrorRate", "404ErrorRate", "502ErrorRate",
    "503ErrorRate", "504ErrorRate",
})


def _describe_chunk(ctx: Context, names: tuple[str, ...]) -> dict[str, dict]:
    cw = ctx.client("cloudwatch", ALARM_REGION)
    out: dict[str, dict] = {}
    for page in cw.get_paginator("describe_alarms").paginate(AlarmNames=list(names), MaxRecords=DESCRIBE_CHUNK):
        for a in page.get("MetricAlarms", []):
            out[a["AlarmName"]] = a
    return out


def _tag_index(ctx: Context) -> dict[str, dict[str, str]]:
    """Tags of every alarm of this stack in one listing (ARN -> tags), from the stack's one
    tagging-API walk (``reconcilers.tag_index``, shared with orphans, the certificate and the CDN)."""
    return {arn: t for arn, t in tag_index.walk(ctx, ALARM_REGION).items() if ":cloudwatch:" in arn and ":alarm:" in arn}


class CloudWatchAlarm(Resource):
    service = "CloudWatch alarm"

    def __init__(self, spec: Alarm, chunk: tuple[str, ...], metrics: str | None = None) -> None:
        self.spec = spec
        self.chunk = chunk  # the names read together with this one (one DescribeAlarms)
        self.address = f"cloudwatch_alarm.{spec.name}"
        deps = [TOPIC]
        if spec.namespace == "AWS/CloudFront":
            deps.append(DIST)
            if spec.metric in ADDITIONAL_METRICS:
                deps.append(MONITORING)
        elif metrics is not None:
            deps.append(metrics)  # s3_metrics.<bucket>: S3 publishes the request metrics only once it exists
        self.depends_on = tuple(deps)
        self.read_after = ()  # found by name in the memoised DescribeAlarms: needs no other resource

    def desired(self, ctx: Context) -> dict:
        a = self.spec
        actions = [ctx.out(TOPIC, "arn")] if a.notify else []
        return {
            "description": a.description,
            "namespace": a.namespace,
            "metric_name": a.metric,
            "statistic": a.statistic,
            "period": a.period,
            "evaluation_periods": a.evaluation_periods,
            "datapoints_to_alarm": a.datapoints_to_alarm or a.evaluation_periods,
            "threshold": float(a.threshold),
            "comparison_operator": a.comparison,
            "treat_missing_data": a.treat_missing_data,
            "dimensions": self._dimensions(ctx),
            "alarm_actions": actions,
            "ok_actions": list(actions),
            "insufficient_data_actions": [],
            "actions_enabled": True,
            "unit": None,
            "tags": dict(ctx.tags),
        }

    def _dimensions(self, ctx: Context) -> Whole:
        if self.spec.namespace == "AWS/CloudFront":
            return Whole({"DistributionId": ctx.out(DIST, "id"), "Region": "Global"})
        return Whole(dict(self.spec.dimensions))  # checked and filled in by config.alarm_metrics

    def read(self, ctx: Context) -> dict | None:
        alarms = ctx.memo(("cloudwatch:describe_alarms", ALARM_REGION, self.chunk),
                          lambda: _describe_chunk(ctx, self.chunk))
        a = alarms.get(self.spec.name)
        if a is None:
            return None
        arn = a["AlarmArn"]
        listed = ctx.memo(("cloudwatch:alarm_tags", ALARM_REGION), lambda: _tag_index(ctx)).get(arn)
        tags = tag_index.without_system(listed) if listed is not None else None
        system = own.system_tags(tag_index.as_items(listed or {}))
        if tags is None or any(tags.get(k) != v for k, v in ctx.tags.items()):
            # Not in the index, or different: confirm with the alarm itself (the index may lag).
            cw = ctx.client("cloudwatch", ALARM_REGION)
            tag_list = cw.list_tags_for_resource(ResourceARN=arn).get("Tags")
            tags, system = _tags(tag_list), own.system_tags(tag_list)
        threshold = a.get("Threshold")
        return {
            "arn": arn,
            "description": a.get("AlarmDescription", ""),
            "namespace": a.get("Namespace"),
            "metric_name": a.get("MetricName"),
            "statistic": a.get("Statistic"),
            "period": a.get("Period"),
            "evaluation_periods": a.get("EvaluationPeriods"),
            "datapoints_to_alarm": a.get("DatapointsToAlarm") or a.get("EvaluationPeriods"),
            "threshold": float(threshold) if threshold is not None else None,
            "comparison_operator": a.get("ComparisonOperator"),
            "treat_missing_data": a.get("TreatMissingData") or "missing",
            "dimensions": Whole({d["Name"]: d["Value"] for d in a.get("Dimensions") or []}),
            "alarm_actions": sorted(a.get("AlarmActions") or []),
            "ok_actions": sorted(a.get("OKActions") or []),
            "insufficient_data_actions": sorted(a.get("InsufficientDataActions") or []),
            "actions_enabled": bool(a.get("ActionsEnabled", True)),
            "unit": a.get("Unit"),
            "tags": tags,
            "system_tags": system,
            "state": a.get("StateValue"),
        }

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"arn": live["arn"], "name": self.spec.name, "state": live.get("state")}

    def _put_kwargs(self, desired: dict) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "AlarmName": self.spec.name,
            "AlarmDescription": desired["description"],
            "ActionsEnabled": desired["actions_enabled"],
            "OKActions": list(desired["ok_actions"]),
            "AlarmActions": list(desired["alarm_actions"]),
            "InsufficientDataActions": list(desired["insufficient_data_actions"]),
            "MetricName": desired["metric_name"],
            "Namespace": desired["namespace"],
            "Statistic": desired["statistic"],
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(desired["dimensions"].items())],
            "Period": desired["period"],
            "EvaluationPeriods": desired["evaluation_periods"],
            "Threshold": desired["threshold"],
            "ComparisonOperator": desired["comparison_operator"],
            "TreatMissingData": desired["treat_missing_data"],
        }
        if self.spec.datapoints_to_alarm is not None:
            kw["DatapointsToAlarm"] = self.spec.datapoints_to_alarm
        return kw

    def _put(self, ctx: Context, kw: dict) -> None:
        cw = ctx.client("cloudwatch", ALARM_REGION)
        # A topic created seconds ago may not be accepted as an action yet: bounded retry.
        retry.call("cloudwatch_topic_propagation", lambda: cw.put_metric_alarm(**kw))

    def create(self, ctx: Context, desired: dict) -> None:
        self._put(ctx, {**self._put_kwargs(desired), "Tags": _tag_list(desired["tags"])})

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        top = {c.path.split(".", 1)[0] for c in changes}
        if top - {"tags"}:
            self._put(ctx, self._put_kwargs(desired))  # the whole alarm: PutMetricAlarm replaces it
        if "tags" in top:  # PutMetricAlarm ignores Tags on an existing alarm
            ctx.client("cloudwatch", ALARM_REGION).tag_resource(
                ResourceARN=live["arn"], Tags=_tag_list(desired["tags"]))

    def delete(self, ctx: Context, live: dict) -> None:
        ctx.client("cloudwatch", ALARM_REGION).delete_alarms(AlarmNames=[self.spec.name])
