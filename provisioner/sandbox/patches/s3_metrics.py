"""S3 bucket metrics configurations (request metrics), as AWS has them: moto 5.2.1 stores none.

AWS behaviour reproduced (S3 API reference):

- https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketMetricsConfiguration.html: creates or
  replaces the configuration ``Id`` of a bucket (``NoSuchBucket`` for a missing bucket).
- API_GetBucketMetricsConfiguration.html: the configuration, or HTTP 404 ``NoSuchConfiguration``
  ("The specified configuration does not exist.") when the bucket has none with that Id.
- API_ListBucketMetricsConfigurations.html: every configuration of the bucket (``IsTruncated``).
- API_DeleteBucketMetricsConfiguration.html: 204, or 404 ``NoSuchConfiguration``.

moto 5.2.1 answers ``?metrics`` requests as if they were other bucket requests: PUT is accepted
and forgotten, GET returns an empty ``MetricsConfiguration`` for any Id, so "missing" cannot be told
from "present" and nothing is ever stored.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import xmltodict
from moto.s3 import responses as s3_responses

_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
_XML = {"content-type": "application/xml"}


def _no_such(metrics_id: str) -> tuple[int, dict[str, str], bytes]:
    body = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchConfiguration</Code>'
            f"<Message>The specified configuration does not exist.</Message><Id>{escape(metrics_id)}</Id></Error>")
    return 404, dict(_XML), body.encode()


def _configs(bucket: Any) -> dict[str, str]:
    """Id -> the inner XML of its <MetricsConfiguration> (what was put, namespace dropped)."""
    if not hasattr(bucket, "_sandbox_metrics"):
        bucket._sandbox_metrics = {}
    return bucket._sandbox_metrics


def _inner(body: bytes) -> str:
    doc = xmltodict.parse(body or b"<MetricsConfiguration/>").get("MetricsConfiguration") or {}
    return "".join(xmltodict.unparse({k: v}, full_document=False) for k, v in doc.items() if not k.startswith("@"))


def apply() -> None:
    """Intercept ``?metrics`` on GET/PUT/DELETE of a bucket."""
    Response = s3_responses.S3Response
    orig_get = Response._bucket_response_get
    orig_put = Response._bucket_response_put
    orig_delete = Response._bucket_response_delete

    def bucket_get(self: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "metrics" not in querystring:
            return orig_get(self, bucket_name, querystring)
        configs = _configs(self.backend.get_bucket(bucket_name))  # NoSuchBucket
        if "id" in querystring:
            metrics_id = querystring["id"][0]
            if metrics_id not in configs:
                return _no_such(metrics_id)
            body = f'<?xml version="1.0" encoding="UTF-8"?><MetricsConfiguration xmlns="{_NS}">{configs[metrics_id]}' \
                   "</MetricsConfiguration>"
            return 200, dict(_XML), body.encode()
        items = "".join(f"<MetricsConfiguration>{configs[k]}</MetricsConfiguration>" for k in sorted(configs))
        body = (f'<?xml version="1.0" encoding="UTF-8"?><ListMetricsConfigurationsResult xmlns="{_NS}">'
                f"<IsTruncated>false</IsTruncated>{items}</ListMetricsConfigurationsResult>")
        return 200, dict(_XML), body.encode()

    def bucket_put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "metrics" not in querystring:
            return orig_put(self, request, bucket_name, querystring)
        configs = _configs(self.backend.get_bucket(bucket_name))
        configs[querystring["id"][0]] = _inner(self.body)
        return 200, {}, b""

    def bucket_delete(self: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "metrics" not in querystring:
            return orig_delete(self, bucket_name, querystring)
        configs = _configs(self.backend.get_bucket(bucket_name))
        metrics_id = querystring["id"][0]
        if configs.pop(metrics_id, None) is None:
            return _no_such(metrics_id)
        return 204, {}, b""

    Response._bucket_response_get = bucket_get
    Response._bucket_response_put = bucket_put
    Response._bucket_response_delete = bucket_delete
