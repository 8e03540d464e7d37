"""Dataset specifications of the common data model (CDM).

Each dataset is one YAML file in ``carehub/model/datasets/``; its descriptions become the data
dictionary (``docs/reference/data-dictionary.md``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carehub.errors import NotFound
from carehub.model.yaml_loading import load_model

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"  # safe identifier: no quoting tricks reach SQL
REASON_PATTERN = r"^[A-Z][A-Z0-9_]*$"  # quarantine reason codes: upper case, no values


class FieldType(StrEnum):
    STRING = "string"
    CODE = "code"
    INTEGER = "integer"
    DECIMAL = "decimal"
    TIMESTAMP = "timestamp"
    NHS_NUMBER = "nhs_number"


class FieldSpec(BaseModel):
    """One field of a dataset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    type: FieldType
    description: str
    data_dictionary_name: str | None = None
    code_set: str | None = None
    required: bool = False
    identifying: bool = Field(
        default=False,
        description="Identifies a person on its own or with other fields (a date of birth, a "
        "postcode): never returned by a pseudonymised read, only under a direct care agreement",
    )
    minimum: int | None = None
    maximum: int | None = None

    @model_validator(mode="after")
    def _code_fields_name_a_code_set(self) -> FieldSpec:
        if (self.type is FieldType.CODE) != (self.code_set is not None):
            raise ValueError("a field has a code_set exactly when its type is code")
        return self


class CodeSet(BaseModel):
    """The codes a field may take, with their meanings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str
    codes: dict[str, str]

    @field_validator("codes", mode="before")
    @classmethod
    def _codes_are_text(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value


class SequenceRule(BaseModel):
    """``earlier`` must not be after ``later`` when both are present."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    earlier: str = Field(pattern=NAME_PATTERN)
    later: str = Field(pattern=NAME_PATTERN)
    reason: str = Field(pattern=REASON_PATTERN)


class CountRule(BaseModel):
    """``part`` must not be more than ``whole`` when both are present (e.g. attendances over four
    hours are some of the attendances)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    part: str = Field(pattern=NAME_PATTERN)
    whole: str = Field(pattern=NAME_PATTERN)
    reason: str = Field(pattern=REASON_PATTERN)


class SummaryRowRule(BaseModel):
    """A row whose ``field`` reads one of ``labels`` (ignoring case and surrounding spaces) sums
    other rows, such as a published file's England total. It is not data of the model: it is
    quarantined with ``reason`` alone, whatever else its cells say."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(pattern=NAME_PATTERN)
    labels: tuple[str, ...] = Field(min_length=1)
    reason: str = Field(pattern=REASON_PATTERN)

    @field_validator("labels")
    @classmethod
    def _labels_are_trimmed_text(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if any(not label.strip() or label != label.strip() for label in labels):
            raise ValueError("summary row labels are non-empty and have no surrounding spaces")
        return labels


class DatasetSpec(BaseModel):
    """A dataset of the common data model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    title: str
    description: str
    period_field: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="The timestamp that places a row in its month; none for a snapshot dataset, "
        "whose period is the one the file is submitted for",
    )
    freeze_after_days: int = Field(ge=0, le=366)
    fields: tuple[FieldSpec, ...]
    code_sets: dict[str, CodeSet] = {}
    sequence_rules: tuple[SequenceRule, ...] = ()
    count_rules: tuple[CountRule, ...] = ()
    summary_rows: tuple[SummaryRowRule, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> DatasetSpec:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        for spec in self.fields:
            if spec.code_set and spec.code_set not in self.code_sets:
                raise ValueError(f"field {spec.name} names unknown code set {spec.code_set}")
        for rule in self.sequence_rules:
            for name in (rule.earlier, rule.later):
                if self.field(name).type is not FieldType.TIMESTAMP:
                    raise ValueError(f"sequence rule field {name} is not a timestamp")
        for count in self.count_rules:
            for name in (count.part, count.whole):
                if self.field(name).type is not FieldType.INTEGER:
                    raise ValueError(f"count rule field {name} is not an integer")
            if count.part == count.whole:
                raise ValueError(f"count rule compares {count.part} with itself")
        for summary in self.summary_rows:
            if self.field(summary.field).type not in (FieldType.STRING, FieldType.CODE):
                raise ValueError(f"summary row field {summary.field} is not a string or code")
        if self.period_field and self.field(self.period_field).type is not FieldType.TIMESTAMP:
            raise ValueError("period_field must be a timestamp field")
        return self

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise ValueError(f"dataset {self.name} has no field {name}")

    @property
    def required_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.required)

    @property
    def rule_reasons(self) -> tuple[str, ...]:
        """The reason codes of the dataset's own rules (sequence, count and summary rows)."""
        reasons = [rule.reason for rule in self.sequence_rules]
        reasons += [rule.reason for rule in self.count_rules]
        reasons += [rule.reason for rule in self.summary_rows]
        return tuple(dict.fromkeys(reasons))

    @property
    def nhs_number_field(self) -> FieldSpec | None:
        return next((f for f in self.fields if f.type is FieldType.NHS_NUMBER), None)


_IDENTIFIER = re.compile(NAME_PATTERN)


@cache
def dataset_names() -> tuple[str, ...]:
    folder = resources.files("carehub.model") / "datasets"
    names = (p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    return tuple(sorted(names))


@cache
def get_dataset(name: str) -> DatasetSpec:
    """The packaged specification of a dataset; NotFound lists the known ones."""
    if not _IDENTIFIER.match(name) or name not in dataset_names():
        raise NotFound(
            f"there is no dataset called {name!r}",
            hint=f"known datasets: {', '.join(dataset_names())}",
        )
    resource = resources.files("carehub.model") / "datasets" / f"{name}.yaml"
    spec = load_model(DatasetSpec, resource.read_text(encoding="utf-8"), f"datasets/{name}.yaml")
    if spec.name != name:
        raise ValueError(f"datasets/{name}.yaml declares name {spec.name}")
    return spec
