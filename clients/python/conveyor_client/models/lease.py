from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Lease")


@_attrs_define
class Lease:
    """A lease on a job.

    Attributes:
        agent (str): The agent holding it.
        attempt (int): 1 for the first lease.
        expires_at (datetime.datetime): When it lapses without a heartbeat.
        lease_id (UUID): Send with every report.
    """

    agent: str
    attempt: int
    expires_at: datetime.datetime
    lease_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        agent = self.agent

        attempt = self.attempt

        expires_at = self.expires_at.isoformat()

        lease_id = str(self.lease_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "agent": agent,
                "attempt": attempt,
                "expires_at": expires_at,
                "lease_id": lease_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        agent = d.pop("agent")

        attempt = d.pop("attempt")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        lease_id = UUID(d.pop("lease_id"))

        lease = cls(
            agent=agent,
            attempt=attempt,
            expires_at=expires_at,
            lease_id=lease_id,
        )

        lease.additional_properties = d
        return lease

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
