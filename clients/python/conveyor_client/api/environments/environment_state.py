from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.environment_state_at import EnvironmentStateAt
from ...models.problem_details import ProblemDetails
from ...types import UNSET, Response, Unset


def _get_kwargs(
    env: str,
    *,
    at: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["at"] = at

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/environments/{env}/state".format(
            env=quote(str(env), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> EnvironmentStateAt | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = EnvironmentStateAt.from_dict(response.json())

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
) -> Response[EnvironmentStateAt | ProblemDetails]:
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
    at: str | Unset = UNSET,
) -> Response[EnvironmentStateAt | ProblemDetails]:
    """What was live in an environment at a moment (a time or a log position): per project the
    release, its artifacts, the resolved variables, who requested and who approved it —
    rebuilt by replaying the log up to that moment.

    Args:
        env (str):
        at (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EnvironmentStateAt | ProblemDetails]
    """

    kwargs = _get_kwargs(
        env=env,
        at=at,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    env: str,
    *,
    client: AuthenticatedClient,
    at: str | Unset = UNSET,
) -> EnvironmentStateAt | ProblemDetails | None:
    """What was live in an environment at a moment (a time or a log position): per project the
    release, its artifacts, the resolved variables, who requested and who approved it —
    rebuilt by replaying the log up to that moment.

    Args:
        env (str):
        at (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EnvironmentStateAt | ProblemDetails
    """

    return sync_detailed(
        env=env,
        client=client,
        at=at,
    ).parsed


async def asyncio_detailed(
    env: str,
    *,
    client: AuthenticatedClient,
    at: str | Unset = UNSET,
) -> Response[EnvironmentStateAt | ProblemDetails]:
    """What was live in an environment at a moment (a time or a log position): per project the
    release, its artifacts, the resolved variables, who requested and who approved it —
    rebuilt by replaying the log up to that moment.

    Args:
        env (str):
        at (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EnvironmentStateAt | ProblemDetails]
    """

    kwargs = _get_kwargs(
        env=env,
        at=at,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    env: str,
    *,
    client: AuthenticatedClient,
    at: str | Unset = UNSET,
) -> EnvironmentStateAt | ProblemDetails | None:
    """What was live in an environment at a moment (a time or a log position): per project the
    release, its artifacts, the resolved variables, who requested and who approved it —
    rebuilt by replaying the log up to that moment.

    Args:
        env (str):
        at (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EnvironmentStateAt | ProblemDetails
    """

    return (
        await asyncio_detailed(
            env=env,
            client=client,
            at=at,
        )
    ).parsed
