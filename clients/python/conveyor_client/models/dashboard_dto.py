from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.dashboard_row import DashboardRow


T = TypeVar("T", bound="DashboardDto")


@_attrs_define
class DashboardDto:
    """The grid.

    Attributes:
        environments (list[str]): The columns, in name order.
        position (int): The log position the grid reflects.
        projects (list[DashboardRow]): The rows, in project name order.
    """

    environments: list[str]
    position: int
    projects: list[DashboardRow]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        environments = self.environments

        position = self.position

        projects = []
        for projects_item_data in self.projects:
            projects_item = projects_item_data.to_dict()
            projects.append(projects_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "environments": environments,
                "position": position,
                "projects": projects,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.dashboard_row import DashboardRow

        d = dict(src_dict)
        environments = cast(list[str], d.pop("environments"))

        position = d.pop("position")

        projects = []
        _projects = d.pop("projects")
        for projects_item_data in _projects:
            projects_item = DashboardRow.from_dict(projects_item_data)

            projects.append(projects_item)

        dashboard_dto = cls(
            environments=environments,
            position=position,
            projects=projects,
        )

        dashboard_dto.additional_properties = d
        return dashboard_dto

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
