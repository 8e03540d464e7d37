"""Data sharing agreements: the information sharing protocol as a validated, frozen definition.

An agreement is written in YAML (``examples/agreements/``) and kept in the register with its
lifecycle and signatures (``governance/agreements.py``). This module only says what a well-formed
agreement is: every element of the protocol the ICS's BI strategy lists, the datasets and fields
it covers, whose rows, at which access level, and the disclosure control of its outputs.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carehub.model.datasets import NAME_PATTERN, get_dataset

AGREEMENT_ID_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$"  # e.g. ISA-MSE-001: no spaces or quotes
ODS_PATTERN = r"^[A-Z0-9]{3,6}$"
PERSON_ID = "person_id"  # what a pseudonymised read returns in place of the NHS number
ORG_CODE = "org_code"  # the providing organisation of each row, added by the governed reader
PERIOD = "period"  # the reporting month of each row's version, added by the governed reader
VERSION_FIELDS = (ORG_CODE, PERIOD)  # whose rows and which month: readable under any agreement


class Level(StrEnum):
    """Access levels, least to most (ARCHITECTURE.md §4.2)."""

    AGGREGATE = "aggregate"  # counts with disclosure control
    PSEUDONYMISED = "pseudonymised"  # row level, person_id instead of NHS number
    IDENTIFIABLE = "identifiable"  # direct care only, under an agreement that allows it

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class Purpose(StrEnum):
    DIRECT_CARE = "direct_care"
    PERFORMANCE_MONITORING = "performance_monitoring"
    SERVICE_PLANNING = "service_planning"
    POPULATION_HEALTH = "population_health"
    KPI_COMPUTATION = "kpi_computation"  # the hub computing the shared KPIs

    @property
    def secondary_use(self) -> bool:
        """Anything beyond an individual's own care: national data opt-outs apply."""
        return self is not Purpose.DIRECT_CARE


class RowScope(StrEnum):
    PROVIDERS = "providers"  # the rows of every providing party
    OWN_ORGANISATION = "own_organisation"  # each recipient reads only the rows it provided


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatasetGrant(Frozen):
    """One dataset an agreement covers: which fields, whose rows."""

    dataset: str = Field(pattern=NAME_PATTERN)
    fields: tuple[str, ...] | None = Field(
        default=None, description="The fields shared; omitted means every field of the dataset"
    )
    rows: RowScope = RowScope.PROVIDERS

    @model_validator(mode="after")
    def _fields_exist(self) -> DatasetGrant:
        spec = get_dataset(self.dataset)
        if self.fields is not None:
            known = {f.name for f in spec.fields}
            unknown = [name for name in self.fields if name not in known]
            if unknown:
                raise ValueError(
                    f"dataset {self.dataset} has no field(s) {', '.join(unknown)}; "
                    f"its fields are {', '.join(sorted(known))}"
                )
        return self

    def field_names(self) -> tuple[str, ...]:
        """The shared fields as they appear in the standard zone (NHS number as person_id)."""
        spec = get_dataset(self.dataset)
        names = self.fields if self.fields is not None else tuple(f.name for f in spec.fields)
        nhs = spec.nhs_number_field
        return tuple(PERSON_ID if nhs and name == nhs.name else name for name in names)


class DisclosureRule(Frozen):
    """The disclosure control of the agreement's aggregate outputs."""

    threshold: int = Field(default=7, ge=0, le=100)  # OpenSAFELY / NHS England: redact 1..7
    rounding_base: int = Field(default=5, ge=1, le=100)  # round the rest to the nearest 5

    @model_validator(mode="after")
    def _never_releases_a_small_count(self) -> DisclosureRule:
        # No released count may be at or below the threshold (e.g. "redact 1-10, round to 5"
        # would release 11 as 10). Rounding is monotonic, so the smallest count released,
        # threshold + 1, decides. The same rule as governance.disclosure.DisclosurePolicy.
        smallest = self.threshold + 1
        base = self.rounding_base
        released = ((smallest + base // 2) // base) * base if base > 1 else smallest
        if released <= self.threshold:
            raise ValueError(
                f"rounding to {base} would release a count of {smallest} as {released}, "
                f"which is not above the threshold {self.threshold}"
            )
        return self


class AgreementSpec(Frozen):
    """Every element of an information sharing protocol, plus what the software enforces."""

    id: str = Field(pattern=AGREEMENT_ID_PATTERN, max_length=40)
    title: str = Field(min_length=3, max_length=200)
    purpose: Purpose
    purpose_description: str = Field(min_length=10)
    legal_basis: str = Field(min_length=5)
    providers: tuple[str, ...] = Field(min_length=1)
    recipients: tuple[str, ...] = Field(min_length=1)
    datasets: tuple[DatasetGrant, ...] = Field(min_length=1)
    level: Level
    disclosure: DisclosureRule = DisclosureRule()
    data_quality: str = Field(min_length=5, description="The data quality expected of providers")
    security: str = Field(min_length=5)
    retention: str = Field(min_length=5)
    individuals_rights: str = Field(min_length=5)
    sanctions: str = Field(min_length=5)
    starts_on: date
    review_on: date
    ends_on: date

    @field_validator("providers", "recipients")
    @classmethod
    def _ods_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in codes if not re.match(ODS_PATTERN, c)]
        if bad:
            raise ValueError("each party is an ODS code of 3 to 6 capital letters or digits")
        if len(set(codes)) != len(codes):
            raise ValueError("a party is listed twice")
        return codes

    @model_validator(mode="after")
    def _coherent(self) -> AgreementSpec:
        if not self.starts_on <= self.review_on <= self.ends_on:
            raise ValueError("the dates must run starts_on <= review_on <= ends_on")
        if self.level is Level.IDENTIFIABLE and self.purpose is not Purpose.DIRECT_CARE:
            raise ValueError("identifiable access is for direct care only")
        names = [g.dataset for g in self.datasets]
        if len(set(names)) != len(names):
            raise ValueError("a dataset is listed twice")
        return self

    @property
    def parties(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.providers + self.recipients))

    def grant(self, dataset: str) -> DatasetGrant | None:
        return next((g for g in self.datasets if g.dataset == dataset), None)
