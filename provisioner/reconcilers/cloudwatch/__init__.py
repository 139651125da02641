"""CloudWatch: the alarm topic (SNS), the CloudFront monitoring subscription, and the CDN alarms.

Resources (all in us-east-1, where CloudFront publishes its metrics; an alarm's SNS action must be
in the alarm's region, so the topic is there too), one module each (``sns``, ``monitoring``,
``alarms``) beside ``_common`` (region, addresses, tags):

``sns_topic.alarms`` {arn, pending_confirmation}
    The topic, found by name (its ARN is built from the account id: one GetTopicAttributes, no
    listing). Fields: ``tags`` (declared keys only), ``email_subscriptions`` (the email endpoints,
    case-insensitive, sorted). A subscription pending confirmation counts as present: it is not
    drift, and it is never subscribed twice.
    Ownership of subscriptions (SNS subscriptions take no tags): the topic carries the tag
    ``provision:email-subscriptions`` listing a short hash (10 hex digits of SHA-256 of the
    lower-cased address) of every email endpoint this tool subscribed. Only endpoints named by the
    TOML or recorded in that tag are managed; anything else on the topic (an on-call pager someone
    subscribed by hand, an https/lambda/sqs endpoint) is left alone, and reported by drift as
    UNEXPECTED ``subscriptions[<protocol>:<endpoint>]`` (``sns_undeclared``: never removed).
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

``cloudwatch_dashboard.main`` (``dashboard``, with ``[dashboard]``): see that module.

``cloudwatch_alarm.<name>`` for every ``[[alarms.alarm]]``
    Found by name. Fields compared: description, namespace, metric_name, statistic, period,
    evaluation_periods, datapoints_to_alarm (unset = evaluation_periods, AWS's meaning), threshold,
    comparison_operator, treat_missing_data (unset = "missing"), dimensions (compared as a whole:
    for AWS/CloudFront DistributionId from ``cloudfront_distribution.cdn`` and Region=Global; for
    AWS/S3 and Provision/Drift the set ``config.alarm_metrics`` checked and filled in), alarm_actions and
    ok_actions ([topic arn] when notify, else []), insufficient_data_actions ([]), actions_enabled,
    unit (none), tags (declared keys). Create and update are one PutMetricAlarm with the whole
    alarm (it replaces the definition); PutMetricAlarm ignores Tags on an existing alarm, so tag
    changes on an existing alarm are one TagResource. An alarm removed from the TOML is an orphan
    (``reconcilers.orphans``): listed by plan and drift, deleted only by ``apply --prune``.

Batched reads (a no-op plan with N alarms costs list pages, not N calls):
  * one DescribeAlarms per chunk of 100 names (AlarmNames takes at most 100), paginated with
    NextToken, memoised with ``ctx.memo`` and shared by every alarm of the chunk;
  * tags from the stack's one Resource Groups Tagging API walk (GetResources, TagFilters
    ``provision:stack=<stack>``, 100 per page, memoised: ``reconcilers.tag_index``, which also
    finds orphans and serves the certificate's and the distribution's tags).
    The tagging index is eventually consistent, so it is trusted only when it says "our tags are
    all there": an alarm missing from the listing or whose listed tags differ is confirmed with one
    ListTagsForResource (so drift never reports a tag change that is only index lag; a tag changed
    out of band may show a few minutes late). IAM: ``tag:GetResources`` is needed besides the
    CloudWatch/SNS/CloudFront permissions.
"""

from __future__ import annotations

from ...config import Alarm, DesiredState
from ...model import Resource

# Re-exported: importable from here as when this package was one module (tests use several).
from ._common import ALARM_REGION, DIST, MONITORING, TOPIC  # noqa: F401
from .alarms import ADDITIONAL_METRICS, DESCRIBE_CHUNK, CloudWatchAlarm, _describe_chunk, _tag_index  # noqa: F401
from .dashboard import Dashboard
from .monitoring import MonitoringSubscription
from .sns import SUBS_TAG, SUBS_TAG_MAX_HASHES, SnsTopic, email_hash  # noqa: F401


def resources(desired: DesiredState) -> list[Resource]:
    out: list[Resource] = [MonitoringSubscription(desired.cdn.additional_metrics)]
    spec = desired.alarms
    if spec is not None:  # optional: the live CDK stack has no alarms (nor their topic)
        out.append(SnsTopic(spec.topic, spec.email_subscriptions, spec.restrict_publishers))
        names = sorted(a.name for a in spec.alarms)
        chunks = {n: tuple(names[i - i % DESCRIBE_CHUNK:i - i % DESCRIBE_CHUNK + DESCRIBE_CHUNK])
                  for i, n in enumerate(names)}
        out.extend(CloudWatchAlarm(a, chunks[a.name], _metrics_dependency(desired, a)) for a in spec.alarms)
    if desired.dashboard is not None:
        out.append(Dashboard(desired))
    return out


def _metrics_dependency(desired: DesiredState, alarm: Alarm) -> str | None:
    """``s3_metrics.<bucket>`` for an alarm on an S3 request metric (it has a FilterId dimension)."""
    dims = dict(alarm.dimensions)
    if alarm.namespace != "AWS/S3" or "FilterId" not in dims:
        return None
    key = next(b.key for b in (desired.buildcache, desired.logs) if b is not None and b.name == dims["BucketName"])
    return f"s3_metrics.{key}"
