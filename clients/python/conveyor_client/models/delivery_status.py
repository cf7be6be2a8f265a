from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.delivery_attempt import DeliveryAttempt


T = TypeVar("T", bound="DeliveryStatus")


@_attrs_define
class DeliveryStatus:
    """A subscription's delivery state.

    Attributes:
        consecutive_failures (int): Failures in a row at the current event.
        delivered (int): Events delivered since the server started.
        failing (bool): Marked after repeated failure; delivery keeps trying from `position`.
        position (int): The last position delivered (or skipped as not matching).
        recent (list[DeliveryAttempt]): The most recent attempts, newest last.
    """

    consecutive_failures: int
    delivered: int
    failing: bool
    position: int
    recent: list[DeliveryAttempt]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        consecutive_failures = self.consecutive_failures

        delivered = self.delivered

        failing = self.failing

        position = self.position

        recent = []
        for recent_item_data in self.recent:
            recent_item = recent_item_data.to_dict()
            recent.append(recent_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "consecutive_failures": consecutive_failures,
                "delivered": delivered,
                "failing": failing,
                "position": position,
                "recent": recent,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.delivery_attempt import DeliveryAttempt

        d = dict(src_dict)
        consecutive_failures = d.pop("consecutive_failures")

        delivered = d.pop("delivered")

        failing = d.pop("failing")

        position = d.pop("position")

        recent = []
        _recent = d.pop("recent")
        for recent_item_data in _recent:
            recent_item = DeliveryAttempt.from_dict(recent_item_data)

            recent.append(recent_item)

        delivery_status = cls(
            consecutive_failures=consecutive_failures,
            delivered=delivered,
            failing=failing,
            position=position,
            recent=recent,
        )

        delivery_status.additional_properties = d
        return delivery_status

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
