"""KPI definitions: one YAML file per KPI, validated against the dataset it reads.

A KPI here is a proportion: the rows of a dataset that meet the numerator's conditions, out of
the rows that meet the denominator's, by facet (e.g. site) and month. The same definition drives
the SQL, the SPC chart, the KPI catalogue and the page that explains the KPI.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carehub.model.datasets import NAME_PATTERN, DatasetSpec, FieldType, get_dataset

Comparison = Literal["<", "<=", ">", ">="]


class MinutesBetween(BaseModel):
    """The minutes from ``start`` to ``end`` (two timestamps) compared with ``value``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["minutes_between"]
    start: str = Field(pattern=NAME_PATTERN)
    end: str = Field(pattern=NAME_PATTERN)
    op: Comparison
    value: int = Field(ge=0)

    def fields(self) -> tuple[str, ...]:
        return (self.start, self.end)


class FieldIn(BaseModel):
    """A code field takes one of ``values``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["in"]
    field: str = Field(pattern=NAME_PATTERN)
    values: tuple[str, ...] = Field(min_length=1)

    def fields(self) -> tuple[str, ...]:
        return (self.field,)


Condition = Annotated[MinutesBetween | FieldIn, Field(discriminator="kind")]


class SpcSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    screen_outliers: bool = True


class MetricDefinition(BaseModel):
    """A KPI, defined once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=NAME_PATTERN)
    title: str
    description: str
    dataset: str = Field(pattern=NAME_PATTERN)
    measure: Literal["proportion"] = "proportion"
    numerator: tuple[Condition, ...] = Field(min_length=1)
    denominator: tuple[Condition, ...] = ()
    facet: str = Field(pattern=NAME_PATTERN)
    improvement_direction: Literal["increase", "decrease", "neutral"]
    target: float | None = Field(default=None, ge=0, le=1)
    target_source: str | None = None
    spc: SpcSettings = SpcSettings()
    source: str = Field(description="Where the definition comes from")

    @model_validator(mode="after")
    def _fits_the_dataset(self) -> Self:
        spec = get_dataset(self.dataset)
        spec.field(self.facet)
        if spec.period_field is None:
            raise ValueError(f"dataset {self.dataset} is a snapshot: a KPI needs a period field")
        for condition in (*self.numerator, *self.denominator):
            _check_condition(spec, condition)
        if self.target is not None and self.target_source is None:
            raise ValueError("a target needs target_source: where the target comes from")
        return self

    @property
    def dataset_spec(self) -> DatasetSpec:
        return get_dataset(self.dataset)


def _check_condition(spec: DatasetSpec, condition: MinutesBetween | FieldIn) -> None:
    wanted = FieldType.TIMESTAMP if isinstance(condition, MinutesBetween) else FieldType.CODE
    for name in condition.fields():
        if spec.field(name).type is not wanted:
            raise ValueError(f"condition {condition.kind}: field {name} is not a {wanted} field")
