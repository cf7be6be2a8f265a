from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_details import ProblemDetails
from ...models.stored_artifact import StoredArtifact
from ...types import File, Response


def _get_kwargs(
    sha256: str,
    *,
    body: File,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/artifacts/{sha256}".format(
            sha256=quote(str(sha256), safe=""),
        ),
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemDetails | StoredArtifact | None:
    if response.status_code == 200:
        response_200 = StoredArtifact.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = StoredArtifact.from_dict(response.json())

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
) -> Response[ProblemDetails | StoredArtifact]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    sha256: str,
    *,
    client: AuthenticatedClient,
    body: File,
) -> Response[ProblemDetails | StoredArtifact]:
    """Upload an artifact's content under its SHA-256. The body is streamed to disk and its digest
    checked before it is kept; the same content is stored once.

    Args:
        sha256 (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | StoredArtifact]
    """

    kwargs = _get_kwargs(
        sha256=sha256,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    sha256: str,
    *,
    client: AuthenticatedClient,
    body: File,
) -> ProblemDetails | StoredArtifact | None:
    """Upload an artifact's content under its SHA-256. The body is streamed to disk and its digest
    checked before it is kept; the same content is stored once.

    Args:
        sha256 (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | StoredArtifact
    """

    return sync_detailed(
        sha256=sha256,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    sha256: str,
    *,
    client: AuthenticatedClient,
    body: File,
) -> Response[ProblemDetails | StoredArtifact]:
    """Upload an artifact's content under its SHA-256. The body is streamed to disk and its digest
    checked before it is kept; the same content is stored once.

    Args:
        sha256 (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | StoredArtifact]
    """

    kwargs = _get_kwargs(
        sha256=sha256,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    sha256: str,
    *,
    client: AuthenticatedClient,
    body: File,
) -> ProblemDetails | StoredArtifact | None:
    """Upload an artifact's content under its SHA-256. The body is streamed to disk and its digest
    checked before it is kept; the same content is stored once.

    Args:
        sha256 (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | StoredArtifact
    """

    return (
        await asyncio_detailed(
            sha256=sha256,
            client=client,
            body=body,
        )
    ).parsed
