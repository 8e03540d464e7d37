"""Data quality checks as definitions: one pack of checks per dataset, in YAML.

A pack lives in ``carehub/model/checks/<dataset>.yaml``. Each check is tagged by Kahn's
harmonised data quality framework (a category, and whether it verifies the data against its own
constraints or validates it against something outside it), has a severity, a tolerated share of
failing rows and notes that say why that threshold was chosen, and one rule from a small, closed
set of typed rule kinds. Names in a rule are checked against the dataset's specification while
the YAML is read, so a bad pack is refused with the file and line (``load_model``).

Kahn MG et al. A harmonized data quality assessment terminology and framework for the secondary
use of electronic health record data. eGEMs 2016;4(1):1244.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Annotated, Any, ClassVar, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from carehub.errors import NotFound
from carehub.model.datasets import NAME_PATTERN, DatasetSpec, FieldType, dataset_names, get_dataset
from carehub.model.yaml_loading import load_model

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


class Context(StrEnum):
    """Kahn's contexts: verification checks the data against its own specification and local
    knowledge; validation checks it against something outside it (reference data, history)."""

    VERIFICATION = "verification"
    VALIDATION = "validation"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class NamedPattern(StrEnum):
    """The formats a ``pattern`` rule may name: a fixed list, never a free regular expression."""

    UK_POSTCODE = "uk_postcode"
    ODS_ORGANISATION = "ods_organisation"
    ODS_SITE = "ods_site"
    GP_PRACTICE = "gp_practice"
    SNOMED_CT_ID = "snomed_ct_id"
    ICD10_CODE = "icd10_code"


# Royal Mail postcode format (NHS_ANALYTICS_REFERENCE §7.2), written without the optional space:
# values are upper-cased and their spaces removed first. The NHS pseudo-postcodes (ZZ99 3VZ no
# fixed abode, ZZ99 3WZ not known …; NHS Data Dictionary POSTCODE) are valid too.
_POSTCODE = (
    "GIR0AA"
    "|[A-PR-UWYZ][0-9][0-9]?[0-9][ABD-HJLNP-UW-Z]{2}"
    "|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?[0-9][ABD-HJLNP-UW-Z]{2}"
    "|[A-PR-UWYZ][0-9][A-HJKPSTUW][0-9][ABD-HJLNP-UW-Z]{2}"
    "|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY][0-9][ABD-HJLNP-UW-Z]{2}"
    "|ZZ99[0-9][A-Z0-9]Z"
)


class PatternSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    regex: str  # matched against the whole value
    compact: bool  # upper-case the value and remove its spaces before matching
    description: str


PATTERNS: dict[NamedPattern, PatternSpec] = {
    NamedPattern.UK_POSTCODE: PatternSpec(
        regex=_POSTCODE,
        compact=True,
        description="a UK postcode (Royal Mail format) or an NHS pseudo-postcode (ZZ99 …), "
        "in any case and spacing",
    ),
    NamedPattern.ODS_ORGANISATION: PatternSpec(
        regex="[A-Z0-9]{3,6}",
        compact=False,
        description="an ODS organisation code: 3 to 6 capital letters or digits",
    ),
    NamedPattern.ODS_SITE: PatternSpec(
        regex="[A-Z0-9]{5}",
        compact=False,
        description="an ODS site code: 5 capital letters or digits (e.g. R0A07)",
    ),
    NamedPattern.GP_PRACTICE: PatternSpec(
        regex="[A-Z][0-9]{5}",
        compact=False,
        description="a GP practice ODS code: a letter and 5 digits (e.g. A81001)",
    ),
    NamedPattern.SNOMED_CT_ID: PatternSpec(
        regex="[1-9][0-9]{5,17}",
        compact=False,
        description="a SNOMED CT identifier: 6 to 18 digits, no leading zero",
    ),
    NamedPattern.ICD10_CODE: PatternSpec(
        regex="[A-Z][0-9]{2}(\\.?[0-9A-Z]{1,4})?",
        compact=False,
        description="an ICD-10 code: a letter, two digits, and optionally a point and up to "
        "four more characters (e.g. J44, J44.1)",
    ),
}


class ReferenceList(StrEnum):
    """The reference lists a ``reference`` rule may name (files of the shared reference data;
    ``quality/reference.py`` says where each is read from)."""

    ODS_GP_PRACTICES = "ods_gp_practices"
    ODS_TRUSTS = "ods_trusts"
    POSTCODES = "postcodes"
    LTC_SNOMED_CODES = "ltc_snomed_codes"


REFERENCE_DESCRIPTIONS: dict[ReferenceList, str] = {
    ReferenceList.ODS_GP_PRACTICES: "GP practices and other prescribing cost centres in the ODS "
    "extract epraccur (open or closed)",
    ReferenceList.ODS_TRUSTS: "NHS trusts in the ODS extract etr",
    ReferenceList.POSTCODES: "UK postcodes in the ONS postcode to LSOA lookup, live or "
    "terminated (compared upper-cased, without spaces)",
    ReferenceList.LTC_SNOMED_CODES: "SNOMED CT codes of the long-term condition codelists "
    "(OpenCodelists) the registers are built from",
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _dataset_of(info: ValidationInfo) -> DatasetSpec | None:
    context = info.context
    spec = context.get(DATASET_CONTEXT) if isinstance(context, dict) else None
    return spec if isinstance(spec, DatasetSpec) else None


def _require_field(
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
            _require_field(spec, name, self.FIELD_TYPES, self.kind)

    @model_validator(mode="after")
    def _fits_the_dataset(self, info: ValidationInfo) -> Self:
        spec = _dataset_of(info)
        if spec is not None:
            self.check_against(spec)
        return self


class _FieldRule(_Rule):
    field: str = Field(pattern=NAME_PATTERN)

    @field_validator("field")
    @classmethod
    def _field_exists(cls, name: str, info: ValidationInfo) -> str:
        spec = _dataset_of(info)
        if spec is not None:
            _require_field(spec, name, cls.FIELD_TYPES, cls.model_fields["kind"].default or "")
        return name

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

    @field_validator("earlier", "later")
    @classmethod
    def _field_exists(cls, name: str, info: ValidationInfo) -> str:
        spec = _dataset_of(info)
        if spec is not None:
            _require_field(spec, name, TIMESTAMPS, "sequence")
        return name

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

    @field_validator("part", "whole")
    @classmethod
    def _field_exists(cls, name: str, info: ValidationInfo) -> str:
        spec = _dataset_of(info)
        if spec is not None:
            _require_field(spec, name, NUMBERS, "not_above")
        return name

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

    @field_validator("start", "end")
    @classmethod
    def _field_exists(cls, name: str, info: ValidationInfo) -> str:
        spec = _dataset_of(info)
        if spec is not None:
            _require_field(spec, name, TIMESTAMPS, "max_duration")
        return name

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
        spec = _dataset_of(info)
        for name in names:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not a field name (lower case, digits, _)")
            if spec is not None:
                _require_field(spec, name, None, "unique")
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


class CodeIn(Frozen):
    """Rows whose code ``field`` is one of ``values`` (e.g. type 1 and 2 departments)."""

    field: str = Field(pattern=NAME_PATTERN)
    values: tuple[str, ...] = Field(min_length=1)

    @field_validator("field")
    @classmethod
    def _field_exists(cls, name: str, info: ValidationInfo) -> str:
        spec = _dataset_of(info)
        if spec is not None:
            _require_field(spec, name, frozenset({FieldType.CODE}), "when")
        return name

    def check_against(self, spec: DatasetSpec) -> None:
        _require_field(spec, self.field, frozenset({FieldType.CODE}), "when")
        code_set = spec.field(self.field).code_set
        assert code_set is not None  # a code field has a code set (model/datasets.py)
        unknown = [v for v in self.values if v not in spec.code_sets[code_set].codes]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))} not in code set {code_set}")

    @model_validator(mode="after")
    def _fits_the_dataset(self, info: ValidationInfo) -> Self:
        spec = _dataset_of(info)
        if spec is not None:
            self.check_against(spec)
        return self


class CheckDefinition(Frozen):
    """One check of a dataset."""

    id: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    category: Category
    context: Context
    severity: Severity
    rule: Rule
    tolerated_failure_pct: float = Field(
        default=0,
        ge=0,
        le=100,
        strict=True,
        description="The share of failing rows (0-100) that still passes the check",
    )
    notes: str = Field(min_length=1, description="Why the threshold and severity were chosen")
    when: CodeIn | None = Field(
        default=None,
        description="Check only the rows where a code field has one of these values (row-level "
        "rules only); the share is of those rows",
    )

    @model_validator(mode="after")
    def _category_fits_the_rule(self) -> Self:
        allowed = type(self.rule).CATEGORIES
        if self.category not in allowed:
            names = ", ".join(sorted(allowed))
            raise ValueError(f"a {self.rule.kind} rule is a check of {names}, not {self.category}")
        if self.when is not None and not type(self.rule).ROW_LEVEL:
            raise ValueError(f"a {self.rule.kind} rule cannot be limited with when")
        return self


class CheckPack(Frozen):
    """The checks of one dataset."""

    dataset: str = Field(pattern=NAME_PATTERN)
    description: str
    checks: tuple[CheckDefinition, ...] = Field(min_length=1)

    @field_validator("dataset")
    @classmethod
    def _dataset_is_known(cls, name: str) -> str:
        if name not in dataset_names():
            raise ValueError(f"there is no dataset {name!r} (known: {', '.join(dataset_names())})")
        return name

    @model_validator(mode="after")
    def _checks_fit_the_dataset(self) -> Self:
        ids = [c.id for c in self.checks]
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"check ids must be unique: {', '.join(twice)}")
        spec = get_dataset(self.dataset)
        for check in self.checks:  # again, for packs validated without the dataset context
            try:
                check.rule.check_against(spec)
                if check.when is not None:
                    check.when.check_against(spec)
            except ValueError as exc:
                raise ValueError(f"check {check.id}: {exc}") from exc
        return self

    @property
    def dataset_spec(self) -> DatasetSpec:
        return get_dataset(self.dataset)

    def check(self, check_id: str) -> CheckDefinition:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise NotFound(f"{self.dataset} has no check {check_id!r}")


def parse_check_pack(text: str, source: str) -> CheckPack:
    """Read a pack from YAML; names in its rules are checked against the dataset it is for, and
    every error names ``source`` and the line."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None  # load_model reports the syntax error with its line
    name = data.get("dataset") if isinstance(data, dict) else None
    context = {}
    if isinstance(name, str) and name in dataset_names():
        context[DATASET_CONTEXT] = get_dataset(name)
    return load_model(CheckPack, text, source, context=context)


@cache
def check_pack_names() -> tuple[str, ...]:
    folder = resources.files("carehub.model") / "checks"
    names = (p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    return tuple(sorted(names))


@cache
def get_check_pack(dataset: str) -> CheckPack:
    """The packaged check pack of a dataset; NotFound lists the datasets that have one."""
    if dataset not in check_pack_names():
        raise NotFound(
            f"there is no check pack for {dataset!r}",
            hint=f"datasets with checks: {', '.join(check_pack_names())}",
        )
    resource = resources.files("carehub.model") / "checks" / f"{dataset}.yaml"
    pack = parse_check_pack(resource.read_text(encoding="utf-8"), f"checks/{dataset}.yaml")
    if pack.dataset != dataset:
        raise ValueError(f"checks/{dataset}.yaml declares dataset {pack.dataset}")
    return pack


def check_pack_schema() -> dict[str, Any]:
    """The JSON Schema of a check pack (``carehub dq schema``)."""
    return CheckPack.model_json_schema(by_alias=True)
