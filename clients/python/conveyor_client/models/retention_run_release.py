from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RetentionRunRelease")


@_attrs_define
class RetentionRunRelease:
    """One release whose content a retention run deleted.

    Attributes:
        artifacts_deleted (list[str]): Digests whose bytes were deleted.
        logs_deleted (list[UUID]): Jobs whose logs were deleted.
        policy (str): The rule that applied.
        release_id (UUID): The release.
        version (str): Its version.
    """

    artifacts_deleted: list[str]
    logs_deleted: list[UUID]
    policy: str
    release_id: UUID
    version: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        artifacts_deleted = self.artifacts_deleted

        logs_deleted = []
        for logs_deleted_item_data in self.logs_deleted:
            logs_deleted_item = str(logs_deleted_item_data)
            logs_deleted.append(logs_deleted_item)

        policy = self.policy

        release_id = str(self.release_id)

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "artifacts_deleted": artifacts_deleted,
                "logs_deleted": logs_deleted,
                "policy": policy,
                "release_id": release_id,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        artifacts_deleted = cast(list[str], d.pop("artifacts_deleted"))

        logs_deleted = []
        _logs_deleted = d.pop("logs_deleted")
        for logs_deleted_item_data in _logs_deleted:
            logs_deleted_item = UUID(logs_deleted_item_data)

            logs_deleted.append(logs_deleted_item)

        policy = d.pop("policy")

        release_id = UUID(d.pop("release_id"))

        version = d.pop("version")

        retention_run_release = cls(
            artifacts_deleted=artifacts_deleted,
            logs_deleted=logs_deleted,
            policy=policy,
            release_id=release_id,
            version=version,
        )

        retention_run_release.additional_properties = d
        return retention_run_release

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
