from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.variable_environments import VariableEnvironments


T = TypeVar("T", bound="Variable")


@_attrs_define
class Variable:
    """A variable: a default value and per-environment values; the most specific scope wins.
    Sensitive values are write-only: responses show `********`, and sending `********` back
    keeps the stored value.

        Attributes:
            name (str): Name.
            environments (VariableEnvironments | Unset): Values for particular environments, by environment name.
            sensitive (bool | Unset): Whether it is a secret.
            value (None | str | Unset): The default value (masked in responses when sensitive); absent when only some
                environments have one.
    """

    name: str
    environments: VariableEnvironments | Unset = UNSET
    sensitive: bool | Unset = UNSET
    value: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        environments: dict[str, Any] | Unset = UNSET
        if not isinstance(self.environments, Unset):
            environments = self.environments.to_dict()

        sensitive = self.sensitive

        value: None | str | Unset
        if isinstance(self.value, Unset):
            value = UNSET
        else:
            value = self.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if environments is not UNSET:
            field_dict["environments"] = environments
        if sensitive is not UNSET:
            field_dict["sensitive"] = sensitive
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.variable_environments import VariableEnvironments

        d = dict(src_dict)
        name = d.pop("name")

        _environments = d.pop("environments", UNSET)
        environments: VariableEnvironments | Unset
        if isinstance(_environments, Unset):
            environments = UNSET
        else:
            environments = VariableEnvironments.from_dict(_environments)

        sensitive = d.pop("sensitive", UNSET)

        def _parse_value(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        value = _parse_value(d.pop("value", UNSET))

        variable = cls(
            name=name,
            environments=environments,
            sensitive=sensitive,
            value=value,
        )

        return variable
