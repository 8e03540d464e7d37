"""The rule kinds of a data quality check: a small, closed set of typed rules, each naming fields
of the dataset its pack is for. While a pack is read, the dataset's specification is in the
validation context (``DATASET_CONTEXT``), so a field that does not exist or has the wrong type is
refused at its own line.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from carehub.model.check_formats import NamedPattern, ReferenceList
from carehub.model.datasets import NAME_PATTERN, DatasetSpec, FieldType

DATASET_CONTEXT = "dataset"  # the validation context key holding the pack's DatasetSpec


class Category(StrEnum):
    """Kahn's categories (conformance, completeness, plausibility) and the other dimensions
    the hub measures."""

    CONFORMANCE = "conformance"
    COMPLETENESS = "completeness"
    PLAUSIBILITY = "plausibility"
    UNIQUENESS = "uniqueness"
    REFERENTIAL = "referential"
    LINKAGE = "linkage"
    VOLUME = "volume"
    TIMELINESS = "timeliness"
    COVERAGE = "coverage"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def dataset_of(info: ValidationInfo) -> DatasetSpec | None:
    context = info.context
    spec = context.get(DATASET_CONTEXT) if isinstance(context, dict) else None
    return spec if isinstance(spec, DatasetSpec) else None


def require_field(
    spec: DatasetSpec, name: str, types: frozenset[FieldType] | None, kind: str
) -> None:
    names = [f.name for f in spec.fields]
    if name not in names:
        raise ValueError(
            f"dataset {spec.name} has no field {name!r} (its fields: {', '.join(names)})"
        )
    field_type = spec.field(name).type
    if types is not None and field_type not in types:
        wanted = " or ".join(sorted(types))
        raise ValueError(f"a {kind} rule needs a {wanted} field; {name} is a {field_type} field")


MAX_DURATION_HOURS = 24 * 366 * 130  # long enough for an age at a date (at most 120 years)
TIMESTAMPS = frozenset({FieldType.TIMESTAMP})
NUMBERS = frozenset({FieldType.INTEGER, FieldType.DECIMAL})
TEXTS = frozenset({FieldType.STRING, FieldType.CODE})


class _Rule(Frozen):
    """What every rule kind shares: the fields it names, checked against the dataset."""

    kind: str
    FIELD_TYPES: ClassVar[frozenset[FieldType] | None] = None  # None: any type
    CATEGORIES: ClassVar[frozenset[Category]]
    ROW_LEVEL: ClassVar[bool] = True  # one condition per row, in the one-pass query

    def fields(self) -> tuple[str, ...]:
        return ()

    def check_against(self, spec: DatasetSpec) -> None:
        """Raise ValueError if the rule does not fit the dataset."""
        for name in self.fields():
            require_field(spec, name, self.FIELD_TYPES, self.kind)

    @model_validator(mode="after")
    def _fits_the_dataset(self, info: ValidationInfo) -> Self:
        spec = dataset_of(info)
        if spec is not None:
            self.check_against(spec)
        return self


def names_fields(*attributes: str) -> Any:
    """A validator of ``attributes`` that each name a field of the dataset (of the rule's
    ``FIELD_TYPES``), so that a wrong name is refused at its own line of the pack."""

    def check(cls: type[_Rule], name: str, info: ValidationInfo) -> str:
        spec = dataset_of(info)
        if spec is not None:
            require_field(spec, name, cls.FIELD_TYPES, cls.model_fields["kind"].default or "")
        return name

    return field_validator(*attributes)(classmethod(check))


class _FieldRule(_Rule):
    field: str = Field(pattern=NAME_PATTERN)
    _field_exists = names_fields("field")

    def fields(self) -> tuple[str, ...]:
        return (self.field,)


class NotNull(_FieldRule):
    """The field has a value."""

    kind: Literal["not_null"] = "not_null"
    CATEGORIES = frozenset({Category.COMPLETENESS})


class InCodeSet(_FieldRule):
    """The field's value is one of its code set (the dataset's; quarantined rows count)."""

    kind: Literal["in_code_set"] = "in_code_set"
    FIELD_TYPES = frozenset({FieldType.CODE})
    CATEGORIES = frozenset({Category.CONFORMANCE})


class Range(_FieldRule):
    """A number lies between ``min`` and ``max`` (inclusive; either may be left out). The range
    lies within the dataset's own, so rows quarantined as out of range also fail it."""

    kind: Literal["range"] = "range"
    min: float | None = Field(default=None, strict=True)
    max: float | None = Field(default=None, strict=True)
    FIELD_TYPES = NUMBERS
    CATEGORIES = frozenset({Category.PLAUSIBILITY, Category.CONFORMANCE})

    def check_against(self, spec: DatasetSpec) -> None:
        super().check_against(spec)
        if self.min is None and self.max is None:
            raise ValueError("a range rule needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        field = spec.field(self.field)
        if field.minimum is not None and (self.min is None or self.min < field.minimum):
            raise ValueError(f"min must be at least the dataset's minimum {field.minimum}")
        if field.maximum is not None and (self.max is None or self.max > field.maximum):
            raise ValueError(f"max must be at most the dataset's maximum {field.maximum}")


class Pattern(_FieldRule):
    """A text is in a named format (see ``PATTERNS``)."""

    kind: Literal["pattern"] = "pattern"
    format: NamedPattern
    FIELD_TYPES = frozenset({FieldType.STRING})
    CATEGORIES = frozenset({Category.CONFORMANCE})


class InSequence(_Rule):
    """``earlier`` is not after ``later`` when both are present."""

    kind: Literal["sequence"] = "sequence"
    earlier: str = Field(pattern=NAME_PATTERN)
    later: str = Field(pattern=NAME_PATTERN)
    FIELD_TYPES = TIMESTAMPS
    CATEGORIES = frozenset({Category.PLAUSIBILITY, Category.CONFORMANCE})

    _fields_exist = names_fields("earlier", "later")

    def fields(self) -> tuple[str, ...]:
        return (self.earlier, self.later)

    def check_against(self, spec: DatasetSpec) -> None:
        super().check_against(spec)
        if self.earlier == self.later:
            raise ValueError(f"a sequence rule compares {self.earlier} with itself")


class NotAbove(_Rule):
    """A count is not more than another of the same row when both are present (occupied beds
    are some of the open beds; attendances over four hours are some of the attendances)."""

    kind: Literal["not_above"] = "not_above"
    part: str = Field(pattern=NAME_PATTERN)
    whole: str = Field(pattern=NAME_PATTERN)
    FIELD_TYPES = NUMBERS
    CATEGORIES = frozenset({Category.PLAUSIBILITY, Category.CONFORMANCE})

    _fields_exist = names_fields("part", "whole")

    def fields(self) -> tuple[str, ...]:
        return (self.part, self.whole)

    def check_against(self, spec: DatasetSpec) -> None:
        super().check_against(spec)
        if self.part == self.whole:
            raise ValueError(f"a not_above rule compares {self.part} with itself")


class MaxDuration(_Rule):
    """No more than ``hours`` from ``start`` to ``end`` when both are present."""

    kind: Literal["max_duration"] = "max_duration"
    start: str = Field(pattern=NAME_PATTERN)
    end: str = Field(pattern=NAME_PATTERN)
    hours: float = Field(gt=0, le=MAX_DURATION_HOURS, strict=True)
    FIELD_TYPES = TIMESTAMPS
    CATEGORIES = frozenset({Category.PLAUSIBILITY})

    _fields_exist = names_fields("start", "end")

    def fields(self) -> tuple[str, ...]:
        return (self.start, self.end)


class NotInFuture(_FieldRule):
    """A time is not after the submission was received."""

    kind: Literal["not_in_future"] = "not_in_future"
    FIELD_TYPES = TIMESTAMPS
    CATEGORIES = frozenset({Category.PLAUSIBILITY})


class ValidNhsNumberShare(_FieldRule):
    """The row has a valid NHS number (so a person_id, and can be linked); missing numbers and
    rows quarantined for an invalid one fail."""

    kind: Literal["valid_nhs_number_share"] = "valid_nhs_number_share"
    FIELD_TYPES = frozenset({FieldType.NHS_NUMBER})
    CATEGORIES = frozenset({Category.LINKAGE})


class DefaultValueShare(_FieldRule):
    """The field holds one of ``values``, defaults that say nothing (NHS DQMI "use of excessive
    default values"): "not known" codes, or a placeholder NHS number such as 0000000000 that
    passes Modulus 11. A placeholder NHS number is recognised by its pseudonym."""

    kind: Literal["default_value_share"] = "default_value_share"
    values: tuple[str, ...] = Field(min_length=1)
    FIELD_TYPES = frozenset(
        {FieldType.CODE, FieldType.STRING, FieldType.INTEGER, FieldType.NHS_NUMBER}
    )
    CATEGORIES = frozenset({Category.COMPLETENESS, Category.PLAUSIBILITY})

    @field_validator("values", mode="before")
    @classmethod
    def _values_are_text(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(str(v) if type(v) is int else v for v in value)
        return value

    def check_against(self, spec: DatasetSpec) -> None:
        super().check_against(spec)
        field = spec.field(self.field)
        for value in self.values:
            if field.type is FieldType.CODE and field.code_set is not None:
                if value not in spec.code_sets[field.code_set].codes:
                    raise ValueError(f"{value!r} is not a code of {field.code_set}")
            elif field.type is FieldType.NHS_NUMBER and not (
                len(value) == 10 and value.isascii() and value.isdigit()
            ):
                raise ValueError("a default NHS number is written as 10 digits")
            elif field.type is FieldType.INTEGER and not value.lstrip("-").isdigit():
                raise ValueError(f"{value!r} is not a whole number")


class Unique(_Rule):
    """No two rows share the values of ``fields`` (rows with any of them missing are not
    compared). Each copy after the first fails."""

    kind: Literal["unique"] = "unique"
    fields_: tuple[str, ...] = Field(alias="fields", min_length=1, max_length=8)
    CATEGORIES = frozenset({Category.UNIQUENESS})
    ROW_LEVEL = False

    @field_validator("fields_")
    @classmethod
    def _fields_exist(cls, names: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if len(set(names)) != len(names):
            raise ValueError("a field is named twice")
        spec = dataset_of(info)
        for name in names:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not a field name (lower case, digits, _)")
            if spec is not None:
                require_field(spec, name, None, "unique")
        return names

    def fields(self) -> tuple[str, ...]:
        return self.fields_


class Reference(_FieldRule):
    """A present value is in a named reference list (see ``ReferenceList``)."""

    kind: Literal["reference"] = "reference"
    list: ReferenceList
    FIELD_TYPES = TEXTS
    CATEGORIES = frozenset({Category.REFERENTIAL, Category.CONFORMANCE})
    ROW_LEVEL = False


class QuarantineShare(_Rule):
    """Rows of the file that were quarantined (for any reason) out of all its rows."""

    kind: Literal["quarantine_share"] = "quarantine_share"
    CATEGORIES = frozenset({Category.CONFORMANCE})
    ROW_LEVEL = False


class VolumeVsHistory(_Rule):
    """The file's rows against the mean of the provider's own last ``months`` accepted
    submissions for earlier periods; the percentage is the distance from that mean. Not
    applicable with fewer than ``min_history`` of them."""

    kind: Literal["volume_vs_history"] = "volume_vs_history"
    months: int = Field(default=6, ge=1, le=36, strict=True)
    min_history: int = Field(default=3, ge=1, le=36, strict=True)
    CATEGORIES = frozenset({Category.VOLUME})
    ROW_LEVEL = False

    def check_against(self, spec: DatasetSpec) -> None:
        if self.min_history > self.months:
            raise ValueError("min_history cannot be more than months")


class ReceivedByDueDate(_Rule):
    """The file was received by the date its feed is due (the schedule the partner agreed,
    ``FeedMapping.schedule``). Not applicable to a feed without a schedule."""

    kind: Literal["received_by_due_date"] = "received_by_due_date"
    CATEGORIES = frozenset({Category.TIMELINESS})
    ROW_LEVEL = False


Rule = Annotated[
    NotNull
    | InCodeSet
    | Range
    | Pattern
    | InSequence
    | NotAbove
    | MaxDuration
    | NotInFuture
    | ValidNhsNumberShare
    | DefaultValueShare
    | Unique
    | Reference
    | QuarantineShare
    | VolumeVsHistory
    | ReceivedByDueDate,
    Field(discriminator="kind"),
]
