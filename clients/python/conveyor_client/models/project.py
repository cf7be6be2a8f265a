from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.plan_source import PlanSource
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.build_step import BuildStep
    from ..models.channel import Channel
    from ..models.deployment_step import DeploymentStep
    from ..models.lifecycle_stage import LifecycleStage
    from ..models.retention import Retention
    from ..models.variable import Variable


T = TypeVar("T", bound="Project")


@_attrs_define
class Project:
    """A project.

    Attributes:
        branch (str): Branch glob.
        build_steps (list[BuildStep]): Build steps.
        build_tags (bool): Whether pushed tags are built.
        channels (list[Channel]): Channels, first match wins.
        created_at (datetime.datetime): When it was created.
        deployment_steps (list[DeploymentStep]): Deployment steps.
        description (str): Free text.
        lifecycle (list[LifecycleStage]): The project's own lifecycle.
        name (str): Name.
        plan_source (PlanSource): Where a build's plan comes from.
        repository (str): Repository URL.
        updated_at (datetime.datetime): When it last changed.
        variables (list[Variable]): Variables (sensitive values masked).
        version (int): Stream version (send as `If-Match`).
        pipelines (None | str | Unset): The build plan as a Bitbucket Pipelines document.
        retention (None | Retention | Unset):
    """

    branch: str
    build_steps: list[BuildStep]
    build_tags: bool
    channels: list[Channel]
    created_at: datetime.datetime
    deployment_steps: list[DeploymentStep]
    description: str
    lifecycle: list[LifecycleStage]
    name: str
    plan_source: PlanSource
    repository: str
    updated_at: datetime.datetime
    variables: list[Variable]
    version: int
    pipelines: None | str | Unset = UNSET
    retention: None | Retention | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.retention import Retention

        branch = self.branch

        build_steps = []
        for build_steps_item_data in self.build_steps:
            build_steps_item = build_steps_item_data.to_dict()
            build_steps.append(build_steps_item)

        build_tags = self.build_tags

        channels = []
        for channels_item_data in self.channels:
            channels_item = channels_item_data.to_dict()
            channels.append(channels_item)

        created_at = self.created_at.isoformat()

        deployment_steps = []
        for deployment_steps_item_data in self.deployment_steps:
            deployment_steps_item = deployment_steps_item_data.to_dict()
            deployment_steps.append(deployment_steps_item)

        description = self.description

        lifecycle = []
        for lifecycle_item_data in self.lifecycle:
            lifecycle_item = lifecycle_item_data.to_dict()
            lifecycle.append(lifecycle_item)

        name = self.name

        plan_source = self.plan_source.value

        repository = self.repository

        updated_at = self.updated_at.isoformat()

        variables = []
        for variables_item_data in self.variables:
            variables_item = variables_item_data.to_dict()
            variables.append(variables_item)

        version = self.version

        pipelines: None | str | Unset
        if isinstance(self.pipelines, Unset):
            pipelines = UNSET
        else:
            pipelines = self.pipelines

        retention: dict[str, Any] | None | Unset
        if isinstance(self.retention, Unset):
            retention = UNSET
        elif isinstance(self.retention, Retention):
            retention = self.retention.to_dict()
        else:
            retention = self.retention

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "branch": branch,
                "build_steps": build_steps,
                "build_tags": build_tags,
                "channels": channels,
                "created_at": created_at,
                "deployment_steps": deployment_steps,
                "description": description,
                "lifecycle": lifecycle,
                "name": name,
                "plan_source": plan_source,
                "repository": repository,
                "updated_at": updated_at,
                "variables": variables,
                "version": version,
            }
        )
        if pipelines is not UNSET:
            field_dict["pipelines"] = pipelines
        if retention is not UNSET:
            field_dict["retention"] = retention

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
        branch = d.pop("branch")

        build_steps = []
        _build_steps = d.pop("build_steps")
        for build_steps_item_data in _build_steps:
            build_steps_item = BuildStep.from_dict(build_steps_item_data)

            build_steps.append(build_steps_item)

        build_tags = d.pop("build_tags")

        channels = []
        _channels = d.pop("channels")
        for channels_item_data in _channels:
            channels_item = Channel.from_dict(channels_item_data)

            channels.append(channels_item)

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        deployment_steps = []
        _deployment_steps = d.pop("deployment_steps")
        for deployment_steps_item_data in _deployment_steps:
            deployment_steps_item = DeploymentStep.from_dict(deployment_steps_item_data)

            deployment_steps.append(deployment_steps_item)

        description = d.pop("description")

        lifecycle = []
        _lifecycle = d.pop("lifecycle")
        for lifecycle_item_data in _lifecycle:
            lifecycle_item = LifecycleStage.from_dict(lifecycle_item_data)

            lifecycle.append(lifecycle_item)

        name = d.pop("name")

        plan_source = PlanSource(d.pop("plan_source"))

        repository = d.pop("repository")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        variables = []
        _variables = d.pop("variables")
        for variables_item_data in _variables:
            variables_item = Variable.from_dict(variables_item_data)

            variables.append(variables_item)

        version = d.pop("version")

        def _parse_pipelines(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        pipelines = _parse_pipelines(d.pop("pipelines", UNSET))

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

        project = cls(
            branch=branch,
            build_steps=build_steps,
            build_tags=build_tags,
            channels=channels,
            created_at=created_at,
            deployment_steps=deployment_steps,
            description=description,
            lifecycle=lifecycle,
            name=name,
            plan_source=plan_source,
            repository=repository,
            updated_at=updated_at,
            variables=variables,
            version=version,
            pipelines=pipelines,
            retention=retention,
        )

        project.additional_properties = d
        return project

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
