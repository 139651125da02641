"""IAM: the GitHub Actions OIDC identity provider, the deploy role, and the admin user.

Resources (addresses and outputs are part of the shared interface), one module each
(``oidc_provider``, ``role``, ``user``) beside ``_common`` (addresses, tags, policy documents):

``iam_oidc_provider.github`` {arn}
    Found by URL (``list_open_id_connect_providers`` once, memoised, then ``get`` on the match;
    IAM returns the Url without ``https://``). Compared: client ids (sorted set), thumbprints
    (sorted lower-case set, only when the TOML declares some), tags (only our keys).
    The provider is account-wide and may be shared with other stacks or tools: an existing one
    is adopted and its client ids/thumbprints corrected in place, but an adopted provider that does
    not carry our ``provision:stack`` tag is *not* tagged as ours (tagging would make ``destroy``
    delete something we did not create). Destroy deletes it only when it carries our tag and no
    role other than ours trusts it.

``iam_role.github_actions`` {arn, name}
    Found by name. Compared: path, description, max session duration, trust policy, our named
    inline policy, tags (only our keys). The trust policy is built from the provider's ARN output
    (``sts:AssumeRoleWithWebIdentity``, ``aud`` StringEquals, ``sub`` StringLike the list of
    repository-scoped subjects); the inline policy from the bucket's ARN output (bucket + ``/*``).
    Policies are compared in canonical form (``provisioner.policy``) and differences are reported
    per statement/field. What nobody declared is drift (``undeclared``, issue 18): other inline
    policies, attached managed policies, a permissions boundary and other trust statements are
    UNEXPECTED, and apply removes them (one call each).

``iam_user.admin`` {arn, name}
    Found by name. Compared: path, our named inline policy (full access to the bucket and its
    objects), tags (only our keys); other inline and attached policies, a permissions boundary and
    group memberships are UNEXPECTED. The tool never creates access keys, login profiles or any
    other credential, and never prints one (nor reads them for drift).

Reads make one call per thing (get_role, get_role_policy, get_user, get_user_policy, one list +
one get for the provider), plus one list per kind of undeclared thing, concurrent with those
(ListRolePolicies, ListAttachedRolePolicies, ListUserPolicies, ListAttachedUserPolicies,
ListGroupsForUser): eleven read calls for a no-op IAM plan. Client ids on the provider that the
TOML does not name are UNEXPECTED: removed on our provider, only reported on a shared one. Writes right after creating a
principal (a trust policy naming a provider just created; a policy on a role/user just created)
go through the bounded ``iam_propagation`` retry policy.
"""

from __future__ import annotations

from ...config import DesiredState
from ...model import Resource

# Re-exported: importable from here as when this package was one module (tests use _doc, _policy_changes).
from ._common import BUCKET, PROVIDER, ROLE, TRUST_SID, USER, _doc, _policy_changes, bucket_policy  # noqa: F401
from .oidc_provider import OidcProvider
from .role import GithubRole, trust_policy  # noqa: F401
from .user import AdminUser


def resources(desired: DesiredState) -> list[Resource]:
    out: list[Resource] = [OidcProvider(desired), GithubRole(desired)]
    if desired.admin_user is not None:  # optional: the live CDK stack has no IAM user
        out.append(AdminUser(desired))
    return out
