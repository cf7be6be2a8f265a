from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_deployment import PageDeployment
from ...models.problem_details import ProblemDetails
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    pending: bool | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["pending"] = pending

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/approvals",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageDeployment | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = PageDeployment.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ProblemDetails.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemDetails.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PageDeployment | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    pending: bool | Unset = UNSET,
) -> Response[PageDeployment | ProblemDetails]:
    """Deployments waiting for an approval the caller may give: in environments whose
    `approve:<env>` scope the token holds, not requested or released by the caller (unless the
    environment allows self-approval), and not yet approved by them. Oldest first.

    Args:
        pending (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageDeployment | ProblemDetails]
    """

    kwargs = _get_kwargs(
        pending=pending,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    pending: bool | Unset = UNSET,
) -> PageDeployment | ProblemDetails | None:
    """Deployments waiting for an approval the caller may give: in environments whose
    `approve:<env>` scope the token holds, not requested or released by the caller (unless the
    environment allows self-approval), and not yet approved by them. Oldest first.

    Args:
        pending (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageDeployment | ProblemDetails
    """

    return sync_detailed(
        client=client,
        pending=pending,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    pending: bool | Unset = UNSET,
) -> Response[PageDeployment | ProblemDetails]:
    """Deployments waiting for an approval the caller may give: in environments whose
    `approve:<env>` scope the token holds, not requested or released by the caller (unless the
    environment allows self-approval), and not yet approved by them. Oldest first.

    Args:
        pending (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageDeployment | ProblemDetails]
    """

    kwargs = _get_kwargs(
        pending=pending,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    pending: bool | Unset = UNSET,
) -> PageDeployment | ProblemDetails | None:
    """Deployments waiting for an approval the caller may give: in environments whose
    `approve:<env>` scope the token holds, not requested or released by the caller (unless the
    environment allows self-approval), and not yet approved by them. Oldest first.

    Args:
        pending (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageDeployment | ProblemDetails
    """

    return (
        await asyncio_detailed(
            client=client,
            pending=pending,
        )
    ).parsed
