from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.build_status import BuildStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.artifact import Artifact
    from ..models.build_step import BuildStep
    from ..models.lease import Lease
    from ..models.status_report import StatusReport
    from ..models.step_result import StepResult


T = TypeVar("T", bound="PageBuildItemsItem")


@_attrs_define
class PageBuildItemsItem:
    """A build.

    Attributes:
        artifacts (list[Artifact]): Artifacts kept.
        branch (str): Branch.
        commit (str): Commit.
        id (UUID): Id.
        number (int): Number within the project.
        plan (list[BuildStep]): Steps of the plan.
        project (str): Project.
        queued_at (datetime.datetime): When it was queued.
        repository (str): Repository URL.
        status (BuildStatus): A build status.
        status_reports (list[StatusReport]): Reports of its state to the git host its push came from, oldest first.
        steps (list[StepResult]): Steps reported by the current attempt.
        version (int): Stream version.
        finished_at (datetime.datetime | None | Unset): When it ended.
        lease (Lease | None | Unset):
        push_id (None | Unset | UUID): The push that queued it.
        reason (None | str | Unset): Why it failed or was cancelled.
        started_at (datetime.datetime | None | Unset): When it started.
    """

    artifacts: list[Artifact]
    branch: str
    commit: str
    id: UUID
    number: int
    plan: list[BuildStep]
    project: str
    queued_at: datetime.datetime
    repository: str
    status: BuildStatus
    status_reports: list[StatusReport]
    steps: list[StepResult]
    version: int
    finished_at: datetime.datetime | None | Unset = UNSET
    lease: Lease | None | Unset = UNSET
    push_id: None | Unset | UUID = UNSET
    reason: None | str | Unset = UNSET
    started_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.lease import Lease

        artifacts = []
        for artifacts_item_data in self.artifacts:
            artifacts_item = artifacts_item_data.to_dict()
            artifacts.append(artifacts_item)

        branch = self.branch

        commit = self.commit

        id = str(self.id)

        number = self.number

        plan = []
        for plan_item_data in self.plan:
            plan_item = plan_item_data.to_dict()
            plan.append(plan_item)

        project = self.project

        queued_at = self.queued_at.isoformat()

        repository = self.repository

        status = self.status.value

        status_reports = []
        for status_reports_item_data in self.status_reports:
            status_reports_item = status_reports_item_data.to_dict()
            status_reports.append(status_reports_item)

        steps = []
        for steps_item_data in self.steps:
            steps_item = steps_item_data.to_dict()
            steps.append(steps_item)

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

        push_id: None | str | Unset
        if isinstance(self.push_id, Unset):
            push_id = UNSET
        elif isinstance(self.push_id, UUID):
            push_id = str(self.push_id)
        else:
            push_id = self.push_id

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        elif isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "artifacts": artifacts,
                "branch": branch,
                "commit": commit,
                "id": id,
                "number": number,
                "plan": plan,
                "project": project,
                "queued_at": queued_at,
                "repository": repository,
                "status": status,
                "status_reports": status_reports,
                "steps": steps,
                "version": version,
            }
        )
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if lease is not UNSET:
            field_dict["lease"] = lease
        if push_id is not UNSET:
            field_dict["push_id"] = push_id
        if reason is not UNSET:
            field_dict["reason"] = reason
        if started_at is not UNSET:
            field_dict["started_at"] = started_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.artifact import Artifact
        from ..models.build_step import BuildStep
        from ..models.lease import Lease
        from ..models.status_report import StatusReport
        from ..models.step_result import StepResult

        d = dict(src_dict)
        artifacts = []
        _artifacts = d.pop("artifacts")
        for artifacts_item_data in _artifacts:
            artifacts_item = Artifact.from_dict(artifacts_item_data)

            artifacts.append(artifacts_item)

        branch = d.pop("branch")

        commit = d.pop("commit")

        id = UUID(d.pop("id"))

        number = d.pop("number")

        plan = []
        _plan = d.pop("plan")
        for plan_item_data in _plan:
            plan_item = BuildStep.from_dict(plan_item_data)

            plan.append(plan_item)

        project = d.pop("project")

        queued_at = datetime.datetime.fromisoformat(d.pop("queued_at"))

        repository = d.pop("repository")

        status = BuildStatus(d.pop("status"))

        status_reports = []
        _status_reports = d.pop("status_reports")
        for status_reports_item_data in _status_reports:
            status_reports_item = StatusReport.from_dict(status_reports_item_data)

            status_reports.append(status_reports_item)

        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:
            steps_item = StepResult.from_dict(steps_item_data)

            steps.append(steps_item)

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

        def _parse_push_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                push_id_type_0 = UUID(data)

                return push_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        push_id = _parse_push_id(d.pop("push_id", UNSET))

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

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

        page_build_items_item = cls(
            artifacts=artifacts,
            branch=branch,
            commit=commit,
            id=id,
            number=number,
            plan=plan,
            project=project,
            queued_at=queued_at,
            repository=repository,
            status=status,
            status_reports=status_reports,
            steps=steps,
            version=version,
            finished_at=finished_at,
            lease=lease,
            push_id=push_id,
            reason=reason,
            started_at=started_at,
        )

        page_build_items_item.additional_properties = d
        return page_build_items_item

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
