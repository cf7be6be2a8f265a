from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.problem_details_actual_type_0 import ProblemDetailsActualType0
    from ..models.problem_details_expected_type_0 import ProblemDetailsExpectedType0


T = TypeVar("T", bound="ProblemDetails")


@_attrs_define
class ProblemDetails:
    """An RFC 9457 problem document, the body of every 4xx and 5xx answer of the API.

    Attributes:
        detail (str): What went wrong in this occurrence, for a human.
        status (int): The HTTP status code of the answer.
        title (str): A short summary of the kind of problem; the same for every occurrence of a `type`.
        type_ (str): A stable URI naming the kind of problem, `https://conveyor.dev/problems/<slug>`.
        actual (None | ProblemDetailsActualType0 | Unset): What was actually found (409 answers).
        expected (None | ProblemDetailsExpectedType0 | Unset): What the request expected (409 answers: a stream version
            or a workflow state).
        field (None | str | Unset): The offending request field (validation errors and bad request bodies).
        instance (None | str | Unset): Identifies this occurrence (`urn:uuid:<error id>` for internal errors, to quote
            to
            operators).
        missing_scope (None | str | Unset): The scope the caller lacks (403 answers).
    """

    detail: str
    status: int
    title: str
    type_: str
    actual: None | ProblemDetailsActualType0 | Unset = UNSET
    expected: None | ProblemDetailsExpectedType0 | Unset = UNSET
    field: None | str | Unset = UNSET
    instance: None | str | Unset = UNSET
    missing_scope: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.problem_details_actual_type_0 import ProblemDetailsActualType0
        from ..models.problem_details_expected_type_0 import ProblemDetailsExpectedType0

        detail = self.detail

        status = self.status

        title = self.title

        type_ = self.type_

        actual: dict[str, Any] | None | Unset
        if isinstance(self.actual, Unset):
            actual = UNSET
        elif isinstance(self.actual, ProblemDetailsActualType0):
            actual = self.actual.to_dict()
        else:
            actual = self.actual

        expected: dict[str, Any] | None | Unset
        if isinstance(self.expected, Unset):
            expected = UNSET
        elif isinstance(self.expected, ProblemDetailsExpectedType0):
            expected = self.expected.to_dict()
        else:
            expected = self.expected

        field: None | str | Unset
        if isinstance(self.field, Unset):
            field = UNSET
        else:
            field = self.field

        instance: None | str | Unset
        if isinstance(self.instance, Unset):
            instance = UNSET
        else:
            instance = self.instance

        missing_scope: None | str | Unset
        if isinstance(self.missing_scope, Unset):
            missing_scope = UNSET
        else:
            missing_scope = self.missing_scope

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "detail": detail,
                "status": status,
                "title": title,
                "type": type_,
            }
        )
        if actual is not UNSET:
            field_dict["actual"] = actual
        if expected is not UNSET:
            field_dict["expected"] = expected
        if field is not UNSET:
            field_dict["field"] = field
        if instance is not UNSET:
            field_dict["instance"] = instance
        if missing_scope is not UNSET:
            field_dict["missing_scope"] = missing_scope

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.problem_details_actual_type_0 import ProblemDetailsActualType0
        from ..models.problem_details_expected_type_0 import ProblemDetailsExpectedType0

        d = dict(src_dict)
        detail = d.pop("detail")

        status = d.pop("status")

        title = d.pop("title")

        type_ = d.pop("type")

        def _parse_actual(data: object) -> None | ProblemDetailsActualType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                actual_type_0 = ProblemDetailsActualType0.from_dict(data)

                return actual_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProblemDetailsActualType0 | Unset, data)

        actual = _parse_actual(d.pop("actual", UNSET))

        def _parse_expected(data: object) -> None | ProblemDetailsExpectedType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                expected_type_0 = ProblemDetailsExpectedType0.from_dict(data)

                return expected_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProblemDetailsExpectedType0 | Unset, data)

        expected = _parse_expected(d.pop("expected", UNSET))

        def _parse_field(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        field = _parse_field(d.pop("field", UNSET))

        def _parse_instance(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        instance = _parse_instance(d.pop("instance", UNSET))

        def _parse_missing_scope(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        missing_scope = _parse_missing_scope(d.pop("missing_scope", UNSET))

        problem_details = cls(
            detail=detail,
            status=status,
            title=title,
            type_=type_,
            actual=actual,
            expected=expected,
            field=field,
            instance=instance,
            missing_scope=missing_scope,
        )

        problem_details.additional_properties = d
        return problem_details

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
