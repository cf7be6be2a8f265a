from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.live_release import LiveRelease


T = TypeVar("T", bound="EnvironmentStateAt")


@_attrs_define
class EnvironmentStateAt:
    """What was live in an environment at a moment, rebuilt by replaying the log up to it.

    Attributes:
        environment (str): Environment.
        position (int): The last log position the state includes.
        projects (list[LiveRelease]): Per project, what was live.
    """

    environment: str
    position: int
    projects: list[LiveRelease]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        environment = self.environment

        position = self.position

        projects = []
        for projects_item_data in self.projects:
            projects_item = projects_item_data.to_dict()
            projects.append(projects_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "environment": environment,
                "position": position,
                "projects": projects,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.live_release import LiveRelease

        d = dict(src_dict)
        environment = d.pop("environment")

        position = d.pop("position")

        projects = []
        _projects = d.pop("projects")
        for projects_item_data in _projects:
            projects_item = LiveRelease.from_dict(projects_item_data)

            projects.append(projects_item)

        environment_state_at = cls(
            environment=environment,
            position=position,
            projects=projects,
        )

        environment_state_at.additional_properties = d
        return environment_state_at

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
