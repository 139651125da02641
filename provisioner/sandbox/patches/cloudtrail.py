"""CloudTrail trails as AWS has them: delivery needs the bucket policy, names are unique, missing is an error.

AWS behaviour reproduced (CloudTrail API reference, https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/):

- API_CreateTrail.html / API_UpdateTrail.html, errors ``InsufficientS3BucketPolicyException``
  ("This exception is thrown when the policy on the S3 bucket is not sufficient"): CloudTrail checks
  that the bucket policy lets ``cloudtrail.amazonaws.com`` call ``s3:GetBucketAcl`` on the bucket and
  ``s3:PutObject`` on ``<bucket>/<prefix>/AWSLogs/<account>/*`` (CloudTrail User Guide, "Amazon S3
  bucket policy for CloudTrail"), conditions included: ``aws:SourceArn`` must be the trail's ARN and
  ``s3:x-amz-acl`` ``bucket-owner-full-control`` (what CloudTrail sends). moto checks only that
  the bucket exists.
- CreateTrail of an existing name: ``TrailAlreadyExistsException`` (moto replaces the trail).
- StartLogging / StopLogging / DeleteTrail of a missing trail: ``TrailNotFoundException`` (moto: a
  500 KeyError, or silence on delete).
- API_GetTrail.html / API_Trail.html: ``HasCustomEventSelectors`` is true once PutEventSelectors
  has set selectors (moto keeps false).
- The Resource Groups Tagging API lists trails (``ResourceTypeFilters`` ``cloudtrail`` /
  ``cloudtrail:trail``; "Services that support the Resource Groups Tagging API", Tagging API User
  Guide: https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/supported-services.html);
  moto 5.2.1's GetResources knows no CloudTrail (``apply_tagging``).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from moto.cloudtrail import models as ct_models
from moto.cloudtrail.exceptions import TrailNotFoundException
from moto.core.exceptions import JsonRESTError


class _Error(JsonRESTError):
    code = 400


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _condition_ok(condition: Any, trail_arn: str, acl: str | None) -> bool:
    """The StringEquals/StringLike/ArnEquals/ArnLike conditions CloudTrail's delivery request meets."""
    context = {"aws:sourcearn": trail_arn, "s3:x-amz-acl": acl}
    for op, block in (condition or {}).items():
        for key, want in (block or {}).items():
            have = context.get(key.lower())
            if have is None:
                return False
            pats = _list(want)
            if op in ("StringEquals", "ArnEquals") and have not in pats:
                return False
            if op in ("StringLike", "ArnLike") and not any(fnmatch.fnmatchcase(have, p) for p in pats):
                return False
            if op not in ("StringEquals", "ArnEquals", "StringLike", "ArnLike"):
                return False
    return True


def _allows(policy: dict[str, Any], action: str, resource: str, trail_arn: str, acl: str | None) -> bool:
    allowed = False
    for st in _list(policy.get("Statement") or []):
        principal = st.get("Principal") or {}
        services = _list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if principal != "*" and "cloudtrail.amazonaws.com" not in services:
            continue
        actions = [a.lower() for a in _list(st.get("Action") or [])]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in _list(st.get("Resource") or [])):
            continue
        if not _condition_ok(st.get("Condition"), trail_arn, acl):
            continue
        if st.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


def check_delivery(trail: Any) -> None:
    from moto.s3.models import s3_backends

    bucket = s3_backends[trail.account_id][trail.partition].get_bucket(trail.bucket_name)
    try:
        policy = json.loads(bucket.policy or b"{}")
    except ValueError:
        policy = {}
    prefix = f"{trail.s3_key_prefix}/" if trail.s3_key_prefix else ""
    bucket_arn = f"arn:aws:s3:::{trail.bucket_name}"
    ok = _allows(policy, "s3:GetBucketAcl", bucket_arn, trail.arn, None) and _allows(
        policy, "s3:PutObject", f"{bucket_arn}/{prefix}AWSLogs/{trail.account_id}/CloudTrail/x.json.gz", trail.arn,
        "bucket-owner-full-control")
    if not ok:
        raise _Error("InsufficientS3BucketPolicyException",
                     f"Incorrect S3 bucket policy is detected for bucket: {trail.bucket_name}")


def apply() -> None:
    Backend = ct_models.CloudTrailBackend
    Trail = ct_models.Trail
    orig_create = Backend.create_trail
    orig_update = Backend.update_trail
    orig_put_selectors = Trail.put_event_selectors

    def create_trail(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if name in self.trails:
            raise _Error("TrailAlreadyExistsException", f"Trail {name} already exists for customer: {self.account_id}")
        trail = orig_create(self, name, *args, **kwargs)
        try:
            check_delivery(trail)
        except _Error:
            del self.trails[name]
            self.tagging_service.delete_all_tags_for_resource(trail.arn)
            raise
        return trail

    def update_trail(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        trail = self.get_trail(name_or_arn=name)
        before = (trail.bucket_name, trail.s3_key_prefix)
        updated = orig_update(self, name, *args, **kwargs)
        try:
            check_delivery(updated)
        except _Error:
            updated.bucket_name, updated.s3_key_prefix = before
            raise
        return updated

    def existing(fn: Any) -> Any:
        def wrapper(self: Any, name: str) -> Any:
            if name not in self.trails:
                raise TrailNotFoundException(account_id=self.account_id, name=name)
            return fn(self, name)

        wrapper.__name__ = fn.__name__
        return wrapper

    def put_event_selectors(self: Any, event_selectors: Any, advanced_event_selectors: Any) -> None:
        orig_put_selectors(self, event_selectors, advanced_event_selectors)
        self._sandbox_custom_selectors = bool(event_selectors or advanced_event_selectors)

    Backend.create_trail = create_trail
    Backend.update_trail = update_trail
    Backend.start_logging = existing(Backend.start_logging)
    Backend.stop_logging = existing(Backend.stop_logging)
    Backend.delete_trail = existing(Backend.delete_trail)
    Trail.put_event_selectors = put_event_selectors

    orig_description = Trail.description

    def description(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = orig_description(self, *args, **kwargs)
        out["HasCustomEventSelectors"] = bool(getattr(self, "_sandbox_custom_selectors", False))
        return out

    Trail.description = description


def _matches(tags: dict[str, str], tag_filters: list[dict[str, Any]] | None) -> bool:
    """GetResources' TagFilters: every filter's key present, with one of its values when it lists some."""
    for f in tag_filters or []:
        if f["Key"] not in tags or (f.get("Values") and tags[f["Key"]] not in f["Values"]):
            return False
    return True


def apply_tagging() -> None:
    """GetResources lists the trails (their ARN and tags) of the region asked, as AWS does."""
    from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend

    original = ResourceGroupsTaggingAPIBackend._get_resources_generator

    def generator(self: Any, tag_filters: list[dict[str, Any]] | None = None,
                  resource_type_filters: list[str] | None = None) -> Any:
        yield from original(self, tag_filters=tag_filters, resource_type_filters=resource_type_filters)
        if resource_type_filters and not any(f in ("cloudtrail", "cloudtrail:trail") for f in resource_type_filters):
            return
        backend = ct_models.cloudtrail_backends[self.account_id][self.region_name]
        for trail in list(backend.trails.values()):
            tags = {t["Key"]: t["Value"] for t in backend.tagging_service.list_tags_for_resource(trail.arn)["TagsList"]}
            if tags and _matches(tags, tag_filters):
                yield {"ResourceARN": trail.arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    ResourceGroupsTaggingAPIBackend._get_resources_generator = generator
