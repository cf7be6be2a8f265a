from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.approval_policy import ApprovalPolicy


T = TypeVar("T", bound="CreateEnvironmentRequest")


@_attrs_define
class CreateEnvironmentRequest:
    """Body of `POST /api/v1/environments`.

    Attributes:
        name (str): Lowercase letters, digits, `-`, `_`. Example: production.
        approval_policy (ApprovalPolicy | Unset): Who must approve deployments into an environment.
        auto_rollback (bool | Unset): Roll a failed deployment back automatically to the last release that succeeded
            here,
            and hold automatic promotion of its project until a person promotes.
        description (str | Unset): Free text.
        soak_seconds (int | None | Unset): Soak time: a release may be deployed here only once it has been ready this
            many
            seconds — since it met the requirement of the lifecycle phase before. A manual
            promotion before then is refused (409 `soak-time-not-elapsed`); an automatic one waits.
    """

    name: str
    approval_policy: ApprovalPolicy | Unset = UNSET
    auto_rollback: bool | Unset = UNSET
    description: str | Unset = UNSET
    soak_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        approval_policy: dict[str, Any] | Unset = UNSET
        if not isinstance(self.approval_policy, Unset):
            approval_policy = self.approval_policy.to_dict()

        auto_rollback = self.auto_rollback

        description = self.description

        soak_seconds: int | None | Unset
        if isinstance(self.soak_seconds, Unset):
            soak_seconds = UNSET
        else:
            soak_seconds = self.soak_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if approval_policy is not UNSET:
            field_dict["approval_policy"] = approval_policy
        if auto_rollback is not UNSET:
            field_dict["auto_rollback"] = auto_rollback
        if description is not UNSET:
            field_dict["description"] = description
        if soak_seconds is not UNSET:
            field_dict["soak_seconds"] = soak_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.approval_policy import ApprovalPolicy

        d = dict(src_dict)
        name = d.pop("name")

        _approval_policy = d.pop("approval_policy", UNSET)
        approval_policy: ApprovalPolicy | Unset
        if isinstance(_approval_policy, Unset):
            approval_policy = UNSET
        else:
            approval_policy = ApprovalPolicy.from_dict(_approval_policy)

        auto_rollback = d.pop("auto_rollback", UNSET)

        description = d.pop("description", UNSET)

        def _parse_soak_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        soak_seconds = _parse_soak_seconds(d.pop("soak_seconds", UNSET))

        create_environment_request = cls(
            name=name,
            approval_policy=approval_policy,
            auto_rollback=auto_rollback,
            description=description,
            soak_seconds=soak_seconds,
        )

        return create_environment_request
