"""CloudFront monitoring subscription of the distribution (the additional metrics some alarms watch)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ... import ownership as own
from ...aws import error_code
from ...model import FieldChange, Resource, Unknown, diff_fields
from ._common import DIST, MONITORING

if TYPE_CHECKING:
    from ...context import Context


class MonitoringSubscription(Resource):
    service = "CloudFront monitoring subscription"
    address = MONITORING
    depends_on = (DIST,)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @property
    def status(self) -> str:
        return "Enabled" if self.enabled else "Disabled"

    def desired(self, ctx: Context) -> dict:
        return {"distribution_id": ctx.out(DIST, "id"), "realtime_metrics": self.status}

    def read(self, ctx: Context) -> dict | None:
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
        return {"distribution_id": dist_id,
                "realtime_metrics": cfg.get("RealtimeMetricsSubscriptionStatus", "Disabled"), "exists": True}

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        if desired["realtime_metrics"] == "Disabled" and live.get("realtime_metrics", "Disabled") == "Disabled":
            return []  # absent == disabled, whatever the distribution
        return diff_fields(desired, live)

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"realtime_metrics": live["realtime_metrics"]}

    def create(self, ctx: Context, desired: dict) -> None:
        self._set(ctx, desired)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        self._set(ctx, desired)

    def _set(self, ctx: Context, desired: dict) -> None:
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
    def _delete(cf: Any, dist_id: str) -> None:
        try:
            cf.delete_monitoring_subscription(DistributionId=dist_id)
        except ClientError as e:
            if error_code(e) != "NoSuchMonitoringSubscription":
                raise

    def delete(self, ctx: Context, live: dict) -> None:
        self._delete(ctx.client("cloudfront"), live["distribution_id"])

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        # No tags of its own: its distribution's, when it exists.
        if not live.get("exists"):
            return own.Ownership(own.ABSENT, parent=DIST)
        return self.follows(ctx, DIST)
