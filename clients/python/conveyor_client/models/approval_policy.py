from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.approval_rule import ApprovalRule


T = TypeVar("T", bound="ApprovalPolicy")


@_attrs_define
class ApprovalPolicy:
    """Who must approve deployments into an environment.

    Attributes:
        allow_self_approval (bool | Unset): Whether whoever requested the deployment or created the release may approve
            it.
        approval_timeout_seconds (int | None | Unset): A deployment still waiting for approval this many seconds after
            it was requested
            expires (none: it waits forever).
        required_approvals (int | Unset): Distinct approvals (by subjects holding `approve:<env>`) needed before
            deploying.
        rules (list[ApprovalRule] | Unset): Further rules that must all hold too, each counting distinct approvers (a
            subject
            counts for one rule only), e.g. `[{"scope": "approve:security", "count": 1}]`.
    """

    allow_self_approval: bool | Unset = UNSET
    approval_timeout_seconds: int | None | Unset = UNSET
    required_approvals: int | Unset = UNSET
    rules: list[ApprovalRule] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        allow_self_approval = self.allow_self_approval

        approval_timeout_seconds: int | None | Unset
        if isinstance(self.approval_timeout_seconds, Unset):
            approval_timeout_seconds = UNSET
        else:
            approval_timeout_seconds = self.approval_timeout_seconds

        required_approvals = self.required_approvals

        rules: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.rules, Unset):
            rules = []
            for rules_item_data in self.rules:
                rules_item = rules_item_data.to_dict()
                rules.append(rules_item)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if allow_self_approval is not UNSET:
            field_dict["allow_self_approval"] = allow_self_approval
        if approval_timeout_seconds is not UNSET:
            field_dict["approval_timeout_seconds"] = approval_timeout_seconds
        if required_approvals is not UNSET:
            field_dict["required_approvals"] = required_approvals
        if rules is not UNSET:
            field_dict["rules"] = rules

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.approval_rule import ApprovalRule

        d = dict(src_dict)
        allow_self_approval = d.pop("allow_self_approval", UNSET)

        def _parse_approval_timeout_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        approval_timeout_seconds = _parse_approval_timeout_seconds(
            d.pop("approval_timeout_seconds", UNSET)
        )

        required_approvals = d.pop("required_approvals", UNSET)

        _rules = d.pop("rules", UNSET)
        rules: list[ApprovalRule] | Unset = UNSET
        if _rules is not UNSET:
            rules = []
            for rules_item_data in _rules:
                rules_item = ApprovalRule.from_dict(rules_item_data)

                rules.append(rules_item)

        approval_policy = cls(
            allow_self_approval=allow_self_approval,
            approval_timeout_seconds=approval_timeout_seconds,
            required_approvals=required_approvals,
            rules=rules,
        )

        return approval_policy
