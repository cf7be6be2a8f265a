from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PushRequest")


@_attrs_define
class PushRequest:
    """Body of `POST /api/v1/pushes`.

    Attributes:
        commit (str): The commit the ref now points at. Example: 9fceb02d0ae598e95dc970b74767f19372d61af8.
        ref (str): The ref pushed: `refs/heads/main`, or a bare branch name. Example: refs/heads/main.
        repository (str): Repository URL, as the project names it.
        before (None | str | Unset): The commit it pointed at before.
        message (None | str | Unset): Head commit message.
        pusher (None | str | Unset): Who pushed.
    """

    commit: str
    ref: str
    repository: str
    before: None | str | Unset = UNSET
    message: None | str | Unset = UNSET
    pusher: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        commit = self.commit

        ref = self.ref

        repository = self.repository

        before: None | str | Unset
        if isinstance(self.before, Unset):
            before = UNSET
        else:
            before = self.before

        message: None | str | Unset
        if isinstance(self.message, Unset):
            message = UNSET
        else:
            message = self.message

        pusher: None | str | Unset
        if isinstance(self.pusher, Unset):
            pusher = UNSET
        else:
            pusher = self.pusher

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "commit": commit,
                "ref": ref,
                "repository": repository,
            }
        )
        if before is not UNSET:
            field_dict["before"] = before
        if message is not UNSET:
            field_dict["message"] = message
        if pusher is not UNSET:
            field_dict["pusher"] = pusher

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        commit = d.pop("commit")

        ref = d.pop("ref")

        repository = d.pop("repository")

        def _parse_before(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        before = _parse_before(d.pop("before", UNSET))

        def _parse_message(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        message = _parse_message(d.pop("message", UNSET))

        def _parse_pusher(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        pusher = _parse_pusher(d.pop("pusher", UNSET))

        push_request = cls(
            commit=commit,
            ref=ref,
            repository=repository,
            before=before,
            message=message,
            pusher=pusher,
        )

        return push_request
