"""The registry of per-service reconcilers.

Each service module exposes ``resources(desired) -> list[Resource]``. A service whose module is not
there yet leaves its sections of the desired state "not yet managed": plan lists them, never
silently ignores them.
"""

from __future__ import annotations

import importlib

from ..config import DesiredState
from ..model import Resource

# service module -> the desired-state sections it manages
SERVICES: dict[str, tuple[str, ...]] = {
    "s3": ("s3.buildcache", "s3.logs"),
    "s3_log_delivery": ("cdn.logging",),
    "iam": ("github_oidc", "github_role", "admin_user"),
    "acm": ("certificate",),
    "route53": ("dns",),
    "cloudfront": ("cdn",),
    "cloudwatch": ("alarms", "dashboard"),
    "cloudtrail": ("audit",),
}


def build(desired: DesiredState) -> tuple[list[Resource], list[str]]:
    resources: list[Resource] = []
    unmanaged: list[str] = []
    for service, sections in SERVICES.items():
        name = f"{__name__}.{service}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            unmanaged.extend(sections)
            continue
        resources.extend(module.resources(desired))
    return resources, unmanaged
