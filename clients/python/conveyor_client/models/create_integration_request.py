from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.git_host_dto import GitHostDto
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateIntegrationRequest")


@_attrs_define
class CreateIntegrationRequest:
    """Body of `POST /api/v1/integrations`.

    Attributes:
        host (GitHostDto): The kind of git host.
        name (str): Lowercase letters, digits, `-`, `_`; webhooks name it with `?integration=<name>`. Example:
            bitbucket.
        api_url (None | str | Unset): The host's API base URL, for build statuses (e.g. `https://api.bitbucket.org`).
        credentials (None | str | Unset): Credentials for that API: `user:app-password` or a token.
        webhook_secret (None | str | Unset): The secret the host signs webhooks with (HMAC-SHA256, or GitLab's token).
            Without
            one, unsigned webhooks are accepted.
    """

    host: GitHostDto
    name: str
    api_url: None | str | Unset = UNSET
    credentials: None | str | Unset = UNSET
    webhook_secret: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        host = self.host.value

        name = self.name

        api_url: None | str | Unset
        if isinstance(self.api_url, Unset):
            api_url = UNSET
        else:
            api_url = self.api_url

        credentials: None | str | Unset
        if isinstance(self.credentials, Unset):
            credentials = UNSET
        else:
            credentials = self.credentials

        webhook_secret: None | str | Unset
        if isinstance(self.webhook_secret, Unset):
            webhook_secret = UNSET
        else:
            webhook_secret = self.webhook_secret

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "host": host,
                "name": name,
            }
        )
        if api_url is not UNSET:
            field_dict["api_url"] = api_url
        if credentials is not UNSET:
            field_dict["credentials"] = credentials
        if webhook_secret is not UNSET:
            field_dict["webhook_secret"] = webhook_secret

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        host = GitHostDto(d.pop("host"))

        name = d.pop("name")

        def _parse_api_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        api_url = _parse_api_url(d.pop("api_url", UNSET))

        def _parse_credentials(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        credentials = _parse_credentials(d.pop("credentials", UNSET))

        def _parse_webhook_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        webhook_secret = _parse_webhook_secret(d.pop("webhook_secret", UNSET))

        create_integration_request = cls(
            host=host,
            name=name,
            api_url=api_url,
            credentials=credentials,
            webhook_secret=webhook_secret,
        )

        return create_integration_request
