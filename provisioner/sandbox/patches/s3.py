"""S3 as AWS has it: default encryption, system tags kept by tag writes, principals that propagate.

- Default encryption: since 5 January 2023 every bucket has SSE-S3 (AES256) default encryption
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html), and
  DeleteBucketEncryption returns a bucket to that default
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html). moto 5.2.1
  reports no encryption for a new bucket and after DeleteBucketEncryption.
- System tags (``aws:cloudformation:stack-name``... on buckets CloudFormation made): PutBucketTagging
  replaces the whole set, and S3 answers ``InvalidTag`` for a set that drops or changes a system tag
  ("System tags cannot be removed by requester") or adds one ("System tags cannot be added/updated
  by requester"); a set that carries them unchanged is accepted. Terraform's S3 ``tags.go`` merges
  the tags it ignores back into every put for that reason (provider issue #7323). moto refuses every
  ``aws:`` key, so a correct client could not keep them; :func:`set_system_tags` writes them the way
  CloudFormation does, for fixtures.
- A bucket policy naming an origin access identity created moments ago (or one that does not exist)
  is refused with ``MalformedPolicy`` "Invalid principal in policy" until it propagates (Terraform's
  ``bucket_policy.go`` retries exactly this error). Window: ``PROVISION_SANDBOX_PRINCIPAL_SECONDS``
  (0.3 s). moto accepts any principal at once.
- Requester pays: GetBucketRequestPayment answers ``<Payer>BucketOwner|Requester</Payer>`` and
  PutBucketRequestPayment sets it (``Payer`` must be one of the two, else ``MalformedXML``)
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketRequestPayment.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketRequestPayment.html). moto 5.2.1 has
  no ``?requestPayment`` route: a GET lists the objects and a PUT re-creates the bucket.
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any

import xmltodict
from moto.core.responses import ActionResult
from moto.s3 import models as s3_models
from moto.s3 import responses as s3_responses
from moto.s3.exceptions import DuplicateTagKeys, S3ClientError

_OAI_ARN = re.compile(r"^arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity (E[A-Z0-9]+)$")


def default_encryption() -> dict[str, Any]:
    return {
        "Rule": {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": "false",
        }
    }


def _system(tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if k.lower().startswith("aws:")}


def set_system_tags(bucket_name: str, tags: dict[str, str], account_id: str = "123456789012") -> None:
    """Add system tags to a bucket as AWS services do (a fixture for CloudFormation-made buckets)."""
    backend = s3_models.s3_backends[account_id]["aws"]
    bucket = backend.get_bucket(bucket_name)
    backend.tagger.tag_resource(bucket.arn, [{"Key": k, "Value": v} for k, v in tags.items()])


def _principals(policy: Any) -> list[str]:
    out: list[str] = []
    for st in policy.get("Statement", []) if isinstance(policy, dict) else []:
        p = st.get("Principal") if isinstance(st, dict) else None
        if isinstance(p, dict):
            for kind, v in p.items():
                vals = v if isinstance(v, list) else [v]
                out.extend(f"{kind}:{x}" for x in vals if isinstance(x, str))
    return out


def _check_principals(account_id: str, body: bytes | str) -> None:
    """MalformedPolicy for an OAI principal that does not exist or was made moments ago."""
    from moto.cloudfront.models import cloudfront_backends

    try:
        policy = json.loads(body)
    except ValueError:
        return  # moto's own validation answers malformed JSON
    oais = cloudfront_backends[account_id]["aws"].origin_access_identities
    window = float(os.environ.get("PROVISION_SANDBOX_PRINCIPAL_SECONDS", "0.3"))
    for p in _principals(policy):
        kind, _, value = p.partition(":")
        oai = None
        if kind == "AWS" and (m := _OAI_ARN.match(value)):
            oai = oais.get(m.group(1))
        elif kind == "CanonicalUser":
            oai = next((o for o in oais.values() if o.s3_canonical_user_id == value), None)
        else:
            continue
        if oai is None or time.monotonic() - getattr(oai, "created", 0.0) < window:
            raise S3ClientError("MalformedPolicy", "Invalid principal in policy")


def apply() -> None:
    """Default SSE-S3; tag writes keep system tags; bucket policies wait for new principals."""
    orig_bucket_init = s3_models.FakeBucket.__init__
    orig_put_tagging = s3_models.S3Backend.put_bucket_tagging
    orig_put_policy = s3_models.S3Backend.put_bucket_policy

    def bucket_init(self: Any, *args: Any, **kwargs: Any) -> None:
        orig_bucket_init(self, *args, **kwargs)
        self.encryption = default_encryption()

    def delete_bucket_encryption(self: Any, bucket_name: str) -> None:
        self.get_bucket(bucket_name).encryption = default_encryption()

    def bucket_tagging_from_body(self: Any) -> dict[str, str]:
        parsed = xmltodict.parse(self.body, force_list={"Tag": True})
        tags: dict[str, str] = {}
        for tag in (parsed["Tagging"].get("TagSet") or {}).get("Tag", []):
            if tag["Key"] in tags:
                raise DuplicateTagKeys()
            tags[tag["Key"]] = tag.get("Value") or ""
        return tags

    def put_bucket_tagging(self: Any, bucket_name: str, tags: dict[str, str]) -> None:
        bucket = self.get_bucket(bucket_name)
        current = self.tagger.get_tag_dict_for_resource(bucket.arn)
        have, want = _system(current), _system(tags)
        if any(have.get(k) != v for k, v in want.items()):
            raise S3ClientError("InvalidTag", "System tags cannot be added/updated by requester")
        if any(k not in want for k in have):
            raise S3ClientError("InvalidTag", "System tags cannot be removed by requester")
        orig_put_tagging(self, bucket_name, tags)

    def put_bucket_policy(self: Any, bucket_name: str, policy: bytes) -> None:
        _check_principals(self.account_id, policy)
        orig_put_policy(self, bucket_name, policy)

    s3_models.FakeBucket.__init__ = bucket_init
    s3_models.S3Backend.delete_bucket_encryption = delete_bucket_encryption
    s3_models.S3Backend.put_bucket_tagging = put_bucket_tagging
    s3_models.S3Backend.put_bucket_policy = put_bucket_policy
    s3_responses.S3Response._bucket_tagging_from_body = bucket_tagging_from_body


def apply_request_payment() -> None:
    """GET/PUT ?requestPayment (Requester pays), kept on the bucket moto already models (``payer``)."""
    orig_get = s3_responses.S3Response._bucket_response_get
    orig_put = s3_responses.S3Response._bucket_response_put

    def bucket_get(self: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "requestPayment" not in querystring:
            return orig_get(self, bucket_name, querystring)
        self.data["Action"] = "GetBucketRequestPayment"  # (also how an error is serialised)
        bucket = self.backend.get_bucket(bucket_name)  # NoSuchBucket as AWS answers it
        return self.serialized(ActionResult({"Payer": bucket.payer}))

    def bucket_put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "requestPayment" not in querystring:
            return orig_put(self, request, bucket_name, querystring)
        self.data["Action"] = "PutBucketRequestPayment"
        bucket = self.backend.get_bucket(bucket_name)
        try:
            payer = (xmltodict.parse(self.body).get("RequestPaymentConfiguration") or {}).get("Payer")
        except Exception:  # noqa: BLE001 - any unparsable body is what S3 calls MalformedXML
            payer = None
        if payer not in ("BucketOwner", "Requester"):
            raise S3ClientError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                                                "against our published schema")
        bucket.payer = payer
        return 200, {}, ""

    s3_responses.S3Response._bucket_response_get = bucket_get
    s3_responses.S3Response._bucket_response_put = bucket_put
