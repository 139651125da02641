"""CloudTrail: the publishing audit trail (``[audit]``), write data events on the buildcache into the log bucket.

``cloudtrail_trail.audit`` {name, arn}: found by name (GetTrail; ``TrailNotFoundException`` =
absent), in the stack's region (a single-region trail, where the buckets are). Compared:
``s3_bucket`` and ``s3_key_prefix`` (the log bucket, ``audit.prefix``), ``log_file_validation``,
``multi_region`` and ``global_service_events`` (both false: the trail records the buildcache's data
events and nothing else), ``logging`` (GetTrailStatus IsLogging: a stopped trail records nothing),
``event_selectors`` (GetEventSelectors: one advanced selector, write data events on the buildcache's
objects; selectors are compared as sets of field conditions) and ``tags`` (declared keys only,
ListTags). Create: CreateTrail (with tags), PutEventSelectors, StartLogging (CloudTrail creates
trails stopped). Update: one UpdateTrail for the trail's settings, PutEventSelectors, Start/
StopLogging and AddTags, each only when its fields differ. CreateTrail needs the log bucket's policy
to grant CloudTrail delivery first (``s3/policy.py``: InsufficientS3BucketPolicyException
otherwise), hence the dependency on ``s3_bucket_policy.logs``. Destroy deletes the trail when it
carries our tag; its log files stay in the (retained) log bucket.

Cost model (CloudTrail pricing): data events are $0.10 per 100,000 delivered, plus the S3 storage
of the log files; a publish of N objects is about N events (multipart uploads: one per part call).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .. import ownership as own
from ..aws import error_code
from ..config import DesiredState
from ..context import Context
from ..model import FieldChange, Resource, Unknown
from . import tag_index

ADDRESS = "cloudtrail_trail.audit"
SELECTOR_NAME = "Buildcache publishing: write data events on its objects"


def account_id(ctx: Context) -> str | Unknown:
    """The account (``stack.account_id``, else STS, once); Unknown offline (``show --offline``)."""
    if ctx.desired.stack.account_id:
        return ctx.desired.stack.account_id
    if ctx.aws is None:
        return Unknown("sts.account_id")
    return str(ctx.memo("sts:account_id", ctx.aws.account_id))


def trail_arn(ctx: Context) -> str | Unknown:
    audit = ctx.desired.audit
    assert audit is not None
    account = account_id(ctx)
    if isinstance(account, Unknown):
        return Unknown(f"{ADDRESS}.arn")
    return f"arn:aws:cloudtrail:{ctx.desired.stack.region}:{account}:trail/{audit.trail}"


def _tags(items: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (items or []) if not own.is_system_tag(t["Key"])}


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _selector_value(sel: dict) -> dict[str, Any]:
    fields = []
    for f in sel.get("FieldSelectors") or []:
        ops = {k: sorted(v) for k, v in f.items() if k != "Field" and v}
        fields.append({"field": f.get("Field"), **ops})
    return {"name": sel.get("Name") or "", "field_selectors": sorted(fields, key=lambda f: str(sorted(f.items())))}


class Trail(Resource):
    service = "CloudTrail trail"
    address = ADDRESS

    def __init__(self, desired: DesiredState) -> None:
        assert desired.audit is not None and desired.logs is not None
        self.spec = desired.audit
        self.logs = desired.logs.name
        self.buildcache = desired.buildcache
        self.depends_on = ("s3_bucket.logs", "s3_bucket_policy.logs")
        self.read_after = ()  # found by name

    def selectors(self) -> list[dict]:
        return [{"Name": SELECTOR_NAME, "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "readOnly", "Equals": ["false"]},
            {"Field": "resources.ARN", "StartsWith": [f"{self.buildcache.arn}/"]},
        ]}]

    def desired(self, ctx: Context) -> dict:
        return {
            "s3_bucket": self.logs,
            "s3_key_prefix": self.spec.prefix,
            "log_file_validation": self.spec.log_file_validation,
            "multi_region": False,
            "global_service_events": False,
            "logging": True,
            "event_selectors": [_selector_value(s) for s in self.selectors()],
            "tags": dict(ctx.tags),
        }

    def read(self, ctx: Context) -> dict | None:
        ct = ctx.client("cloudtrail")
        name = self.spec.trail
        try:
            t = ct.get_trail(Name=name)["Trail"]
        except ClientError as e:
            if error_code(e) == "TrailNotFoundException":
                return None
            raise
        arn = t["TrailARN"]
        status = ct.get_trail_status(Name=name)
        sel = ct.get_event_selectors(TrailName=name)
        advanced = [_selector_value(s) for s in sel.get("AdvancedEventSelectors") or []]
        basic = [{"basic": s} for s in sel.get("EventSelectors") or []]  # never equal to ours

        def listed(a: str) -> dict[str, str]:
            return tag_index.from_items((ct.list_tags(ResourceIdList=[a]).get("ResourceTagList") or [{}])[0].get("TagsList"))

        # the walk's, when it shows ours; system tags included (ownership names CloudFormation's stack)
        tag_list = tag_index.as_items(tag_index.full_tags(ctx, arn, listed, ctx.desired.stack.region))
        return {
            "arn": arn,
            "s3_bucket": t.get("S3BucketName"),
            "s3_key_prefix": t.get("S3KeyPrefix") or "",
            "log_file_validation": bool(t.get("LogFileValidationEnabled")),
            "multi_region": bool(t.get("IsMultiRegionTrail")),
            "global_service_events": bool(t.get("IncludeGlobalServiceEvents")),
            "logging": bool(status.get("IsLogging")),
            "event_selectors": sorted(advanced, key=lambda s: s["name"]) + basic,
            "tags": _tags(tag_list),
            "system_tags": own.system_tags(tag_list),  # names CloudFormation's stack when foreign
        }

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"name": self.spec.trail, "arn": live["arn"]}

    def _settings(self, desired: dict) -> dict[str, Any]:
        return {"Name": self.spec.trail, "S3BucketName": desired["s3_bucket"], "S3KeyPrefix": desired["s3_key_prefix"],
                "EnableLogFileValidation": desired["log_file_validation"],
                "IsMultiRegionTrail": desired["multi_region"],
                "IncludeGlobalServiceEvents": desired["global_service_events"]}

    def create(self, ctx: Context, desired: dict) -> None:
        ct = ctx.client("cloudtrail")
        try:
            ct.create_trail(**self._settings(desired), TagsList=_tag_list(desired["tags"]))
        except ClientError as e:
            # created meanwhile (a crashed or concurrent run): converge it
            if error_code(e) != "TrailAlreadyExistsException" or not self.converge_existing(ctx, desired):
                raise
            return
        ct.put_event_selectors(TrailName=self.spec.trail, AdvancedEventSelectors=self.selectors())
        ct.start_logging(Name=self.spec.trail)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        ct = ctx.client("cloudtrail")
        name = self.spec.trail
        top = {c.path.split(".", 1)[0] for c in changes}
        if top & {"s3_bucket", "s3_key_prefix", "log_file_validation", "multi_region", "global_service_events"}:
            ct.update_trail(**self._settings(desired))
        if "event_selectors" in top:
            ct.put_event_selectors(TrailName=name, AdvancedEventSelectors=self.selectors())
        if "logging" in top and desired["logging"]:
            ct.start_logging(Name=name)
        elif "logging" in top:
            ct.stop_logging(Name=name)
        if "tags" in top:
            have = live.get("tags") or {}
            changed = {k: v for k, v in desired["tags"].items() if have.get(k) != v}
            if changed:
                ct.add_tags(ResourceId=live["arn"], TagsList=_tag_list(changed))

    def delete(self, ctx: Context, live: dict) -> None:
        ctx.client("cloudtrail").delete_trail(Name=self.spec.trail)


def resources(desired: DesiredState) -> list[Resource]:
    return [Trail(desired)] if desired.audit is not None else []
