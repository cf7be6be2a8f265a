from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Freeze")


@_attrs_define
class Freeze:
    """A freeze window: one-off (`start`, `end`) or recurring (`cron`, `duration_minutes`,
    `timezone`), for every project or one.

        Attributes:
            reason (str): Why.
            active_now (bool | Unset): Whether it holds now (set by the server).
            applies_to_rollback (bool | Unset): Whether rollbacks are frozen too (default: no, a rollback may always run).
            cron (None | str | Unset): Recurring: minute hour day-of-month month day-of-week, e.g. `0 18 * * Fri`.
            duration_minutes (int | None | Unset): Recurring: how long each window lasts.
            end (datetime.datetime | None | Unset): One-off: the end (RFC 3339).
            id (UUID | Unset): Its id (set by the server).
            project (None | str | Unset): Only this project (every project when absent).
            start (datetime.datetime | None | Unset): One-off: the start (RFC 3339).
            timezone (None | str | Unset): Recurring: the IANA time zone the cron expression reads, e.g. `Europe/Berlin`.
    """

    reason: str
    active_now: bool | Unset = UNSET
    applies_to_rollback: bool | Unset = UNSET
    cron: None | str | Unset = UNSET
    duration_minutes: int | None | Unset = UNSET
    end: datetime.datetime | None | Unset = UNSET
    id: UUID | Unset = UNSET
    project: None | str | Unset = UNSET
    start: datetime.datetime | None | Unset = UNSET
    timezone: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        reason = self.reason

        active_now = self.active_now

        applies_to_rollback = self.applies_to_rollback

        cron: None | str | Unset
        if isinstance(self.cron, Unset):
            cron = UNSET
        else:
            cron = self.cron

        duration_minutes: int | None | Unset
        if isinstance(self.duration_minutes, Unset):
            duration_minutes = UNSET
        else:
            duration_minutes = self.duration_minutes

        end: None | str | Unset
        if isinstance(self.end, Unset):
            end = UNSET
        elif isinstance(self.end, datetime.datetime):
            end = self.end.isoformat()
        else:
            end = self.end

        id: str | Unset = UNSET
        if not isinstance(self.id, Unset):
            id = str(self.id)

        project: None | str | Unset
        if isinstance(self.project, Unset):
            project = UNSET
        else:
            project = self.project

        start: None | str | Unset
        if isinstance(self.start, Unset):
            start = UNSET
        elif isinstance(self.start, datetime.datetime):
            start = self.start.isoformat()
        else:
            start = self.start

        timezone: None | str | Unset
        if isinstance(self.timezone, Unset):
            timezone = UNSET
        else:
            timezone = self.timezone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reason": reason,
            }
        )
        if active_now is not UNSET:
            field_dict["active_now"] = active_now
        if applies_to_rollback is not UNSET:
            field_dict["applies_to_rollback"] = applies_to_rollback
        if cron is not UNSET:
            field_dict["cron"] = cron
        if duration_minutes is not UNSET:
            field_dict["duration_minutes"] = duration_minutes
        if end is not UNSET:
            field_dict["end"] = end
        if id is not UNSET:
            field_dict["id"] = id
        if project is not UNSET:
            field_dict["project"] = project
        if start is not UNSET:
            field_dict["start"] = start
        if timezone is not UNSET:
            field_dict["timezone"] = timezone

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        reason = d.pop("reason")

        active_now = d.pop("active_now", UNSET)

        applies_to_rollback = d.pop("applies_to_rollback", UNSET)

        def _parse_cron(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cron = _parse_cron(d.pop("cron", UNSET))

        def _parse_duration_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        duration_minutes = _parse_duration_minutes(d.pop("duration_minutes", UNSET))

        def _parse_end(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                end_type_0 = datetime.datetime.fromisoformat(data)

                return end_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        end = _parse_end(d.pop("end", UNSET))

        _id = d.pop("id", UNSET)
        id: UUID | Unset
        if isinstance(_id, Unset):
            id = UNSET
        else:
            id = UUID(_id)

        def _parse_project(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        project = _parse_project(d.pop("project", UNSET))

        def _parse_start(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                start_type_0 = datetime.datetime.fromisoformat(data)

                return start_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        start = _parse_start(d.pop("start", UNSET))

        def _parse_timezone(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        timezone = _parse_timezone(d.pop("timezone", UNSET))

        freeze = cls(
            reason=reason,
            active_now=active_now,
            applies_to_rollback=applies_to_rollback,
            cron=cron,
            duration_minutes=duration_minutes,
            end=end,
            id=id,
            project=project,
            start=start,
            timezone=timezone,
        )

        return freeze
