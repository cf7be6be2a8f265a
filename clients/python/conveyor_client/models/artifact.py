from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Artifact")


@_attrs_define
class Artifact:
    """A content-addressed artifact.

    Attributes:
        name (str): Relative file name.
        sha256 (str): Lowercase hex SHA-256.
        size (int): Size in bytes.
    """

    name: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        sha256 = self.sha256

        size = self.size

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "sha256": sha256,
                "size": size,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        sha256 = d.pop("sha256")

        size = d.pop("size")

        artifact = cls(
            name=name,
            sha256=sha256,
            size=size,
        )

        return artifact
