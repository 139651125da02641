"""The [github_oidc], [github_role] and [admin_user] sections: the OIDC provider, CI role and admin user."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError, Described
from . import s3_actions
from .base import Section, bad

IAM_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
IAM_PATH_RE = re.compile(r"^/([\x21-\x7e]{0,510}/)?$")
ACTION_RE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")
THUMBPRINT_RE = re.compile(r"^[0-9a-fA-F]{40}$")
SUBJECT_RE = re.compile(r"^repo:([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+):(.+)$")
_POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class OidcProvider:
    url: str  # https://token.actions.githubusercontent.com
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]
    enterprise_issuer: bool = False  # a GitHub Enterprise issuer, declared on purpose

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
    owners: tuple[str, ...] = ()  # repository owners the subjects may name (declared when more than one)


@dataclass(frozen=True)
class AdminUser:
    name: str
    path: str
    policy_name: str
    actions: tuple[str, ...]


def parse_oidc(s: Section) -> OidcProvider:
    url = s.str("url", GITHUB_ISSUER, pattern=re.compile(r"^https://[a-z0-9.-]+(/[\w./-]*)?$"), what="an https:// URL")
    enterprise = s.bool("enterprise_issuer", False)
    if url.rstrip("/") != GITHUB_ISSUER and not enterprise:
        # Any other issuer mints tokens this role would accept: an attacker's issuer, a typo-squat.
        s.fail("url", f"GitHub's issuer {GITHUB_ISSUER!r} (a GitHub Enterprise issuer only with "
               "github_oidc.enterprise_issuer = true)", url)
    cids = s.strlist("client_ids", ["sts.amazonaws.com"], min_len=1, max_len=100)
    thumbs = s.strlist("thumbprints", [], max_len=5,
                       item=lambda p, v: None if THUMBPRINT_RE.match(v)
                       else bad(s.file, p, "a 40-hex-digit SHA-1 thumbprint", v))
    s.done()
    return OidcProvider(url=url.rstrip("/"), client_ids=cids, thumbprints=tuple(t.lower() for t in thumbs),
                        enterprise_issuer=enterprise)


def _actions(s: Section, key: str, default: list[str] | None = None) -> tuple[str, ...]:
    return s.strlist(key, default, required=default is None, min_len=1,
                     item=lambda p, v: None if ACTION_RE.match(v)
                     else bad(s.file, p, "an IAM action like 's3:GetObject'", v))


def parse_role(s: Section, oidc: OidcProvider) -> GithubRole:
    name = s.str("name", required=True, pattern=IAM_NAME_RE, what="an IAM role name (1-64 of letters, digits, +=,.@_-)")
    path = s.str("path", "/", pattern=IAM_PATH_RE, what="an IAM path starting and ending with '/'")
    desc = s.str("description", "", allow_empty=True)
    if len(desc) > 1000:  # IAM CreateRole/UpdateRole: Description is at most 1000 characters
        s.fail("description", "at most 1000 characters (IAM's limit for a role description)",
               Described(f"{len(desc)} characters"))
    msd = s.int("max_session_duration", 3600, lo=3600, hi=43200)
    aud = s.str("audience", required=True)
    if aud not in oidc.client_ids:
        s.fail("audience", f"one of github_oidc.client_ids {list(oidc.client_ids)}", aud)

    def subject(p: str, v: str) -> None:
        m = SUBJECT_RE.match(v)
        if not m or "*" in m.group(1) or "*" in m.group(2) or "?" in m.group(1) + m.group(2):
            raise ConfigError(s.file, p, "a subject scoped to one repository, like 'repo:OWNER/REPO:*' "
                              "(without it any GitHub repository could assume the role)", v)

    subjects = s.strlist("subjects", required=True, min_len=1, item=subject,
                         what="a list of repository-scoped subjects")
    owners = s.strlist("owners", [], item=lambda p, v: None if re.match(r"^[A-Za-z0-9_.-]+$", v)
                       else bad(s.file, p, "a GitHub user or organisation name", v))
    first = SUBJECT_RE.match(subjects[0]) if subjects else None  # (none: a stand-in while collecting errors)
    allowed = {o.lower() for o in owners} or ({first.group(1).lower()} if first else set())
    for i, sub in enumerate(subjects):
        m = SUBJECT_RE.match(sub)
        if m and m.group(1).lower() not in allowed:
            raise ConfigError(s.file, f"{s._p('subjects')}[{i}]",
                              f"a subject of the repository owner(s) {sorted(allowed)} (subjects for more than one owner "
                              "need github_role.owners listing each on purpose)", sub)
    pname = s.str("policy_name", required=True, pattern=_POLICY_NAME_RE, what="an inline policy name")
    actions = _actions(s, "actions")
    for i, a in enumerate(actions):
        if not a.lower().startswith("s3:"):
            raise ConfigError(s.file, f"{s._p('actions')}[{i}]",
                              "an s3: action (the role only publishes to the bucket)", a)
    s3_actions.check(s.file, s._p("actions"), actions, ci_role=True)
    s.done()
    return GithubRole(name=name, path=path, description=desc, max_session_duration=msd, audience=aud,
                      subjects=subjects, policy_name=pname, actions=actions, owners=owners)


def parse_user(s: Section) -> AdminUser:
    name = s.str("name", required=True, pattern=IAM_NAME_RE, what="an IAM user name (1-64 of letters, digits, +=,.@_-)")
    path = s.str("path", "/", pattern=IAM_PATH_RE, what="an IAM path starting and ending with '/'")
    pname = s.str("policy_name", required=True, pattern=_POLICY_NAME_RE, what="an inline policy name")
    actions = _actions(s, "actions", ["s3:*"])
    for i, a in enumerate(actions):
        if not a.lower().startswith("s3:"):
            raise ConfigError(s.file, f"{s._p('actions')}[{i}]",
                              "an s3: action (the user's access is the bucket only)", a)
    s3_actions.check(s.file, s._p("actions"), actions, ci_role=False)
    s.done()
    return AdminUser(name=name, path=path, policy_name=pname, actions=actions)
