from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="StatusReport")


@_attrs_define
class StatusReport:
    """One attempt to report a build's state to its git host.

    Attributes:
        attempt (int): 1 for the first attempt at this state.
        delivered (bool): Whether the host accepted it.
        integration (str): The integration reported to.
        state (str): The state, in the host's words.
        target (str): Where it was sent.
        error (None | str | Unset): What went wrong.
        http_status (int | None | Unset): The host's HTTP status.
    """

    attempt: int
    delivered: bool
    integration: str
    state: str
    target: str
    error: None | str | Unset = UNSET
    http_status: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        delivered = self.delivered

        integration = self.integration

        state = self.state

        target = self.target

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        http_status: int | None | Unset
        if isinstance(self.http_status, Unset):
            http_status = UNSET
        else:
            http_status = self.http_status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "delivered": delivered,
                "integration": integration,
                "state": state,
                "target": target,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if http_status is not UNSET:
            field_dict["http_status"] = http_status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        delivered = d.pop("delivered")

        integration = d.pop("integration")

        state = d.pop("state")

        target = d.pop("target")

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_http_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        http_status = _parse_http_status(d.pop("http_status", UNSET))

        status_report = cls(
            attempt=attempt,
            delivered=delivered,
            integration=integration,
            state=state,
            target=target,
            error=error,
            http_status=http_status,
        )

        status_report.additional_properties = d
        return status_report

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
