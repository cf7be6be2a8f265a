from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_kind import JobKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.lease import Lease


T = TypeVar("T", bound="JobStatus")


@_attrs_define
class JobStatus:
    """A job after a protocol call.

    Attributes:
        job_id (UUID): Id.
        kind (JobKind): Build or deployment.
        status (str): Status (a build's or deployment's status).
        lease (Lease | None | Unset):
    """

    job_id: UUID
    kind: JobKind
    status: str
    lease: Lease | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.lease import Lease

        job_id = str(self.job_id)

        kind = self.kind.value

        status = self.status

        lease: dict[str, Any] | None | Unset
        if isinstance(self.lease, Unset):
            lease = UNSET
        elif isinstance(self.lease, Lease):
            lease = self.lease.to_dict()
        else:
            lease = self.lease

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "kind": kind,
                "status": status,
            }
        )
        if lease is not UNSET:
            field_dict["lease"] = lease

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.lease import Lease

        d = dict(src_dict)
        job_id = UUID(d.pop("job_id"))

        kind = JobKind(d.pop("kind"))

        status = d.pop("status")

        def _parse_lease(data: object) -> Lease | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                lease_type_1 = Lease.from_dict(data)

                return lease_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Lease | None | Unset, data)

        lease = _parse_lease(d.pop("lease", UNSET))

        job_status = cls(
            job_id=job_id,
            kind=kind,
            status=status,
            lease=lease,
        )

        job_status.additional_properties = d
        return job_status

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
