from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.deployment import Deployment


T = TypeVar("T", bound="QueueEntry")


@_attrs_define
class QueueEntry:
    """A deployment in an environment's queue.

    Attributes:
        deployment (Deployment): A deployment.
        place (int): Its place in its project's queue: 1 runs (or runs next), 2 follows, …
    """

    deployment: Deployment
    place: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        deployment = self.deployment.to_dict()

        place = self.place

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "deployment": deployment,
                "place": place,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.deployment import Deployment

        d = dict(src_dict)
        deployment = Deployment.from_dict(d.pop("deployment"))

        place = d.pop("place")

        queue_entry = cls(
            deployment=deployment,
            place=place,
        )

        queue_entry.additional_properties = d
        return queue_entry

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
