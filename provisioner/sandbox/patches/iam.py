"""IAM OpenID Connect provider client IDs: moto 5.2.1 has no Add/RemoveClientID API.

AWS behaviour reproduced (IAM API reference):

- https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html:
  adding a client ID that is already registered is a no-op; an unknown provider is
  ``NoSuchEntity``; a client ID is 1-255 characters (``InvalidInput``); at most 100 client IDs per
  provider (``LimitExceeded``).
- https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveClientIDFromOpenIDConnectProvider.html:
  removing a client ID that is not registered is a no-op.
"""

from __future__ import annotations

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
