from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.plan_source import PlanSource
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.build_step import BuildStep
    from ..models.channel import Channel
    from ..models.deployment_step import DeploymentStep
    from ..models.lifecycle_stage import LifecycleStage
    from ..models.retention import Retention
    from ..models.variable import Variable


T = TypeVar("T", bound="ProjectRequest")


@_attrs_define
class ProjectRequest:
    """Body of `POST /api/v1/projects` and `PUT /api/v1/projects/{project}`.

    Attributes:
        name (str): Lowercase letters, digits, `-`, `_`. Example: shop.
        repository (str): Repository URL, as pushes report it.
        branch (str | Unset): Branch glob that triggers builds.
        build_steps (list[BuildStep] | Unset): Build steps (or give `pipelines`).
        build_tags (bool | Unset): Build pushed tags too (branches matching `branch` are always built).
        channels (list[Channel] | Unset): Channels, first match wins: a release follows the shared lifecycle of the
            first
            channel whose branch glob matches its build's branch.
        deployment_steps (list[DeploymentStep] | Unset): Deployment steps.
        description (str | Unset): Free text.
        lifecycle (list[LifecycleStage] | Unset): The project's own lifecycle: ordered environments, each a phase that
            must succeed
            before the next. Releases follow it when no channel matches their branch.
        pipelines (None | str | Unset): The build plan as a Bitbucket Pipelines document (`pipelines: default: - step:
            …`,
            `branches: '<glob>': …`); the plan for a build is chosen by its branch. A bad document
            is a 422 naming the line.
        plan_source (PlanSource | Unset): Where a build's plan comes from.
        retention (None | Retention | Unset):
        variables (list[Variable] | Unset): Variables.
    """

    name: str
    repository: str
    branch: str | Unset = UNSET
    build_steps: list[BuildStep] | Unset = UNSET
    build_tags: bool | Unset = UNSET
    channels: list[Channel] | Unset = UNSET
    deployment_steps: list[DeploymentStep] | Unset = UNSET
    description: str | Unset = UNSET
    lifecycle: list[LifecycleStage] | Unset = UNSET
    pipelines: None | str | Unset = UNSET
    plan_source: PlanSource | Unset = UNSET
    retention: None | Retention | Unset = UNSET
    variables: list[Variable] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.retention import Retention

        name = self.name

        repository = self.repository

        branch = self.branch

        build_steps: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.build_steps, Unset):
            build_steps = []
            for build_steps_item_data in self.build_steps:
                build_steps_item = build_steps_item_data.to_dict()
                build_steps.append(build_steps_item)

        build_tags = self.build_tags

        channels: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.channels, Unset):
            channels = []
            for channels_item_data in self.channels:
                channels_item = channels_item_data.to_dict()
                channels.append(channels_item)

        deployment_steps: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.deployment_steps, Unset):
            deployment_steps = []
            for deployment_steps_item_data in self.deployment_steps:
                deployment_steps_item = deployment_steps_item_data.to_dict()
                deployment_steps.append(deployment_steps_item)

        description = self.description

        lifecycle: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.lifecycle, Unset):
            lifecycle = []
            for lifecycle_item_data in self.lifecycle:
                lifecycle_item = lifecycle_item_data.to_dict()
                lifecycle.append(lifecycle_item)

        pipelines: None | str | Unset
        if isinstance(self.pipelines, Unset):
            pipelines = UNSET
        else:
            pipelines = self.pipelines

        plan_source: str | Unset = UNSET
        if not isinstance(self.plan_source, Unset):
            plan_source = self.plan_source.value

        retention: dict[str, Any] | None | Unset
        if isinstance(self.retention, Unset):
            retention = UNSET
        elif isinstance(self.retention, Retention):
            retention = self.retention.to_dict()
        else:
            retention = self.retention

        variables: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.variables, Unset):
            variables = []
            for variables_item_data in self.variables:
                variables_item = variables_item_data.to_dict()
                variables.append(variables_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "repository": repository,
            }
        )
        if branch is not UNSET:
            field_dict["branch"] = branch
        if build_steps is not UNSET:
            field_dict["build_steps"] = build_steps
        if build_tags is not UNSET:
            field_dict["build_tags"] = build_tags
        if channels is not UNSET:
            field_dict["channels"] = channels
        if deployment_steps is not UNSET:
            field_dict["deployment_steps"] = deployment_steps
        if description is not UNSET:
            field_dict["description"] = description
        if lifecycle is not UNSET:
            field_dict["lifecycle"] = lifecycle
        if pipelines is not UNSET:
            field_dict["pipelines"] = pipelines
        if plan_source is not UNSET:
            field_dict["plan_source"] = plan_source
        if retention is not UNSET:
            field_dict["retention"] = retention
        if variables is not UNSET:
            field_dict["variables"] = variables

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.build_step import BuildStep
        from ..models.channel import Channel
        from ..models.deployment_step import DeploymentStep
        from ..models.lifecycle_stage import LifecycleStage
        from ..models.retention import Retention
        from ..models.variable import Variable

        d = dict(src_dict)
        name = d.pop("name")

        repository = d.pop("repository")

        branch = d.pop("branch", UNSET)

        _build_steps = d.pop("build_steps", UNSET)
        build_steps: list[BuildStep] | Unset = UNSET
        if _build_steps is not UNSET:
            build_steps = []
            for build_steps_item_data in _build_steps:
                build_steps_item = BuildStep.from_dict(build_steps_item_data)

                build_steps.append(build_steps_item)

        build_tags = d.pop("build_tags", UNSET)

        _channels = d.pop("channels", UNSET)
        channels: list[Channel] | Unset = UNSET
        if _channels is not UNSET:
            channels = []
            for channels_item_data in _channels:
                channels_item = Channel.from_dict(channels_item_data)

                channels.append(channels_item)

        _deployment_steps = d.pop("deployment_steps", UNSET)
        deployment_steps: list[DeploymentStep] | Unset = UNSET
        if _deployment_steps is not UNSET:
            deployment_steps = []
            for deployment_steps_item_data in _deployment_steps:
                deployment_steps_item = DeploymentStep.from_dict(
                    deployment_steps_item_data
                )

                deployment_steps.append(deployment_steps_item)

        description = d.pop("description", UNSET)

        _lifecycle = d.pop("lifecycle", UNSET)
        lifecycle: list[LifecycleStage] | Unset = UNSET
        if _lifecycle is not UNSET:
            lifecycle = []
            for lifecycle_item_data in _lifecycle:
                lifecycle_item = LifecycleStage.from_dict(lifecycle_item_data)

                lifecycle.append(lifecycle_item)

        def _parse_pipelines(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        pipelines = _parse_pipelines(d.pop("pipelines", UNSET))

        _plan_source = d.pop("plan_source", UNSET)
        plan_source: PlanSource | Unset
        if isinstance(_plan_source, Unset):
            plan_source = UNSET
        else:
            plan_source = PlanSource(_plan_source)

        def _parse_retention(data: object) -> None | Retention | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                retention_type_1 = Retention.from_dict(data)

                return retention_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Retention | Unset, data)

        retention = _parse_retention(d.pop("retention", UNSET))

        _variables = d.pop("variables", UNSET)
        variables: list[Variable] | Unset = UNSET
        if _variables is not UNSET:
            variables = []
            for variables_item_data in _variables:
                variables_item = Variable.from_dict(variables_item_data)

                variables.append(variables_item)

        project_request = cls(
            name=name,
            repository=repository,
            branch=branch,
            build_steps=build_steps,
            build_tags=build_tags,
            channels=channels,
            deployment_steps=deployment_steps,
            description=description,
            lifecycle=lifecycle,
            pipelines=pipelines,
            plan_source=plan_source,
            retention=retention,
            variables=variables,
        )

        return project_request
