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

from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Self

import yaml
from pydantic import Field, ValidationInfo, field_validator, model_validator

from carehub.errors import NotFound
from carehub.model.check_rules import (
    DATASET_CONTEXT,
    Category,
    Frozen,
    Rule,
    dataset_of,
    require_field,
)
from carehub.model.datasets import NAME_PATTERN, DatasetSpec, FieldType, dataset_names, get_dataset
from carehub.model.yaml_loading import load_model

__all__ = [  # the rule kinds are in check_rules.py, formats and reference lists in check_formats.py
    "Category",
    "CheckDefinition",
    "CheckPack",
    "CodeIn",
    "Context",
    "Rule",
    "Severity",
    "check_pack_names",
    "check_pack_schema",
    "get_check_pack",
    "parse_check_pack",
]


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


class CodeIn(Frozen):
    """Rows whose code ``field`` is one of ``values`` (e.g. type 1 and 2 departments)."""

    field: str = Field(pattern=NAME_PATTERN)
    values: tuple[str, ...] = Field(min_length=1)

    @field_validator("field")
    @classmethod
    def _field_exists(cls, name: str, info: ValidationInfo) -> str:
        spec = dataset_of(info)
        if spec is not None:
            require_field(spec, name, frozenset({FieldType.CODE}), "when")
        return name

    def check_against(self, spec: DatasetSpec) -> None:
        require_field(spec, self.field, frozenset({FieldType.CODE}), "when")
        code_set = spec.field(self.field).code_set
        assert code_set is not None  # a code field has a code set (model/datasets.py)
        unknown = [v for v in self.values if v not in spec.code_sets[code_set].codes]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))} not in code set {code_set}")

    @model_validator(mode="after")
    def _fits_the_dataset(self, info: ValidationInfo) -> Self:
        spec = dataset_of(info)
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
