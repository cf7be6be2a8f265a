from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateSubscriptionRequest")


@_attrs_define
class CreateSubscriptionRequest:
    """Body of `POST /api/v1/subscriptions`.

    Attributes:
        secret (str): The signing secret: each delivery carries `X-Conveyor-Signature: t=<unix time>,v1=<hex
            HMAC-SHA256 of "<t>.<body>">`.
        url (str): Where events are POSTed.
        event_types (list[str] | Unset): Only these event types (e.g. `BuildSucceeded`); empty or absent means every
            type.
    """

    secret: str
    url: str
    event_types: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        secret = self.secret

        url = self.url

        event_types: list[str] | Unset = UNSET
        if not isinstance(self.event_types, Unset):
            event_types = self.event_types

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "secret": secret,
                "url": url,
            }
        )
        if event_types is not UNSET:
            field_dict["event_types"] = event_types

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        secret = d.pop("secret")

        url = d.pop("url")

        event_types = cast(list[str], d.pop("event_types", UNSET))

        create_subscription_request = cls(
            secret=secret,
            url=url,
            event_types=event_types,
        )

        return create_subscription_request
