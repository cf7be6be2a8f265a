from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.deployment_kind import DeploymentKind
from ..models.job_kind import JobKind
from ..models.plan_source import PlanSource
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.artifact import Artifact
    from ..models.build_step import BuildStep
    from ..models.job_variable import JobVariable
    from ..models.lease import Lease


T = TypeVar("T", bound="JobAssignment")


@_attrs_define
class JobAssignment:
    """A leased job: everything the agent needs to run it.

    Attributes:
        artifacts (list[Artifact]): Artifacts to deploy (deployments).
        branch (str): Branch.
        commit (str): Commit.
        job_id (UUID): The build's or deployment's id: the `{id}` of `/api/v1/jobs/{id}/…`.
        kind (JobKind): Build or deployment.
        lease (Lease): A lease on a job.
        project (str): Project.
        steps (list[BuildStep]): Steps to run, in order.
        variables (list[JobVariable]): Variables (deployments).
        build_number (int | None | Unset): Build number (builds).
        deployment_kind (DeploymentKind | None | Unset):
        environment (None | str | Unset): Target environment (deployments).
        plan_source (None | PlanSource | Unset):
        previous_release_version (None | str | Unset): The release live in the environment when the deployment was
            requested (deployments).
        release_id (None | Unset | UUID): Release (deployments).
        release_version (None | str | Unset): Release version (deployments).
        repository (None | str | Unset): Repository URL (builds).
    """

    artifacts: list[Artifact]
    branch: str
    commit: str
    job_id: UUID
    kind: JobKind
    lease: Lease
    project: str
    steps: list[BuildStep]
    variables: list[JobVariable]
    build_number: int | None | Unset = UNSET
    deployment_kind: DeploymentKind | None | Unset = UNSET
    environment: None | str | Unset = UNSET
    plan_source: None | PlanSource | Unset = UNSET
    previous_release_version: None | str | Unset = UNSET
    release_id: None | Unset | UUID = UNSET
    release_version: None | str | Unset = UNSET
    repository: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        artifacts = []
        for artifacts_item_data in self.artifacts:
            artifacts_item = artifacts_item_data.to_dict()
            artifacts.append(artifacts_item)

        branch = self.branch

        commit = self.commit

        job_id = str(self.job_id)

        kind = self.kind.value

        lease = self.lease.to_dict()

        project = self.project

        steps = []
        for steps_item_data in self.steps:
            steps_item = steps_item_data.to_dict()
            steps.append(steps_item)

        variables = []
        for variables_item_data in self.variables:
            variables_item = variables_item_data.to_dict()
            variables.append(variables_item)

        build_number: int | None | Unset
        if isinstance(self.build_number, Unset):
            build_number = UNSET
        else:
            build_number = self.build_number

        deployment_kind: None | str | Unset
        if isinstance(self.deployment_kind, Unset):
            deployment_kind = UNSET
        elif isinstance(self.deployment_kind, DeploymentKind):
            deployment_kind = self.deployment_kind.value
        else:
            deployment_kind = self.deployment_kind

        environment: None | str | Unset
        if isinstance(self.environment, Unset):
            environment = UNSET
        else:
            environment = self.environment

        plan_source: None | str | Unset
        if isinstance(self.plan_source, Unset):
            plan_source = UNSET
        elif isinstance(self.plan_source, PlanSource):
            plan_source = self.plan_source.value
        else:
            plan_source = self.plan_source

        previous_release_version: None | str | Unset
        if isinstance(self.previous_release_version, Unset):
            previous_release_version = UNSET
        else:
            previous_release_version = self.previous_release_version

        release_id: None | str | Unset
        if isinstance(self.release_id, Unset):
            release_id = UNSET
        elif isinstance(self.release_id, UUID):
            release_id = str(self.release_id)
        else:
            release_id = self.release_id

        release_version: None | str | Unset
        if isinstance(self.release_version, Unset):
            release_version = UNSET
        else:
            release_version = self.release_version

        repository: None | str | Unset
        if isinstance(self.repository, Unset):
            repository = UNSET
        else:
            repository = self.repository

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "artifacts": artifacts,
                "branch": branch,
                "commit": commit,
                "job_id": job_id,
                "kind": kind,
                "lease": lease,
                "project": project,
                "steps": steps,
                "variables": variables,
            }
        )
        if build_number is not UNSET:
            field_dict["build_number"] = build_number
        if deployment_kind is not UNSET:
            field_dict["deployment_kind"] = deployment_kind
        if environment is not UNSET:
            field_dict["environment"] = environment
        if plan_source is not UNSET:
            field_dict["plan_source"] = plan_source
        if previous_release_version is not UNSET:
            field_dict["previous_release_version"] = previous_release_version
        if release_id is not UNSET:
            field_dict["release_id"] = release_id
        if release_version is not UNSET:
            field_dict["release_version"] = release_version
        if repository is not UNSET:
            field_dict["repository"] = repository

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.artifact import Artifact
        from ..models.build_step import BuildStep
        from ..models.job_variable import JobVariable
        from ..models.lease import Lease

        d = dict(src_dict)
        artifacts = []
        _artifacts = d.pop("artifacts")
        for artifacts_item_data in _artifacts:
            artifacts_item = Artifact.from_dict(artifacts_item_data)

            artifacts.append(artifacts_item)

        branch = d.pop("branch")

        commit = d.pop("commit")

        job_id = UUID(d.pop("job_id"))

        kind = JobKind(d.pop("kind"))

        lease = Lease.from_dict(d.pop("lease"))

        project = d.pop("project")

        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:
            steps_item = BuildStep.from_dict(steps_item_data)

            steps.append(steps_item)

        variables = []
        _variables = d.pop("variables")
        for variables_item_data in _variables:
            variables_item = JobVariable.from_dict(variables_item_data)

            variables.append(variables_item)

        def _parse_build_number(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        build_number = _parse_build_number(d.pop("build_number", UNSET))

        def _parse_deployment_kind(data: object) -> DeploymentKind | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deployment_kind_type_1 = DeploymentKind(data)

                return deployment_kind_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DeploymentKind | None | Unset, data)

        deployment_kind = _parse_deployment_kind(d.pop("deployment_kind", UNSET))

        def _parse_environment(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        environment = _parse_environment(d.pop("environment", UNSET))

        def _parse_plan_source(data: object) -> None | PlanSource | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                plan_source_type_1 = PlanSource(data)

                return plan_source_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PlanSource | Unset, data)

        plan_source = _parse_plan_source(d.pop("plan_source", UNSET))

        def _parse_previous_release_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        previous_release_version = _parse_previous_release_version(
            d.pop("previous_release_version", UNSET)
        )

        def _parse_release_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                release_id_type_0 = UUID(data)

                return release_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        release_id = _parse_release_id(d.pop("release_id", UNSET))

        def _parse_release_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        release_version = _parse_release_version(d.pop("release_version", UNSET))

        def _parse_repository(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        repository = _parse_repository(d.pop("repository", UNSET))

        job_assignment = cls(
            artifacts=artifacts,
            branch=branch,
            commit=commit,
            job_id=job_id,
            kind=kind,
            lease=lease,
            project=project,
            steps=steps,
            variables=variables,
            build_number=build_number,
            deployment_kind=deployment_kind,
            environment=environment,
            plan_source=plan_source,
            previous_release_version=previous_release_version,
            release_id=release_id,
            release_version=release_version,
            repository=repository,
        )

        job_assignment.additional_properties = d
        return job_assignment

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
