"""desired_state.toml -> a validated, frozen DesiredState (the config package's front door; no AWS call here)."""

# Every error names the file, the key path (``s3.buildcache.lifecycle.noncurrent_days``), what was
# expected and what was found. Unknown keys are errors (a typo must never be silently ignored).
#
# Rooms: base (Section typed getters, shared name checks), loader (TOML, cross-section checks,
# DesiredState), one module per section: stack, s3 (+ bucket_extras: CORS, request metrics), dns (+ certificate),
# cdn (+ cdn_policies: response headers, origin request), iam, alarms (+ alarm_metrics: dimensions), dashboard,
# audit, outputs, drift.
# A new section is a new module with a parse_<section>(Section) function plus one line in loader.from_dict.

from __future__ import annotations

from ..errors import ConfigError
from .alarm_metrics import S3_REQUEST_METRICS, S3_STORAGE_METRICS
from .alarms import (
    ADDITIONAL_METRICS,
    ALARM_NAME_RE,
    COMPARISONS,
    EMAIL_RE,
    MISSING_DATA,
    STATISTICS,
    TOPIC_RE,
    Alarm,
    Alarms,
)
from .audit import Audit
from .base import DNS_LABEL_RE
from .bucket_extras import CORS_METHODS, CorsRule
from .cdn import (
    HTTP_VERSIONS,
    METHOD_SETS,
    PRICE_CLASSES,
    TLS_VERSIONS,
    VIEWER_POLICIES,
    CachePolicy,
    Cdn,
    CdnLogging,
    ErrorResponse,
)
from .cdn_policies import CorsHeaders, OriginRequestPolicy, ResponseHeadersPolicy, SecurityHeaders
from .dashboard import Dashboard
from .dns import KEY_ALGORITHMS, RECORD_TYPES, Certificate, Dns, Record
from .drift import IGNORE_RE
from .drift import matches as ignore_matches
from .iam import ACTION_RE, IAM_NAME_RE, IAM_PATH_RE, SUBJECT_RE, THUMBPRINT_RE, AdminUser, GithubRole, OidcProvider
from .loader import DesiredState, from_dict, load, loads
from .outputs import DEFAULT_OUTPUTS, KNOWN_OUTPUT_KEYS, OUTPUT_NAME_RE
from .s3 import BUCKET_RE, IP_RE, OWNERSHIP, Bucket, Lifecycle
from .stack import ACCOUNT_RE, REGION_RE, TAG_KEY_RE, Stack

__all__ = [
    # the typed desired state
    "DesiredState", "Stack", "Lifecycle", "Bucket", "Certificate", "Record", "Dns", "CachePolicy", "CdnLogging",
    "ErrorResponse", "Cdn", "OidcProvider", "GithubRole", "AdminUser", "Alarm", "Alarms",
    "CorsRule", "ResponseHeadersPolicy", "CorsHeaders", "SecurityHeaders", "OriginRequestPolicy", "Dashboard", "Audit",
    # loading
    "load", "loads", "from_dict", "ConfigError", "ignore_matches",
    # validation vocabulary
    "BUCKET_RE", "IP_RE", "DNS_LABEL_RE", "IAM_NAME_RE", "IAM_PATH_RE", "ACTION_RE", "THUMBPRINT_RE",
    "ALARM_NAME_RE", "TOPIC_RE", "EMAIL_RE", "ACCOUNT_RE", "TAG_KEY_RE", "SUBJECT_RE", "REGION_RE",
    "OUTPUT_NAME_RE", "IGNORE_RE", "ADDITIONAL_METRICS", "TLS_VERSIONS", "PRICE_CLASSES", "VIEWER_POLICIES",
    "HTTP_VERSIONS", "METHOD_SETS", "STATISTICS", "COMPARISONS", "MISSING_DATA", "OWNERSHIP", "RECORD_TYPES",
    "KEY_ALGORITHMS", "KNOWN_OUTPUT_KEYS", "DEFAULT_OUTPUTS", "CORS_METHODS", "S3_REQUEST_METRICS",
    "S3_STORAGE_METRICS",
]
