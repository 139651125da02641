"""The loader: reads the TOML, runs each section's parser, checks across sections, assembles DesiredState."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..errors import ConfigError, Described
from . import alarm_metrics
from .adopt import parse_adopt
from .alarms import ADDITIONAL_METRICS, Alarms, parse_alarms
from .audit import Audit, parse_audit
from .base import Section, active, collecting, report
from .cdn import Cdn, parse_cdn, policy_comments
from .cdn_policies import check_comments
from .dashboard import Dashboard, parse_dashboard
from .dns import Certificate, Dns, parse_certificate, parse_dns
from .drift import parse_drift
from .iam import AdminUser, GithubRole, OidcProvider, parse_oidc, parse_role, parse_user
from .outputs import check_references, parse_outputs
from .risks import parse_risks
from .s3 import Bucket, parse_s3
from .stack import Stack, parse_stack


@dataclass(frozen=True)
class DesiredState:
    source: str  # file path, for messages
    stack: Stack
    buildcache: Bucket
    logs: Bucket | None  # optional: a stack that keeps no access logs (the live CDK stack)
    certificate: Certificate
    dns: Dns
    cdn: Cdn
    github_oidc: OidcProvider
    github_role: GithubRole
    admin_user: AdminUser | None  # optional (the live CDK stack has no IAM user)
    alarms: Alarms | None  # optional (the live CDK stack has no alarms)
    outputs: tuple[tuple[str, str], ...]  # (OutputName, "resource.address.key")
    drift_ignore: tuple[str, ...] = ()  # "address" or "address:field" patterns (fnmatch) drift accepts
    risk_accepts: tuple[tuple[str, str], ...] = ()  # [risks] accept: (finding id, reason)
    adopt: tuple[str, ...] = ()  # [adopt] resources: address globs of foreign resources to take over
    raw: dict[str, Any] = field(compare=False, repr=False, default_factory=dict)
    dashboard: Dashboard | None = None  # [dashboard]
    audit: Audit | None = None  # [audit]

    @property
    def ownership_tags(self) -> dict[str, str]:
        return {"ManagedBy": "provision", "provision:stack": self.stack.name}

    @property
    def tags(self) -> dict[str, str]:
        """Every taggable resource gets these: the user's tags plus the ownership marks."""
        t = dict(self.stack.tags)
        t.update(self.ownership_tags)
        return t


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


def from_dict(data: dict[str, Any], file: str = "<dict>") -> DesiredState:
    """The validated desired state, or a ConfigError: the first error found (its message as ever),
    with every error of the file in ``.errors`` (what ``provision validate`` lists)."""
    desired = None
    with collecting() as found:
        try:
            desired = _from_dict(data, file)
        except ConfigError as e:  # the file is not a table at all
            found.add(e)
        except Exception:
            if not found.errors:
                raise
            # else a check tripped over a stand-in for a value already reported: the errors stand
    if found.errors or desired is None:
        first = found.errors[0]
        first.errors = list(found.errors)
        raise first
    return desired


T = TypeVar("T")


def _checked(parse: Callable[[Section], T], sec: Section) -> T:
    """``parse(sec)``. While collecting, a check that raises stops only at its own key: the error is
    kept and ``parse`` runs again on a copy without that key (a list item takes its list along), so
    the rest of the section is still checked; at the end (or when the key cannot be dropped) it runs
    on a silent, empty copy, whose stand-in values let the sections that depend on this one be checked."""
    found = active()
    if found is None:
        return parse(sec)
    data: dict[str, Any] | None = None
    for _attempt in range(50):
        try:
            return parse(sec)
        except ConfigError as e:
            found.add(e)
            data = copy.deepcopy(sec.data) if data is None else data
            rel = e.path if not sec.path else e.path[len(sec.path) + 1:] if e.path.startswith(sec.path + ".") else ""
            if not rel or not _drop(data, rel):
                break
            sec = Section(sec.file, sec.path, data, used=sec.used)
    return parse(Section(sec.file, sec.path, {}, silent=True, used=sec.used))


def _drop(node: Any, rel: str) -> bool:
    """Remove the key that ``rel`` (``a.b[2].c``, keys may hold dots) names below ``node``."""
    while isinstance(node, dict):
        if rel in node:
            del node[rel]
            return True
        for k in sorted(node, key=len, reverse=True):
            if rel.startswith(k + "."):
                node, rel = node[k], rel[len(k) + 1:]
                break
            if rel.startswith(k + "["):
                index, _, rest = rel[len(k) + 1:].partition("]")
                if not rest or not index.isdigit() or not isinstance(node[k], list) or int(index) >= len(node[k]):
                    del node[k]  # the item itself: its list goes (the others' indices keep their meaning)
                    return True
                node, rel = node[k][int(index)], rest.removeprefix(".")
                break
        else:
            return False
    return False


def _from_dict(data: dict[str, Any], file: str) -> DesiredState:
    root = Section(file, "", data)
    stack = _checked(parse_stack, root)
    buildcache, logs = _checked(parse_s3, root)
    dns = _checked(parse_dns, root.section("dns"))
    cert = _checked(lambda s: parse_certificate(s, dns, file), root.section("certificate"))
    cdn = _checked(lambda s: parse_cdn(s, dns, cert, file), root.section("cdn"))
    oidc = _checked(parse_oidc, root.section("github_oidc"))
    role = _checked(lambda s: parse_role(s, oidc), root.section("github_role"))
    user = _checked(parse_user, root.section("admin_user")) if "admin_user" in data else None
    alarms = _checked(parse_alarms, root.section("alarms")) if "alarms" in data else None
    outputs = _checked(parse_outputs, root.section("outputs", required=False))
    drift_ignore = _checked(parse_drift, root.section("drift", required=False))
    risk_accepts = _checked(parse_risks, root.section("risks", required=False))
    adopt = _checked(parse_adopt, root.section("adopt", required=False))
    if alarms is not None:
        buckets = {b.key: b for b in (buildcache, logs) if b is not None}
        alarms = alarm_metrics.resolve(alarms, stack.name, stack.region, buckets, file)
    alarm_names = tuple(a.name for a in alarms.alarms) if alarms else ()
    dashboard = _checked(lambda s: parse_dashboard(s, alarm_names, buildcache.request_metrics), root)
    audit = _checked(lambda s: parse_audit(s, logs is not None, cdn.logging.prefix if cdn.logging.enabled else None),
                     root)
    root.used.update({"adopt", "risks", "drift", "s3", "dns", "certificate", "cdn", "github_oidc", "github_role", "admin_user",
                      "alarms", "outputs"})
    root.done()
    if logs is None and cdn.logging.enabled:
        report(ConfigError(file, "cdn.logging.enabled", "false when there is no [s3.logs] bucket to log to", True))
    check_comments(file, stack.name, policy_comments(cdn))
    check_references(file, outputs, {"s3_bucket.logs": logs, "iam_user.admin": user, "sns_topic.alarms": alarms,
                                     "cloudwatch_dashboard.main": dashboard, "cloudtrail_trail.audit": audit})
    if not cdn.additional_metrics:  # an alarm on a metric CloudFront does not publish watches nothing
        for i, a in enumerate(alarms.alarms if alarms else ()):
            if a.namespace == "AWS/CloudFront" and a.metric in ADDITIONAL_METRICS:
                report(ConfigError(file, f"alarms.alarm[{i}].metric",
                                   f"a standard CloudFront metric, or cdn.additional_metrics = true ({a.metric} is "
                                   "an additional metric, published only with the monitoring subscription)", a.metric))
    # CloudFront's limit on an origin access identity's Comment (128): provision writes
    # "<bucket> (provision:<stack>)" there, its ownership marker (reconcilers/cloudfront).
    oai_comment = len(buildcache.name) + len(stack.name) + len(" (provision:)")
    if cdn.origin_access == "oai" and oai_comment > 128:
        report(ConfigError(file, "stack.name", "a stack name short enough for the OAI comment "
                           "'<s3.buildcache.name> (provision:<stack.name>)' to fit CloudFront's 128 characters "
                           f"(at most {128 - len(buildcache.name) - len(' (provision:)')} with this bucket name)",
                           stack.name))
    if logs is not None and logs.name == buildcache.name:
        report(ConfigError(file, "s3.logs.name", "a bucket name different from s3.buildcache.name", logs.name))
    desired = DesiredState(
        source=file, stack=stack, buildcache=buildcache, logs=logs, certificate=cert, dns=dns, cdn=cdn,
        github_oidc=oidc, github_role=role, admin_user=user, alarms=alarms, outputs=outputs,
        drift_ignore=drift_ignore, risk_accepts=risk_accepts, adopt=adopt, raw=data, dashboard=dashboard, audit=audit,
    )
    return desired
