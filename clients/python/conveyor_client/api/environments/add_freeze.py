from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.environment import Environment
from ...models.freeze import Freeze
from ...models.problem_details import ProblemDetails
from ...types import UNSET, Response, Unset


def _get_kwargs(
    env: str,
    *,
    body: Freeze,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/environments/{env}/freezes".format(
            env=quote(str(env), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Environment | ProblemDetails | None:
    if response.status_code == 201:
        response_201 = Environment.from_dict(response.json())

        return response_201

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

    if response.status_code == 415:
        response_415 = ProblemDetails.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Environment | ProblemDetails]:
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
    body: Freeze,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Environment | ProblemDetails]:
    """Freeze an environment, for every project or one: once (`start`, `end`) or on a schedule
    (`cron` read in `timezone`, each window lasting `duration_minutes`). While a freeze holds,
    deployments are refused — manual, automatic and bot alike, rollbacks too when
    `applies_to_rollback` — unless someone holding `freeze:override` gives a reason.

    Args:
        env (str):
        idempotency_key (None | str | Unset):
        body (Freeze): A freeze window: one-off (`start`, `end`) or recurring (`cron`,
            `duration_minutes`,
            `timezone`), for every project or one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Environment | ProblemDetails]
    """

    kwargs = _get_kwargs(
        env=env,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    env: str,
    *,
    client: AuthenticatedClient,
    body: Freeze,
    idempotency_key: None | str | Unset = UNSET,
) -> Environment | ProblemDetails | None:
    """Freeze an environment, for every project or one: once (`start`, `end`) or on a schedule
    (`cron` read in `timezone`, each window lasting `duration_minutes`). While a freeze holds,
    deployments are refused — manual, automatic and bot alike, rollbacks too when
    `applies_to_rollback` — unless someone holding `freeze:override` gives a reason.

    Args:
        env (str):
        idempotency_key (None | str | Unset):
        body (Freeze): A freeze window: one-off (`start`, `end`) or recurring (`cron`,
            `duration_minutes`,
            `timezone`), for every project or one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Environment | ProblemDetails
    """

    return sync_detailed(
        env=env,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    env: str,
    *,
    client: AuthenticatedClient,
    body: Freeze,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Environment | ProblemDetails]:
    """Freeze an environment, for every project or one: once (`start`, `end`) or on a schedule
    (`cron` read in `timezone`, each window lasting `duration_minutes`). While a freeze holds,
    deployments are refused — manual, automatic and bot alike, rollbacks too when
    `applies_to_rollback` — unless someone holding `freeze:override` gives a reason.

    Args:
        env (str):
        idempotency_key (None | str | Unset):
        body (Freeze): A freeze window: one-off (`start`, `end`) or recurring (`cron`,
            `duration_minutes`,
            `timezone`), for every project or one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Environment | ProblemDetails]
    """

    kwargs = _get_kwargs(
        env=env,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    env: str,
    *,
    client: AuthenticatedClient,
    body: Freeze,
    idempotency_key: None | str | Unset = UNSET,
) -> Environment | ProblemDetails | None:
    """Freeze an environment, for every project or one: once (`start`, `end`) or on a schedule
    (`cron` read in `timezone`, each window lasting `duration_minutes`). While a freeze holds,
    deployments are refused — manual, automatic and bot alike, rollbacks too when
    `applies_to_rollback` — unless someone holding `freeze:override` gives a reason.

    Args:
        env (str):
        idempotency_key (None | str | Unset):
        body (Freeze): A freeze window: one-off (`start`, `end`) or recurring (`cron`,
            `duration_minutes`,
            `timezone`), for every project or one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Environment | ProblemDetails
    """

    return (
        await asyncio_detailed(
            env=env,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
