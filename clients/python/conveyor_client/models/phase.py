from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.lifecycle_stage import LifecycleStage
    from ..models.progression_type_0 import ProgressionType0
    from ..models.progression_type_1 import ProgressionType1
    from ..models.progression_type_2 import ProgressionType2


T = TypeVar("T", bound="Phase")


@_attrs_define
class Phase:
    """One phase of a lifecycle.

    Attributes:
        environments (list[LifecycleStage]): Its environments, deployed in any order within the phase.
        name (str): Name, unique in the lifecycle.
        progression (ProgressionType0 | ProgressionType1 | ProgressionType2 | Unset): What a phase requires before a
            release may progress past it.
    """

    environments: list[LifecycleStage]
    name: str
    progression: ProgressionType0 | ProgressionType1 | ProgressionType2 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.progression_type_0 import ProgressionType0
        from ..models.progression_type_1 import ProgressionType1

        environments = []
        for environments_item_data in self.environments:
            environments_item = environments_item_data.to_dict()
            environments.append(environments_item)

        name = self.name

        progression: dict[str, Any] | Unset
        if isinstance(self.progression, Unset):
            progression = UNSET
        elif isinstance(self.progression, ProgressionType0) or isinstance(
            self.progression, ProgressionType1
        ):
            progression = self.progression.to_dict()
        else:
            progression = self.progression.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "environments": environments,
                "name": name,
            }
        )
        if progression is not UNSET:
            field_dict["progression"] = progression

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.lifecycle_stage import LifecycleStage
        from ..models.progression_type_0 import ProgressionType0
        from ..models.progression_type_1 import ProgressionType1
        from ..models.progression_type_2 import ProgressionType2

        d = dict(src_dict)
        environments = []
        _environments = d.pop("environments")
        for environments_item_data in _environments:
            environments_item = LifecycleStage.from_dict(environments_item_data)

            environments.append(environments_item)

        name = d.pop("name")

        def _parse_progression(
            data: object,
        ) -> ProgressionType0 | ProgressionType1 | ProgressionType2 | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_progression_type_0 = ProgressionType0.from_dict(data)

                return componentsschemas_progression_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_progression_type_1 = ProgressionType1.from_dict(data)

                return componentsschemas_progression_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_progression_type_2 = ProgressionType2.from_dict(data)

            return componentsschemas_progression_type_2

        progression = _parse_progression(d.pop("progression", UNSET))

        phase = cls(
            environments=environments,
            name=name,
            progression=progression,
        )

        return phase
