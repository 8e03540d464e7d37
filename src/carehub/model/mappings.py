"""Feed mappings: how one partner's file for one dataset maps onto the common data model.

A mapping is YAML written by a data steward, never code: which column holds each field, the date
format the partner uses, and how its local codes translate to the model's code sets.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carehub.model.datasets import NAME_PATTERN, FieldType, get_dataset
from carehub.model.periods import Period

ODS_CODE_PATTERN = r"^[A-Z0-9]{3,6}$"  # ODS organisation and site codes: 3 to 6 letters/digits
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"  # a reporting month, yyyy-mm


class FieldMapping(BaseModel):
    """Where one model field comes from in the partner's file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str | None = Field(default=None, min_length=1, max_length=200)
    value: str | None = Field(
        default=None, description="a constant for every row, when the file does not say it"
    )
    format: str | None = Field(
        default=None, description="strftime-style format of a timestamp, e.g. '%d/%m/%Y %H:%M'"
    )
    values: dict[str, str] = Field(default_factory=dict, description="local code -> model code")

    @model_validator(mode="after")
    def _column_or_value(self) -> Self:
        if (self.column is None) == (self.value is None):
            raise ValueError("give either a column or a constant value")
        return self


class Schedule(BaseModel):
    """When the partner has agreed to send the feed: one file every month (or every few months,
    for snapshots), due a set number of days after its month ends. Coverage and timeliness are
    measured against it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_period: str = Field(pattern=PERIOD_PATTERN, description="the first month expected")
    last_period: str | None = Field(
        default=None, pattern=PERIOD_PATTERN, description="the last month (when a feed ends)"
    )
    due_days: int = Field(
        ge=0, le=366, description="days after a month ends by which its file is due"
    )
    every_months: int = Field(
        default=1, ge=1, le=12, description="1 for a monthly feed, 3 for quarterly snapshots …"
    )

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.last_period is not None and self.last_period < self.first_period:
            raise ValueError("last_period is before first_period")
        return self

    def due(self, period: Period) -> date:
        return period.end + timedelta(days=self.due_days)

    def expected(self, as_of: date) -> list[Period]:
        """The months whose file is expected by ``as_of``: those that have ended."""
        last = Period.of(as_of)  # the current month has not ended
        if self.last_period is not None:
            last = min(last, Period.parse(self.last_period).next())
        periods, period = [], Period.parse(self.first_period)
        while period < last:
            periods.append(period)
            for _ in range(self.every_months):
                period = period.next()
        return periods


class FeedMapping(BaseModel):
    """A versioned mapping of one organisation's feed of one dataset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    organisation: str = Field(pattern=ODS_CODE_PATTERN)
    dataset: str = Field(pattern=NAME_PATTERN)
    version: int = Field(ge=1)
    description: str = ""
    sheet: str | None = Field(default=None, description="Excel: the worksheet (default: the first)")
    header_row: int = Field(default=1, ge=1, le=1000, description="Excel: the row of column names")
    fields: dict[str, FieldMapping]
    schedule: Schedule | None = Field(
        default=None, description="when the partner has agreed to send the feed (for coverage)"
    )

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: object) -> object:
        """Allow ``field: Column Name`` as a short form of ``field: {column: Column Name}``."""
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            fields = {
                key: {"column": value} if isinstance(value, str) else value
                for key, value in data["fields"].items()
            }
            return {**data, "fields": fields}
        return data

    @model_validator(mode="after")
    def _fits_the_dataset(self) -> Self:
        spec = get_dataset(self.dataset)
        known = {f.name for f in spec.fields}
        unknown = sorted(set(self.fields) - known)
        if unknown:
            raise ValueError(f"fields not in dataset {self.dataset}: {', '.join(unknown)}")
        missing = sorted(f.name for f in spec.required_fields if f.name not in self.fields)
        if missing:
            raise ValueError(f"required fields not mapped: {', '.join(missing)}")
        for name, mapping in self.fields.items():
            ftype = spec.field(name).type
            if mapping.format and ftype is not FieldType.TIMESTAMP:
                raise ValueError(f"{name}: a format applies only to timestamp fields")
            if mapping.values and ftype is not FieldType.CODE:
                raise ValueError(f"{name}: value translations apply only to code fields")
        return self

    def without(self, names: tuple[str, ...]) -> FeedMapping:
        """The mapping less some optional fields (e.g. those whose columns a file lacks)."""
        fields = {k: v for k, v in self.fields.items() if k not in names}
        return self.model_copy(update={"fields": fields})

    @classmethod
    def identity(cls, organisation: str, dataset: str) -> FeedMapping:
        """The default: columns named as the model's fields, timestamps in ISO 8601."""
        spec = get_dataset(dataset)
        fields = {f.name: FieldMapping(column=f.name) for f in spec.fields}
        return cls(organisation=organisation, dataset=dataset, version=1, fields=fields)
