"""The S3 actions a role or user of the stack may be given: real names only, split by resource, CI role limited.

Every action must be an S3 action of the IAM catalogue (``s3_catalogue``; a typo such as
``s3:PutObjekt`` would validate and grant nothing): the error names the key path and the nearest
real action. Wildcards must match at least one real action. Actions on neither the bucket nor its
objects (account, access points, jobs...) are refused: the policies are on the bucket only.

The CI role (it publishes what users install) is refused wildcards, bucket administration (any
bucket-level action that is not a read or a list: ``PutBucketPolicy``, ``DeleteBucket``,
``PutBucketVersioning``, ``PutLifecycleConfiguration``, ``PutBucketPublicAccessBlock``,
``PutBucketAcl``...), object permission changes (``PutObjectAcl``) and permanent deletes
(``DeleteObjectVersion``, ``BypassGovernanceRetention``): with versioning on, a leaked CI token can
then overwrite or delete current objects, but every old version survives.
"""

from __future__ import annotations

import difflib
import fnmatch

from ..errors import ConfigError
from .s3_catalogue import S3_ACTIONS

_LOWER = {k.lower(): k for k in S3_ACTIONS}
PERMANENT_DELETE = frozenset({"DeleteObjectVersion", "BypassGovernanceRetention", "DeleteObjectVersionTagging"})


def expand(action: str) -> list[str]:
    """The catalogue names an action (``s3:Put*``, ``s3:getobject``) stands for."""
    name = action.split(":", 1)[1].lower()
    return sorted(v for k, v in _LOWER.items() if fnmatch.fnmatchcase(k, name))


def kinds(action: str) -> set[str]:
    """{"bucket"} / {"object"} / both: the resources an action (or wildcard) applies to."""
    out = set()
    for name in expand(action):
        out.add({"o": "object", "b": "bucket"}.get(S3_ACTIONS[name][0], "other"))
    return out or {"bucket", "object"}


def check(file: str, path: str, actions: tuple[str, ...], *, ci_role: bool) -> None:
    for i, a in enumerate(actions):
        p = f"{path}[{i}]"
        prefix, _, name = a.partition(":")
        if prefix.lower() != "s3":
            continue  # the caller says which services are allowed
        wild = "*" in name or "?" in name
        names = expand(a)
        if not names:
            near = difflib.get_close_matches(name, list(S3_ACTIONS), n=1, cutoff=0.5) or \
                difflib.get_close_matches(name.lower(), list(_LOWER), n=1, cutoff=0.5)
            hint = f" (did you mean 's3:{_LOWER.get(near[0], near[0])}'?)" if near else ""
            raise ConfigError(file, p, f"an S3 action of the IAM catalogue{hint}", a)
        if ci_role and wild:
            raise ConfigError(file, p, "an exact action (no wildcard for the CI role: it publishes what users "
                              "install; list the object actions it needs, e.g. s3:PutObject)", a)
        other = [n for n in names if S3_ACTIONS[n][0] == "x"]
        if other and not wild:
            raise ConfigError(file, p, "an action on the bucket or its objects (the policy covers only the bucket; "
                              f"s3:{other[0]} applies to another resource)", a)
        if not ci_role:
            continue
        n = names[0]
        kind, level = S3_ACTIONS[n][0], S3_ACTIONS[n][1]
        if n in PERMANENT_DELETE:
            raise ConfigError(file, p, "an action that cannot destroy history (permanent deletes are refused for "
                              "the CI role: with versioning on, old versions survive a leaked token)", a)
        if kind == "b" and level not in ("R", "L"):
            raise ConfigError(file, p, "an object action or a bucket read (bucket administration is refused for the "
                              "CI role: s3:" + n + " changes the bucket itself)", a)
        if kind == "o" and level == "P":
            raise ConfigError(file, p, "an action that does not change permissions (s3:" + n + " is refused for the "
                              "CI role)", a)
