"""S3 request metrics: the bucket's whole-bucket metrics configuration (``s3.<bucket>.request_metrics``).

``s3_metrics.<bucket>``: S3 publishes the request metrics (AllRequests, 4xxErrors, 5xxErrors, ...,
dimensions BucketName + FilterId) only for a metrics configuration (S3 API reference,
PutBucketMetricsConfiguration; S3 User Guide, "Creating a CloudWatch metrics configuration for all
the objects in your bucket"). Found by its Id (GetBucketMetricsConfiguration; ``NoSuchConfiguration``
= absent). Compared: the filter (none = the whole bucket; a prefix, tag or access point filter put
there out of band is drift). Other configurations on the bucket (other Ids) are not ours and are left
alone. Request metrics are billed as CloudWatch custom metrics, so destroy deletes ours (when the
bucket is ours) even though the bucket itself is retained.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from ... import ownership as own
from ...aws import error_code
from ...config import Bucket
from ...context import Context
from ...model import FieldChange, Resource

WHOLE_BUCKET = "whole bucket"


class BucketMetrics(Resource):
    service = "S3 request metrics configuration"

    def __init__(self, spec: Bucket, region: str):
        assert spec.request_metrics
        self.spec = spec
        self.id = spec.request_metrics
        self.region = region
        self.bucket_address = f"s3_bucket.{spec.key}"
        self.address = f"s3_metrics.{spec.key}"
        self.depends_on = (self.bucket_address,)

    def desired(self, ctx: Context) -> dict:
        return {"id": self.id, "filter": WHOLE_BUCKET}

    def read(self, ctx: Context) -> dict | None:
        if ctx.live.get(self.bucket_address) is None and ctx.managed(self.bucket_address):
            return None
        try:
            got = ctx.client("s3", self.region).get_bucket_metrics_configuration(Bucket=self.spec.name, Id=self.id)
        except ClientError as e:
            if error_code(e) in ("NoSuchConfiguration", "NoSuchBucket"):
                return None
            raise
        cfg = got.get("MetricsConfiguration") or {}
        flt = cfg.get("Filter")
        return {"id": cfg.get("Id", self.id), "filter": json.dumps(flt, sort_keys=True, default=str) if flt
                else WHOLE_BUCKET}

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"id": self.id}

    def create(self, ctx: Context, desired: dict) -> None:
        self._put(ctx)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        self._put(ctx)

    def _put(self, ctx: Context) -> None:
        # No Filter: the configuration covers every object of the bucket.
        ctx.client("s3", self.region).put_bucket_metrics_configuration(
            Bucket=self.spec.name, Id=self.id, MetricsConfiguration={"Id": self.id})

    def delete(self, ctx: Context, live: dict) -> None:
        ctx.client("s3", self.region).delete_bucket_metrics_configuration(Bucket=self.spec.name, Id=self.id)

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        return self.follows(ctx, self.bucket_address)  # takes no tags: it is its bucket's
