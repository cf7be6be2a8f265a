from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.git_host_dto import GitHostDto
from ..types import UNSET, Unset

T = TypeVar("T", bound="PageIntegrationItemsItem")


@_attrs_define
class PageIntegrationItemsItem:
    """An integration. Secrets are never shown, only whether they are set.

    Attributes:
        has_credentials (bool): Whether API credentials are set.
        has_webhook_secret (bool): Whether webhooks must be signed.
        host (GitHostDto): The kind of git host.
        name (str): Name.
        webhook_path (str): The webhook URL path to give the host.
        api_url (None | str | Unset): The API base URL.
    """

    has_credentials: bool
    has_webhook_secret: bool
    host: GitHostDto
    name: str
    webhook_path: str
    api_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        has_credentials = self.has_credentials

        has_webhook_secret = self.has_webhook_secret

        host = self.host.value

        name = self.name

        webhook_path = self.webhook_path

        api_url: None | str | Unset
        if isinstance(self.api_url, Unset):
            api_url = UNSET
        else:
            api_url = self.api_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "has_credentials": has_credentials,
                "has_webhook_secret": has_webhook_secret,
                "host": host,
                "name": name,
                "webhook_path": webhook_path,
            }
        )
        if api_url is not UNSET:
            field_dict["api_url"] = api_url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        has_credentials = d.pop("has_credentials")

        has_webhook_secret = d.pop("has_webhook_secret")

        host = GitHostDto(d.pop("host"))

        name = d.pop("name")

        webhook_path = d.pop("webhook_path")

        def _parse_api_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        api_url = _parse_api_url(d.pop("api_url", UNSET))

        page_integration_items_item = cls(
            has_credentials=has_credentials,
            has_webhook_secret=has_webhook_secret,
            host=host,
            name=name,
            webhook_path=webhook_path,
            api_url=api_url,
        )

        page_integration_items_item.additional_properties = d
        return page_integration_items_item

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
