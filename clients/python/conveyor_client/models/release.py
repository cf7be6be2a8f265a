from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.artifact import Artifact
    from ..models.deployment_step import DeploymentStep
    from ..models.release_lifecycle_dto import ReleaseLifecycleDto
    from ..models.variable import Variable


T = TypeVar("T", bound="Release")


@_attrs_define
class Release:
    """A release: an immutable snapshot.

    Attributes:
        artifacts (list[Artifact]): The build's artifacts.
        branch (str): Branch.
        build_id (UUID): Build it came from.
        commit (str): Commit.
        created_at (datetime.datetime): When.
        created_by (str): Who created it.
        deployment_steps (list[DeploymentStep]): Deployment steps at release time.
        deployments (list[UUID]): Its deployments, oldest first.
        id (UUID): Id.
        lifecycle (ReleaseLifecycleDto): The lifecycle a release follows, as it was when the release was created.
        project (str): Project.
        succeeded_in (list[str]): Environments where it was deployed successfully.
        variables (list[Variable]): Variables at release time (sensitive values masked).
        version (str): Version label.
        blocked (None | str | Unset): Why it is blocked (deployed nowhere), when it is.
        content_deleted (None | str | Unset): When retention deleted its artifact bytes and logs: the rule (it can no
            longer be
            deployed; its history stays).
    """

    artifacts: list[Artifact]
    branch: str
    build_id: UUID
    commit: str
    created_at: datetime.datetime
    created_by: str
    deployment_steps: list[DeploymentStep]
    deployments: list[UUID]
    id: UUID
    lifecycle: ReleaseLifecycleDto
    project: str
    succeeded_in: list[str]
    variables: list[Variable]
    version: str
    blocked: None | str | Unset = UNSET
    content_deleted: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        artifacts = []
        for artifacts_item_data in self.artifacts:
            artifacts_item = artifacts_item_data.to_dict()
            artifacts.append(artifacts_item)

        branch = self.branch

        build_id = str(self.build_id)

        commit = self.commit

        created_at = self.created_at.isoformat()

        created_by = self.created_by

        deployment_steps = []
        for deployment_steps_item_data in self.deployment_steps:
            deployment_steps_item = deployment_steps_item_data.to_dict()
            deployment_steps.append(deployment_steps_item)

        deployments = []
        for deployments_item_data in self.deployments:
            deployments_item = str(deployments_item_data)
            deployments.append(deployments_item)

        id = str(self.id)

        lifecycle = self.lifecycle.to_dict()

        project = self.project

        succeeded_in = self.succeeded_in

        variables = []
        for variables_item_data in self.variables:
            variables_item = variables_item_data.to_dict()
            variables.append(variables_item)

        version = self.version

        blocked: None | str | Unset
        if isinstance(self.blocked, Unset):
            blocked = UNSET
        else:
            blocked = self.blocked

        content_deleted: None | str | Unset
        if isinstance(self.content_deleted, Unset):
            content_deleted = UNSET
        else:
            content_deleted = self.content_deleted

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "artifacts": artifacts,
                "branch": branch,
                "build_id": build_id,
                "commit": commit,
                "created_at": created_at,
                "created_by": created_by,
                "deployment_steps": deployment_steps,
                "deployments": deployments,
                "id": id,
                "lifecycle": lifecycle,
                "project": project,
                "succeeded_in": succeeded_in,
                "variables": variables,
                "version": version,
            }
        )
        if blocked is not UNSET:
            field_dict["blocked"] = blocked
        if content_deleted is not UNSET:
            field_dict["content_deleted"] = content_deleted

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.artifact import Artifact
        from ..models.deployment_step import DeploymentStep
        from ..models.release_lifecycle_dto import ReleaseLifecycleDto
        from ..models.variable import Variable

        d = dict(src_dict)
        artifacts = []
        _artifacts = d.pop("artifacts")
        for artifacts_item_data in _artifacts:
            artifacts_item = Artifact.from_dict(artifacts_item_data)

            artifacts.append(artifacts_item)

        branch = d.pop("branch")

        build_id = UUID(d.pop("build_id"))

        commit = d.pop("commit")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        deployment_steps = []
        _deployment_steps = d.pop("deployment_steps")
        for deployment_steps_item_data in _deployment_steps:
            deployment_steps_item = DeploymentStep.from_dict(deployment_steps_item_data)

            deployment_steps.append(deployment_steps_item)

        deployments = []
        _deployments = d.pop("deployments")
        for deployments_item_data in _deployments:
            deployments_item = UUID(deployments_item_data)

            deployments.append(deployments_item)

        id = UUID(d.pop("id"))

        lifecycle = ReleaseLifecycleDto.from_dict(d.pop("lifecycle"))

        project = d.pop("project")

        succeeded_in = cast(list[str], d.pop("succeeded_in"))

        variables = []
        _variables = d.pop("variables")
        for variables_item_data in _variables:
            variables_item = Variable.from_dict(variables_item_data)

            variables.append(variables_item)

        version = d.pop("version")

        def _parse_blocked(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        blocked = _parse_blocked(d.pop("blocked", UNSET))

        def _parse_content_deleted(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        content_deleted = _parse_content_deleted(d.pop("content_deleted", UNSET))

        release = cls(
            artifacts=artifacts,
            branch=branch,
            build_id=build_id,
            commit=commit,
            created_at=created_at,
            created_by=created_by,
            deployment_steps=deployment_steps,
            deployments=deployments,
            id=id,
            lifecycle=lifecycle,
            project=project,
            succeeded_in=succeeded_in,
            variables=variables,
            version=version,
            blocked=blocked,
            content_deleted=content_deleted,
        )

        release.additional_properties = d
        return release

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
