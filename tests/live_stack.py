"""The live stack, deployed into the sandbox as CloudFormation left it, and the grant invariant's check.

:func:`deploy` makes what the CloudFormation stack ``SlurmFactoryInfraStack`` (the original project's
CDK code, ``infrastructure/infrastructure/stacks.py`` of vantagecompute/slurm-factory) leaves in the
account, with plain boto3 calls against the sandbox, then adds the ``aws:cloudformation:*`` system
tags through moto's backends where its API (rightly) refuses ``aws:`` keys:

- bucket ``slurm-factory-spack-buildcache-4b670``: SSE-S3, block public access, not versioned,
  lifecycle rule ``DeleteOldVersions`` (noncurrent 90 days), the CORS rule ``PublicReadCors``,
  ownership BucketOwnerEnforced (AWS's default), system tags; objects in it (the cache);
- its bucket policy: CDK's two statements for the OAC (``s3:GetObject`` on ``/*`` and
  ``s3:ListBucket`` on the bucket, CloudFront service principal, ``AWS:SourceArn`` the distribution);
- the OAC (CDK's generated name, SigV4 always, s3), the cache policy ``spack-buildcache-policy-4b670``
  (7 days default, query strings all, header ``Accept``, gzip + brotli), the response-headers policy
  ``spack-buildcache-cors-4b670`` (CORS for browser clients: any origin, GET/HEAD/OPTIONS, 1 hour);
- the certificate for the alias (DNS validated, issued, system tags) and its validation CNAME;
- the distribution: alias, certificate, OAC origin on the bucket's regional domain, the cache
  policy, the managed origin-request policy CORS-S3Origin, the response-headers policy, 403 -> 404 ``/404.html`` (10 s),
  PriceClass_100, GET/HEAD/OPTIONS cached, system tags;
- A and AAAA alias records to it;
- the GitHub OIDC provider (CDK makes it with a custom resource: no tags at all);
- the role ``slurm-factory-github-actions``: CDK's trust policy, 4-hour sessions, CDK's description,
  and CDK's ``DefaultPolicy`` inline policy (``grant_read_write`` plus the two ``add_to_policy``
  statements). IAM takes no ``aws:`` tags, so the role carries none.

Not reproducible here: CloudFormation's own stack record (moto's CloudFormation cannot look a
resource up by physical id). Logical ids below follow CDK's ``<path><8-hex hash>`` form; the hashes
are illustrative.

:class:`GrantCheck` is the engine's invariant as a test: after every mutating request (a hook of
``tests/faults.FaultInjector``, run in the server's process before the response leaves), the
distribution the alias resolves to is granted ``s3:GetObject`` by the bucket policy, for the
origin access it uses now and, while it deploys a change, the one it used before.
"""

from __future__ import annotations

import fnmatch
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the desired state that keeps the live stack's settings (issue 15), and the seed's
LIVE_TOML = ROOT / "examples" / "slurm-factory-live.toml"
SEED_TOML = ROOT / "desired_state.toml"


def stack_name(toml: Path) -> str:
    """The ``stack.name`` of a desired-state file: what ``provision:stack`` says once it is ours."""
    import tomllib

    return str(tomllib.loads(toml.read_text())["stack"]["name"])


ACCOUNT = "123456789012"
CFN_STACK = "SlurmFactoryInfraStack"
CFN_STACK_ID = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{CFN_STACK}/6f1b8c40-1f5e-11ef-9a5b-0e8d3c6f1a2b"
BUCKET = "slurm-factory-spack-buildcache-4b670"
DOMAIN = "slurm-factory-spack-binary-cache.vantagecompute.ai"
ROLE = "slurm-factory-github-actions"
CACHE_POLICY = "spack-buildcache-policy-4b670"
RESPONSE_HEADERS_POLICY = "spack-buildcache-cors-4b670"
OAC_NAME = "SlurmFactoryInfraStackOAC6AF4E2C1"
DEFAULT_POLICY = "GitHubActionsRoleDefaultPolicyDFB7F1B3"
HOST = "token.actions.githubusercontent.com"
THUMBPRINTS = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
CORS_S3_ORIGIN = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"  # the managed origin-request policy CORS-S3Origin
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
LOGICAL = {
    "bucket": "BinaryCacheBucketD5F9D8B1",
    "distribution": "Distribution830FAC52",
    "certificate": "Certificate4E7ABB08",
}
OAI_ARN = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "


def system_tags(logical_id: str) -> dict[str, str]:
    """What CloudFormation puts on every resource it makes that takes tags."""
    return {"aws:cloudformation:stack-name": CFN_STACK, "aws:cloudformation:logical-id": logical_id,
            "aws:cloudformation:stack-id": CFN_STACK_ID}


def client(url: str, service: str):
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 2}))


# -- writing system tags as AWS services do (moto's APIs refuse aws: keys, as AWS's do) -----------


def _cf_backend():
    from moto.cloudfront.models import cloudfront_backends

    return cloudfront_backends[ACCOUNT]["aws"]


def tag_distribution(arn: str, tags: dict[str, str]) -> None:
    _cf_backend().tagger.tag_resource(arn, [{"Key": k, "Value": v} for k, v in tags.items()])


def tag_certificate(arn: str, tags: dict[str, str]) -> None:
    from moto.acm.models import acm_backends

    bundle = acm_backends[ACCOUNT]["us-east-1"]._certificates[arn]
    for k, v in tags.items():
        dict.__setitem__(bundle.tags, k, v)  # TagHolder.add refuses aws: keys (as ACM's API does)


def distribution_tags(arn: str) -> dict[str, str]:
    return _cf_backend().tagger.get_tag_dict_for_resource(arn)


def certificate_tags(arn: str) -> dict[str, str]:
    from moto.acm.models import acm_backends

    return dict(acm_backends[ACCOUNT]["us-east-1"]._certificates[arn].tags)


def bucket_tags(name: str) -> dict[str, str]:
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT]["aws"]
    return backend.tagger.get_tag_dict_for_resource(backend.get_bucket(name).arn)


# -- the stack ------------------------------------------------------------------------------------


@dataclass
class LiveStack:
    zone_id: str
    distribution_id: str
    distribution_arn: str
    distribution_domain: str
    certificate_arn: str
    oac_id: str
    cache_policy_id: str
    response_headers_policy_id: str
    provider_arn: str
    objects: dict[str, bytes] = field(default_factory=dict)


def cdk_trust_policy(provider_arn: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringLike": {f"{HOST}:sub": "repo:vantagecompute/slurm-factory:*"},
                      "StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"}},
        "Effect": "Allow", "Principal": {"Federated": provider_arn}}]}


def cdk_default_policy() -> dict:
    arn = f"arn:aws:s3:::{BUCKET}"
    return {"Version": "2012-10-17", "Statement": [
        {"Action": ["s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:PutObject",
                    "s3:PutObjectLegalHold", "s3:PutObjectRetention", "s3:PutObjectTagging",
                    "s3:PutObjectVersionTagging"],
         "Effect": "Allow", "Resource": [arn, f"{arn}/*"]},
        {"Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], "Effect": "Allow",
         "Resource": arn},
        {"Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                    "s3:PutObject"], "Effect": "Allow", "Resource": f"{arn}/*"},
    ]}


def cdk_bucket_policy(distribution_arn: str) -> dict:
    arn = f"arn:aws:s3:::{BUCKET}"
    cond = {"StringEquals": {"AWS:SourceArn": distribution_arn}}
    return {"Version": "2012-10-17", "Statement": [
        {"Action": "s3:GetObject", "Condition": cond, "Effect": "Allow",
         "Principal": {"Service": "cloudfront.amazonaws.com"}, "Resource": f"{arn}/*"},
        {"Action": "s3:ListBucket", "Condition": cond, "Effect": "Allow",
         "Principal": {"Service": "cloudfront.amazonaws.com"}, "Resource": arn},
    ]}


def _wait_visible(acm, arn: str) -> dict:
    deadline = time.monotonic() + 10
    while True:
        try:
            return acm.describe_certificate(CertificateArn=arn)["Certificate"]
        except acm.exceptions.ResourceNotFoundException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def deploy(url: str, zone_id: str) -> LiveStack:
    """Make the live CloudFormation stack's resources in the sandbox at ``url`` (a clean account)."""
    s3, cf, acm, iam, r53 = (client(url, s) for s in ("s3", "cloudfront", "acm", "iam", "route53"))
    from provisioner.sandbox.patches.s3 import set_system_tags

    # -- the bucket (and the cache in it)
    s3.create_bucket(Bucket=BUCKET, ObjectOwnership="BucketOwnerEnforced")
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [{
        "ID": "DeleteOldVersions", "Status": "Enabled", "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]})
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [{
        "ID": "PublicReadCors", "AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "x-amz-id-2", "x-amz-request-id", "x-amz-version-id"], "MaxAgeSeconds": 3600}]})
    set_system_tags(BUCKET, system_tags(LOGICAL["bucket"]))
    objects = {"build_cache/index.json": b'{"database": {}}', "build_cache/_pgp/key.pub": b"-----BEGIN PGP-----"}
    for key, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)

    # -- OAC and cache policy
    oac_id = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": OAC_NAME, "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    policy_id = cf.create_cache_policy(CachePolicyConfig={
        "Name": CACHE_POLICY, "Comment": "Cache policy for Spack buildcache with query string support",
        "DefaultTTL": 604800, "MaxTTL": 31536000, "MinTTL": 0,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["Accept"]}},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "all"}}})["CachePolicy"]["Id"]
    exposed = ["ETag", "x-amz-id-2", "x-amz-request-id", "x-amz-version-id"]
    headers_id = cf.create_response_headers_policy(ResponseHeadersPolicyConfig={
        "Name": RESPONSE_HEADERS_POLICY, "Comment": "CORS policy for public Spack buildcache browser clients",
        "CorsConfig": {
            "AccessControlAllowCredentials": False, "OriginOverride": True, "AccessControlMaxAgeSec": 3600,
            "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["*"]},
            "AccessControlAllowMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"]},
            "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["*"]},
            "AccessControlExposeHeaders": {"Quantity": len(exposed), "Items": exposed}}})[
        "ResponseHeadersPolicy"]["Id"]

    # -- the certificate (CloudFormation validates it through the zone) and its validation record
    cert_arn = acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")["CertificateArn"]
    cert = _wait_visible(acm, cert_arn)
    tag_certificate(cert_arn, system_tags(LOGICAL["certificate"]))
    rr = cert["DomainValidationOptions"][0]["ResourceRecord"]
    changes = [{"Action": "CREATE", "ResourceRecordSet": {"Name": rr["Name"], "Type": rr["Type"], "TTL": 60,
                                                          "ResourceRecords": [{"Value": rr["Value"]}]}}]

    # -- the distribution
    origin_id = "SlurmFactoryInfraStackDistributionOrigin1E8C7A0D5"
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": "1717171717171", "Comment": "CDN for slurm-factory Spack binary cache", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [DOMAIN]},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": origin_id, "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com", "OriginPath": "",
            "CustomHeaders": {"Quantity": 0}, "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": oac_id}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": origin_id, "ViewerProtocolPolicy": "redirect-to-https", "Compress": True,
            "CachePolicyId": policy_id, "OriginRequestPolicyId": CORS_S3_ORIGIN,
            "ResponseHeadersPolicyId": headers_id,
            "AllowedMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"],
                               "CachedMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"]}}},
        "CustomErrorResponses": {"Quantity": 1, "Items": [
            {"ErrorCode": 403, "ResponseCode": "404", "ResponsePagePath": "/404.html", "ErrorCachingMinTTL": 10}]},
        "PriceClass": "PriceClass_100", "HttpVersion": "http2", "IsIPV6Enabled": True,
        "ViewerCertificate": {"ACMCertificateArn": cert_arn, "SSLSupportMethod": "sni-only",
                              "MinimumProtocolVersion": "TLSv1.2_2021", "CloudFrontDefaultCertificate": False},
    })["Distribution"]
    tag_distribution(dist["ARN"], system_tags(LOGICAL["distribution"]))
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(cdk_bucket_policy(dist["ARN"])))
    for rtype in ("A", "AAAA"):
        changes.append({"Action": "CREATE", "ResourceRecordSet": {"Name": DOMAIN, "Type": rtype, "AliasTarget": {
            "HostedZoneId": CLOUDFRONT_ZONE, "DNSName": dist["DomainName"], "EvaluateTargetHealth": False}}})
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})

    # -- GitHub OIDC provider (CDK custom resource: untagged) and the role
    provider_arn = iam.create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=THUMBPRINTS)[
        "OpenIDConnectProviderArn"]
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(cdk_trust_policy(provider_arn)),
                    Description="Role for GitHub Actions in vantagecompute/slurm-factory", MaxSessionDuration=14400)
    iam.put_role_policy(RoleName=ROLE, PolicyName=DEFAULT_POLICY, PolicyDocument=json.dumps(cdk_default_policy()))
    return LiveStack(zone_id=zone_id, distribution_id=dist["Id"], distribution_arn=dist["ARN"],
                     distribution_domain=dist["DomainName"], certificate_arn=cert_arn, oac_id=oac_id,
                     cache_policy_id=policy_id, response_headers_policy_id=headers_id, provider_arn=provider_arn, objects=objects)


# -- the grant invariant ---------------------------------------------------------------------------


def _items(v) -> list:
    return v if isinstance(v, list) else [] if v is None else [v]


def grants_read(policy: dict, access: tuple[str, str], bucket: str, canonical: dict[str, str]) -> bool:
    """Whether ``policy`` allows the CloudFront origin ``access`` (("oai", id) / ("oac", dist ARN)) s3:GetObject."""
    obj = f"arn:aws:s3:::{bucket}/build_cache/index.json"
    allowed = False
    for st in _items(policy.get("Statement")):
        actions = [a.lower() for a in _items(st.get("Action"))]
        if not any(fnmatch.fnmatchcase("s3:getobject", a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(obj, r) for r in _items(st.get("Resource"))):
            continue
        p = st.get("Principal")
        if p == "*":
            who = True
        elif not isinstance(p, dict):
            who = False
        elif access[0] == "oai":
            who = (OAI_ARN + access[1]) in _items(p.get("AWS")) or canonical.get(access[1]) in _items(p.get("CanonicalUser"))
        else:
            who = "cloudfront.amazonaws.com" in _items(p.get("Service"))
            cond = st.get("Condition") or {}
            if who and cond:
                arns = [v for block in cond.values() for k, vals in block.items() if k.lower() == "aws:sourcearn"
                        for v in _items(vals)]
                who = any(fnmatch.fnmatchcase(access[1], a) for a in arns)
        if not who:
            continue
        if st.get("Effect") == "Deny":
            if not st.get("Condition"):  # an unconditional deny; aws:SecureTransport denies never hit CloudFront
                return False
        elif st.get("Effect") == "Allow":
            allowed = True
    return allowed


class GrantCheck:
    """The invariant, checked against moto's state in the server process after every mutating request."""

    def __init__(self, alias: str = DOMAIN, bucket: str = BUCKET) -> None:
        self.alias = alias.lower().rstrip(".")
        self.bucket = bucket
        self.deployed: dict[str, set[tuple[str, str]]] = {}  # distribution id -> accesses when last Deployed
        self.violations: list[str] = []
        self.checks = 0
        self.served: set[str] = set()  # distribution ids seen serving the alias

    def _accesses(self, dist) -> set[tuple[str, str]]:
        out = set()
        for o in dist.distribution_config.Origins["Items"]:
            if not str(getattr(o, "domain_name", "")).startswith(f"{self.bucket}.s3."):
                continue
            oai = ((getattr(o, "s3_origin_config", None) or {}).get("OriginAccessIdentity")) or ""
            if oai:
                out.add(("oai", oai.rsplit("/", 1)[-1]))
            if getattr(o, "origin_access_control_id", None):
                out.add(("oac", dist.arn))
        return out

    def serving(self) -> list:
        """The distributions the alias resolves to (its A/AAAA alias target) that carry the alias."""
        from moto.route53.models import route53_backends

        from provisioner.sandbox.patches.cloudfront_aliases import aliases_of

        targets = set()
        for zone in list(route53_backends[ACCOUNT]["aws"].zones.values()):
            for rr in list(zone.rrsets):
                if rr.name.lower().rstrip(".") == self.alias and rr.type in ("A", "AAAA") and rr.alias_target:
                    targets.add(str(rr.alias_target.get("DNSName", "")).lower().rstrip("."))
        return [d for d in list(_cf_backend().distributions.values())
                if d.domain_name.lower() in targets and self.alias in aliases_of(d.distribution_config)]

    def baseline(self) -> None:
        for d in self.serving():
            self.deployed[d.distribution_id] = self._accesses(d)

    def __call__(self, request=None) -> None:
        from moto.s3.models import s3_backends

        self.checks += 1
        backend = s3_backends[ACCOUNT]["aws"]
        try:
            raw = backend.get_bucket(self.bucket).policy
        except Exception:  # noqa: BLE001 - no bucket
            raw = None
        policy = json.loads(raw) if raw else {}
        canonical = {o.id: o.s3_canonical_user_id for o in _cf_backend().origin_access_identities.values()}
        for d in self.serving():
            self.served.add(d.distribution_id)
            now = self._accesses(d)
            need = set(now)
            if d.status != "Deployed":
                need |= self.deployed.get(d.distribution_id, set())
            else:
                self.deployed[d.distribution_id] = now
            for access in sorted(need):
                if not grants_read(policy, access, self.bucket, canonical):
                    self.violations.append(f"after {request}: distribution {d.distribution_id} ({d.status}) "
                                           f"not granted s3:GetObject for {access}")
