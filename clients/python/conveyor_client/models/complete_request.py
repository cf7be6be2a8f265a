from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.job_outcome import JobOutcome
from ..types import UNSET, Unset

T = TypeVar("T", bound="CompleteRequest")


@_attrs_define
class CompleteRequest:
    """Body of `POST /api/v1/jobs/{id}/complete`.

    Attributes:
        lease_id (UUID): The lease.
        outcome (JobOutcome): Succeeded or failed.
        reason (None | str | Unset): Why it failed.
    """

    lease_id: UUID
    outcome: JobOutcome
    reason: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        lease_id = str(self.lease_id)

        outcome = self.outcome.value

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "lease_id": lease_id,
                "outcome": outcome,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        lease_id = UUID(d.pop("lease_id"))

        outcome = JobOutcome(d.pop("outcome"))

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        complete_request = cls(
            lease_id=lease_id,
            outcome=outcome,
            reason=reason,
        )

        return complete_request
