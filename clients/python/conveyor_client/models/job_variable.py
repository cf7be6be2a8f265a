from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="JobVariable")


@_attrs_define
class JobVariable:
    """A variable as the agent receives it (sensitive values in clear: the agent needs them).

    Attributes:
        name (str): Name.
        sensitive (bool): Whether the agent must keep it out of logs.
        value (str): Value.
    """

    name: str
    sensitive: bool
    value: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        sensitive = self.sensitive

        value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "sensitive": sensitive,
                "value": value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        sensitive = d.pop("sensitive")

        value = d.pop("value")

        job_variable = cls(
            name=name,
            sensitive=sensitive,
            value=value,
        )

        job_variable.additional_properties = d
        return job_variable

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
