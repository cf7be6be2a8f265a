from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_details import ProblemDetails
from ...models.project import Project
from ...models.project_request import ProjectRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    project: str,
    *,
    body: ProjectRequest,
    if_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/projects/{project}".format(
            project=quote(str(project), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemDetails | Project | None:
    if response.status_code == 200:
        response_200 = Project.from_dict(response.json())

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

    if response.status_code == 412:
        response_412 = ProblemDetails.from_dict(response.json())

        return response_412

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
) -> Response[ProblemDetails | Project]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    project: str,
    *,
    client: AuthenticatedClient,
    body: ProjectRequest,
    if_match: None | str | Unset = UNSET,
) -> Response[ProblemDetails | Project]:
    """Replace a project's definition. Send `If-Match` with the version you read to avoid
    overwriting someone else's change (412 when it moved on).

    Args:
        project (str):
        if_match (None | str | Unset):
        body (ProjectRequest): Body of `POST /api/v1/projects` and `PUT
            /api/v1/projects/{project}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | Project]
    """

    kwargs = _get_kwargs(
        project=project,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    project: str,
    *,
    client: AuthenticatedClient,
    body: ProjectRequest,
    if_match: None | str | Unset = UNSET,
) -> ProblemDetails | Project | None:
    """Replace a project's definition. Send `If-Match` with the version you read to avoid
    overwriting someone else's change (412 when it moved on).

    Args:
        project (str):
        if_match (None | str | Unset):
        body (ProjectRequest): Body of `POST /api/v1/projects` and `PUT
            /api/v1/projects/{project}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | Project
    """

    return sync_detailed(
        project=project,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    project: str,
    *,
    client: AuthenticatedClient,
    body: ProjectRequest,
    if_match: None | str | Unset = UNSET,
) -> Response[ProblemDetails | Project]:
    """Replace a project's definition. Send `If-Match` with the version you read to avoid
    overwriting someone else's change (412 when it moved on).

    Args:
        project (str):
        if_match (None | str | Unset):
        body (ProjectRequest): Body of `POST /api/v1/projects` and `PUT
            /api/v1/projects/{project}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemDetails | Project]
    """

    kwargs = _get_kwargs(
        project=project,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    project: str,
    *,
    client: AuthenticatedClient,
    body: ProjectRequest,
    if_match: None | str | Unset = UNSET,
) -> ProblemDetails | Project | None:
    """Replace a project's definition. Send `If-Match` with the version you read to avoid
    overwriting someone else's change (412 when it moved on).

    Args:
        project (str):
        if_match (None | str | Unset):
        body (ProjectRequest): Body of `POST /api/v1/projects` and `PUT
            /api/v1/projects/{project}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemDetails | Project
    """

    return (
        await asyncio_detailed(
            project=project,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
