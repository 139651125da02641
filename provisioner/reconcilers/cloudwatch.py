"""CloudWatch: the alarm topic (SNS), the CloudFront monitoring subscription, and the CDN alarms.

Resources (all in us-east-1, where CloudFront publishes its metrics; an alarm's SNS action must be
in the alarm's region, so the topic is there too):

``sns_topic.alarms`` {arn, pending_confirmation}
    The topic, found by name (its ARN is built from the account id: one GetTopicAttributes, no
    listing). Fields: ``tags`` (declared keys only), ``email_subscriptions`` (the email endpoints,
    case-insensitive, sorted). A subscription pending confirmation counts as present: it is not
    drift, and it is never subscribed twice.
    Ownership of subscriptions (SNS subscriptions take no tags): the topic carries the tag
    ``provision:email-subscriptions`` listing a short hash (10 hex digits of SHA-256 of the
    lower-cased address) of every email endpoint this tool subscribed. Only endpoints named by the
    TOML or recorded in that tag are managed; anything else on the topic (an on-call pager someone
    subscribed by hand, an https/lambda/sqs endpoint) is left alone and never shows as drift.
    Removing an address from the TOML unsubscribes it only when the tag says we made it. A pending
    subscription has no ARN and cannot be unsubscribed: it is dropped from the record (AWS deletes
    unconfirmed subscriptions by itself after a few days). The record is written before subscribing
    (a crash in between leaves an address recorded but not subscribed, which the next apply fixes,
    never an address we made but forgot). The tag value holds at most 23 hashes (256 characters).

``cloudfront_monitoring.cdn``
    The distribution's monitoring subscription (``RealtimeMetricsSubscriptionStatus``): Enabled when
    ``cdn.additional_metrics`` (CacheHitRate, OriginLatency and the per-code error rates are
    additional metrics: without it an alarm on them watches nothing). ``NoSuchMonitoringSubscription``
    reads as Disabled (AWS's meaning). Disabled desired is reached by deleting the subscription.
    It takes no tags; destroy deletes it only when the distribution is ours.

``cloudwatch_alarm.<name>`` for every ``[[alarms.alarm]]``
    Found by name. Fields compared: description, namespace, metric_name, statistic, period,
    evaluation_periods, datapoints_to_alarm (unset = evaluation_periods, AWS's meaning), threshold,
    comparison_operator, treat_missing_data (unset = "missing"), dimensions (DistributionId from
    ``cloudfront_distribution.cdn`` and Region=Global, compared as a whole), alarm_actions and
    ok_actions ([topic arn] when notify, else []), insufficient_data_actions ([]), actions_enabled,
    unit (none), tags (declared keys). Create and update are one PutMetricAlarm with the whole
    alarm (it replaces the definition); PutMetricAlarm ignores Tags on an existing alarm, so tag
    changes on an existing alarm are one TagResource. Alarms the TOML does not name are never read
    nor touched (an alarm removed from the TOML is left in place, too).

Batched reads (a no-op plan with N alarms costs list pages, not N calls):
  * one DescribeAlarms per chunk of 100 names (AlarmNames takes at most 100), paginated with
    NextToken, memoised with ``ctx.memo`` and shared by every alarm of the chunk;
  * tags from one Resource Groups Tagging API listing (GetResources, ResourceTypeFilters
    ``cloudwatch:alarm``, TagFilters ``provision:stack=<stack>``, 100 per page), memoised.
    The tagging index is eventually consistent, so it is trusted only when it says "our tags are
    all there": an alarm missing from the listing or whose listed tags differ is confirmed with one
    ListTagsForResource (so drift never reports a tag change that is only index lag; a tag changed
    out of band may show a few minutes late). IAM: ``tag:GetResources`` is needed besides the
    CloudWatch/SNS/CloudFront permissions.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from .. import retry
from ..aws import error_code
from ..config import Alarm, DesiredState
from ..model import FieldChange, Resource, Unknown, Whole, diff_fields

ALARM_REGION = "us-east-1"  # CloudFront metrics live only in us-east-1
DIST = "cloudfront_distribution.cdn"
TOPIC = "sns_topic.alarms"
MONITORING = "cloudfront_monitoring.cdn"
SUBS_TAG = "provision:email-subscriptions"
SUBS_TAG_MAX_HASHES = 23  # 23 * 11 - 1 = 252 <= 256 characters
DESCRIBE_CHUNK = 100  # DescribeAlarms: AlarmNames holds at most 100 names; MaxRecords at most 100
#: CloudFront metrics that exist only with the monitoring subscription ("additional metrics").
ADDITIONAL_METRICS = frozenset({
    "CacheHitRate", "OriginLatency", "401ErrorRate", "403ErrorRate", "404ErrorRate", "502ErrorRate",
    "503ErrorRate", "504ErrorRate",
})


def _tags(items: list[dict] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in (items or []) if not t[key].lower().startswith("aws:")}


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _account_id(ctx) -> str:
    if ctx.desired.stack.account_id:
        return ctx.desired.stack.account_id
    return ctx.memo("sts:account_id", ctx.aws.account_id)


# ---------------------------------------------------------------------------------------------
# SNS topic + email subscriptions
# ---------------------------------------------------------------------------------------------


def email_hash(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:10]


def _record(addresses: list[str]) -> str:
    return " ".join(sorted(email_hash(a) for a in addresses)[:SUBS_TAG_MAX_HASHES])


class SnsTopic(Resource):
    service = "SNS topic"
    address = TOPIC

    def __init__(self, topic: str, emails: tuple[str, ...]):
        self.topic = topic
        self.emails = emails  # as written in the TOML (subscribed with that spelling)

    def arn(self, ctx) -> str:
        return f"arn:aws:sns:{ALARM_REGION}:{_account_id(ctx)}:{self.topic}"

    def desired(self, ctx) -> dict:
        return {"tags": dict(ctx.tags), "email_subscriptions": sorted({e.lower() for e in self.emails})}

    def read(self, ctx) -> dict | None:
        sns = ctx.client("sns", ALARM_REGION)
        arn = self.arn(ctx)
        try:
            sns.get_topic_attributes(TopicArn=arn)
        except ClientError as e:
            if error_code(e) in ("NotFound", "NotFoundException"):
                return None
            raise
        all_tags = _tags(sns.list_tags_for_resource(ResourceArn=arn).get("Tags"))
        recorded = set(all_tags.pop(SUBS_TAG, "").split())
        wanted = {e.lower() for e in self.emails}
        subs: dict[str, str] = {}  # managed address -> subscription arn ("PendingConfirmation" while pending)
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
            for s in page.get("Subscriptions", []):
                if s.get("Protocol") != "email":
                    continue
                addr = s.get("Endpoint", "").lower()
                if addr in wanted or email_hash(addr) in recorded:
                    if addr not in subs or subs[addr] == "PendingConfirmation":
                        subs[addr] = s.get("SubscriptionArn", "")
        return {
            "arn": arn,
            "tags": all_tags,
            "email_subscriptions": sorted(subs),
            "subscription_arns": subs,
            "pending_confirmation": sorted(a for a, s in subs.items() if not s.startswith("arn:")),
            "recorded": sorted(recorded),
        }

    def outputs(self, ctx, live: dict) -> dict:
        return {"arn": live["arn"], "pending_confirmation": live.get("pending_confirmation", [])}

    def _subscribe(self, sns, arn: str, addresses: set[str]) -> None:
        for original in self.emails:
            if original.lower() in addresses:
                sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=original)

    def create(self, ctx, desired: dict) -> None:
        sns = ctx.client("sns", ALARM_REGION)
        tags = dict(desired["tags"])
        if desired["email_subscriptions"]:
            tags[SUBS_TAG] = _record(desired["email_subscriptions"])
        arn = sns.create_topic(Name=self.topic, Tags=_tag_list(tags))["TopicArn"]
        self._subscribe(sns, arn, set(desired["email_subscriptions"]))

    def update(self, ctx, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        sns = ctx.client("sns", ALARM_REGION)
        arn = live["arn"]
        top = {c.path.split(".", 1)[0] for c in changes}
        want = set(desired["email_subscriptions"])
        have = set(live["email_subscriptions"])
        new_tags: dict[str, str] = {}
        if "tags" in top:
            new_tags.update(desired["tags"])
        record = _record(sorted(want))
        if "email_subscriptions" in top and record != " ".join(live.get("recorded", [])):
            # Record first (crash-safe: never an address we subscribed but did not record).
            if want:
                new_tags[SUBS_TAG] = record
            elif live.get("recorded"):
                sns.untag_resource(ResourceArn=arn, TagKeys=[SUBS_TAG])
        if new_tags:
            sns.tag_resource(ResourceArn=arn, Tags=_tag_list(new_tags))
        if "email_subscriptions" in top:
            self._subscribe(sns, arn, want - have)
            for addr in sorted(have - want):  # managed but no longer named: ours by the record
                sub_arn = live["subscription_arns"].get(addr, "")
                if sub_arn.startswith("arn:"):  # a pending one has no ARN; AWS expires it
                    sns.unsubscribe(SubscriptionArn=sub_arn)

    def delete(self, ctx, live: dict) -> None:
        ctx.client("sns", ALARM_REGION).delete_topic(TopicArn=live["arn"])


# ---------------------------------------------------------------------------------------------
# CloudFront monitoring subscription (additional metrics)
# ---------------------------------------------------------------------------------------------


class MonitoringSubscription(Resource):
    service = "CloudFront monitoring subscription"
    address = MONITORING
    depends_on = (DIST,)

    def __init__(self, enabled: bool):
        self.enabled = enabled

    @property
    def status(self) -> str:
        return "Enabled" if self.enabled else "Disabled"

    def desired(self, ctx) -> dict:
        return {"distribution_id": ctx.out(DIST, "id"), "realtime_metrics": self.status}

    def read(self, ctx) -> dict | None:
        dist_id = ctx.out(DIST, "id")
        absent = {"distribution_id": dist_id, "realtime_metrics": "Disabled", "exists": False}
        if isinstance(dist_id, Unknown):
            # No distribution yet: no subscription either. Nothing to do when none is wanted.
            return None if self.enabled else absent
        cf = ctx.client("cloudfront")
        try:
            got = cf.get_monitoring_subscription(DistributionId=dist_id)
        except ClientError as e:
            if error_code(e) == "NoSuchMonitoringSubscription":
                return absent
            if error_code(e) == "NoSuchDistribution":
                return None if self.enabled else absent
            raise
        cfg = (got.get("MonitoringSubscription") or {}).get("RealtimeMetricsSubscriptionConfig") or {}
        return {"distribution_id": dist_id, "realtime_metrics": cfg.get("RealtimeMetricsSubscriptionStatus", "Disabled"),
                "exists": True}

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        if desired["realtime_metrics"] == "Disabled" and live.get("realtime_metrics", "Disabled") == "Disabled":
            return []  # absent == disabled, whatever the distribution
        return diff_fields(desired, live)

    def outputs(self, ctx, live: dict) -> dict:
        return {"realtime_metrics": live["realtime_metrics"]}

    def create(self, ctx, desired: dict) -> None:
        self._set(ctx, desired)

    def update(self, ctx, desired: dict, live: dict, changes) -> None:
        self._set(ctx, desired)

    def _set(self, ctx, desired: dict) -> None:
        cf = ctx.client("cloudfront")
        if desired["realtime_metrics"] == "Enabled":
            # CreateMonitoringSubscription replaces an existing subscription (AWS's only write call).
            cf.create_monitoring_subscription(
                DistributionId=desired["distribution_id"],
                MonitoringSubscription={"RealtimeMetricsSubscriptionConfig": {
                    "RealtimeMetricsSubscriptionStatus": "Enabled"}},
            )
        else:
            self._delete(cf, desired["distribution_id"])

    @staticmethod
    def _delete(cf, dist_id: str) -> None:
        try:
            cf.delete_monitoring_subscription(DistributionId=dist_id)
        except ClientError as e:
            if error_code(e) != "NoSuchMonitoringSubscription":
                raise

    def delete(self, ctx, live: dict) -> None:
        self._delete(ctx.client("cloudfront"), live["distribution_id"])

    def owned(self, ctx, live: dict) -> bool:
        # No tags of its own: ours when it exists on our distribution.
        dlive = ctx.live.get(DIST)
        dist = ctx.resources.get(DIST)
        return bool(live.get("exists")) and bool(dlive) and dist is not None and dist.owned(ctx, dlive)


# ---------------------------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------------------------


def _describe_chunk(ctx, names: tuple[str, ...]) -> dict[str, dict]:
    cw = ctx.client("cloudwatch", ALARM_REGION)
    out: dict[str, dict] = {}
    for page in cw.get_paginator("describe_alarms").paginate(AlarmNames=list(names), MaxRecords=DESCRIBE_CHUNK):
        for a in page.get("MetricAlarms", []):
            out[a["AlarmName"]] = a
    return out


def _tag_index(ctx) -> dict[str, dict[str, str]]:
    """Tags of every alarm of this stack in one listing (ARN -> tags), from the tagging API."""
    tg = ctx.client("resourcegroupstaggingapi", ALARM_REGION)
    out: dict[str, dict[str, str]] = {}
    pages = tg.get_paginator("get_resources").paginate(
        ResourceTypeFilters=["cloudwatch:alarm"],
        TagFilters=[{"Key": "provision:stack", "Values": [ctx.desired.stack.name]}],
        ResourcesPerPage=100,
    )
    for page in pages:
        for m in page.get("ResourceTagMappingList", []):
            out[m["ResourceARN"]] = _tags(m.get("Tags"))
    return out


class CloudWatchAlarm(Resource):
    service = "CloudWatch alarm"

    def __init__(self, spec: Alarm, chunk: tuple[str, ...]):
        self.spec = spec
        self.chunk = chunk  # the names read together with this one (one DescribeAlarms)
        self.address = f"cloudwatch_alarm.{spec.name}"
        deps = [DIST, TOPIC]
        if spec.namespace == "AWS/CloudFront" and spec.metric in ADDITIONAL_METRICS:
            deps.append(MONITORING)
        self.depends_on = tuple(deps)
        self.read_after = ()  # found by name in the memoised DescribeAlarms: needs no other resource

    def desired(self, ctx) -> dict:
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
            "dimensions": Whole({"DistributionId": ctx.out(DIST, "id"), "Region": "Global"}),
            "alarm_actions": actions,
            "ok_actions": list(actions),
            "insufficient_data_actions": [],
            "actions_enabled": True,
            "unit": None,
            "tags": dict(ctx.tags),
        }

    def read(self, ctx) -> dict | None:
        alarms = ctx.memo(("cloudwatch:describe_alarms", ALARM_REGION, self.chunk),
                          lambda: _describe_chunk(ctx, self.chunk))
        a = alarms.get(self.spec.name)
        if a is None:
            return None
        arn = a["AlarmArn"]
        tags = ctx.memo(("cloudwatch:alarm_tags", ALARM_REGION), lambda: _tag_index(ctx)).get(arn)
        if tags is None or any(tags.get(k) != v for k, v in ctx.tags.items()):
            # Not in the index, or different: confirm with the alarm itself (the index may lag).
            cw = ctx.client("cloudwatch", ALARM_REGION)
            tags = _tags(cw.list_tags_for_resource(ResourceARN=arn).get("Tags"))
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
            "state": a.get("StateValue"),
        }

    def outputs(self, ctx, live: dict) -> dict:
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

    def _put(self, ctx, kw: dict) -> None:
        cw = ctx.client("cloudwatch", ALARM_REGION)
        # A topic created seconds ago may not be accepted as an action yet: bounded retry.
        retry.call("cloudwatch_topic_propagation", lambda: cw.put_metric_alarm(**kw))

    def create(self, ctx, desired: dict) -> None:
        self._put(ctx, {**self._put_kwargs(desired), "Tags": _tag_list(desired["tags"])})

    def update(self, ctx, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        top = {c.path.split(".", 1)[0] for c in changes}
        if top - {"tags"}:
            self._put(ctx, self._put_kwargs(desired))  # the whole alarm: PutMetricAlarm replaces it
        if "tags" in top:  # PutMetricAlarm ignores Tags on an existing alarm
            ctx.client("cloudwatch", ALARM_REGION).tag_resource(
                ResourceARN=live["arn"], Tags=_tag_list(desired["tags"]))

    def delete(self, ctx, live: dict) -> None:
        ctx.client("cloudwatch", ALARM_REGION).delete_alarms(AlarmNames=[self.spec.name])


def resources(desired: DesiredState) -> list[Resource]:
    spec = desired.alarms
    out: list[Resource] = [
        SnsTopic(spec.topic, spec.email_subscriptions),
        MonitoringSubscription(desired.cdn.additional_metrics),
    ]
    names = sorted(a.name for a in spec.alarms)
    chunks = {n: tuple(names[i - i % DESCRIBE_CHUNK:i - i % DESCRIBE_CHUNK + DESCRIBE_CHUNK])
              for i, n in enumerate(names)}
    out.extend(CloudWatchAlarm(a, chunks[a.name]) for a in spec.alarms)
    return out
