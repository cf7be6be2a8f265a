from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.approval_policy import ApprovalPolicy
    from ..models.freeze import Freeze
    from ..models.page_environment_items_item_holds import PageEnvironmentItemsItemHolds


T = TypeVar("T", bound="PageEnvironmentItemsItem")


@_attrs_define
class PageEnvironmentItemsItem:
    """An environment.

    Attributes:
        approval_policy (ApprovalPolicy): Who must approve deployments into an environment.
        auto_rollback (bool): Whether failed deployments are rolled back automatically.
        created_at (datetime.datetime): When it was created.
        description (str): Free text.
        freezes (list[Freeze]): Freeze windows.
        holds (PageEnvironmentItemsItemHolds): Projects whose automatic promotion here is held, and why.
        name (str): Name.
        version (int): Stream version (send as `If-Match`).
        soak_seconds (int | None | Unset): Soak time in seconds, when it has one.
    """

    approval_policy: ApprovalPolicy
    auto_rollback: bool
    created_at: datetime.datetime
    description: str
    freezes: list[Freeze]
    holds: PageEnvironmentItemsItemHolds
    name: str
    version: int
    soak_seconds: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        approval_policy = self.approval_policy.to_dict()

        auto_rollback = self.auto_rollback

        created_at = self.created_at.isoformat()

        description = self.description

        freezes = []
        for freezes_item_data in self.freezes:
            freezes_item = freezes_item_data.to_dict()
            freezes.append(freezes_item)

        holds = self.holds.to_dict()

        name = self.name

        version = self.version

        soak_seconds: int | None | Unset
        if isinstance(self.soak_seconds, Unset):
            soak_seconds = UNSET
        else:
            soak_seconds = self.soak_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "approval_policy": approval_policy,
                "auto_rollback": auto_rollback,
                "created_at": created_at,
                "description": description,
                "freezes": freezes,
                "holds": holds,
                "name": name,
                "version": version,
            }
        )
        if soak_seconds is not UNSET:
            field_dict["soak_seconds"] = soak_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.approval_policy import ApprovalPolicy
        from ..models.freeze import Freeze
        from ..models.page_environment_items_item_holds import (
            PageEnvironmentItemsItemHolds,
        )

        d = dict(src_dict)
        approval_policy = ApprovalPolicy.from_dict(d.pop("approval_policy"))

        auto_rollback = d.pop("auto_rollback")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        description = d.pop("description")

        freezes = []
        _freezes = d.pop("freezes")
        for freezes_item_data in _freezes:
            freezes_item = Freeze.from_dict(freezes_item_data)

            freezes.append(freezes_item)

        holds = PageEnvironmentItemsItemHolds.from_dict(d.pop("holds"))

        name = d.pop("name")

        version = d.pop("version")

        def _parse_soak_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        soak_seconds = _parse_soak_seconds(d.pop("soak_seconds", UNSET))

        page_environment_items_item = cls(
            approval_policy=approval_policy,
            auto_rollback=auto_rollback,
            created_at=created_at,
            description=description,
            freezes=freezes,
            holds=holds,
            name=name,
            version=version,
            soak_seconds=soak_seconds,
        )

        page_environment_items_item.additional_properties = d
        return page_environment_items_item

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
