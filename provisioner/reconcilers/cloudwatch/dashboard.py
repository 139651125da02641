"""CloudWatch dashboard (``[dashboard]``): the seed's metrics side by side, one resource, its body a document.

``cloudwatch_dashboard.main`` {name, arn, url}: found by name (GetDashboard; ``ResourceNotFound`` =
absent). The body is built here from the desired state: a text widget (the stack and our ownership
marker: dashboards take no tags), CloudFront Requests, BytesDownloaded, 4xx/5xx error rates and
CacheHitRate (with ``cdn.additional_metrics``) for the distribution; S3 BucketSizeBytes,
NumberOfObjects, AllRequests and 4xx/5xx errors for the buildcache; the drift metric; and an alarm
status widget of the listed alarms. Compared as one JSON document (parsed, so key order and
whitespace do not matter): a widget moved, edited, added or removed in the console is drift, named
by its path in the body (``body.widgets[3].properties.period``). Written with one PutDashboard (it
replaces the body). Widget syntax: CloudWatch API reference, "Dashboard Body Structure and Syntax".
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ... import ownership as own
from ...aws import error_code
from ...config import DesiredState
from ...model import FieldChange, Resource, Unknown, has_unknown
from ._common import ALARM_REGION, DIST

if TYPE_CHECKING:
    from ...context import Context

ADDRESS = "cloudwatch_dashboard.main"
_MISSING = object()


def _doc_changes(path: str, want: Any, have: Any) -> list[FieldChange]:
    """Differences between two JSON documents, by path: dicts by key (extra keys too), lists by index."""
    if isinstance(want, dict) and isinstance(have, dict):
        out = []
        for k in list(want) + [k for k in have if k not in want]:
            w, h = want.get(k, _MISSING), have.get(k, _MISSING)
            p = f"{path}.{k}"
            if h is _MISSING:
                out.append(FieldChange(p, None, w, "ADD"))
            elif w is _MISSING:
                out.append(FieldChange(p, h, None, "REMOVE"))
            else:
                out.extend(_doc_changes(p, w, h))
        return out
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        return [c for i, (w, h) in enumerate(zip(want, have, strict=True)) for c in _doc_changes(f"{path}[{i}]", w, h)]
    return [] if want == have else [FieldChange(path, have, want)]


class Dashboard(Resource):
    service = "CloudWatch dashboard"
    address = ADDRESS

    def __init__(self, desired: DesiredState) -> None:
        assert desired.dashboard is not None
        self.spec = desired.dashboard
        deps = [DIST] if self.spec.cloudfront else []
        self.depends_on = tuple(deps + [f"cloudwatch_alarm.{n}" for n in self.spec.alarms])
        self.read_after = ()  # found by name

    def marker(self, ctx: Context) -> str:
        return f"provision:{ctx.desired.stack.name}"

    def _metric(self, title: str, region: str, stat: str, period: int, *metrics: list[Any]) -> dict:
        return {"type": "metric", "properties": {"title": title, "region": region, "stat": stat, "period": period,
                                                 "view": "timeSeries", "stacked": False, "metrics": list(metrics)}}

    def body(self, ctx: Context) -> dict:
        d, s = ctx.desired, self.spec
        stack_region, p = d.stack.region, s.period
        graphs: list[dict] = []
        if s.cloudfront:
            dist = ["DistributionId", ctx.out(DIST, "id"), "Region", "Global"]
            cf = ["AWS/CloudFront"]
            graphs += [
                self._metric("CloudFront requests", ALARM_REGION, "Sum", p, cf + ["Requests"] + dist),
                self._metric("CloudFront bytes downloaded", ALARM_REGION, "Sum", p, cf + ["BytesDownloaded"] + dist),
                self._metric("CloudFront error rate (%)", ALARM_REGION, "Average", p, cf + ["4xxErrorRate"] + dist,
                             cf + ["5xxErrorRate"] + dist),
            ]
            if d.cdn.additional_metrics:
                graphs.append(self._metric("CloudFront cache hit rate (%)", ALARM_REGION, "Average", p,
                                           cf + ["CacheHitRate"] + dist))
        if s.s3:
            b = ["BucketName", d.buildcache.name]
            req = b + ["FilterId", d.buildcache.request_metrics or ""]
            graphs += [
                self._metric("S3 bucket size (bytes)", stack_region, "Average", 86400,
                             ["AWS/S3", "BucketSizeBytes"] + b + ["StorageType", "StandardStorage"]),
                self._metric("S3 objects", stack_region, "Average", 86400,
                             ["AWS/S3", "NumberOfObjects"] + b + ["StorageType", "AllStorageTypes"]),
                self._metric("S3 requests", stack_region, "Sum", p, ["AWS/S3", "AllRequests"] + req),
                self._metric("S3 errors", stack_region, "Sum", p, ["AWS/S3", "4xxErrors"] + req,
                             ["AWS/S3", "5xxErrors"] + req),
            ]
        if s.drift:
            graphs.append(self._metric("Drifted resources (provision drift)", ALARM_REGION, "Maximum", 3600,
                                       ["Provision/Drift", "DriftedResources", "Stack", d.stack.name]))
        widgets: list[dict] = [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {
            "markdown": f"## Slurm Factory buildcache: stack {d.stack.name}\n"
                        f"Managed by provision (`{self.marker(ctx)}`): a change made here is drift, and "
                        "`provision apply` puts this dashboard back."}}]
        for i, g in enumerate(graphs):
            widgets.append({**g, "x": (i % 3) * 8, "y": 2 + (i // 3) * 6, "width": 8, "height": 6})
        if s.alarms:
            y = 2 + ((len(graphs) + 2) // 3) * 6
            widgets.append({"type": "alarm", "x": 0, "y": y, "width": 24, "height": 3, "properties": {
                "title": "Alarms", "alarms": [ctx.out(f"cloudwatch_alarm.{n}", "arn") for n in s.alarms]}})
        return {"widgets": widgets}

    def desired(self, ctx: Context) -> dict:
        return {"body": self.body(ctx)}

    def read(self, ctx: Context) -> dict | None:
        cw = ctx.client("cloudwatch", ALARM_REGION)
        try:
            got = cw.get_dashboard(DashboardName=self.spec.name)
        except ClientError as e:
            if error_code(e) in ("ResourceNotFound", "DashboardNotFoundError"):
                return None
            raise
        raw = got.get("DashboardBody") or ""
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw  # not JSON: differs from ours as a whole
        return {"arn": got.get("DashboardArn"), "body": body}

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        want, have = desired["body"], live.get("body")
        if has_unknown(want):
            return [FieldChange("body", have, want)]
        return _doc_changes("body", want, have)

    def outputs(self, ctx: Context, live: dict) -> dict:
        name = self.spec.name
        return {"name": name, "arn": live.get("arn"),
                "url": f"https://console.aws.amazon.com/cloudwatch/home?region={ALARM_REGION}#dashboards:name={name}"}

    def create(self, ctx: Context, desired: dict) -> None:
        self._put(ctx, desired)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        self._put(ctx, desired)

    def _put(self, ctx: Context, desired: dict) -> None:
        assert not isinstance(desired["body"], Unknown)
        ctx.client("cloudwatch", ALARM_REGION).put_dashboard(
            DashboardName=self.spec.name, DashboardBody=json.dumps(desired["body"], separators=(",", ":")))

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        # Dashboards take no tags: ours by the marker text in the body (written by every put).
        return own.Ownership(own.OURS if self.marker(ctx) in json.dumps(live.get("body")) else own.FOREIGN)

    def delete(self, ctx: Context, live: dict) -> None:
        ctx.client("cloudwatch", ALARM_REGION).delete_dashboards(DashboardNames=[self.spec.name])
