"""IAM enforcement (moto's ``INITIAL_NO_AUTH_ACTION_COUNT``) evaluated the way AWS evaluates identity policies.

moto 5.2.1's enforcement (``moto/iam/access_control.py``, whose docstring lists "add support for
the Resource and Condition parts of IAM policies" as TODO) is too partial to prove a scoped policy:

- every request but S3 and IAM roles is authorised against resource ``"*"``, so a statement
  naming an ARN never matches (and ``"*"`` is the only resource that works);
- Conditions are ignored but for ``StringEquals`` on ``sts:ExternalId``: a conditioned Allow is an
  unconditioned one;
- the action prefix is the *signing* name (``monitoring:DescribeAlarms``, ``tagging:GetResources``)
  instead of the IAM service prefix (``cloudwatch:``, ``tag:``); ``CreateDistributionWithTags`` is
  checked as itself, not as ``cloudfront:CreateDistribution`` + ``cloudfront:TagResource``;
  creating with tags does not need the tagging permission;
- S3 names ``HeadBucket`` ``s3:HeadBucket`` (IAM: ``s3:ListBucket``), and ``?encryption``,
  ``?publicAccessBlock``, ``?ownershipControls``, ``?replication``, ``?object-lock``,
  ``?requestPayment`` fall through to ``s3:ListBucket`` / ``s3:CreateBucket``;
- the SigV4 check re-signs GET requests of REST services over their *parsed parameters* instead
  of the empty payload, so every Route53/CloudFront read fails ``SignatureDoesNotMatch``.

AWS behaviour reproduced:

- Policy evaluation logic (IAM User Guide, "Policy evaluation logic",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
  an explicit Deny wins; otherwise an Allow whose Action/NotAction, Resource/NotResource and every
  Condition match is needed; a request naming several resources needs each one allowed.
- Condition operators (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
  ``String(Not)Equals``, ``String(Not)Like``, ``StringEqualsIgnoreCase``, ``Bool``, ``Null``,
  ``Arn(Not)Like/Equals``, the ``ForAllValues:``/``ForAnyValue:`` set operators and ``...IfExists``;
  a missing key fails a positive operator and satisfies a negated one; ``ForAllValues`` with no
  values is true. An operator the sandbox does not know denies (fail closed).
- The resource and condition context of each request: ``iam_authz_context`` (Service
  Authorization Reference: resource types and condition keys per action).
- Signature Version 4 signs the request payload bytes
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).

Not reproduced: resource-based policies (bucket/topic policies) in the decision, permission
boundaries, SCPs, session policies. Enforcement is off unless switched on with
``provisioner.sandbox.iam_enforcement()`` (or moto's own ``INITIAL_NO_AUTH_ACTION_COUNT``).
"""

from __future__ import annotations

import re
from typing import Any

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam import access_control as ac
from moto.s3 import responses as s3_responses

from . import iam_authz_context as ctxmod

_SETS = ("ForAllValues:", "ForAnyValue:")


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    rx = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(rx, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _values(v: Any) -> list[str]:
    if v is None:
        return []
    items = v if isinstance(v, list) else [v]
    return [("true" if x else "false") if isinstance(x, bool) else str(x) for x in items]


def _one(op: str, want: list[str], have: str) -> bool:
    if op in ("StringEquals", "ArnEquals"):
        return have in want
    if op == "StringEqualsIgnoreCase":
        return have.lower() in {w.lower() for w in want}
    if op in ("StringLike", "ArnLike"):
        return any(_like(w, have) for w in want)
    if op == "Bool":
        return have.lower() in {w.lower() for w in want}
    raise KeyError(op)


_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals",
            "ArnNotLike": "ArnLike", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase"}


def condition_holds(operator: str, key: str, want: Any, context: dict[str, Any]) -> bool:
    """One condition (operator, key, values) against the request context (keys compared case-insensitively)."""
    present = {k.lower(): v for k, v in context.items()}
    have_raw = present.get(key.lower())
    have = _values(have_raw)
    wants = _values(want)
    op = operator
    if_exists = op.endswith("IfExists")
    if if_exists:
        op = op[: -len("IfExists")]
    if op == "Null":
        return (have_raw is None) == ("true" in [w.lower() for w in wants])
    prefix = next((p for p in _SETS if op.startswith(p)), "")
    op = op[len(prefix):]
    negated = op in _NEGATED
    base = _NEGATED.get(op, op)
    if have_raw is None:
        if prefix == "ForAllValues:":
            return True
        return negated or if_exists
    try:
        if prefix == "ForAllValues:":
            ok = all(_one(base, wants, h) for h in have)
            return not ok if negated else ok
        if prefix == "ForAnyValue:" or len(have) > 1:
            hit = any(_one(base, wants, h) for h in have)
            return not hit if negated else hit
        hit = _one(base, wants, have[0]) if have else False
        return not hit if negated else hit
    except KeyError:
        return False  # an operator the sandbox does not evaluate: fail closed


def _matches(patterns: Any, value: str, ignore_case: bool) -> bool:
    return any(_like(p, value, ignore_case) for p in ([patterns] if isinstance(patterns, str) else patterns or []))


def statement_applies(st: dict, action: str, resource: str, context: dict[str, Any]) -> bool:
    if "Action" in st and not _matches(st["Action"], action, True):
        return False
    if "NotAction" in st and _matches(st["NotAction"], action, True):
        return False
    if "Resource" in st and not _matches(st["Resource"], resource, False):
        return False
    if "NotResource" in st and _matches(st["NotResource"], resource, False):
        return False
    for operator, pairs in (st.get("Condition") or {}).items():
        for key, want in pairs.items():
            if not condition_holds(operator, key, want, context):
                return False
    return True


def decide(documents: list[dict], action: str, resource: str, context: dict[str, Any]) -> str:
    """"Deny" (explicit), "Allow" or "ImplicitDeny" for one action on one resource."""
    allowed = False
    for doc in documents:
        sts = doc.get("Statement", [])
        for st in sts if isinstance(sts, list) else [sts]:
            if statement_applies(st, action, resource, context):
                if st.get("Effect") == "Deny":
                    return "Deny"
                allowed = allowed or st.get("Effect") == "Allow"
    return "Allow" if allowed else "ImplicitDeny"


def _documents(iam_request: Any) -> list[dict]:
    out = []
    for p in iam_request._access_key.collect_policies():
        doc = ac.IAMPolicy(p)._policy_json
        out.append(doc)
    return out


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return
    if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return
    path = getattr(self, "_authz_raw_uri", None)
    if not path:
        from urllib.parse import urlparse

        parsed = urlparse(self.uri)
        path = parsed.path + ("?" + parsed.query if parsed.query else "")
    req = iam_request_cls(account_id=self.current_account, method=self.method, path=path, data=self.data,
                          body=self.raw_body, headers=self.headers, action=self._get_action())
    req.check_signature()
    if req._action == "sts:GetCallerIdentity":  # AWS: cannot be denied
        return
    documents = _documents(req)
    for action, resources, context in ctxmod.describe(self, req, resource):
        for res in resources:
            if decide(documents, action, res, context) != "Allow":
                req._action = action  # the error names the action that was denied
                req._raise_access_denied()


def _create_aws_request(self: Any) -> Any:
    from botocore.awsrequest import AWSRequest

    signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
    headers = self._create_headers_for_aws_request(signed, self._headers)
    # The payload that was signed: the body, or for a form POST whose body the server already
    # parsed, those form fields again (moto's own choice); a GET/HEAD/DELETE has an empty payload.
    data: Any = b"" if self._method in ("GET", "HEAD", "DELETE") else (self._body or self._data)
    request = AWSRequest(method=self._method, url=self._path, data=data, headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


#: S3 sub-resource -> IAM action (Service Authorization Reference, "Actions defined by Amazon S3")
_S3_BUCKET = {
    "GET": {"encryption": "GetEncryptionConfiguration", "publicAccessBlock": "GetBucketPublicAccessBlock",
            "ownershipControls": "GetBucketOwnershipControls", "policyStatus": "GetBucketPolicyStatus",
            "replication": "GetReplicationConfiguration", "object-lock": "GetBucketObjectLockConfiguration",
            "requestPayment": "GetBucketRequestPayment"},
    "PUT": {"encryption": "PutEncryptionConfiguration", "publicAccessBlock": "PutBucketPublicAccessBlock",
            "ownershipControls": "PutBucketOwnershipControls", "replication": "PutReplicationConfiguration",
            "object-lock": "PutBucketObjectLockConfiguration", "requestPayment": "PutBucketRequestPayment"},
    "DELETE": {"encryption": "PutEncryptionConfiguration", "publicAccessBlock": "PutBucketPublicAccessBlock",
               "ownershipControls": "PutBucketOwnershipControls", "replication": "PutReplicationConfiguration",
               "website": "DeleteBucketWebsite"},
}


def apply() -> None:
    from moto.core.responses import BaseResponse

    orig_setup = BaseResponse.setup_class

    def setup_class(self: Any, request: Any, full_url: str, *args: Any, **kwargs: Any) -> Any:
        # The path and query exactly as the client signed them (moto's full_url is decoded, so a
        # query like ?Resource=arn%3Aaws%3A... no longer matches its signature).
        environ = getattr(request, "environ", None)
        self._authz_raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") if environ else None
        return orig_setup(self, request, full_url, *args, **kwargs)

    BaseResponse.setup_class = setup_class
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize
    ac.IAMRequestBase._create_aws_request = _create_aws_request
    amap = s3_responses.ACTION_MAP["BUCKET"]
    amap["HEAD"]["DEFAULT"] = "ListBucket"
    for method, subs in _S3_BUCKET.items():
        amap[method].update(subs)


__all__ = ["apply", "decide", "condition_holds", "statement_applies"]
