"""IAM as AWS has it: OIDC provider client IDs, eventual consistency after creates and deletes.

moto 5.2.1 has no Add/RemoveClientID API, and answers every read at once. AWS behaviour reproduced
(IAM API reference; IAM User Guide, "Troubleshooting general issues", "Changes that I make are not
always immediately visible": https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency):

- https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html:
  adding a client ID that is already registered is a no-op; an unknown provider is
  ``NoSuchEntity``; a client ID is 1-255 characters (``InvalidInput``); at most 100 client IDs per
  provider (``LimitExceeded``).
- https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveClientIDFromOpenIDConnectProvider.html:
  removing a client ID that is not registered is a no-op.
- API_DeleteOpenIDConnectProvider.html: an unknown provider is ``NoSuchEntity`` (moto accepts it).
- Eventual consistency, each window 0 s (off) unless set, so the suite's direct boto3 checks see
  what they just made; the tests that state the behaviour set them:

  - ``PROVISION_SANDBOX_IAM_VISIBLE_SECONDS``: for this long after CreateRole / CreateUser /
    CreateOpenIDConnectProvider / the Put{Role,User}Policy that created an inline policy, the
    matching Get* answers ``NoSuchEntity`` and ListOpenIDConnectProviders leaves the provider out
    (Terraform reads a new role/provider with ``RetryWhenNewResourceNotFound``).
  - ``PROVISION_SANDBOX_IAM_ARN_SECONDS``: after that, GetRole answers the role's unique id
    (``AROA...``) as its ``Arn`` for this long (Terraform's ``role.go``: "occasionally, immediately
    after a role is created, AWS will give an ARN like AROAQ7SSZBKHREXAMPLE (unique ID)").
  - ``PROVISION_SANDBOX_IAM_DELETE_CONFLICT_SECONDS``: DeleteRole / DeleteUser answer
    ``DeleteConflict`` for this long after an inline policy of theirs was deleted (Terraform's
    ``deleteRole`` retries ``DeleteConflictException`` for its 2-minute propagation timeout).
- A user's permissions boundary (moto 5.2.1: HTTP 500, "not implemented"):
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPermissionsBoundary.html sets it
  (an unknown user is ``NoSuchEntity``, a value that is not a policy ARN ``InvalidInput``),
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUserPermissionsBoundary.html removes
  it, and ``GetUser`` returns it as ``PermissionsBoundary`` {PermissionsBoundaryType,
  PermissionsBoundaryArn} (https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html).
- AWS managed policies exist in every account ("AWS managed policies", IAM User Guide:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html), so
  ``AttachRolePolicy``/``AttachUserPolicy`` of ``arn:aws:iam::aws:policy/AdministratorAccess`` works.
  moto 5.2.1 has none unless it loads all of them (~1,300, on every reset); the sandbox loads the few
  broad ones operators attach by hand (``AWS_MANAGED``), from moto's own copy of their documents.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.iam import models as iam_models
from moto.iam import responses as iam_responses
from moto.iam.exceptions import IAMException

_lock = threading.Lock()
_made: dict[tuple[str, ...], float] = {}  # ("role", name) / ("user", name) / ("oidc", arn) / (..._policy, owner, name)
_policy_gone: dict[tuple[str, str], float] = {}  # ("role"|"user", name) -> when an inline policy of it was deleted


def _seconds(name: str) -> float:
    try:
        return max(0.0, float(os.environ.get(name, "0")))
    except ValueError:
        return 0.0


def _note(*key: str) -> None:
    with _lock:
        _made[key] = time.monotonic()


def _age(*key: str) -> float | None:
    with _lock:
        t = _made.get(key)
    return None if t is None else time.monotonic() - t


def _hidden(*key: str) -> bool:
    age = _age(*key)
    return age is not None and age < _seconds("PROVISION_SANDBOX_IAM_VISIBLE_SECONDS")


class _UniqueIdArn:
    """A role as GetRole shows it moments after CreateRole: its Arn is the role's unique id."""

    def __init__(self, role: Any) -> None:
        self._role = role

    @property
    def arn(self) -> str:
        return str(self._role.id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._role, name)


def _apply_consistency() -> None:
    """Creates not visible at once, a unique-id Arn, DeleteConflict after policy deletes."""
    R = iam_responses.IamResponse
    orig = {n: getattr(R, n) for n in (
        "create_role", "get_role", "create_user", "get_user", "put_role_policy", "get_role_policy",
        "put_user_policy", "get_user_policy", "delete_role_policy", "delete_user_policy", "delete_role",
        "delete_user", "create_open_id_connect_provider", "get_open_id_connect_provider",
        "list_open_id_connect_providers", "delete_open_id_connect_provider")}

    def not_found(what: str) -> IAMException:
        return IAMException("NoSuchEntity", f"The {what} cannot be found.")

    def create_role(self: Any) -> Any:
        out = orig["create_role"](self)
        _note("role", self._get_param("RoleName"))
        return out

    def get_role(self: Any) -> Any:
        name = self._get_param("RoleName")
        if _hidden("role", name):
            raise not_found(f"role with name {name}")
        out = orig["get_role"](self)
        age = _age("role", name)
        window = _seconds("PROVISION_SANDBOX_IAM_VISIBLE_SECONDS") + _seconds("PROVISION_SANDBOX_IAM_ARN_SECONDS")
        if age is not None and age < window:
            return ActionResult({"Role": _UniqueIdArn(out.result["Role"])})
        return out

    def create_user(self: Any) -> Any:
        out = orig["create_user"](self)
        _note("user", self._get_param("UserName"))
        return out

    def get_user(self: Any) -> Any:
        name = self._get_param("UserName")
        if name and _hidden("user", name):
            raise not_found(f"user with name {name}")
        return orig["get_user"](self)

    def put_policy(kind: str) -> Any:
        def put(self: Any) -> Any:
            owner, pname = self._get_param(f"{kind.capitalize()}Name"), self._get_param("PolicyName")
            getter = self.backend.get_role_policy if kind == "role" else self.backend.get_user_policy
            try:
                getter(owner, pname)
                new = False
            except IAMException:
                new = True
            out = orig[f"put_{kind}_policy"](self)
            if new:
                _note(f"{kind}_policy", owner, pname)
            return out
        return put

    def get_policy(kind: str) -> Any:
        def get(self: Any) -> Any:
            owner, pname = self._get_param(f"{kind.capitalize()}Name"), self._get_param("PolicyName")
            if _hidden(f"{kind}_policy", owner, pname):
                raise not_found(f"{kind} policy with name {pname}")
            return orig[f"get_{kind}_policy"](self)
        return get

    def delete_policy(kind: str) -> Any:
        def delete(self: Any) -> Any:
            out = orig[f"delete_{kind}_policy"](self)
            with _lock:
                _policy_gone[(kind, self._get_param(f"{kind.capitalize()}Name"))] = time.monotonic()
            return out
        return delete

    def delete_entity(kind: str) -> Any:
        def delete(self: Any) -> Any:
            name = self._get_param(f"{kind.capitalize()}Name")
            with _lock:
                t = _policy_gone.get((kind, name))
            if t is not None and time.monotonic() - t < _seconds("PROVISION_SANDBOX_IAM_DELETE_CONFLICT_SECONDS"):
                raise IAMException("DeleteConflict", "Cannot delete entity, must delete policies first.")
            return orig[f"delete_{kind}"](self)
        return delete

    def create_oidc(self: Any) -> Any:
        out = orig["create_open_id_connect_provider"](self)
        _note("oidc", out.result["OpenIDConnectProviderArn"])
        return out

    def get_oidc(self: Any) -> Any:
        arn = self._get_param("OpenIDConnectProviderArn")
        if _hidden("oidc", arn):
            raise IAMException("NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}")
        return orig["get_open_id_connect_provider"](self)

    def list_oidc(self: Any) -> Any:
        out = orig["list_open_id_connect_providers"](self)
        items = [i for i in out.result["OpenIDConnectProviderList"] if not _hidden("oidc", i["Arn"])]
        return ActionResult({"OpenIDConnectProviderList": items})

    def delete_oidc(self: Any) -> Any:
        arn = self._get_param("OpenIDConnectProviderArn")
        if arn not in self.backend.open_id_providers:
            raise IAMException("NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}")
        return orig["delete_open_id_connect_provider"](self)

    R.create_role, R.get_role, R.create_user, R.get_user = create_role, get_role, create_user, get_user
    R.put_role_policy, R.put_user_policy = put_policy("role"), put_policy("user")
    R.get_role_policy, R.get_user_policy = get_policy("role"), get_policy("user")
    R.delete_role_policy, R.delete_user_policy = delete_policy("role"), delete_policy("user")
    R.delete_role, R.delete_user = delete_entity("role"), delete_entity("user")
    R.create_open_id_connect_provider, R.get_open_id_connect_provider = create_oidc, get_oidc
    R.list_open_id_connect_providers, R.delete_open_id_connect_provider = list_oidc, delete_oidc


def apply() -> None:
    """Add/RemoveClientIDTo/FromOpenIDConnectProvider (backend and responses); eventual consistency."""
    _apply_consistency()
    Backend = iam_models.IAMBackend
    Response = iam_responses.IamResponse

    # AWS: adding a client ID that is already registered is a no-op; removing one that is not
    # registered is a no-op; an unknown provider is NoSuchEntity; at most 100 client IDs.
    def add_client_id(self: Any, arn: str, client_id: str) -> None:
        provider = self.get_open_id_connect_provider(arn)
        if client_id in provider.client_id_list:
            return
        if len(client_id) > 255 or not client_id:
            raise IAMException("InvalidInput", "ClientID must be between 1 and 255 characters.")
        if len(provider.client_id_list) >= 100:
            raise IAMException("LimitExceeded", "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
        provider.client_id_list.append(client_id)

    def remove_client_id(self: Any, arn: str, client_id: str) -> None:
        provider = self.get_open_id_connect_provider(arn)
        if client_id in provider.client_id_list:
            provider.client_id_list.remove(client_id)

    Backend.add_client_id_to_open_id_connect_provider = add_client_id
    Backend.remove_client_id_from_open_id_connect_provider = remove_client_id

    def resp_add(self: Any) -> Any:
        self.backend.add_client_id_to_open_id_connect_provider(
            self._get_param("OpenIDConnectProviderArn"), self._get_param("ClientID")
        )
        return EmptyResult()

    def resp_remove(self: Any) -> Any:
        self.backend.remove_client_id_from_open_id_connect_provider(
            self._get_param("OpenIDConnectProviderArn"), self._get_param("ClientID")
        )
        return EmptyResult()

    Response.add_client_id_to_open_id_connect_provider = resp_add
    Response.remove_client_id_from_open_id_connect_provider = resp_remove


#: AWS managed policies the sandbox account has (every real account has them all)
AWS_MANAGED = ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess", "AmazonS3FullAccess")


@functools.lru_cache(maxsize=1)
def _managed_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    return {name: data[name] for name in AWS_MANAGED if name in data}


def apply_user_boundary_and_managed_policies() -> None:
    """Put/DeleteUserPermissionsBoundary, GetUser's PermissionsBoundary, a few AWS managed policies."""
    Backend = iam_models.IAMBackend
    Response = iam_responses.IamResponse
    orig_init_aws = Backend._init_aws_policies

    def init_aws_policies(self: Any) -> list[Any]:
        loaded = orig_init_aws(self)
        if loaded:  # moto was told to load them all
            return loaded
        return [iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, d)
                for name, d in _managed_data().items()]

    def boundary(self: Any) -> dict[str, str] | None:
        arn = getattr(self, "permissions_boundary_arn", None)
        return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn} if arn else None

    def put_user_boundary(self: Any, user_name: str, arn: str) -> None:
        user = self.get_user(user_name)  # NoSuchEntity
        if not arn or not self.policy_arn_regex.match(arn):
            raise IAMException("InvalidInput", f"ARN {arn} is not valid.")
        user.permissions_boundary_arn = arn

    def delete_user_boundary(self: Any, user_name: str) -> None:
        self.get_user(user_name).permissions_boundary_arn = None

    def resp_put(self: Any) -> Any:
        self.backend.put_user_permissions_boundary(self._get_param("UserName"), self._get_param("PermissionsBoundary"))
        return EmptyResult()

    def resp_delete(self: Any) -> Any:
        self.backend.delete_user_permissions_boundary(self._get_param("UserName"))
        return EmptyResult()

    Backend._init_aws_policies = init_aws_policies
    iam_models.User.permissions_boundary = property(boundary)
    Backend.put_user_permissions_boundary = put_user_boundary
    Backend.delete_user_permissions_boundary = delete_user_boundary
    Response.put_user_permissions_boundary = resp_put
    Response.delete_user_permissions_boundary = resp_delete
    Response.RESPONSE_KEY_PATH_TO_TRANSFORMER = {
        **Response.RESPONSE_KEY_PATH_TO_TRANSFORMER,
        "GetUserResponse.User.PermissionsBoundary": iam_responses.return_if_not_empty,
    }
