from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Event")


@_attrs_define
class Event:
    """One event of the log.

    Attributes:
        actor (str): Who.
        correlation_id (UUID): Workflow id.
        hash_ (str): Chained SHA-256 (hex).
        id (UUID): Event id (UUID v7).
        payload (Any): Payload.
        position (int): Global position.
        recorded_at (datetime.datetime): Commit time.
        schema_version (int): Payload schema version.
        stream (str): Stream.
        type_ (str): Past-tense type.
        version (int): Version within the stream.
        causation_id (None | Unset | UUID): Direct cause.
        request_id (None | str | Unset): HTTP request id.
    """

    actor: str
    correlation_id: UUID
    hash_: str
    id: UUID
    payload: Any
    position: int
    recorded_at: datetime.datetime
    schema_version: int
    stream: str
    type_: str
    version: int
    causation_id: None | Unset | UUID = UNSET
    request_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        actor = self.actor

        correlation_id = str(self.correlation_id)

        hash_ = self.hash_

        id = str(self.id)

        payload = self.payload

        position = self.position

        recorded_at = self.recorded_at.isoformat()

        schema_version = self.schema_version

        stream = self.stream

        type_ = self.type_

        version = self.version

        causation_id: None | str | Unset
        if isinstance(self.causation_id, Unset):
            causation_id = UNSET
        elif isinstance(self.causation_id, UUID):
            causation_id = str(self.causation_id)
        else:
            causation_id = self.causation_id

        request_id: None | str | Unset
        if isinstance(self.request_id, Unset):
            request_id = UNSET
        else:
            request_id = self.request_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "actor": actor,
                "correlation_id": correlation_id,
                "hash": hash_,
                "id": id,
                "payload": payload,
                "position": position,
                "recorded_at": recorded_at,
                "schema_version": schema_version,
                "stream": stream,
                "type": type_,
                "version": version,
            }
        )
        if causation_id is not UNSET:
            field_dict["causation_id"] = causation_id
        if request_id is not UNSET:
            field_dict["request_id"] = request_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        actor = d.pop("actor")

        correlation_id = UUID(d.pop("correlation_id"))

        hash_ = d.pop("hash")

        id = UUID(d.pop("id"))

        payload = d.pop("payload")

        position = d.pop("position")

        recorded_at = datetime.datetime.fromisoformat(d.pop("recorded_at"))

        schema_version = d.pop("schema_version")

        stream = d.pop("stream")

        type_ = d.pop("type")

        version = d.pop("version")

        def _parse_causation_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                causation_id_type_0 = UUID(data)

                return causation_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        causation_id = _parse_causation_id(d.pop("causation_id", UNSET))

        def _parse_request_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_id = _parse_request_id(d.pop("request_id", UNSET))

        event = cls(
            actor=actor,
            correlation_id=correlation_id,
            hash_=hash_,
            id=id,
            payload=payload,
            position=position,
            recorded_at=recorded_at,
            schema_version=schema_version,
            stream=stream,
            type_=type_,
            version=version,
            causation_id=causation_id,
            request_id=request_id,
        )

        event.additional_properties = d
        return event

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
