"""The loader: reads the TOML, runs each section's parser, checks across sections, assembles DesiredState."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, Described
from .adopt import parse_adopt
from .alarms import ADDITIONAL_METRICS, Alarms, parse_alarms
from .base import Section
from .cdn import Cdn, parse_cdn
from .dns import Certificate, Dns, parse_certificate, parse_dns
from .drift import parse_drift
from .iam import AdminUser, GithubRole, OidcProvider, parse_oidc, parse_role, parse_user
from .outputs import parse_outputs
from .s3 import Bucket, parse_s3
from .stack import Stack, parse_stack


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
    adopt: tuple[str, ...] = ()  # [adopt] resources: address globs of foreign resources to take over
    raw: dict[str, Any] = field(compare=False, repr=False, default_factory=dict)

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
    root = Section(file, "", data)
    stack = parse_stack(root)
    buildcache, logs = parse_s3(root)
    dns = parse_dns(root.section("dns"))
    cert = parse_certificate(root.section("certificate"), dns, file)
    cdn = parse_cdn(root.section("cdn"), dns, cert, file)
    oidc = parse_oidc(root.section("github_oidc"))
    role = parse_role(root.section("github_role"), oidc)
    user = parse_user(root.section("admin_user"))
    alarms = parse_alarms(root.section("alarms"))
    outputs = parse_outputs(root.section("outputs", required=False))
    drift_ignore = parse_drift(root.section("drift", required=False))
    adopt = parse_adopt(root.section("adopt", required=False))
    root.used.update({"adopt", "drift", "s3", "dns", "certificate", "cdn", "github_oidc", "github_role", "admin_user",
                      "alarms", "outputs"})
    root.done()
    if not cdn.additional_metrics:  # an alarm on a metric CloudFront does not publish watches nothing
        for i, a in enumerate(alarms.alarms):
            if a.metric in ADDITIONAL_METRICS:
                raise ConfigError(file, f"alarms.alarm[{i}].metric",
                                  f"a standard CloudFront metric, or cdn.additional_metrics = true ({a.metric} is "
                                  "an additional metric, published only with the monitoring subscription)", a.metric)
    # CloudFront's limit on an origin access identity's Comment (128): provision writes
    # "<bucket> (provision:<stack>)" there, its ownership marker (reconcilers/cloudfront).
    oai_comment = len(buildcache.name) + len(stack.name) + len(" (provision:)")
    if cdn.origin_access == "oai" and oai_comment > 128:
        raise ConfigError(file, "stack.name", "a stack name short enough for the OAI comment "
                          "'<s3.buildcache.name> (provision:<stack.name>)' to fit CloudFront's 128 characters "
                          f"(at most {128 - len(buildcache.name) - len(' (provision:)')} with this bucket name)",
                          stack.name)
    names = {buildcache.name, logs.name}
    if len(names) != 2:
        raise ConfigError(file, "s3.logs.name", "a bucket name different from s3.buildcache.name", logs.name)
    return DesiredState(
        source=file, stack=stack, buildcache=buildcache, logs=logs, certificate=cert, dns=dns, cdn=cdn,
        github_oidc=oidc, github_role=role, admin_user=user, alarms=alarms, outputs=outputs,
        drift_ignore=drift_ignore, adopt=adopt, raw=data,
    )
