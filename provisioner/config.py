"""desired_state.toml -> a validated, frozen DesiredState. No AWS call happens here.

Every error names the file, the key path (``s3.buildcache.lifecycle.noncurrent_days``), what was
expected and what was found. Unknown keys are errors (a typo must never be silently ignored).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import ConfigError, Described

# ---------------------------------------------------------------------------------------------
# The typed desired state
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    name: str
    region: str
    account_id: str | None
    tags: tuple[tuple[str, str], ...]  # user tags, merged with the ownership tags


@dataclass(frozen=True)
class Lifecycle:
    noncurrent_days: int | None  # delete noncurrent versions after N days
    abort_incomplete_multipart_days: int | None
    expire_days: int | None  # expire current objects (log bucket)


@dataclass(frozen=True)
class Bucket:
    key: str  # "buildcache" / "logs"
    name: str
    encryption: str  # "AES256"
    versioning: bool
    block_public_access: bool
    require_tls: bool
    object_ownership: str | None  # BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter
    lifecycle: Lifecycle
    retain_on_destroy: bool

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


@dataclass(frozen=True)
class Certificate:
    domain: str
    subject_alternative_names: tuple[str, ...]
    key_algorithm: str


@dataclass(frozen=True)
class Record:
    name: str  # fully qualified, no trailing dot
    type: str
    ttl: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class Dns:
    zone: str  # zone name, no trailing dot
    zone_id: str | None
    validation_record_ttl: int
    alias_records: tuple[str, ...]  # ("A", "AAAA")
    records: tuple[Record, ...]  # extra plain records managed in the zone


@dataclass(frozen=True)
class CachePolicy:
    kind: str  # "custom" (cache policy, gzip+brotli) | "legacy" (ForwardedValues, gzip only)
    name: str
    min_ttl: int
    default_ttl: int
    max_ttl: int
    query_strings: bool
    gzip: bool
    brotli: bool


@dataclass(frozen=True)
class CdnLogging:
    enabled: bool
    prefix: str
    include_cookies: bool


@dataclass(frozen=True)
class ErrorResponse:
    error_code: int
    response_code: int
    response_page_path: str
    min_ttl: int


@dataclass(frozen=True)
class Cdn:
    aliases: tuple[str, ...]
    origin_access: str  # "oai" | "oac"
    comment: str
    price_class: str
    viewer_protocol_policy: str
    minimum_protocol_version: str
    ssl_support_method: str
    http_version: str
    ipv6: bool
    compress: bool
    allowed_methods: tuple[str, ...]
    cached_methods: tuple[str, ...]
    geo_restriction: str  # "none"
    grant_list_bucket: bool
    default_root_object: str
    additional_metrics: bool  # CloudFront monitoring subscription (needed for CacheHitRate)
    cache: CachePolicy
    logging: CdnLogging
    error_responses: tuple[ErrorResponse, ...]


@dataclass(frozen=True)
class OidcProvider:
    url: str  # https://token.actions.githubusercontent.com
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]

    @property
    def host(self) -> str:
        return self.url.removeprefix("https://").rstrip("/")


@dataclass(frozen=True)
class GithubRole:
    name: str
    path: str
    description: str
    max_session_duration: int
    audience: str
    subjects: tuple[str, ...]  # repo:OWNER/REPO:...
    policy_name: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class AdminUser:
    name: str
    path: str
    policy_name: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Alarm:
    name: str
    description: str
    namespace: str
    metric: str
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int | None
    threshold: float
    comparison: str
    treat_missing_data: str
    notify: bool  # alarm + OK actions to the topic


@dataclass(frozen=True)
class Alarms:
    topic: str
    email_subscriptions: tuple[str, ...]
    alarms: tuple[Alarm, ...]


@dataclass(frozen=True)
class DesiredState:
    source: str  # file path, for messages
    stack: Stack
    buildcache: Bucket
    logs: Bucket
    certificate: Certificate
    dns: Dns
    cdn: Cdn
    github_oidc: OidcProvider
    github_role: GithubRole
    admin_user: AdminUser
    alarms: Alarms
    outputs: tuple[tuple[str, str], ...]  # (OutputName, "resource.address.key")
    drift_ignore: tuple[str, ...] = ()  # "address" or "address:field" patterns (fnmatch) drift accepts
    raw: dict = field(compare=False, repr=False, default_factory=dict)

    @property
    def ownership_tags(self) -> dict[str, str]:
        return {"ManagedBy": "provision", "provision:stack": self.stack.name}

    @property
    def tags(self) -> dict[str, str]:
        """Every taggable resource gets these: the user's tags plus the ownership marks."""
        t = dict(self.stack.tags)
        t.update(self.ownership_tags)
        return t


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------

BUCKET_RE = re.compile(r"^(?!xn--)(?!sthree-)(?!.*-s3alias$)(?!.*--ol-s3$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
DNS_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
IAM_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
IAM_PATH_RE = re.compile(r"^/([\x21-\x7e]{0,510}/)?$")
ACTION_RE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")
THUMBPRINT_RE = re.compile(r"^[0-9a-fA-F]{40}$")
ALARM_NAME_RE = re.compile(r"^[^\x00-\x1f]{1,255}$")
TOPIC_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
TAG_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}$")
SUBJECT_RE = re.compile(r"^repo:([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+):(.+)$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
OUTPUT_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,254}$")

# CloudFront additional metrics: published only while the distribution's monitoring subscription is on.
ADDITIONAL_METRICS = ("CacheHitRate", "OriginLatency", "401ErrorRate", "403ErrorRate", "404ErrorRate",
                      "502ErrorRate", "503ErrorRate", "504ErrorRate")
TLS_VERSIONS = ("TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
VIEWER_POLICIES = ("redirect-to-https", "https-only")  # allow-all would serve the cache over plain HTTP
HTTP_VERSIONS = ("http1.1", "http2", "http3", "http2and3")
METHOD_SETS = (("GET", "HEAD"), ("GET", "HEAD", "OPTIONS"), ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"))
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
OWNERSHIP = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")
RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "CAA", "NS", "SRV")
KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")

# The moto/AWS canonical output names the seed documents.
KNOWN_OUTPUT_KEYS = {
    "s3_bucket.buildcache": ("name", "arn", "regional_domain_name"),
    "s3_bucket.logs": ("name", "arn", "domain_name"),
    "acm_certificate.cdn": ("arn",),
    "cloudfront_distribution.cdn": ("id", "arn", "domain_name", "public_url"),
    "iam_role.github_actions": ("arn", "name"),
    "iam_oidc_provider.github": ("arn",),
    "iam_user.admin": ("arn", "name"),
    "sns_topic.alarms": ("arn",),
    "route53_zone.main": ("id",),
}


class _Section:
    """A view of one TOML table that tracks its key path and which keys were consumed."""

    def __init__(self, file: str, path: str, data: Any):
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            raise ConfigError(file, path, "a table", data)
        self.data = data
        self.used: set[str] = set()

    def _p(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, expected: str, found: Any = None, has_found: bool = True):
        raise ConfigError(self.file, self._p(key), expected, found, has_found=has_found)

    def _get(self, key: str, default: Any, required: bool) -> Any:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise ConfigError(self.file, self._p(key), "a value (the key is required)", has_found=False)
            return default
        return self.data[key]

    def section(self, key: str, required: bool = True) -> "_Section":
        v = self._get(key, {}, required)
        return _Section(self.file, self._p(key), v)

    def str(self, key, default=None, *, required=False, pattern=None, choices=None, what=None, allow_empty=False):
        v = self._get(key, default, required and default is None)
        if v is None:
            return None
        if not isinstance(v, str):
            self.fail(key, what or "a string", v)
        if not v and not allow_empty:
            self.fail(key, what or "a non-empty string", v)
        if choices is not None and v not in choices:
            self.fail(key, "one of " + ", ".join(repr(c) for c in choices), v)
        if pattern is not None and v and not pattern.match(v):
            self.fail(key, what or f"a string matching {pattern.pattern}", v)
        return v

    def bool(self, key, default=None, *, required=False):
        v = self._get(key, default, required and default is None)
        if not isinstance(v, bool):
            self.fail(key, "true or false", v)
        return v

    def int(self, key, default=None, *, required=False, lo=None, hi=None, optional=False):
        v = self._get(key, default, required and default is None and not optional)
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(key, "an integer" + _range(lo, hi), v)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(key, "an integer" + _range(lo, hi), v)
        return v

    def num(self, key, default=None, *, required=False, lo=None, hi=None):
        v = self._get(key, default, required and default is None)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(key, "a number" + _range(lo, hi), v)
        if v != v or v in (float("inf"), float("-inf")) or (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(key, "a finite number" + _range(lo, hi), v)  # nan/inf: AWS APIs reject them mid-apply
        return float(v)

    def strlist(self, key, default=None, *, required=False, item: Callable[[str, str], None] | None = None,
                min_len=0, max_len=None, unique=True, what="a list of strings"):
        v = self._get(key, default, required and default is None)
        if not isinstance(v, list):
            self.fail(key, what, v)
        if len(v) < min_len or (max_len is not None and len(v) > max_len):
            n = f"{min_len}..{max_len}" if max_len is not None else f"at least {min_len}"
            self.fail(key, f"{what} with {n} entries", Described(f"{len(v)} entries"))
        for i, s in enumerate(v):
            if not isinstance(s, str) or not s:
                raise ConfigError(self.file, f"{self._p(key)}[{i}]", "a non-empty string", s)
            if item is not None:
                item(f"{self._p(key)}[{i}]", s)
        if unique and len(set(v)) != len(v):
            dup = sorted({s for s in v if v.count(s) > 1})
            self.fail(key, f"{what} without duplicates", Described(f"duplicate {dup[0]!r}"))
        return tuple(v)

    def tables(self, key) -> list["_Section"]:
        v = self._get(key, [], False)
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            self.fail(key, "an array of tables ([[...]])", v)
        return [_Section(self.file, f"{self._p(key)}[{i}]", x) for i, x in enumerate(v)]

    def done(self) -> None:
        for k in self.data:
            if k not in self.used:
                known = sorted(self.used)
                raise ConfigError(
                    self.file, self._p(k), "one of the known keys (" + ", ".join(known) + ")",
                    Described(f"unknown key {k!r}"),
                )


def _range(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f" between {lo} and {hi}"
    if lo is not None:
        return f" >= {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""


def _check_dns_name(file: str, path: str, name: str) -> str:
    n = name.lower().rstrip(".")
    if name != name.strip() or len(n) > 253 or "." not in n:
        raise ConfigError(file, path, "a fully qualified domain name", name)
    labels = n.split(".")
    for i, label in enumerate(labels):
        if label == "*" and i == 0:
            continue
        if not DNS_LABEL_RE.match(label) and not (label.startswith("_") and DNS_LABEL_RE.match(label[1:])):
            raise ConfigError(file, path, "a fully qualified domain name", name)
    return n


def _in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load(path: str | Path) -> DesiredState:
    p = Path(path)
    file = str(path)
    try:
        text = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(file, "", "an existing desired-state file", Described("no such file")) from None
    except OSError as e:
        raise ConfigError(file, "", "a readable file", Described(str(e))) from None
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(file, "", "UTF-8 text", Described(f"undecodable byte at offset {e.start}")) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(file, "", "valid TOML", Described(f"syntax error: {e}")) from None
    return from_dict(data, file)


def loads(text: str, file: str = "<string>") -> DesiredState:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(file, "", "valid TOML", Described(f"syntax error: {e}")) from None
    return from_dict(data, file)


def from_dict(data: dict, file: str = "<dict>") -> DesiredState:
    root = _Section(file, "", data)
    stack = _stack(root)
    s3 = root.section("s3")
    buildcache = _one_bucket(s3.section("buildcache"), "buildcache")
    logs = _one_bucket(s3.section("logs"), "logs")
    s3.done()
    dns = _dns(root.section("dns"))
    cert = _certificate(root.section("certificate"), dns, file)
    cdn = _cdn(root.section("cdn"), dns, cert, file)
    oidc = _oidc(root.section("github_oidc"))
    role = _role(root.section("github_role"), oidc)
    user = _user(root.section("admin_user"))
    alarms = _alarms(root.section("alarms"))
    outputs = _outputs(root.section("outputs", required=False))
    drift_ignore = _drift(root.section("drift", required=False))
    root.used.update({"drift", "s3", "dns", "certificate", "cdn", "github_oidc", "github_role", "admin_user", "alarms", "outputs"})
    root.done()
    if not cdn.additional_metrics:  # an alarm on a metric CloudFront does not publish watches nothing
        for i, a in enumerate(alarms.alarms):
            if a.metric in ADDITIONAL_METRICS:
                raise ConfigError(file, f"alarms.alarm[{i}].metric",
                                  f"a standard CloudFront metric, or cdn.additional_metrics = true ({a.metric} is "
                                  "an additional metric, published only with the monitoring subscription)", a.metric)
    names = {buildcache.name, logs.name}
    if len(names) != 2:
        raise ConfigError(file, "s3.logs.name", "a bucket name different from s3.buildcache.name", logs.name)
    return DesiredState(
        source=file, stack=stack, buildcache=buildcache, logs=logs, certificate=cert, dns=dns, cdn=cdn,
        github_oidc=oidc, github_role=role, admin_user=user, alarms=alarms, outputs=outputs,
        drift_ignore=drift_ignore, raw=data,
    )


def _stack(root: _Section) -> Stack:
    s = root.section("stack")
    name = s.str("name", required=True, pattern=re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$"),
                 what="a stack name (letters, digits, '-'; starting with a letter; at most 63)")
    region = s.str("region", "us-east-1", pattern=REGION_RE, what="an AWS region name like 'us-east-1'")
    account = s.str("account_id", None, pattern=ACCOUNT_RE, what="a 12-digit AWS account id")
    s.done()
    t = root.section("tags", required=False)
    tags = []
    for k, v in t.data.items():
        t.used.add(k)
        if not TAG_KEY_RE.match(k) or k.lower().startswith("aws:"):
            raise ConfigError(root.file, f"tags.{k}", "a tag key (1-128 chars, not starting with 'aws:')", k)
        if k in ("ManagedBy", "provision:stack"):
            raise ConfigError(root.file, f"tags.{k}", "a tag key other than the reserved ownership tags", k)
        if not isinstance(v, str) or len(v) > 256:
            raise ConfigError(root.file, f"tags.{k}", "a string tag value of at most 256 characters", v)
        tags.append((k, v))
    if len(tags) > 40:
        raise ConfigError(root.file, "tags", "at most 40 tags", Described(f"{len(tags)} tags"))
    return Stack(name=name, region=region, account_id=account, tags=tuple(sorted(tags)))


def _lifecycle(s: _Section) -> Lifecycle:
    lc = Lifecycle(
        noncurrent_days=s.int("noncurrent_days", lo=1, hi=36500, optional=True),
        abort_incomplete_multipart_days=s.int("abort_incomplete_multipart_days", lo=1, hi=36500, optional=True),
        expire_days=s.int("expire_days", lo=1, hi=36500, optional=True),
    )
    s.done()
    return lc


def _one_bucket(s: _Section, key: str) -> Bucket:
    name = s.str("name", required=True)
    if not BUCKET_RE.match(name) or IP_RE.match(name) or ".." in name or ".-" in name or "-." in name:
        s.fail("name", "a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')", name)
    if "." in name:
        s.fail("name", "a bucket name without dots (CloudFront and TLS need virtual-host style names)", name)
    enc = s.str("encryption", "AES256", choices=("AES256",))
    versioning = s.bool("versioning", key == "buildcache")
    bpa = s.bool("block_public_access", True)
    if not bpa:
        s.fail("block_public_access", "true (the cache is public only through CloudFront)", bpa)
    tls = s.bool("require_tls", True)
    own_default = "BucketOwnerPreferred" if key == "logs" else "BucketOwnerEnforced"
    ownership = s.str("object_ownership", own_default, choices=OWNERSHIP)
    if key == "logs" and ownership == "BucketOwnerEnforced":
        s.fail("object_ownership", "'BucketOwnerPreferred' or 'ObjectWriter' (CloudFront standard logging writes with ACLs)",
               ownership)
    lifecycle = _lifecycle(s.section("lifecycle", required=False))
    if key == "buildcache" and lifecycle.expire_days is not None:
        raise ConfigError(s.file, f"{s.path}.lifecycle.expire_days",
                          "no expiry of current objects on the buildcache (nothing lost: only noncurrent versions expire)",
                          lifecycle.expire_days)
    if lifecycle.noncurrent_days is not None and not versioning:
        raise ConfigError(s.file, f"{s.path}.lifecycle.noncurrent_days", "versioning = true for noncurrent-version expiry",
                          lifecycle.noncurrent_days)
    retain = s.bool("retain_on_destroy", True)
    if key == "buildcache" and not retain:
        s.fail("retain_on_destroy", "true (the buildcache bucket and its data are always retained)", retain)
    s.done()
    return Bucket(key=key, name=name, encryption=enc, versioning=versioning, block_public_access=bpa,
                  require_tls=tls, object_ownership=ownership, lifecycle=lifecycle, retain_on_destroy=retain)


def _dns(s: _Section) -> Dns:
    zone = _check_dns_name(s.file, s._p("zone"), s.str("zone", required=True))
    zone_id = s.str("zone_id", None, pattern=re.compile(r"^(/hostedzone/)?[A-Z0-9]{1,32}$"), what="a hosted zone id like 'Z1234567890ABC'")
    if zone_id:
        zone_id = zone_id.removeprefix("/hostedzone/")
    ttl = s.int("validation_record_ttl", 300, lo=0, hi=2147483647)
    alias = s.strlist("alias_records", ["A", "AAAA"], item=lambda p, v: _choice(s.file, p, v, ("A", "AAAA")),
                      min_len=1, what="a list of record types ('A', 'AAAA')")
    recs = []
    seen = set()
    for r in s.tables("records"):
        name = _check_dns_name(r.file, r._p("name"), r.str("name", required=True))
        if not _in_zone(name, zone):
            r.fail("name", f"a name inside the zone {zone!r}", name)
        rtype = r.str("type", required=True, choices=RECORD_TYPES)
        ttl_r = r.int("ttl", 300, lo=0, hi=2147483647)
        values = r.strlist("values", required=True, min_len=1, max_len=400)
        r.done()
        if (name, rtype) in seen:
            r.fail("name", "one entry per (name, type)", Described(f"a second {rtype} record for {name!r}"))
        seen.add((name, rtype))
        recs.append(Record(name=name, type=rtype, ttl=ttl_r, values=values))
    s.done()
    return Dns(zone=zone, zone_id=zone_id, validation_record_ttl=ttl, alias_records=alias, records=tuple(recs))


def _choice(file, path, v, choices):
    if v not in choices:
        raise ConfigError(file, path, "one of " + ", ".join(repr(c) for c in choices), v)


def _certificate(s: _Section, dns: Dns, file: str) -> Certificate:
    domain = _check_dns_name(s.file, s._p("domain"), s.str("domain", required=True))
    if not _in_zone(domain, dns.zone):
        s.fail("domain", f"a domain inside the hosted zone dns.zone = {dns.zone!r} (DNS validation writes there)", domain)
    sans = s.strlist("subject_alternative_names", [])
    for i, n in enumerate(sans):
        nn = _check_dns_name(s.file, f"{s._p('subject_alternative_names')}[{i}]", n)
        if not _in_zone(nn.removeprefix("*."), dns.zone):
            raise ConfigError(s.file, f"{s._p('subject_alternative_names')}[{i}]", f"a name inside the zone {dns.zone!r}", n)
    validation = s.str("validation", "DNS", choices=("DNS",))
    del validation
    algo = s.str("key_algorithm", "RSA_2048", choices=KEY_ALGORITHMS)
    s.done()
    return Certificate(domain=domain, subject_alternative_names=tuple(n.lower() for n in sans), key_algorithm=algo)


def _cdn(s: _Section, dns: Dns, cert: Certificate, file: str) -> Cdn:
    aliases = s.strlist("aliases", [cert.domain], min_len=1, max_len=100)
    covered = {cert.domain, *cert.subject_alternative_names}
    for i, a in enumerate(aliases):
        n = _check_dns_name(s.file, f"{s._p('aliases')}[{i}]", a)
        ok = n in covered or any(c.startswith("*.") and n.split(".", 1)[1] == c[2:] for c in covered)
        if not ok:
            raise ConfigError(s.file, f"{s._p('aliases')}[{i}]", "a name covered by the certificate (certificate.domain or its SANs)", a)
        if not _in_zone(n, dns.zone):
            raise ConfigError(s.file, f"{s._p('aliases')}[{i}]", f"a name inside the zone {dns.zone!r}", a)
    aliases = tuple(a.lower().rstrip(".") for a in aliases)
    origin_access = s.str("origin_access", "oai", choices=("oai", "oac"))
    comment = s.str("comment", "", allow_empty=True)
    if len(comment) > 128:
        s.fail("comment", "at most 128 characters", Described(f"{len(comment)} characters"))
    price = s.str("price_class", "PriceClass_100", choices=PRICE_CLASSES)
    vpp = s.str("viewer_protocol_policy", "redirect-to-https", choices=VIEWER_POLICIES)
    tls = s.str("minimum_protocol_version", "TLSv1.2_2021", choices=TLS_VERSIONS)
    ssl = s.str("ssl_support_method", "sni-only", choices=("sni-only",))
    http = s.str("http_version", "http2", choices=HTTP_VERSIONS)
    ipv6 = s.bool("ipv6", True)
    compress = s.bool("compress", True)
    allowed = s.strlist("allowed_methods", ["GET", "HEAD", "OPTIONS"])
    if tuple(sorted(allowed)) not in {tuple(sorted(m)) for m in METHOD_SETS}:
        s.fail("allowed_methods", "one of the sets CloudFront accepts: [GET, HEAD], [GET, HEAD, OPTIONS] or all seven", list(allowed))
    cached = s.strlist("cached_methods", ["GET", "HEAD"])
    if tuple(sorted(cached)) not in {("GET", "HEAD"), ("GET", "HEAD", "OPTIONS")} or not set(cached) <= set(allowed):
        s.fail("cached_methods", "[GET, HEAD] or [GET, HEAD, OPTIONS], a subset of allowed_methods", list(cached))
    geo = s.str("geo_restriction", "none", choices=("none",))
    grant_list = s.bool("grant_list_bucket", False)
    root_obj = s.str("default_root_object", "", allow_empty=True)
    metrics = s.bool("additional_metrics", True)

    c = s.section("cache", required=False)
    kind = c.str("policy", "custom", choices=("custom", "legacy"))
    cname = c.str("name", "slurm-factory-buildcache", pattern=re.compile(r"^[A-Za-z0-9_-]{1,128}$"),
                  what="a cache policy name (letters, digits, '-', '_')")
    min_ttl = c.int("min_ttl", 0, lo=0, hi=31536000)
    default_ttl = c.int("default_ttl", 86400, lo=0, hi=31536000)
    max_ttl = c.int("max_ttl", 31536000, lo=0, hi=31536000)
    if not (min_ttl <= default_ttl <= max_ttl):
        c.fail("default_ttl", f"min_ttl <= default_ttl <= max_ttl ({min_ttl} <= {default_ttl} <= {max_ttl} does not hold)", default_ttl)
    qs = c.str("query_strings", "all", choices=("all", "none"))
    gzip = c.bool("gzip", True)
    brotli = c.bool("brotli", True)
    if kind == "legacy" and brotli:
        c.fail("brotli", "false with policy = 'legacy' (legacy cache settings compress with gzip only)", brotli)
    c.done()
    cache = CachePolicy(kind=kind, name=cname, min_ttl=min_ttl, default_ttl=default_ttl, max_ttl=max_ttl,
                        query_strings=qs == "all", gzip=gzip, brotli=brotli)

    lg = s.section("logging", required=False)
    logging = CdnLogging(enabled=lg.bool("enabled", True),
                         prefix=lg.str("prefix", "cloudfront/", allow_empty=True),
                         include_cookies=lg.bool("include_cookies", False))
    lg.done()

    errs = []
    for e in s.tables("error_responses"):
        errs.append(ErrorResponse(
            error_code=e.int("error_code", required=True, lo=400, hi=599),
            response_code=e.int("response_code", 0, lo=0, hi=599),
            response_page_path=e.str("response_page_path", "", allow_empty=True),
            min_ttl=e.int("min_ttl", 10, lo=0, hi=31536000),
        ))
        e.done()
    s.done()
    return Cdn(aliases=aliases, origin_access=origin_access, comment=comment, price_class=price,
               viewer_protocol_policy=vpp, minimum_protocol_version=tls, ssl_support_method=ssl, http_version=http,
               ipv6=ipv6, compress=compress, allowed_methods=tuple(allowed), cached_methods=tuple(cached),
               geo_restriction=geo, grant_list_bucket=grant_list, default_root_object=root_obj,
               additional_metrics=metrics, cache=cache, logging=logging, error_responses=tuple(errs))


def _oidc(s: _Section) -> OidcProvider:
    url = s.str("url", "https://token.actions.githubusercontent.com",
                pattern=re.compile(r"^https://[a-z0-9.-]+(/[\w./-]*)?$"), what="an https:// URL")
    cids = s.strlist("client_ids", ["sts.amazonaws.com"], min_len=1, max_len=100)
    thumbs = s.strlist("thumbprints", [], max_len=5,
                       item=lambda p, v: None if THUMBPRINT_RE.match(v) else _bad(s.file, p, "a 40-hex-digit SHA-1 thumbprint", v))
    s.done()
    return OidcProvider(url=url.rstrip("/"), client_ids=cids, thumbprints=tuple(t.lower() for t in thumbs))


def _bad(file, path, expected, found):
    raise ConfigError(file, path, expected, found)


def _actions(s: _Section, key: str, default=None) -> tuple[str, ...]:
    return s.strlist(key, default, required=default is None, min_len=1,
                     item=lambda p, v: None if ACTION_RE.match(v) else _bad(s.file, p, "an IAM action like 's3:GetObject'", v))


def _role(s: _Section, oidc: OidcProvider) -> GithubRole:
    name = s.str("name", required=True, pattern=IAM_NAME_RE, what="an IAM role name (1-64 of letters, digits, +=,.@_-)")
    path = s.str("path", "/", pattern=IAM_PATH_RE, what="an IAM path starting and ending with '/'")
    desc = s.str("description", "", allow_empty=True)
    msd = s.int("max_session_duration", 3600, lo=3600, hi=43200)
    aud = s.str("audience", required=True)
    if aud not in oidc.client_ids:
        s.fail("audience", f"one of github_oidc.client_ids {list(oidc.client_ids)}", aud)

    def subject(p, v):
        m = SUBJECT_RE.match(v)
        if not m or "*" in m.group(1) or "*" in m.group(2) or "?" in m.group(1) + m.group(2):
            raise ConfigError(s.file, p, "a subject scoped to one repository, like 'repo:OWNER/REPO:*' "
                              "(without it any GitHub repository could assume the role)", v)

    subjects = s.strlist("subjects", required=True, min_len=1, item=subject,
                         what="a list of repository-scoped subjects")
    pname = s.str("policy_name", required=True, pattern=re.compile(r"^[\w+=,.@-]{1,128}$"), what="an inline policy name")
    actions = _actions(s, "actions")
    for i, a in enumerate(actions):
        if not a.lower().startswith("s3:"):
            raise ConfigError(s.file, f"{s._p('actions')}[{i}]", "an s3: action (the role only publishes to the bucket)", a)
    s.done()
    return GithubRole(name=name, path=path, description=desc, max_session_duration=msd, audience=aud,
                      subjects=subjects, policy_name=pname, actions=actions)


def _user(s: _Section) -> AdminUser:
    name = s.str("name", required=True, pattern=IAM_NAME_RE, what="an IAM user name (1-64 of letters, digits, +=,.@_-)")
    path = s.str("path", "/", pattern=IAM_PATH_RE, what="an IAM path starting and ending with '/'")
    pname = s.str("policy_name", required=True, pattern=re.compile(r"^[\w+=,.@-]{1,128}$"), what="an inline policy name")
    actions = _actions(s, "actions", ["s3:*"])
    for i, a in enumerate(actions):
        if not a.lower().startswith("s3:"):
            raise ConfigError(s.file, f"{s._p('actions')}[{i}]", "an s3: action (the user's access is the bucket only)", a)
    s.done()
    return AdminUser(name=name, path=path, policy_name=pname, actions=actions)


def _alarms(s: _Section) -> Alarms:
    topic = s.str("topic", required=True, pattern=TOPIC_RE, what="an SNS topic name (letters, digits, '-', '_')")
    emails = s.strlist("email_subscriptions", [],
                       item=lambda p, v: None if EMAIL_RE.match(v) else _bad(s.file, p, "an email address", v))
    alarms = []
    names = set()
    for a in s.tables("alarm"):
        name = a.str("name", required=True, pattern=ALARM_NAME_RE, what="an alarm name (1-255 printable characters)")
        if name in names:
            a.fail("name", "a unique alarm name", name)
        names.add(name)
        ev = a.int("evaluation_periods", required=True, lo=1, hi=1440)
        period = a.int("period", required=True, lo=10)
        if period not in (10, 20, 30) and period % 60 != 0:
            a.fail("period", "10, 20, 30 or a multiple of 60 seconds", period)
        if period * ev > 7 * 86400:
            a.fail("evaluation_periods", "period * evaluation_periods <= 604800 (7 days)", ev)
        dta = a.int("datapoints_to_alarm", lo=1, hi=ev, optional=True)
        alarms.append(Alarm(
            name=name,
            description=a.str("description", "", allow_empty=True),
            namespace=a.str("namespace", "AWS/CloudFront", choices=("AWS/CloudFront",)),
            metric=a.str("metric", required=True, pattern=re.compile(r"^[A-Za-z0-9_.-]{1,255}$"), what="a metric name"),
            statistic=a.str("statistic", "Average", choices=STATISTICS),
            period=period,
            evaluation_periods=ev,
            datapoints_to_alarm=dta,
            threshold=a.num("threshold", required=True),
            comparison=a.str("comparison", required=True, choices=COMPARISONS),
            treat_missing_data=a.str("treat_missing_data", "notBreaching", choices=MISSING_DATA),
            notify=a.bool("notify", True),
        ))
        a.done()
    s.done()
    return Alarms(topic=topic, email_subscriptions=emails, alarms=tuple(alarms))


DEFAULT_OUTPUTS = (
    ("BucketName", "s3_bucket.buildcache.name"),
    ("BucketArn", "s3_bucket.buildcache.arn"),
    ("DistributionId", "cloudfront_distribution.cdn.id"),
    ("DistributionDomainName", "cloudfront_distribution.cdn.domain_name"),
    ("PublicUrl", "cloudfront_distribution.cdn.public_url"),
    ("GitHubActionsRoleArn", "iam_role.github_actions.arn"),
)


def _outputs(s: _Section) -> tuple[tuple[str, str], ...]:
    if not s.data:
        return DEFAULT_OUTPUTS
    out = []
    for k, v in s.data.items():
        s.used.add(k)
        if not OUTPUT_NAME_RE.match(k):
            raise ConfigError(s.file, f"outputs.{k}", "an output name (letters and digits, starting with a letter)", k)
        if not isinstance(v, str) or "." not in v:
            raise ConfigError(s.file, f"outputs.{k}", "a reference 'resource_type.name.attribute'", v)
        addr, _, attr = v.rpartition(".")
        if addr not in KNOWN_OUTPUT_KEYS or attr not in KNOWN_OUTPUT_KEYS[addr]:
            choices = ", ".join(f"{a}.{x}" for a, xs in KNOWN_OUTPUT_KEYS.items() for x in xs)
            raise ConfigError(s.file, f"outputs.{k}", f"one of {choices}", v)
        out.append((k, v))
    return tuple(out)


IGNORE_RE = re.compile(r"^[a-z0-9_*?\[\]]+\.[^\s:]+(:[^\s]+)?$")


def _drift(s: _Section) -> tuple[str, ...]:
    """[drift] ignore: known, accepted differences (like driftctl's .driftignore), shown in reports."""
    patterns = s.strlist("ignore", [], item=lambda p, v: None if IGNORE_RE.match(v) else _bad(
        s.file, p, "a pattern 'resource_type.name' or 'resource_type.name:field.path' (* and ? allowed)", v))
    s.done()
    return patterns
