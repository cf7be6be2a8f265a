from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Retention")


@_attrs_define
class Retention:
    """Which releases keep their artifact bytes and logs.

    Attributes:
        keep_releases_per_environment (int): Keep the last this many releases that succeeded in each environment (at
            least 1);
            releases live anywhere, the project's newest this many, and releases with a
            deployment under way are always kept.
    """

    keep_releases_per_environment: int

    def to_dict(self) -> dict[str, Any]:
        keep_releases_per_environment = self.keep_releases_per_environment

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "keep_releases_per_environment": keep_releases_per_environment,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        keep_releases_per_environment = d.pop("keep_releases_per_environment")

        retention = cls(
            keep_releases_per_environment=keep_releases_per_environment,
        )

        return retention
