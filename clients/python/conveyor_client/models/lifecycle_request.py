from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.phase import Phase


T = TypeVar("T", bound="LifecycleRequest")


@_attrs_define
class LifecycleRequest:
    """Body of `POST /api/v1/lifecycles` and `PUT /api/v1/lifecycles/{lifecycle}`.

    Attributes:
        name (str): Lowercase letters, digits, `-`, `_`. Example: standard.
        phases (list[Phase]): Ordered phases.
        description (str | Unset): Free text.
    """

    name: str
    phases: list[Phase]
    description: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        phases = []
        for phases_item_data in self.phases:
            phases_item = phases_item_data.to_dict()
            phases.append(phases_item)

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "phases": phases,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.phase import Phase

        d = dict(src_dict)
        name = d.pop("name")

        phases = []
        _phases = d.pop("phases")
        for phases_item_data in _phases:
            phases_item = Phase.from_dict(phases_item_data)

            phases.append(phases_item)

        description = d.pop("description", UNSET)

        lifecycle_request = cls(
            name=name,
            phases=phases,
            description=description,
        )

        return lifecycle_request
