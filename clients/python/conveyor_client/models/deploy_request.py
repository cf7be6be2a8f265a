from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DeployRequest")


@_attrs_define
class DeployRequest:
    """Body of `POST /api/v1/releases/{id}/deployments`.

    Attributes:
        environment (str): Target environment.
        override_freeze (None | str | Unset): Deploy although a freeze holds there: the reason, recorded on the
            deployment (needs
            the `freeze:override` scope).
        supersede_waiting (bool | Unset): Mark this project's deployments into the environment that still wait (for
            approval or
            an agent) as superseded by this one; they are recorded as superseded, not deleted.
    """

    environment: str
    override_freeze: None | str | Unset = UNSET
    supersede_waiting: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        environment = self.environment

        override_freeze: None | str | Unset
        if isinstance(self.override_freeze, Unset):
            override_freeze = UNSET
        else:
            override_freeze = self.override_freeze

        supersede_waiting = self.supersede_waiting

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "environment": environment,
            }
        )
        if override_freeze is not UNSET:
            field_dict["override_freeze"] = override_freeze
        if supersede_waiting is not UNSET:
            field_dict["supersede_waiting"] = supersede_waiting

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        environment = d.pop("environment")

        def _parse_override_freeze(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        override_freeze = _parse_override_freeze(d.pop("override_freeze", UNSET))

        supersede_waiting = d.pop("supersede_waiting", UNSET)

        deploy_request = cls(
            environment=environment,
            override_freeze=override_freeze,
            supersede_waiting=supersede_waiting,
        )

        return deploy_request
