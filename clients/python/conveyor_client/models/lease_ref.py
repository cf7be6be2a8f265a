from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="LeaseRef")


@_attrs_define
class LeaseRef:
    """Body of `POST /api/v1/jobs/{id}/heartbeat` and `/start`.

    Attributes:
        lease_id (UUID): The lease.
    """

    lease_id: UUID

    def to_dict(self) -> dict[str, Any]:
        lease_id = str(self.lease_id)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "lease_id": lease_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        lease_id = UUID(d.pop("lease_id"))

        lease_ref = cls(
            lease_id=lease_id,
        )

        return lease_ref
