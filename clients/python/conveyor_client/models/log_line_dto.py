from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.log_stream_dto import LogStreamDto

T = TypeVar("T", bound="LogLineDto")


@_attrs_define
class LogLineDto:
    """One captured line.

    Attributes:
        at (datetime.datetime): When the agent captured it.
        step (str): The step it belongs to.
        stream (LogStreamDto): Which output of a step a line came from.
        text (str): The line, without its line break.
    """

    at: datetime.datetime
    step: str
    stream: LogStreamDto
    text: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        step = self.step

        stream = self.stream.value

        text = self.text

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "step": step,
                "stream": stream,
                "text": text,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        step = d.pop("step")

        stream = LogStreamDto(d.pop("stream"))

        text = d.pop("text")

        log_line_dto = cls(
            at=at,
            step=step,
            stream=stream,
            text=text,
        )

        log_line_dto.additional_properties = d
        return log_line_dto

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
