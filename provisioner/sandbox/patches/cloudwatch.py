"""CloudWatch alarms as AWS has them: DescribeAlarms paging, PutMetricAlarm on new and existing alarms.

AWS behaviour reproduced:

- https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html: alarms
  come in name order, at most ``MaxRecords`` (1-100, default 50; otherwise ``InvalidParameterValue``)
  per page, with a ``NextToken`` for the rest (an undecodable token is ``InvalidNextToken``). moto
  5.2.1 returns every alarm at once, unordered.
- https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html: "When
  this operation creates an alarm, the alarm state is immediately set to INSUFFICIENT_DATA" (moto:
  ``OK``); "When you update an existing alarm, its state is left unchanged, but the update completely
  overwrites the previous configuration" (moto resets the state to ``OK``); ``Tags``: "If you are
  using this operation to update an existing alarm, any tags you specify in this parameter are
  ignored. To change the tags of an existing alarm, use TagResource" (moto merges them in).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from moto.cloudwatch import models as cw_models
from moto.cloudwatch import responses as cw_responses
from moto.cloudwatch.exceptions import CloudWatchException

from ._common import int_param

_STATE = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history")


def _apply_put_metric_alarm() -> None:
    """PutMetricAlarm: a new alarm starts INSUFFICIENT_DATA; an update keeps the state, ignores Tags."""
    Backend = cw_models.CloudWatchBackend
    orig_put = Backend.put_metric_alarm

    def put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        existing = self.alarms.get(name)
        if existing is not None:
            kwargs["tags"] = None
        alarm = orig_put(self, name, *args, **kwargs)
        if existing is not None:
            for attr in _STATE:
                setattr(alarm, attr, getattr(existing, attr))
        else:
            alarm.state_value = "INSUFFICIENT_DATA"
        return alarm

    Backend.put_metric_alarm = put_metric_alarm


def apply() -> None:
    """DescribeAlarms: name order, MaxRecords/NextToken; PutMetricAlarm state and tags."""
    _apply_put_metric_alarm()
    Response = cw_responses.CloudWatchResponse
    orig_describe = Response.describe_alarms

    # AWS: alarms come in name order, at most MaxRecords (1-100, default 50) per page, with
    # a NextToken for the rest.
    def describe_alarms(self: Any) -> Any:
        result = orig_describe(self)
        body = result.result
        alarms = sorted(
            list(body["MetricAlarms"]) + list(body["CompositeAlarms"]), key=lambda a: a.name
        )
        max_records = int_param(self._get_param("MaxRecords"), 50)
        if not 1 <= max_records <= 100:
            raise CloudWatchException(
                "InvalidParameterValue", "The parameter MaxRecords must be between 1 and 100."
            )
        token = self._get_param("NextToken")
        if token:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise CloudWatchException("InvalidNextToken", "The service couldn't process the NextToken.") from None
            alarms = [a for a in alarms if a.name > after]
        page = alarms[:max_records]
        out: dict[str, Any] = {
            "MetricAlarms": [a for a in page if a.rule is None],
            "CompositeAlarms": [a for a in page if a.rule is not None],
        }
        if len(alarms) > max_records:
            out["NextToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        return type(result)(out)

    Response.describe_alarms = describe_alarms
