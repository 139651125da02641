"""The [dashboard] section: one CloudWatch dashboard with the seed's metrics side by side.

What it charts (the body is built by ``reconcilers/cloudwatch/dashboard.py``): CloudFront Requests,
BytesDownloaded, 4xx/5xx error rates and (with ``cdn.additional_metrics``) CacheHitRate; S3
BucketSizeBytes and NumberOfObjects, and AllRequests/4xxErrors/5xxErrors (request metrics: they
need ``s3.buildcache.request_metrics``); the states of the listed alarms; the drift metric.
Dashboard names (PutDashboard): 1-255 letters, digits, '-' and '_'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError
from .base import Section

DASHBOARD_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
PERIODS = (60, 300, 900, 3600, 21600, 86400)


@dataclass(frozen=True)
class Dashboard:
    name: str
    period: int  # seconds per point on the CloudFront/S3 request graphs
    alarms: tuple[str, ...]  # alarm-status widget, in this order
    cloudfront: bool
    s3: bool
    drift: bool


def parse_dashboard(root: Section, alarm_names: tuple[str, ...], request_metrics: str | None) -> Dashboard | None:
    if "dashboard" not in root.data:
        return None
    s = root.section("dashboard")
    name = s.str("name", required=True, pattern=DASHBOARD_NAME_RE,
                 what="a dashboard name (1-255 letters, digits, '-', '_')")
    period = s.int("period", 300, lo=60, hi=86400)
    if period not in PERIODS:
        s.fail("period", "one of " + ", ".join(str(p) for p in PERIODS) + " seconds", period)
    alarms = s.strlist("alarms", list(alarm_names))
    for i, a in enumerate(alarms):
        if a not in alarm_names:
            raise ConfigError(s.file, f"{s.path}.alarms[{i}]", "the name of an [[alarms.alarm]] of this file ("
                              + (", ".join(repr(n) for n in alarm_names) or "there is none") + ")", a)
    cloudfront = s.bool("cloudfront", True)
    s3 = s.bool("s3", True)
    if s3 and not request_metrics:
        s.fail("s3", "false, or s3.buildcache.request_metrics set (the S3 widgets chart AllRequests, 4xxErrors and "
               "5xxErrors, which S3 publishes only for a bucket metrics configuration)", s3)
    drift = s.bool("drift", True)
    s.done()
    return Dashboard(name=name, period=period, alarms=alarms, cloudfront=cloudfront, s3=s3, drift=drift)
