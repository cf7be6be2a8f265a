from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.hook_accepted import HookAccepted
from ...models.problem_details import ProblemDetails
from ...models.receive_hook_body import ReceiveHookBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    provider: str,
    *,
    body: ReceiveHookBody,
    integration: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["integration"] = integration

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/hooks/{provider}".format(
            provider=quote(str(provider), safe=""),
        ),
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HookAccepted | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = HookAccepted.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = HookAccepted.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ProblemDetails.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemDetails.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ProblemDetails.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = ProblemDetails.from_dict(response.json())

        return response_413

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[HookAccepted | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ReceiveHookBody,
    integration: str | Unset = UNSET,
) -> Response[HookAccepted | ProblemDetails]:
    """Receive a git host's webhook: `bitbucket` (Cloud `repo:push`, Data Center
    `repo:refs_changed` and `diagnostics:ping`), `github` (`push`, `ping`) or `gitlab`
    (`Push Hook`, `Tag Push Hook`). The signature (HMAC-SHA256 over the raw body, or GitLab's
    token) is checked with the integration's secret. Each ref change becomes a push; a
    redelivery of the same delivery id answers the first result and records nothing; other
    event types are answered 202 and recorded as ignored.

    Args:
        provider (str):
        integration (str | Unset):
        body (ReceiveHookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HookAccepted | ProblemDetails]
    """

    kwargs = _get_kwargs(
        provider=provider,
        body=body,
        integration=integration,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ReceiveHookBody,
    integration: str | Unset = UNSET,
) -> HookAccepted | ProblemDetails | None:
    """Receive a git host's webhook: `bitbucket` (Cloud `repo:push`, Data Center
    `repo:refs_changed` and `diagnostics:ping`), `github` (`push`, `ping`) or `gitlab`
    (`Push Hook`, `Tag Push Hook`). The signature (HMAC-SHA256 over the raw body, or GitLab's
    token) is checked with the integration's secret. Each ref change becomes a push; a
    redelivery of the same delivery id answers the first result and records nothing; other
    event types are answered 202 and recorded as ignored.

    Args:
        provider (str):
        integration (str | Unset):
        body (ReceiveHookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HookAccepted | ProblemDetails
    """

    return sync_detailed(
        provider=provider,
        client=client,
        body=body,
        integration=integration,
    ).parsed


async def asyncio_detailed(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ReceiveHookBody,
    integration: str | Unset = UNSET,
) -> Response[HookAccepted | ProblemDetails]:
    """Receive a git host's webhook: `bitbucket` (Cloud `repo:push`, Data Center
    `repo:refs_changed` and `diagnostics:ping`), `github` (`push`, `ping`) or `gitlab`
    (`Push Hook`, `Tag Push Hook`). The signature (HMAC-SHA256 over the raw body, or GitLab's
    token) is checked with the integration's secret. Each ref change becomes a push; a
    redelivery of the same delivery id answers the first result and records nothing; other
    event types are answered 202 and recorded as ignored.

    Args:
        provider (str):
        integration (str | Unset):
        body (ReceiveHookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HookAccepted | ProblemDetails]
    """

    kwargs = _get_kwargs(
        provider=provider,
        body=body,
        integration=integration,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ReceiveHookBody,
    integration: str | Unset = UNSET,
) -> HookAccepted | ProblemDetails | None:
    """Receive a git host's webhook: `bitbucket` (Cloud `repo:push`, Data Center
    `repo:refs_changed` and `diagnostics:ping`), `github` (`push`, `ping`) or `gitlab`
    (`Push Hook`, `Tag Push Hook`). The signature (HMAC-SHA256 over the raw body, or GitLab's
    token) is checked with the integration's secret. Each ref change becomes a push; a
    redelivery of the same delivery id answers the first result and records nothing; other
    event types are answered 202 and recorded as ignored.

    Args:
        provider (str):
        integration (str | Unset):
        body (ReceiveHookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HookAccepted | ProblemDetails
    """

    return (
        await asyncio_detailed(
            provider=provider,
            client=client,
            body=body,
            integration=integration,
        )
    ).parsed
