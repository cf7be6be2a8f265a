import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_event import PageEvent
from ...models.problem_details import ProblemDetails
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    stream: str | Unset = UNSET,
    stream_prefix: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["after"] = after

    params["limit"] = limit

    params["stream"] = stream

    params["stream_prefix"] = stream_prefix

    params["type"] = type_

    params["actor"] = actor

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/events",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageEvent | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = PageEvent.from_dict(response.json())

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
) -> Response[PageEvent | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    after: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    stream: str | Unset = UNSET,
    stream_prefix: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
) -> Response[PageEvent | ProblemDetails]:
    """Read the log in position order, filtered by stream, stream prefix, type, actor and time.

    Args:
        after (int | Unset):
        limit (int | Unset):
        stream (str | Unset):
        stream_prefix (str | Unset):
        type_ (str | Unset):
        actor (str | Unset):
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageEvent | ProblemDetails]
    """

    kwargs = _get_kwargs(
        after=after,
        limit=limit,
        stream=stream,
        stream_prefix=stream_prefix,
        type_=type_,
        actor=actor,
        from_=from_,
        to=to,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    stream: str | Unset = UNSET,
    stream_prefix: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
) -> PageEvent | ProblemDetails | None:
    """Read the log in position order, filtered by stream, stream prefix, type, actor and time.

    Args:
        after (int | Unset):
        limit (int | Unset):
        stream (str | Unset):
        stream_prefix (str | Unset):
        type_ (str | Unset):
        actor (str | Unset):
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageEvent | ProblemDetails
    """

    return sync_detailed(
        client=client,
        after=after,
        limit=limit,
        stream=stream,
        stream_prefix=stream_prefix,
        type_=type_,
        actor=actor,
        from_=from_,
        to=to,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    stream: str | Unset = UNSET,
    stream_prefix: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
) -> Response[PageEvent | ProblemDetails]:
    """Read the log in position order, filtered by stream, stream prefix, type, actor and time.

    Args:
        after (int | Unset):
        limit (int | Unset):
        stream (str | Unset):
        stream_prefix (str | Unset):
        type_ (str | Unset):
        actor (str | Unset):
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageEvent | ProblemDetails]
    """

    kwargs = _get_kwargs(
        after=after,
        limit=limit,
        stream=stream,
        stream_prefix=stream_prefix,
        type_=type_,
        actor=actor,
        from_=from_,
        to=to,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: int | Unset = UNSET,
    limit: int | Unset = UNSET,
    stream: str | Unset = UNSET,
    stream_prefix: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
) -> PageEvent | ProblemDetails | None:
    """Read the log in position order, filtered by stream, stream prefix, type, actor and time.

    Args:
        after (int | Unset):
        limit (int | Unset):
        stream (str | Unset):
        stream_prefix (str | Unset):
        type_ (str | Unset):
        actor (str | Unset):
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageEvent | ProblemDetails
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            limit=limit,
            stream=stream,
            stream_prefix=stream_prefix,
            type_=type_,
            actor=actor,
            from_=from_,
            to=to,
        )
    ).parsed
