"""CloudFront monitoring subscriptions (additional metrics): moto 5.2.1 has no such API.

AWS behaviour reproduced (CloudFront API reference):

- https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateMonitoringSubscription.html:
  creates (or, for a distribution that has one, replaces: Terraform's
  ``aws_cloudfront_monitoring_subscription`` updates through it) the subscription of an existing
  distribution (``NoSuchDistribution`` otherwise).
- https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetMonitoringSubscription.html and
  DeleteMonitoringSubscription: ``NoSuchMonitoringSubscription`` when the distribution has none.

Deleting a distribution drops its subscription (``cloudfront_distribution``).
"""

from __future__ import annotations

from typing import Any

from moto.cloudfront import responses as cf_responses
from moto.cloudfront import urls as cf_urls
from moto.core.responses import ActionResult, EmptyResult

from ._common import cf_error


def _no_such_subscription() -> Exception:
    return cf_error(
        "NoSuchMonitoringSubscription",
        "A monitoring subscription does not exist for the specified distribution.",
    )


def apply() -> None:
    """Add the monitoring-subscription responses and route (state: ``backend.monitoring_subscriptions``)."""
    Response = cf_responses.CloudFrontResponse

    def resp_create_monitoring(self: Any) -> ActionResult:
        dist_id = self._get_param("DistributionId")
        self.backend.get_distribution(dist_id)  # NoSuchDistribution
        sub = self._get_param("MonitoringSubscription", {}) or {}
        # AWS answers Create for an existing subscription by replacing it (Terraform's
        # aws_cloudfront_monitoring_subscription updates through CreateMonitoringSubscription).
        self.backend.monitoring_subscriptions[dist_id] = sub
        return ActionResult({"MonitoringSubscription": sub})

    def resp_get_monitoring(self: Any) -> ActionResult:
        dist_id = self._get_param("DistributionId")
        self.backend.get_distribution(dist_id)
        if dist_id not in self.backend.monitoring_subscriptions:
            raise _no_such_subscription()
        return ActionResult({"MonitoringSubscription": self.backend.monitoring_subscriptions[dist_id]})

    def resp_delete_monitoring(self: Any) -> ActionResult:
        dist_id = self._get_param("DistributionId")
        self.backend.get_distribution(dist_id)
        if self.backend.monitoring_subscriptions.pop(dist_id, None) is None:
            raise _no_such_subscription()
        return EmptyResult()

    Response.create_monitoring_subscription = resp_create_monitoring
    Response.get_monitoring_subscription = resp_get_monitoring
    Response.delete_monitoring_subscription = resp_delete_monitoring

    # botocore 1.34 (the lowest pyproject allows) spells the path with a trailing slash, later ones without.
    cf_urls.url_paths.update({
        "{0}/2020-05-31/distributions/(?P<distribution_id>[^/]+)/monitoring-subscription$": Response.dispatch,
        "{0}/2020-05-31/distributions/(?P<distribution_id>[^/]+)/monitoring-subscription/$": Response.dispatch,
    })
