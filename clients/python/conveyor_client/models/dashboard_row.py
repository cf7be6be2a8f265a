from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.dashboard_row_cells import DashboardRowCells


T = TypeVar("T", bound="DashboardRow")


@_attrs_define
class DashboardRow:
    """One row: a project's cells by environment name (environments it never deployed to are
    absent).

        Attributes:
            cells (DashboardRowCells): Cells by environment name.
            project (str): Project.
    """

    cells: DashboardRowCells
    project: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cells = self.cells.to_dict()

        project = self.project

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cells": cells,
                "project": project,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.dashboard_row_cells import DashboardRowCells

        d = dict(src_dict)
        cells = DashboardRowCells.from_dict(d.pop("cells"))

        project = d.pop("project")

        dashboard_row = cls(
            cells=cells,
            project=project,
        )

        dashboard_row.additional_properties = d
        return dashboard_row

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
