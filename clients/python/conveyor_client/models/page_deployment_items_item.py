from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.deployment_kind import DeploymentKind
from ..models.deployment_status import DeploymentStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.approval import Approval
    from ..models.lease import Lease
    from ..models.resolved_variable import ResolvedVariable
    from ..models.step_result import StepResult


T = TypeVar("T", bound="PageDeploymentItemsItem")


@_attrs_define
class PageDeploymentItemsItem:
    """A deployment.

    Attributes:
        approvals (list[Approval]): Decisions so far.
        environment (str): Environment.
        id (UUID): Id.
        kind (DeploymentKind): Deploy, redeploy or rollback.
        project (str): Project.
        release_id (UUID): Release.
        release_version (str): Release version.
        requested_at (datetime.datetime): When requested.
        requested_by (str): Who requested it.
        required_approvals (int): Approvals needed.
        status (DeploymentStatus): A deployment status.
        steps (list[StepResult]): Steps reported.
        variables (list[ResolvedVariable]): The release's variables resolved for this environment, with the scope each
            value came
            from (sensitive values masked).
        version (int): Stream version.
        finished_at (datetime.datetime | None | Unset): When it ended.
        lease (Lease | None | Unset):
        previous_release_version (None | str | Unset): The release live in the environment when this deployment was
            requested.
        reason (None | str | Unset): Why it failed or was cancelled.
        reverts (None | Unset | UUID): For a rollback: the deployment it reverts.
        started_at (datetime.datetime | None | Unset): When it started.
        waiting_until (datetime.datetime | None | Unset): While it waits out a soak time: when the wait ends.
    """

    approvals: list[Approval]
    environment: str
    id: UUID
    kind: DeploymentKind
    project: str
    release_id: UUID
    release_version: str
    requested_at: datetime.datetime
    requested_by: str
    required_approvals: int
    status: DeploymentStatus
    steps: list[StepResult]
    variables: list[ResolvedVariable]
    version: int
    finished_at: datetime.datetime | None | Unset = UNSET
    lease: Lease | None | Unset = UNSET
    previous_release_version: None | str | Unset = UNSET
    reason: None | str | Unset = UNSET
    reverts: None | Unset | UUID = UNSET
    started_at: datetime.datetime | None | Unset = UNSET
    waiting_until: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.lease import Lease

        approvals = []
        for approvals_item_data in self.approvals:
            approvals_item = approvals_item_data.to_dict()
            approvals.append(approvals_item)

        environment = self.environment

        id = str(self.id)

        kind = self.kind.value

        project = self.project

        release_id = str(self.release_id)

        release_version = self.release_version

        requested_at = self.requested_at.isoformat()

        requested_by = self.requested_by

        required_approvals = self.required_approvals

        status = self.status.value

        steps = []
        for steps_item_data in self.steps:
            steps_item = steps_item_data.to_dict()
            steps.append(steps_item)

        variables = []
        for variables_item_data in self.variables:
            variables_item = variables_item_data.to_dict()
            variables.append(variables_item)

        version = self.version

        finished_at: None | str | Unset
        if isinstance(self.finished_at, Unset):
            finished_at = UNSET
        elif isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        lease: dict[str, Any] | None | Unset
        if isinstance(self.lease, Unset):
            lease = UNSET
        elif isinstance(self.lease, Lease):
            lease = self.lease.to_dict()
        else:
            lease = self.lease

        previous_release_version: None | str | Unset
        if isinstance(self.previous_release_version, Unset):
            previous_release_version = UNSET
        else:
            previous_release_version = self.previous_release_version

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        reverts: None | str | Unset
        if isinstance(self.reverts, Unset):
            reverts = UNSET
        elif isinstance(self.reverts, UUID):
            reverts = str(self.reverts)
        else:
            reverts = self.reverts

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        elif isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        waiting_until: None | str | Unset
        if isinstance(self.waiting_until, Unset):
            waiting_until = UNSET
        elif isinstance(self.waiting_until, datetime.datetime):
            waiting_until = self.waiting_until.isoformat()
        else:
            waiting_until = self.waiting_until

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "approvals": approvals,
                "environment": environment,
                "id": id,
                "kind": kind,
                "project": project,
                "release_id": release_id,
                "release_version": release_version,
                "requested_at": requested_at,
                "requested_by": requested_by,
                "required_approvals": required_approvals,
                "status": status,
                "steps": steps,
                "variables": variables,
                "version": version,
            }
        )
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if lease is not UNSET:
            field_dict["lease"] = lease
        if previous_release_version is not UNSET:
            field_dict["previous_release_version"] = previous_release_version
        if reason is not UNSET:
            field_dict["reason"] = reason
        if reverts is not UNSET:
            field_dict["reverts"] = reverts
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if waiting_until is not UNSET:
            field_dict["waiting_until"] = waiting_until

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.approval import Approval
        from ..models.lease import Lease
        from ..models.resolved_variable import ResolvedVariable
        from ..models.step_result import StepResult

        d = dict(src_dict)
        approvals = []
        _approvals = d.pop("approvals")
        for approvals_item_data in _approvals:
            approvals_item = Approval.from_dict(approvals_item_data)

            approvals.append(approvals_item)

        environment = d.pop("environment")

        id = UUID(d.pop("id"))

        kind = DeploymentKind(d.pop("kind"))

        project = d.pop("project")

        release_id = UUID(d.pop("release_id"))

        release_version = d.pop("release_version")

        requested_at = datetime.datetime.fromisoformat(d.pop("requested_at"))

        requested_by = d.pop("requested_by")

        required_approvals = d.pop("required_approvals")

        status = DeploymentStatus(d.pop("status"))

        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:
            steps_item = StepResult.from_dict(steps_item_data)

            steps.append(steps_item)

        variables = []
        _variables = d.pop("variables")
        for variables_item_data in _variables:
            variables_item = ResolvedVariable.from_dict(variables_item_data)

            variables.append(variables_item)

        version = d.pop("version")

        def _parse_finished_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        finished_at = _parse_finished_at(d.pop("finished_at", UNSET))

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

        def _parse_previous_release_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        previous_release_version = _parse_previous_release_version(
            d.pop("previous_release_version", UNSET)
        )

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        def _parse_reverts(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reverts_type_0 = UUID(data)

                return reverts_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        reverts = _parse_reverts(d.pop("reverts", UNSET))

        def _parse_started_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        def _parse_waiting_until(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                waiting_until_type_0 = datetime.datetime.fromisoformat(data)

                return waiting_until_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        waiting_until = _parse_waiting_until(d.pop("waiting_until", UNSET))

        page_deployment_items_item = cls(
            approvals=approvals,
            environment=environment,
            id=id,
            kind=kind,
            project=project,
            release_id=release_id,
            release_version=release_version,
            requested_at=requested_at,
            requested_by=requested_by,
            required_approvals=required_approvals,
            status=status,
            steps=steps,
            variables=variables,
            version=version,
            finished_at=finished_at,
            lease=lease,
            previous_release_version=previous_release_version,
            reason=reason,
            reverts=reverts,
            started_at=started_at,
            waiting_until=waiting_until,
        )

        page_deployment_items_item.additional_properties = d
        return page_deployment_items_item

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
