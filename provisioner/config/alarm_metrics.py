"""Which dimensions an alarm's metric has, per namespace (``[[alarms.alarm]] dimensions``), checked and filled in.

An alarm whose dimension set is not the one the metric is published with watches nothing
(CloudWatch matches a metric by namespace, name and the exact dimension set), so a wrong set is an
error here, not a silent alarm:

- ``AWS/CloudFront``: ``DistributionId`` (the distribution's, known at plan time) and
  ``Region = Global`` (CloudFront Developer Guide, "Viewing CloudFront and edge function metrics");
  nothing to declare.
- ``AWS/S3`` request metrics (AllRequests, 4xxErrors, 5xxErrors...): ``BucketName`` and
  ``FilterId``, published only for a bucket metrics configuration with that Id (S3 User Guide,
  "Metrics and dimensions": request metrics; "Creating a CloudWatch metrics configuration").
  Defaults: the buildcache bucket and its ``request_metrics`` id.
- ``AWS/S3`` storage metrics (BucketSizeBytes, NumberOfObjects): ``BucketName`` and
  ``StorageType``, reported once a day (period a multiple of 86400). Defaults: the buildcache;
  ``StandardStorage`` for BucketSizeBytes, ``AllStorageTypes`` (its only type) for NumberOfObjects.
- ``Provision/Drift`` ``DriftedResources``: ``Stack`` = this stack's name (what
  ``provision drift --publish-metric`` puts).

The alarms (and their SNS topic) live in us-east-1 with the CloudFront metrics, and so does the drift
metric (``ops.publish_drift_metric``); S3 publishes its metrics in the bucket's region, so alarms on
them need a us-east-1 stack.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from ..errors import ConfigError, Described
from .base import Section

if TYPE_CHECKING:
    from .alarms import Alarms
    from .s3 import Bucket

S3_REQUEST_METRICS = ("AllRequests", "GetRequests", "PutRequests", "DeleteRequests", "HeadRequests", "PostRequests",
                      "SelectRequests", "ListRequests", "BytesDownloaded", "BytesUploaded", "4xxErrors", "5xxErrors",
                      "FirstByteLatency", "TotalRequestLatency")
S3_STORAGE_METRICS = ("BucketSizeBytes", "NumberOfObjects")
STORAGE_TYPES = ("StandardStorage", "IntelligentTieringFAStorage", "IntelligentTieringIAStorage",
                 "IntelligentTieringAAStorage", "IntelligentTieringAIAStorage", "IntelligentTieringDAAStorage",
                 "StandardIAStorage", "StandardIASizeOverhead", "OneZoneIAStorage", "OneZoneIASizeOverhead",
                 "ReducedRedundancyStorage", "GlacierInstantRetrievalStorage", "GlacierStorage",
                 "GlacierStagingStorage", "GlacierObjectOverhead", "GlacierS3ObjectOverhead", "DeepArchiveStorage",
                 "DeepArchiveObjectOverhead", "DeepArchiveS3ObjectOverhead", "DeepArchiveStagingStorage")
DRIFT_METRIC = "DriftedResources"
_VALUE_RE = re.compile(r"^[^\x00-\x1f]{1,1024}$")


def parse_dimensions(a: Section) -> tuple[tuple[str, str], ...]:
    """The declared ``dimensions`` table of one alarm (checked against its namespace by ``resolve``)."""
    d = a.section("dimensions", required=False)
    out = []
    for k, v in d.data.items():
        d.used.add(k)
        if not re.match(r"^[A-Za-z0-9_.-]{1,255}$", k):
            raise ConfigError(a.file, f"{d.path}.{k}", "a dimension name", k)
        if not isinstance(v, str) or not _VALUE_RE.match(v):
            raise ConfigError(a.file, f"{d.path}.{k}", "a dimension value (a non-empty string)", v)
        out.append((k, v))
    return tuple(sorted(out))


def resolve(alarms: Alarms, stack_name: str, region: str, buckets: dict[str, Bucket], file: str) -> Alarms:
    """``alarms`` with every non-CloudFront alarm's dimensions checked and filled in."""
    out = []
    by_name = {b.name: b for b in buckets.values()}
    for i, a in enumerate(alarms.alarms):
        path = f"alarms.alarm[{i}]"
        declared = dict(a.dimensions)
        if a.namespace == "AWS/CloudFront":
            if declared:
                raise ConfigError(file, f"{path}.dimensions", "no dimensions for AWS/CloudFront (provision sets "
                                  "DistributionId from the distribution and Region = 'Global')", _keys(declared))
            out.append(a)
            continue
        if a.namespace == "AWS/S3" and region != "us-east-1":
            raise ConfigError(file, f"{path}.namespace", "AWS/CloudFront or Provision/Drift in a stack outside "
                              f"us-east-1 (the alarms and their topic live in us-east-1; S3 publishes in {region})",
                              a.namespace)
        if a.namespace == "Provision/Drift":
            want = {"Stack": stack_name}
            if a.metric != DRIFT_METRIC:
                raise ConfigError(file, f"{path}.metric", f"{DRIFT_METRIC!r} (the one metric of Provision/Drift)",
                                  a.metric)
            dims = _fit(file, path, declared, want, fixed={"Stack": stack_name})
        elif a.metric in S3_REQUEST_METRICS:
            bucket = _bucket(file, path, declared, buckets, by_name)
            want = {"BucketName": bucket.name, "FilterId": bucket.request_metrics or ""}
            if not bucket.request_metrics:
                raise ConfigError(file, f"{path}.metric", f"a storage metric, or s3.{bucket.key}.request_metrics set "
                                  f"(S3 publishes {a.metric} only for a bucket metrics configuration)", a.metric)
            dims = _fit(file, path, declared, want, fixed={"FilterId": bucket.request_metrics})
        elif a.metric in S3_STORAGE_METRICS:
            bucket = _bucket(file, path, declared, buckets, by_name)
            default = "StandardStorage" if a.metric == "BucketSizeBytes" else "AllStorageTypes"
            dims = _fit(file, path, declared, {"BucketName": bucket.name, "StorageType": default})
            types = ("AllStorageTypes",) if a.metric == "NumberOfObjects" else STORAGE_TYPES
            if dims["StorageType"] not in types:
                raise ConfigError(file, f"{path}.dimensions.StorageType", "one of " + ", ".join(types)
                                  + f" for {a.metric}", dims["StorageType"])
            if a.period % 86400:
                raise ConfigError(file, f"{path}.period", f"a multiple of 86400 (S3 reports {a.metric} once a day)",
                                  a.period)
        else:
            raise ConfigError(file, f"{path}.metric", "an AWS/S3 metric: one of "
                              + ", ".join(S3_REQUEST_METRICS + S3_STORAGE_METRICS), a.metric)
        out.append(dataclasses.replace(a, dimensions=tuple(sorted(dims.items()))))
    return dataclasses.replace(alarms, alarms=tuple(out))


def _keys(d: dict[str, str]) -> Described:
    return Described("{" + ", ".join(sorted(d)) + "}")


def _fit(file: str, path: str, declared: dict[str, str], want: dict[str, str], *,
         fixed: dict[str, str] | None = None) -> dict[str, str]:
    """The declared dimensions over ``want``'s defaults; the set of names must be exactly ``want``'s."""
    if declared and set(declared) != set(want):
        raise ConfigError(file, f"{path}.dimensions", "the dimension set {" + ", ".join(sorted(want))
                          + "} this metric is published with", _keys(declared))
    for k, v in (fixed or {}).items():
        if k in declared and declared[k] != v:
            raise ConfigError(file, f"{path}.dimensions.{k}", f"{v!r} (the only value this metric is published "
                              "with for this stack)", declared[k])
    return {**want, **declared}


def _bucket(file: str, path: str, declared: dict[str, str], buckets: dict[str, Bucket],
            by_name: dict[str, Bucket]) -> Bucket:
    name = declared.get("BucketName")
    if name is None:
        return buckets["buildcache"]
    if name not in by_name:
        raise ConfigError(file, f"{path}.dimensions.BucketName", "a bucket of this stack ("
                          + ", ".join(sorted(by_name)) + ")", name)
    return by_name[name]
