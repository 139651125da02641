"""Helpers shared by the patch modules: timestamps, integer parameters, CloudFront paging and errors.

CloudFront's conditional writes (every Update*/Delete* of the CloudFront API reference, e.g.
https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html): a missing
``IfMatch`` is ``InvalidIfMatchVersion``, a stale one is ``PreconditionFailed`` (HTTP 412).
CloudFront lists (e.g. ListDistributions) start after the item whose id is ``Marker``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from moto.cloudfront.exceptions import CloudFrontException, InvalidIfMatchVersion


def now_iso() -> str:
    """The current UTC time as AWS writes it: 2024-01-02T03:04:05.678Z."""
    now = _dt.datetime.now(_dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def int_param(value: Any, default: int) -> int:
    """A request's integer parameter (MaxItems, MaxRecords...), ``default`` when absent."""
    if value in (None, ""):
        return default
    return int(value)


def cf_error(code: str, message: str) -> Exception:
    """A CloudFront error; its HTTP status comes from the botocore model (moto looks it up by code)."""
    return CloudFrontException(code, message)


def precondition_failed() -> Exception:
    return cf_error(
        "PreconditionFailed",
        "The precondition given in one or more of the request-header fields evaluated to false.",
    )


def check_if_match(if_match: Any, etag: str) -> None:
    """CloudFront's IfMatch rule: required, and equal to the resource's current ETag."""
    if not if_match:
        raise InvalidIfMatchVersion()
    if if_match != etag:
        raise precondition_failed()


def page(items: list[Any], marker: str, max_items: int, key: Callable[[Any], str]) -> tuple[list[Any], str | None]:
    """AWS CloudFront paging: results start after the item whose id is Marker."""
    start = 0
    if marker:
        ids = [key(i) for i in items]
        start = ids.index(marker) + 1 if marker in ids else len(items)
    chunk = items[start : start + max_items]
    more = start + max_items < len(items)
    return chunk, (key(chunk[-1]) if more and chunk else None)
