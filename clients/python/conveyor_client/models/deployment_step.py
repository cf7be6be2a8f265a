from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.deployment_step_environment import DeploymentStepEnvironment


T = TypeVar("T", bound="DeploymentStep")


@_attrs_define
class DeploymentStep:
    """One deployment step.

    Attributes:
        name (str): Name.
        script (str): Shell script.
        environment (DeploymentStepEnvironment | Unset): Extra environment variables for this step.
        timeout_seconds (int | None | Unset): Seconds the step may run before it is killed (the agent's default, one
            hour, when
            absent).
    """

    name: str
    script: str
    environment: DeploymentStepEnvironment | Unset = UNSET
    timeout_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        script = self.script

        environment: dict[str, Any] | Unset = UNSET
        if not isinstance(self.environment, Unset):
            environment = self.environment.to_dict()

        timeout_seconds: int | None | Unset
        if isinstance(self.timeout_seconds, Unset):
            timeout_seconds = UNSET
        else:
            timeout_seconds = self.timeout_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "script": script,
            }
        )
        if environment is not UNSET:
            field_dict["environment"] = environment
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.deployment_step_environment import DeploymentStepEnvironment

        d = dict(src_dict)
        name = d.pop("name")

        script = d.pop("script")

        _environment = d.pop("environment", UNSET)
        environment: DeploymentStepEnvironment | Unset
        if isinstance(_environment, Unset):
            environment = UNSET
        else:
            environment = DeploymentStepEnvironment.from_dict(_environment)

        def _parse_timeout_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        timeout_seconds = _parse_timeout_seconds(d.pop("timeout_seconds", UNSET))

        deployment_step = cls(
            name=name,
            script=script,
            environment=environment,
            timeout_seconds=timeout_seconds,
        )

        return deployment_step
