"""SNS alarm topic, its topic policy and its email subscriptions (ours recorded by hash in a tag of the topic).

The topic policy (``alarms.restrict_publishers``, on by default) allows ``sns:Publish`` only to
``cloudwatch.amazonaws.com`` with ``aws:SourceAccount`` = this account, and the account owner the
actions of SNS's default policy; it is compared in canonical form like every policy and repaired
with one SetTopicAttributes."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ... import ownership as own
from ... import policy as pol
from ...aws import error_code
from ...model import FieldChange, Resource, diff_fields
from .. import tag_index
from . import sns_undeclared
from ._common import ALARM_REGION, TOPIC, _account_id, _tag_list, _tags

if TYPE_CHECKING:
    from ...context import Context

SUBS_TAG = "provision:email-subscriptions"
SUBS_TAG_MAX_HASHES = 23  # 23 * 11 - 1 = 252 <= 256 characters


def email_hash(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:10]


def _record(addresses: list[str]) -> str:
    return " ".join(sorted(email_hash(a) for a in addresses)[:SUBS_TAG_MAX_HASHES])


#: what the account owner keeps on the topic (the actions of SNS's default topic policy)
OWNER_ACTIONS = ["SNS:AddPermission", "SNS:DeleteTopic", "SNS:GetTopicAttributes", "SNS:ListSubscriptionsByTopic",
                 "SNS:Publish", "SNS:RemovePermission", "SNS:SetTopicAttributes", "SNS:Subscribe"]


def topic_policy(arn: str, account: str) -> dict:
    """Only CloudWatch alarms of this account (aws:SourceAccount) publish; the account owner manages it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AllowCloudWatchAlarmsOfThisAccount", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish", "Resource": arn,
             "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
            {"Sid": "AccountOwner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
             "Action": OWNER_ACTIONS, "Resource": arn},
        ],
    }


class SnsTopic(Resource):
    service = "SNS topic"
    address = TOPIC

    def __init__(self, topic: str, emails: tuple[str, ...], restrict_publishers: bool = True) -> None:
        self.topic = topic
        self.emails = emails  # as written in the TOML (subscribed with that spelling)
        self.restrict_publishers = restrict_publishers

    def arn(self, ctx: Context) -> str:
        return f"arn:aws:sns:{ALARM_REGION}:{_account_id(ctx)}:{self.topic}"

    def desired(self, ctx: Context) -> dict:
        d: dict[str, Any] = {"tags": dict(ctx.tags), "email_subscriptions": sorted({e.lower() for e in self.emails})}
        if self.restrict_publishers:
            d["policy"] = topic_policy(self.arn(ctx), _account_id(ctx))
        return d

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        out = diff_fields({k: v for k, v in desired.items() if k != "policy"}, live)
        if "policy" in desired:
            have = live.get("policy")
            if not isinstance(have, dict):
                out.append(FieldChange("policy", have, desired["policy"], "ADD" if have is None else "CHANGE"))
            else:
                try:
                    out.extend(pol.field_changes("policy", desired["policy"], have))
                except pol.PolicyError:
                    out.append(FieldChange("policy", have, desired["policy"]))
        return out

    def _put_policy(self, sns: Any, arn: str, desired: dict) -> None:
        if "policy" in desired:
            sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                     AttributeValue=json.dumps(desired["policy"], separators=(",", ":")))

    def read(self, ctx: Context) -> dict | None:
        sns = ctx.client("sns", ALARM_REGION)
        arn = self.arn(ctx)
        try:
            attrs = sns.get_topic_attributes(TopicArn=arn).get("Attributes", {})
        except ClientError as e:
            if error_code(e) in ("NotFound", "NotFoundException"):
                return None
            raise
        # from the tagging-API walk when it shows ours (the subscriptions tag included), else ListTagsForResource
        full = tag_index.full_tags(ctx, arn, lambda a: tag_index.from_items(sns.list_tags_for_resource(ResourceArn=a).get("Tags")),
                                   ALARM_REGION)
        tag_list = tag_index.as_items(full)
        all_tags = _tags(tag_list)
        recorded = set(all_tags.pop(SUBS_TAG, "").split())
        wanted = {e.lower() for e in self.emails}
        subs: dict[str, str] = {}  # managed address -> subscription arn ("PendingConfirmation" while pending)
        every: list[dict] = []  # all of them: the ones not ours are UNEXPECTED (reported)
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
            for s in page.get("Subscriptions", []):
                every.append(s)
                if s.get("Protocol") != "email":
                    continue
                addr = s.get("Endpoint", "").lower()
                if addr in wanted or email_hash(addr) in recorded:
                    if addr not in subs or subs[addr] == "PendingConfirmation":
                        subs[addr] = s.get("SubscriptionArn", "")
        try:
            live_policy: Any = pol.parse(attrs["Policy"]) if attrs.get("Policy") else None
        except pol.PolicyError:
            live_policy = attrs.get("Policy")
        return {
            "arn": arn,
            "policy": live_policy,
            "tags": all_tags,
            "system_tags": own.system_tags(tag_list),
            "email_subscriptions": sorted(subs),
            "subscription_arns": subs,
            "pending_confirmation": sorted(a for a, s in subs.items() if not s.startswith("arn:")),
            "recorded": sorted(recorded),
            **sns_undeclared.others(every, set(subs)),
        }

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"arn": live["arn"], "pending_confirmation": live.get("pending_confirmation", [])}

    def _subscribe(self, sns: Any, arn: str, addresses: set[str]) -> None:
        for original in self.emails:
            if original.lower() in addresses:
                sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=original)

    def create(self, ctx: Context, desired: dict) -> None:
        sns = ctx.client("sns", ALARM_REGION)
        tags = dict(desired["tags"])
        if desired["email_subscriptions"]:
            tags[SUBS_TAG] = _record(desired["email_subscriptions"])
        arn = sns.create_topic(Name=self.topic, Tags=_tag_list(tags))["TopicArn"]
        self._put_policy(sns, arn, desired)  # before any subscription: publishers limited from the start
        self._subscribe(sns, arn, set(desired["email_subscriptions"]))

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        sns = ctx.client("sns", ALARM_REGION)
        arn = live["arn"]
        top = {c.path.split(".", 1)[0] for c in changes}
        want = set(desired["email_subscriptions"])
        have = set(live["email_subscriptions"])
        new_tags: dict[str, str] = {}
        if "tags" in top:
            new_tags.update(desired["tags"])
        record = _record(sorted(want))
        if "email_subscriptions" in top and record != " ".join(live.get("recorded", [])):
            # Record first (crash-safe: never an address we subscribed but did not record).
            if want:
                new_tags[SUBS_TAG] = record
            elif live.get("recorded"):
                sns.untag_resource(ResourceArn=arn, TagKeys=[SUBS_TAG])
        if new_tags:
            sns.tag_resource(ResourceArn=arn, Tags=_tag_list(new_tags))
        if "policy" in top:
            self._put_policy(sns, arn, desired)
        if "email_subscriptions" in top:
            self._subscribe(sns, arn, want - have)
            for addr in sorted(have - want):  # managed but no longer named: ours by the record
                sub_arn = live["subscription_arns"].get(addr, "")
                if sub_arn.startswith("arn:"):  # a pending one has no ARN; AWS expires it
                    sns.unsubscribe(SubscriptionArn=sub_arn)

    def delete(self, ctx: Context, live: dict) -> None:
        ctx.client("sns", ALARM_REGION).delete_topic(TopicArn=live["arn"])
