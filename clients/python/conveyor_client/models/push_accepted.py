from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.build import Build


T = TypeVar("T", bound="PushAccepted")


@_attrs_define
class PushAccepted:
    """The answer to a push: the builds it queued.

    Attributes:
        builds (list[Build]): Builds queued for matching projects.
        push_id (UUID): The push's id.
    """

    builds: list[Build]
    push_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        builds = []
        for builds_item_data in self.builds:
            builds_item = builds_item_data.to_dict()
            builds.append(builds_item)

        push_id = str(self.push_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "builds": builds,
                "push_id": push_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.build import Build

        d = dict(src_dict)
        builds = []
        _builds = d.pop("builds")
        for builds_item_data in _builds:
            builds_item = Build.from_dict(builds_item_data)

            builds.append(builds_item)

        push_id = UUID(d.pop("push_id"))

        push_accepted = cls(
            builds=builds,
            push_id=push_id,
        )

        push_accepted.additional_properties = d
        return push_accepted

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
