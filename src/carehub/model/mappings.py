"""Feed mappings: how one partner's file for one dataset maps onto the common data model.

A mapping is YAML written by a data steward, never code: which column holds each field, the date
format the partner uses, and how its local codes translate to the model's code sets.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carehub.model.datasets import NAME_PATTERN, FieldType, get_dataset

ODS_CODE_PATTERN = r"^[A-Z0-9]{3,6}$"  # ODS organisation and site codes: 3 to 6 letters/digits


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
