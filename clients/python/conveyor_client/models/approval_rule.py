from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ApprovalRule")


@_attrs_define
class ApprovalRule:
    """`count` distinct approvers holding `scope`.

    Attributes:
        count (int): How many distinct approvers.
        scope (str): The scope, e.g. `approve:security`.
    """

    count: int
    scope: str

    def to_dict(self) -> dict[str, Any]:
        count = self.count

        scope = self.scope

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "count": count,
                "scope": scope,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        count = d.pop("count")

        scope = d.pop("scope")

        approval_rule = cls(
            count=count,
            scope=scope,
        )

        return approval_rule
