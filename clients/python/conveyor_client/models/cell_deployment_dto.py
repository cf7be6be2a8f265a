from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.deployment_status import DeploymentStatus

T = TypeVar("T", bound="CellDeploymentDto")


@_attrs_define
class CellDeploymentDto:
    """A deployment as a cell shows it.

    Attributes:
        at (datetime.datetime): When it last changed.
        deployment_id (UUID): The deployment.
        release_version (str): Its release's version.
        status (DeploymentStatus): A deployment status.
    """

    at: datetime.datetime
    deployment_id: UUID
    release_version: str
    status: DeploymentStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        deployment_id = str(self.deployment_id)

        release_version = self.release_version

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "deployment_id": deployment_id,
                "release_version": release_version,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        deployment_id = UUID(d.pop("deployment_id"))

        release_version = d.pop("release_version")

        status = DeploymentStatus(d.pop("status"))

        cell_deployment_dto = cls(
            at=at,
            deployment_id=deployment_id,
            release_version=release_version,
            status=status,
        )

        cell_deployment_dto.additional_properties = d
        return cell_deployment_dto

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
