from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="ArtifactRequest")


@_attrs_define
class ArtifactRequest:
    """Body of `POST /api/v1/jobs/{id}/artifacts`.

    Attributes:
        lease_id (UUID): The lease.
        name (str): Relative file name.
        sha256 (str): Lowercase hex SHA-256.
        size (int): Size in bytes.
    """

    lease_id: UUID
    name: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        lease_id = str(self.lease_id)

        name = self.name

        sha256 = self.sha256

        size = self.size

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "lease_id": lease_id,
                "name": name,
                "sha256": sha256,
                "size": size,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        lease_id = UUID(d.pop("lease_id"))

        name = d.pop("name")

        sha256 = d.pop("sha256")

        size = d.pop("size")

        artifact_request = cls(
            lease_id=lease_id,
            name=name,
            sha256=sha256,
            size=size,
        )

        return artifact_request
