from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.log_line_dto import LogLineDto


T = TypeVar("T", bound="AppendLogRequest")


@_attrs_define
class AppendLogRequest:
    """Lines an agent captured, sent under its lease.

    Attributes:
        lease_id (UUID): The job's current lease.
        lines (list[LogLineDto]): The lines, oldest first (at most 5,000).
    """

    lease_id: UUID
    lines: list[LogLineDto]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        lease_id = str(self.lease_id)

        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "lease_id": lease_id,
                "lines": lines,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.log_line_dto import LogLineDto

        d = dict(src_dict)
        lease_id = UUID(d.pop("lease_id"))

        lines = []
        _lines = d.pop("lines")
        for lines_item_data in _lines:
            lines_item = LogLineDto.from_dict(lines_item_data)

            lines.append(lines_item)

        append_log_request = cls(
            lease_id=lease_id,
            lines=lines,
        )

        append_log_request.additional_properties = d
        return append_log_request

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
