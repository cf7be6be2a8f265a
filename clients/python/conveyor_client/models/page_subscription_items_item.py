from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.delivery_status import DeliveryStatus


T = TypeVar("T", bound="PageSubscriptionItemsItem")


@_attrs_define
class PageSubscriptionItemsItem:
    """A subscription and how its deliveries go.

    Attributes:
        delivery (DeliveryStatus): A subscription's delivery state.
        event_types (list[str]): The event types delivered (empty: all).
        id (UUID): Id.
        start_after (int): Events after this position (the subscription's creation) are delivered.
        url (str): Where events are POSTed.
    """

    delivery: DeliveryStatus
    event_types: list[str]
    id: UUID
    start_after: int
    url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        delivery = self.delivery.to_dict()

        event_types = self.event_types

        id = str(self.id)

        start_after = self.start_after

        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "delivery": delivery,
                "event_types": event_types,
                "id": id,
                "start_after": start_after,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.delivery_status import DeliveryStatus

        d = dict(src_dict)
        delivery = DeliveryStatus.from_dict(d.pop("delivery"))

        event_types = cast(list[str], d.pop("event_types"))

        id = UUID(d.pop("id"))

        start_after = d.pop("start_after")

        url = d.pop("url")

        page_subscription_items_item = cls(
            delivery=delivery,
            event_types=event_types,
            id=id,
            start_after=start_after,
            url=url,
        )

        page_subscription_items_item.additional_properties = d
        return page_subscription_items_item

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
