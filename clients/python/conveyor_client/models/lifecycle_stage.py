from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="LifecycleStage")


@_attrs_define
class LifecycleStage:
    """One lifecycle stage.

    Attributes:
        environment (str): Environment name.
        automatic (bool | Unset): Deploy automatically when the previous stage succeeded (or on release for the first).
    """

    environment: str
    automatic: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        environment = self.environment

        automatic = self.automatic

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "environment": environment,
            }
        )
        if automatic is not UNSET:
            field_dict["automatic"] = automatic

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        environment = d.pop("environment")

        automatic = d.pop("automatic", UNSET)

        lifecycle_stage = cls(
            environment=environment,
            automatic=automatic,
        )

        return lifecycle_stage
