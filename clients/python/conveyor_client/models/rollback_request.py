from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RollbackRequest")


@_attrs_define
class RollbackRequest:
    """Body of `POST /api/v1/environments/{env}/rollback`.

    Attributes:
        project (str): The project to roll back.
        override_freeze (None | str | Unset): Roll back although a freeze that applies to rollbacks holds: the reason,
            recorded on
            the deployment (needs the `freeze:override` scope).
        to_release (None | Unset | UUID): An earlier release that was live here (default: the one live before the
            current one).
    """

    project: str
    override_freeze: None | str | Unset = UNSET
    to_release: None | Unset | UUID = UNSET

    def to_dict(self) -> dict[str, Any]:
        project = self.project

        override_freeze: None | str | Unset
        if isinstance(self.override_freeze, Unset):
            override_freeze = UNSET
        else:
            override_freeze = self.override_freeze

        to_release: None | str | Unset
        if isinstance(self.to_release, Unset):
            to_release = UNSET
        elif isinstance(self.to_release, UUID):
            to_release = str(self.to_release)
        else:
            to_release = self.to_release

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "project": project,
            }
        )
        if override_freeze is not UNSET:
            field_dict["override_freeze"] = override_freeze
        if to_release is not UNSET:
            field_dict["to_release"] = to_release

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        project = d.pop("project")

        def _parse_override_freeze(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        override_freeze = _parse_override_freeze(d.pop("override_freeze", UNSET))

        def _parse_to_release(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                to_release_type_0 = UUID(data)

                return to_release_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        to_release = _parse_to_release(d.pop("to_release", UNSET))

        rollback_request = cls(
            project=project,
            override_freeze=override_freeze,
            to_release=to_release,
        )

        return rollback_request
