from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.step_outcome import StepOutcome
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepRequest")


@_attrs_define
class StepRequest:
    """Body of `POST /api/v1/jobs/{id}/steps`.

    Attributes:
        lease_id (UUID): The lease.
        name (str): Step name.
        outcome (StepOutcome): How a step ended.
        duration_ms (int | Unset): Wall time.
        exit_code (int | None | Unset): Exit code.
    """

    lease_id: UUID
    name: str
    outcome: StepOutcome
    duration_ms: int | Unset = UNSET
    exit_code: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        lease_id = str(self.lease_id)

        name = self.name

        outcome = self.outcome.value

        duration_ms = self.duration_ms

        exit_code: int | None | Unset
        if isinstance(self.exit_code, Unset):
            exit_code = UNSET
        else:
            exit_code = self.exit_code

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "lease_id": lease_id,
                "name": name,
                "outcome": outcome,
            }
        )
        if duration_ms is not UNSET:
            field_dict["duration_ms"] = duration_ms
        if exit_code is not UNSET:
            field_dict["exit_code"] = exit_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        lease_id = UUID(d.pop("lease_id"))

        name = d.pop("name")

        outcome = StepOutcome(d.pop("outcome"))

        duration_ms = d.pop("duration_ms", UNSET)

        def _parse_exit_code(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        exit_code = _parse_exit_code(d.pop("exit_code", UNSET))

        step_request = cls(
            lease_id=lease_id,
            name=name,
            outcome=outcome,
            duration_ms=duration_ms,
            exit_code=exit_code,
        )

        return step_request
