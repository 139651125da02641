"""The [alarms] section: the SNS topic, its email subscriptions and the CloudWatch alarms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Described
from .alarm_metrics import parse_dimensions
from .base import Section, bad

ALARM_NAME_RE = re.compile(r"^[^\x00-\x1f]{1,255}$")
TOPIC_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
NAMESPACES = ("AWS/CloudFront", "AWS/S3", "Provision/Drift")  # dimensions: config/alarm_metrics.py
# CloudFront additional metrics: published only while the distribution's monitoring subscription is on.
ADDITIONAL_METRICS = ("CacheHitRate", "OriginLatency", "401ErrorRate", "403ErrorRate", "404ErrorRate",
                      "502ErrorRate", "503ErrorRate", "504ErrorRate")


@dataclass(frozen=True)
class Alarm:
    name: str
    description: str
    namespace: str
    metric: str
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int | None
    threshold: float
    comparison: str
    treat_missing_data: str
    notify: bool  # alarm + OK actions to the topic
    #: (name, value), sorted; filled in by alarm_metrics (AWS/CloudFront: DistributionId at plan time)
    dimensions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Alarms:
    topic: str
    email_subscriptions: tuple[str, ...]
    alarms: tuple[Alarm, ...]
    restrict_publishers: bool = True  # topic policy: only CloudWatch alarms of this account publish


def parse_alarms(s: Section) -> Alarms:
    topic = s.str("topic", required=True, pattern=TOPIC_RE, what="an SNS topic name (letters, digits, '-', '_')")
    emails = s.strlist("email_subscriptions", [],
                       item=lambda p, v: None if EMAIL_RE.match(v) else bad(s.file, p, "an email address", v))
    alarms = []
    names = set()
    for a in s.tables("alarm"):
        name = a.str("name", required=True, pattern=ALARM_NAME_RE, what="an alarm name (1-255 printable characters)")
        if name in names:
            a.fail("name", "a unique alarm name", name)
        names.add(name)
        ev = a.int("evaluation_periods", required=True, lo=1, hi=1440)
        period = a.int("period", required=True, lo=10)
        if period not in (10, 20, 30) and period % 60 != 0:
            a.fail("period", "10, 20, 30 or a multiple of 60 seconds", period)
        if period * ev > 7 * 86400:
            a.fail("evaluation_periods", "period * evaluation_periods <= 604800 (7 days)", ev)
        dta = a.int("datapoints_to_alarm", lo=1, hi=ev, optional=True)
        alarms.append(Alarm(
            name=name,
            description=_description(a),
            namespace=a.str("namespace", "AWS/CloudFront", choices=NAMESPACES),
            metric=a.str("metric", required=True, pattern=re.compile(r"^[A-Za-z0-9_.-]{1,255}$"), what="a metric name"),
            statistic=a.str("statistic", "Average", choices=STATISTICS),
            period=period,
            evaluation_periods=ev,
            datapoints_to_alarm=dta,
            threshold=a.num("threshold", required=True),
            comparison=a.str("comparison", required=True, choices=COMPARISONS),
            treat_missing_data=a.str("treat_missing_data", "notBreaching", choices=MISSING_DATA),
            notify=a.bool("notify", True),
            dimensions=parse_dimensions(a),
        ))
        a.done()
    restrict = s.bool("restrict_publishers", True)
    s.done()
    return Alarms(topic=topic, email_subscriptions=emails, alarms=tuple(alarms), restrict_publishers=restrict)


def _description(a: Section) -> str:
    """PutMetricAlarm: AlarmDescription is at most 1024 characters."""
    desc = a.str("description", "", allow_empty=True)
    if len(desc) > 1024:
        a.fail("description", "at most 1024 characters (CloudWatch's limit for an alarm description)",
               Described(f"{len(desc)} characters"))
    return desc
