"""CloudWatch DescribeAlarms paging as AWS has it.

AWS behaviour reproduced (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html):
alarms come in name order, at most ``MaxRecords`` (1-100, default 50; otherwise
``InvalidParameterValue``) per page, with a ``NextToken`` for the rest (an undecodable token is
``InvalidNextToken``). moto 5.2.1 returns every alarm at once, unordered.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from moto.cloudwatch import responses as cw_responses
from moto.cloudwatch.exceptions import CloudWatchException

from ._common import int_param


def apply() -> None:
    """DescribeAlarms: name order, MaxRecords/NextToken."""
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
