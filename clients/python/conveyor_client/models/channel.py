from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Channel")


@_attrs_define
class Channel:
    """A channel: builds from matching branches release into a shared lifecycle.

    Attributes:
        branch (str): Branch (or tag) glob, e.g. `feature/*`.
        lifecycle (str): The lifecycle its releases follow.
        name (str): Name, unique in the project.
    """

    branch: str
    lifecycle: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        branch = self.branch

        lifecycle = self.lifecycle

        name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "branch": branch,
                "lifecycle": lifecycle,
                "name": name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        branch = d.pop("branch")

        lifecycle = d.pop("lifecycle")

        name = d.pop("name")

        channel = cls(
            branch=branch,
            lifecycle=lifecycle,
            name=name,
        )

        return channel
