from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_details import ProblemDetails
from ...models.push_accepted import PushAccepted
from ...models.push_request import PushRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: PushRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/pushes",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemDetails | PushAccepted | None:
    if response.status_code == 202:
        response_202 = PushAccepted.from_dict(response.json())

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
) -> Response[ProblemDetails | PushAccepted]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: PushRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ProblemDetails | PushAccepted]:
    """Report a push (the generic form; git hosts' webhooks are separate). Answers with the builds
    it queued for projects whose repository and branch filter match.

    Args:
        idempotency_key (None | str | Unset):
        body (PushRequest): Body of `POST /api/v1/pushes`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | PushAccepted]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: PushRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> ProblemDetails | PushAccepted | None:
    """Report a push (the generic form; git hosts' webhooks are separate). Answers with the builds
    it queued for projects whose repository and branch filter match.

    Args:
        idempotency_key (None | str | Unset):
        body (PushRequest): Body of `POST /api/v1/pushes`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | PushAccepted
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: PushRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ProblemDetails | PushAccepted]:
    """Report a push (the generic form; git hosts' webhooks are separate). Answers with the builds
    it queued for projects whose repository and branch filter match.

    Args:
        idempotency_key (None | str | Unset):
        body (PushRequest): Body of `POST /api/v1/pushes`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | PushAccepted]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: PushRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> ProblemDetails | PushAccepted | None:
    """Report a push (the generic form; git hosts' webhooks are separate). Answers with the builds
    it queued for projects whose repository and branch filter match.

    Args:
        idempotency_key (None | str | Unset):
        body (PushRequest): Body of `POST /api/v1/pushes`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | PushAccepted
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
