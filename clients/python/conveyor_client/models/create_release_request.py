from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateReleaseRequest")


@_attrs_define
class CreateReleaseRequest:
    """Body of `POST /api/v1/releases`.

    Attributes:
        build_id (UUID): A succeeded build.
        version (None | str | Unset): Version label (default `1.0.<build number>`).
    """

    build_id: UUID
    version: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        build_id = str(self.build_id)

        version: None | str | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "build_id": build_id,
            }
        )
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        build_id = UUID(d.pop("build_id"))

        def _parse_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        version = _parse_version(d.pop("version", UNSET))

        create_release_request = cls(
            build_id=build_id,
            version=version,
        )

        return create_release_request
