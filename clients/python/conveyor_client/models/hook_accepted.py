from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.hook_push import HookPush


T = TypeVar("T", bound="HookAccepted")


@_attrs_define
class HookAccepted:
    """What a delivery recorded.

    Attributes:
        delivery_id (str): The host's delivery id.
        duplicate (bool): Whether this delivery had been received before (nothing was recorded again).
        outcome (str): `push`, `ping` or `ignored`.
        pushes (list[HookPush]): One entry per ref change.
        event_type (None | str | Unset): For an ignored delivery: the host's event type.
    """

    delivery_id: str
    duplicate: bool
    outcome: str
    pushes: list[HookPush]
    event_type: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        delivery_id = self.delivery_id

        duplicate = self.duplicate

        outcome = self.outcome

        pushes = []
        for pushes_item_data in self.pushes:
            pushes_item = pushes_item_data.to_dict()
            pushes.append(pushes_item)

        event_type: None | str | Unset
        if isinstance(self.event_type, Unset):
            event_type = UNSET
        else:
            event_type = self.event_type

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "delivery_id": delivery_id,
                "duplicate": duplicate,
                "outcome": outcome,
                "pushes": pushes,
            }
        )
        if event_type is not UNSET:
            field_dict["event_type"] = event_type

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.hook_push import HookPush

        d = dict(src_dict)
        delivery_id = d.pop("delivery_id")

        duplicate = d.pop("duplicate")

        outcome = d.pop("outcome")

        pushes = []
        _pushes = d.pop("pushes")
        for pushes_item_data in _pushes:
            pushes_item = HookPush.from_dict(pushes_item_data)

            pushes.append(pushes_item)

        def _parse_event_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        event_type = _parse_event_type(d.pop("event_type", UNSET))

        hook_accepted = cls(
            delivery_id=delivery_id,
            duplicate=duplicate,
            outcome=outcome,
            pushes=pushes,
            event_type=event_type,
        )

        hook_accepted.additional_properties = d
        return hook_accepted

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
