from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.approval_decision import ApprovalDecision
from ..types import UNSET, Unset

T = TypeVar("T", bound="ApprovalRequest")


@_attrs_define
class ApprovalRequest:
    """Body of `POST /api/v1/deployments/{id}/approvals`.

    Attributes:
        decision (ApprovalDecision): approve or reject.
        comment (str | Unset): Why (required to reject).
    """

    decision: ApprovalDecision
    comment: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        decision = self.decision.value

        comment = self.comment

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "decision": decision,
            }
        )
        if comment is not UNSET:
            field_dict["comment"] = comment

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        decision = ApprovalDecision(d.pop("decision"))

        comment = d.pop("comment", UNSET)

        approval_request = cls(
            decision=decision,
            comment=comment,
        )

        return approval_request
