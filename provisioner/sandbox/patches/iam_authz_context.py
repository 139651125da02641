"""The resource ARNs and condition context of a request, as IAM authorises it (for ``iam_authz``).

From the Service Authorization Reference ("Actions, resources, and condition keys for <service>",
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
each action's resource type and its ARN format, the IAM service prefix (``cloudwatch`` signs as
``monitoring``, the tagging API as ``tagging`` but its prefix is ``tag``), the actions an operation
needs besides its own (``CreateDistributionWithTags`` is ``cloudfront:CreateDistribution`` and
``cloudfront:TagResource``; creating an IAM role/user/provider, an SNS topic, an alarm, a
certificate or an SSM parameter *with tags* also needs that service's tagging action), and the
condition keys ``aws:RequestTag/*``, ``aws:TagKeys``, ``aws:ResourceTag/*``, ``cloudwatch:namespace``,
``acm:DomainNames`` and ``route53:ChangeResourceRecordSets{NormalizedRecordNames,RecordTypes,Actions}``
(normalised as the Route53 developer guide, "Using IAM policy conditions for fine-grained access
control", says: lower case, no trailing dot, other characters as ``\\NNN`` octal escapes).

Only the services and operations ``provision`` uses are described; any other request is authorised
against resource ``"*"`` with an empty context (moto's own behaviour).
"""

from __future__ import annotations

import re
from typing import Any

PREFIX = {"monitoring": "cloudwatch", "tagging": "tag"}

#: (service prefix, operation) -> the IAM action(s) it is authorised as
RENAMED = {
    ("cloudfront", "CreateDistributionWithTags"): ("CreateDistribution",),
    ("cloudfront", "UpdateDistributionWithStagingConfig"): ("UpdateDistribution",),
}
#: creating with tags also needs: (prefix, operation) -> tagging action
TAG_ON_CREATE = {
    ("cloudfront", "CreateDistributionWithTags"): "TagResource",
    ("iam", "CreateRole"): "TagRole", ("iam", "CreateUser"): "TagUser",
    ("iam", "CreateOpenIDConnectProvider"): "TagOpenIDConnectProvider", ("iam", "CreatePolicy"): "TagPolicy",
    ("sns", "CreateTopic"): "TagResource", ("cloudwatch", "PutMetricAlarm"): "TagResource",
    ("acm", "RequestCertificate"): "AddTagsToCertificate", ("ssm", "PutParameter"): "AddTagsToResource",
}


def _param(resp: Any, name: str) -> Any:
    try:
        v = resp._get_param(name)
    except Exception:  # noqa: BLE001 - a body that is not JSON: the parameter is absent
        return None
    return v


def _tags(resp: Any, prefix: str, op: str) -> dict[str, str]:
    raw: Any = None
    if prefix == "cloudfront":
        if op == "CreateDistributionWithTags":
            raw = ((_param(resp, "DistributionConfigWithTags") or {}).get("Tags") or {}).get("Items")
        elif op == "TagResource":
            raw = (_param(resp, "Tags") or {}).get("Items")
    else:
        raw = _param(resp, "Tags")
    out: dict[str, str] = {}
    for t in raw or []:
        if isinstance(t, dict) and "Key" in t:
            out[str(t["Key"])] = str(t.get("Value", ""))
    return out


def _normalised_name(name: str) -> str:
    n = name.lower().rstrip(".")
    return "".join(c if re.match(r"[a-z0-9_.\-]", c) else f"\\{ord(c):03o}" for c in n)


def _route53(resp: Any, op: str) -> tuple[list[str], dict[str, Any]]:
    if op == "GetChange":
        return [f"arn:aws:route53:::change/{str(_param(resp, 'Id')).split('/')[-1]}"], {}
    zone = _param(resp, "HostedZoneId") or (_param(resp, "Id") if op in ("GetHostedZone", "DeleteHostedZone") else None)
    if not zone:
        return ["*"], {}
    ctx: dict[str, Any] = {}
    if op == "ChangeResourceRecordSets":
        changes = (_param(resp, "ChangeBatch") or {}).get("Changes") or []
        ctx = {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": sorted(
                {_normalised_name(c["ResourceRecordSet"]["Name"]) for c in changes}),
            "route53:ChangeResourceRecordSetsRecordTypes": sorted({c["ResourceRecordSet"]["Type"] for c in changes}),
            "route53:ChangeResourceRecordSetsActions": sorted({c["Action"] for c in changes}),
        }
    return [f"arn:aws:route53:::hostedzone/{str(zone).split('/')[-1]}"], ctx


_CF_KINDS = (("CachePolicy", "cache-policy"), ("OriginAccessControl", "origin-access-control"),
             ("CloudFrontOriginAccessIdentity", "origin-access-identity"),
             ("ResponseHeadersPolicy", "response-headers-policy"), ("OriginRequestPolicy", "origin-request-policy"))


def _cloudfront(resp: Any, op: str, acct: str) -> list[str]:
    if op in ("ListTagsForResource", "TagResource", "UntagResource"):
        return [str(_param(resp, "Resource"))]
    if op.startswith(("Create", "List")) or "MonitoringSubscription" in op:
        return ["*"]  # no resource type in the catalogue
    ident = _param(resp, "Id")
    for word, kind in _CF_KINDS:
        if word in op:
            return [f"arn:aws:cloudfront::{acct}:{kind}/{ident}"]
    if "Distribution" in op and ident:
        return [f"arn:aws:cloudfront::{acct}:distribution/{ident}"]
    return ["*"]


def _iam(resp: Any, op: str, acct: str) -> list[str]:
    from moto.iam.models import iam_backends

    backend = iam_backends[acct]["aws"]
    for param, kind, getter in (("RoleName", "role", backend.get_role), ("UserName", "user", backend.get_user)):
        name = _param(resp, param)
        if name:
            try:
                path = getter(name).path
            except Exception:  # noqa: BLE001 - not created yet: the path it will have
                path = _param(resp, "Path") or "/"
            return [f"arn:aws:iam::{acct}:{kind}{path}{name}"]
    arn = _param(resp, "OpenIDConnectProviderArn")
    if arn:
        return [str(arn)]
    url = _param(resp, "Url")
    if url and op == "CreateOpenIDConnectProvider":
        return [f"arn:aws:iam::{acct}:oidc-provider/{str(url).removeprefix('https://').rstrip('/')}"]
    return ["*"]


def _cloudtrail(resp: Any, op: str, acct: str, region: str) -> list[str]:
    """Trail actions name the trail (``Name``, ``TrailName``, tags' ``ResourceId``/``ResourceIdList``): a name or an ARN."""
    if op in ("DescribeTrails", "ListTrails", "LookupEvents"):
        return ["*"]  # no resource type in the Service Authorization Reference
    names = _param(resp, "ResourceIdList") or [_param(resp, "Name") or _param(resp, "TrailName") or _param(resp, "ResourceId")]
    out = [str(n) if str(n).startswith("arn:") else f"arn:aws:cloudtrail:{region}:{acct}:trail/{n}" for n in names if n]
    return out or ["*"]


def _other(resp: Any, prefix: str, op: str, acct: str, region: str) -> tuple[list[str], dict[str, Any]]:
    if prefix == "sns":
        if op == "CreateTopic":
            return [f"arn:aws:sns:{region}:{acct}:{_param(resp, 'Name')}"], {}
        if op == "Unsubscribe":
            return [str(_param(resp, "SubscriptionArn")).rsplit(":", 1)[0]], {}
        arn = _param(resp, "TopicArn") or _param(resp, "ResourceArn")
        return ([str(arn)] if arn else ["*"]), {}
    if prefix == "cloudtrail":
        return _cloudtrail(resp, op, acct, region), {}
    if prefix == "cloudwatch":
        if "Dashboard" in op:  # global ARN (no region): arn:aws:cloudwatch::ACCT:dashboard/NAME
            dashboards = _param(resp, "DashboardNames") or ([_param(resp, "DashboardName")] if _param(resp, "DashboardName") else [])
            return ([f"arn:aws:cloudwatch::{acct}:dashboard/{n}" for n in dashboards] or ["*"]), {}
        if op == "PutMetricData":
            return ["*"], {"cloudwatch:namespace": _param(resp, "Namespace")}
        names = _param(resp, "AlarmNames") or ([_param(resp, "AlarmName")] if _param(resp, "AlarmName") else [])
        if names:
            return [f"arn:aws:cloudwatch:{region}:{acct}:alarm:{n}" for n in names], {}
        arn = _param(resp, "ResourceARN")
        return ([str(arn)] if arn else [f"arn:aws:cloudwatch:{region}:{acct}:alarm:*"]), {}
    if prefix == "acm":
        if op == "RequestCertificate":
            names = [_param(resp, "DomainName"), *(_param(resp, "SubjectAlternativeNames") or [])]
            return ["*"], {"acm:DomainNames": sorted({str(n) for n in names if n})}
        arn = _param(resp, "CertificateArn")
        return ([str(arn)] if arn else ["*"]), {}
    if prefix == "ssm":
        name = _param(resp, "Name")
        return ([f"arn:aws:ssm:{region}:{acct}:parameter/{str(name).lstrip('/')}"] if name else ["*"]), {}
    return ["*"], {}


def resource_tags(prefix: str, arn: str, acct: str, region: str) -> dict[str, str] | None:
    """The tags of an existing resource (``aws:ResourceTag/*``), or None when it is not found."""
    try:
        if prefix == "acm":
            from moto.acm.models import acm_backends

            tags = acm_backends[acct][region].get_certificate(arn).tags
            return {k: v or "" for k, v in tags.items()}
        if prefix == "cloudfront" and ":distribution/" in arn:
            from moto.cloudfront.models import cloudfront_backends

            items = cloudfront_backends[acct]["aws"].tagger.list_tags_for_resource(arn)["Tags"]
            return {t["Key"]: t["Value"] for t in items}
        if prefix == "sns":
            from moto.sns.models import sns_backends

            return dict(sns_backends[acct][region].topics[arn]._tags)
        if prefix == "iam" and (":role/" in arn or ":user/" in arn):
            from moto.iam.models import iam_backends

            b = iam_backends[acct]["aws"]
            name = arn.rsplit("/", 1)[1]
            tags = b.list_role_tags(name, None, None)[0] if ":role/" in arn else b.list_user_tags(name)
            return {t["Key"]: t["Value"] for t in tags}
    except Exception:  # noqa: BLE001 - not found (yet): no resource tags
        return None
    return None


def describe(resp: Any, req: Any, moto_resource: str) -> list[tuple[str, list[str], dict[str, Any]]]:
    """[(IAM action, resources, condition context)] the request needs allowed."""
    service, op = req._action.split(":", 1)
    prefix = PREFIX.get(service, service)
    if prefix == "s3":
        return [(f"s3:{op}", [moto_resource], {})]
    acct, region = req.account_id, req._region
    ctx: dict[str, Any] = {}
    if prefix == "route53":
        resources, ctx = _route53(resp, op)
    elif prefix == "cloudfront":
        resources = _cloudfront(resp, op, acct)
    elif prefix == "iam":
        resources = _iam(resp, op, acct)
    else:
        resources, ctx = _other(resp, prefix, op, acct, region)
    tags = _tags(resp, prefix, op) if (prefix, op) in TAG_ON_CREATE or "Tag" in op else {}
    if tags:
        ctx.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        ctx["aws:TagKeys"] = sorted(tags)
    out: list[tuple[str, list[str], dict[str, Any]]] = []
    for name in RENAMED.get((prefix, op), (op,)):
        out.append((f"{prefix}:{name}", resources, ctx))
    if tags and (prefix, op) in TAG_ON_CREATE:
        # the resource being created has no id yet: its type's ARN with the id a wildcard
        new = {"cloudfront": f"arn:aws:cloudfront::{acct}:distribution/*",
               "acm": f"arn:aws:acm:{region}:{acct}:certificate/*"}
        tag_res = [new[prefix]] if prefix in new else resources
        out.append((f"{prefix}:{TAG_ON_CREATE[(prefix, op)]}", tag_res, ctx))
    # aws:ResourceTag/* of each existing resource: one entry per resource with its own context
    flat: list[tuple[str, list[str], dict[str, Any]]] = []
    for action, res, c in out:
        for r in res:
            rt = resource_tags(prefix, r, acct, region) if r != "*" else None
            flat.append((action, [r], {**c, **{f"aws:ResourceTag/{k}": v for k, v in (rt or {}).items()}}))
    return flat
