"""IAM OpenID Connect provider client IDs: moto 5.2.1 has no Add/RemoveClientID API.

AWS behaviour reproduced (IAM API reference):

- https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html:
  adding a client ID that is already registered is a no-op; an unknown provider is
  ``NoSuchEntity``; a client ID is 1-255 characters (``InvalidInput``); at most 100 client IDs per
  provider (``LimitExceeded``).
- https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveClientIDFromOpenIDConnectProvider.html:
  removing a client ID that is not registered is a no-op.
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
from typing import Any

from moto.core.responses import EmptyResult
from moto.iam import models as iam_models
from moto.iam import responses as iam_responses
from moto.iam.exceptions import IAMException


def apply() -> None:
    """Add/RemoveClientIDTo/FromOpenIDConnectProvider (backend and responses)."""
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
