"""Risk findings: what the desired state may legally say but a reviewer should see, with an id and a fix.

``validate`` and ``plan`` print them (``--strict``: exit 1 while any is not accepted). A finding is
accepted on purpose in the desired state, with the reason, and is still listed::

    [risks]
    accept = [{id = "GHA-OIDC-ANY-REF", reason = "..."}]

An acceptance of an id the desired state does not raise (any more) is harmless and listed by
``validate`` as such, so switching to the hardened form never breaks a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Section

#: id -> (severity, why (the control), fix)
CATALOGUE: dict[str, tuple[str, str, str]] = {
    "GHA-OIDC-ANY-REF": ("high", "the role can write the buildcache, and this sub admits a token of any branch, tag, "
                         "environment or event of the repository (GitHub, 'Security hardening with OpenID Connect': "
                         "scope sub to an environment or ref)",
                         "a subject such as 'repo:OWNER/REPO:environment:release' (a protected environment) or "
                         "'repo:OWNER/REPO:ref:refs/heads/main'"),
    "GHA-OIDC-PULL-REQUEST": ("high", "pull_request tokens run code from a pull request's author (GitHub OIDC "
                              "hardening guide: never trust pull_request subjects with write access)",
                              "remove the subject; publish from a protected environment or branch"),
    "S3-TLS-OFF": ("medium", "the bucket accepts plain HTTP requests (AWS Security Hub S3.5: S3 buckets should require "
                   "requests to use SSL; CIS AWS Foundations 2.1.1)", "require_tls = true"),
    "S3-VERSIONING-OFF": ("high", "an overwrite or delete of the buildcache cannot be undone (AWS Security Hub S3.14: "
                          "S3 buckets should have versioning enabled)", "s3.buildcache.versioning = true"),
    "S3-SHORT-RETENTION": ("medium", "old versions expire in under 7 days: a bad publish noticed after a weekend is "
                           "gone (Security Hub S3.14 intent: recoverable objects)",
                           "s3.buildcache.lifecycle.noncurrent_days >= 7 (the seed: 90)"),
    "CF-LOGGING-OFF": ("medium", "no record of who fetched or probed the cache (AWS Security Hub CloudFront.5: "
                       "CloudFront distributions should have logging enabled)", "cdn.logging.enabled = true"),
    "CF-WRITE-METHODS": ("medium", "PUT/POST/PATCH/DELETE reach the origin through the CDN (a read-only cache "
                         "needs GET, HEAD, OPTIONS; CIS: least functionality)", 'cdn.allowed_methods = ["GET", "HEAD", '
                         '"OPTIONS"]'),
    "CF-OLD-TLS": ("medium", "TLSv1.2_2018 allows older ciphers (AWS Security Hub CloudFront.15: use the recommended "
                   "TLS security policy)", 'cdn.minimum_protocol_version = "TLSv1.2_2021"'),
    "CF-OAI": ("low", "origin access identity is legacy (AWS Security Hub CloudFront.13: CloudFront distributions should "
               "use origin access control)", 'cdn.origin_access = "oac"'),
    "IAM-LONG-SESSION": ("low", "a leaked CI session stays valid for more than 4 hours (IAM best practice: the shortest "
                         "session that works; GitHub OIDC hardening guide)", "github_role.max_session_duration <= 14400"),
    "IAM-USER-S3-WILDCARD": ("medium", "the user may change the bucket's policy, versioning, lifecycle and delete it "
                             "(AWS Security Hub IAM.21: policies should not allow wildcard actions for services)",
                             "list the actions the user needs"),
    "SNS-OPEN-PUBLISH": ("medium", "anyone the default topic policy allows can publish false alarms (AWS Security Hub "
                         "SNS; the SNS guide: limit publishers with aws:SourceAccount)",
                         "alarms.restrict_publishers = true"),
}


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    path: str
    why: str
    fix: str
    accepted: str | None = None  # the reason, when accepted

    def line(self) -> str:
        state = f"accepted: {self.accepted}" if self.accepted is not None else "NOT accepted"
        return f"  [{self.severity}] {self.id} at {self.path}: {self.why}. Fix: {self.fix}. ({state})"

    def to_json(self) -> dict:
        return {"id": self.id, "severity": self.severity, "path": self.path, "why": self.why, "fix": self.fix,
                "accepted": self.accepted is not None, "reason": self.accepted}


def parse_risks(s: Section) -> tuple[tuple[str, str], ...]:
    out = []
    for t in s.tables("accept"):
        rid = t.str("id", required=True, choices=tuple(CATALOGUE))
        reason = t.str("reason", required=True)
        if len(reason.strip()) < 10:
            t.fail("reason", "a reason a reviewer can read (at least 10 characters)", reason)
        t.done()
        out.append((rid, reason))
    s.done()
    return tuple(out)


def _raw(desired: Any) -> list[tuple[str, str]]:
    d = desired
    out: list[tuple[str, str]] = []
    role = d.github_role
    writes = any(a.lower().split(":", 1)[1].startswith(("put", "delete", "*")) for a in role.actions)
    for i, sub in enumerate(role.subjects):
        rest = sub.split(":", 2)[2] if sub.count(":") >= 2 else ""
        if writes and ("*" in rest or "?" in rest):
            out.append(("GHA-OIDC-ANY-REF", f"github_role.subjects[{i}]"))
        if rest == "pull_request" or rest.startswith("pull_request"):
            out.append(("GHA-OIDC-PULL-REQUEST", f"github_role.subjects[{i}]"))
    for b in (d.buildcache, d.logs):
        if b is not None and not b.require_tls:  # (no [s3.logs]: the live CDK stack has none)
            out.append(("S3-TLS-OFF", f"s3.{b.key}.require_tls"))
    if not d.buildcache.versioning:
        out.append(("S3-VERSIONING-OFF", "s3.buildcache.versioning"))
    nc = d.buildcache.lifecycle.noncurrent_days
    if nc is not None and nc < 7:
        out.append(("S3-SHORT-RETENTION", "s3.buildcache.lifecycle.noncurrent_days"))
    if not d.cdn.logging.enabled:
        out.append(("CF-LOGGING-OFF", "cdn.logging.enabled"))
    if set(d.cdn.allowed_methods) & {"PUT", "POST", "PATCH", "DELETE"}:
        out.append(("CF-WRITE-METHODS", "cdn.allowed_methods"))
    if d.cdn.minimum_protocol_version <= "TLSv1.2_2018":
        out.append(("CF-OLD-TLS", "cdn.minimum_protocol_version"))
    if d.cdn.origin_access == "oai":
        out.append(("CF-OAI", "cdn.origin_access"))
    if role.max_session_duration > 14400:
        out.append(("IAM-LONG-SESSION", "github_role.max_session_duration"))
    for i, a in enumerate(d.admin_user.actions if d.admin_user is not None else ()):
        if "*" in a or "?" in a:
            out.append(("IAM-USER-S3-WILDCARD", f"admin_user.actions[{i}]"))
    if not getattr(d.alarms, "restrict_publishers", True):
        out.append(("SNS-OPEN-PUBLISH", "alarms.restrict_publishers"))
    return out


def findings(desired: Any) -> list[Finding]:
    """Every finding of the desired state, accepted ones with their reason."""
    accepted = dict(desired.risk_accepts)
    out = []
    for rid, path in _raw(desired):
        sev, why, fix = CATALOGUE[rid]
        out.append(Finding(rid, sev, path, why, fix, accepted.get(rid)))
    return out


def stale(desired: Any) -> list[str]:
    """Accepted ids the desired state no longer raises (listed, so the acceptance can be dropped)."""
    raised = {rid for rid, _path in _raw(desired)}
    return [rid for rid, _reason in desired.risk_accepts if rid not in raised]


def text(found: list[Finding]) -> str:
    if not found:
        return "Risk findings: none."
    open_ = sum(1 for f in found if f.accepted is None)
    lines = [f"Risk findings: {len(found)} ({open_} not accepted):"] + [f.line() for f in found]
    return "\n".join(lines)
