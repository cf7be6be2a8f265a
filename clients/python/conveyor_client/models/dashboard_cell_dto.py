from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.cell_deployment_dto import CellDeploymentDto


T = TypeVar("T", bound="DashboardCellDto")


@_attrs_define
class DashboardCellDto:
    """One project in one environment.

    Attributes:
        frozen (bool): A freeze holds here now.
        held (bool): Automatic promotion here is held (after an automatic rollback) until a person promotes.
        pending_approvals (int): Deployments waiting for approval.
        latest (CellDeploymentDto | None | Unset):
        live (CellDeploymentDto | None | Unset):
    """

    frozen: bool
    held: bool
    pending_approvals: int
    latest: CellDeploymentDto | None | Unset = UNSET
    live: CellDeploymentDto | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.cell_deployment_dto import CellDeploymentDto

        frozen = self.frozen

        held = self.held

        pending_approvals = self.pending_approvals

        latest: dict[str, Any] | None | Unset
        if isinstance(self.latest, Unset):
            latest = UNSET
        elif isinstance(self.latest, CellDeploymentDto):
            latest = self.latest.to_dict()
        else:
            latest = self.latest

        live: dict[str, Any] | None | Unset
        if isinstance(self.live, Unset):
            live = UNSET
        elif isinstance(self.live, CellDeploymentDto):
            live = self.live.to_dict()
        else:
            live = self.live

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frozen": frozen,
                "held": held,
                "pending_approvals": pending_approvals,
            }
        )
        if latest is not UNSET:
            field_dict["latest"] = latest
        if live is not UNSET:
            field_dict["live"] = live

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.cell_deployment_dto import CellDeploymentDto

        d = dict(src_dict)
        frozen = d.pop("frozen")

        held = d.pop("held")

        pending_approvals = d.pop("pending_approvals")

        def _parse_latest(data: object) -> CellDeploymentDto | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                latest_type_1 = CellDeploymentDto.from_dict(data)

                return latest_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CellDeploymentDto | None | Unset, data)

        latest = _parse_latest(d.pop("latest", UNSET))

        def _parse_live(data: object) -> CellDeploymentDto | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                live_type_1 = CellDeploymentDto.from_dict(data)

                return live_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CellDeploymentDto | None | Unset, data)

        live = _parse_live(d.pop("live", UNSET))

        dashboard_cell_dto = cls(
            frozen=frozen,
            held=held,
            pending_approvals=pending_approvals,
            latest=latest,
            live=live,
        )

        dashboard_cell_dto.additional_properties = d
        return dashboard_cell_dto

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
