from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="VerifyResult")


@_attrs_define
class VerifyResult:
    """The result of verifying the hash chain.

    Attributes:
        checked (int): How many were checked.
        from_ (int): First position checked.
        intact (bool): Whether every checked record matched.
        to (int): Last position checked.
        first_bad_position (int | None | Unset): The first bad position.
        reason (None | str | Unset): Why it is bad.
    """

    checked: int
    from_: int
    intact: bool
    to: int
    first_bad_position: int | None | Unset = UNSET
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        checked = self.checked

        from_ = self.from_

        intact = self.intact

        to = self.to

        first_bad_position: int | None | Unset
        if isinstance(self.first_bad_position, Unset):
            first_bad_position = UNSET
        else:
            first_bad_position = self.first_bad_position

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "checked": checked,
                "from": from_,
                "intact": intact,
                "to": to,
            }
        )
        if first_bad_position is not UNSET:
            field_dict["first_bad_position"] = first_bad_position
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        checked = d.pop("checked")

        from_ = d.pop("from")

        intact = d.pop("intact")

        to = d.pop("to")

        def _parse_first_bad_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        first_bad_position = _parse_first_bad_position(
            d.pop("first_bad_position", UNSET)
        )

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        verify_result = cls(
            checked=checked,
            from_=from_,
            intact=intact,
            to=to,
            first_bad_position=first_bad_position,
            reason=reason,
        )

        verify_result.additional_properties = d
        return verify_result

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
