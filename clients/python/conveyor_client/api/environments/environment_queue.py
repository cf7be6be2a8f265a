from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_queue_entry import PageQueueEntry
from ...models.problem_details import ProblemDetails
from ...types import Response


def _get_kwargs(
    env: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/environments/{env}/queue".format(
            env=quote(str(env), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageQueueEntry | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = PageQueueEntry.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemDetails.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ProblemDetails.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PageQueueEntry | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    env: str,
    *,
    client: AuthenticatedClient,
) -> Response[PageQueueEntry | ProblemDetails]:
    """The environment's deployment queue: per project, one deployment runs at a time and the
    others wait in the order they were requested; nothing leaves the queue except by running,
    being cancelled, rejected, expired or superseded (each recorded as an event).

    Args:
        env (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageQueueEntry | ProblemDetails]
    """

    kwargs = _get_kwargs(
        env=env,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    env: str,
    *,
    client: AuthenticatedClient,
) -> PageQueueEntry | ProblemDetails | None:
    """The environment's deployment queue: per project, one deployment runs at a time and the
    others wait in the order they were requested; nothing leaves the queue except by running,
    being cancelled, rejected, expired or superseded (each recorded as an event).

    Args:
        env (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageQueueEntry | ProblemDetails
    """

    return sync_detailed(
        env=env,
        client=client,
    ).parsed


async def asyncio_detailed(
    env: str,
    *,
    client: AuthenticatedClient,
) -> Response[PageQueueEntry | ProblemDetails]:
    """The environment's deployment queue: per project, one deployment runs at a time and the
    others wait in the order they were requested; nothing leaves the queue except by running,
    being cancelled, rejected, expired or superseded (each recorded as an event).

    Args:
        env (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageQueueEntry | ProblemDetails]
    """

    kwargs = _get_kwargs(
        env=env,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    env: str,
    *,
    client: AuthenticatedClient,
) -> PageQueueEntry | ProblemDetails | None:
    """The environment's deployment queue: per project, one deployment runs at a time and the
    others wait in the order they were requested; nothing leaves the queue except by running,
    being cancelled, rejected, expired or superseded (each recorded as an event).

    Args:
        env (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageQueueEntry | ProblemDetails
    """

    return (
        await asyncio_detailed(
            env=env,
            client=client,
        )
    ).parsed
