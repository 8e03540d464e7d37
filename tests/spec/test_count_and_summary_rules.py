"""Count rules (a part is not more than its whole) and summary rows (totals), one behaviour per
table, on the monthly A&E return: input rows -> (reasons, published figures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from carehub.model.datasets import DatasetSpec, get_dataset
from carehub.model.mappings import FeedMapping
from carehub.model.periods import Period
from carehub.model.yaml_loading import load_model
from carehub.standardise.compile import REASONS, STAGED_TABLE, compile_standardise
from carehub.store.engines import Engine, HmacPads

SPEC = get_dataset("ae_monthly_return")
PADS = HmacPads.from_key(bytes(range(32)))
BASE = {
    "period_start": "2025-04-01",
    "provider_code": "RAJ",
    "parent_organisation": "NHS ENGLAND EAST OF ENGLAND",
    "provider_name": "MID AND SOUTH ESSEX NHS FOUNDATION TRUST",
    "attendances_type_1": "100",
    "attendances_type_2": "10",
    "attendances_other": "50",
    "booked_attendances_type_1": "5",
    "booked_attendances_type_2": "0",
    "booked_attendances_other": "2",
    "over_4_hours_type_1": "40",
    "over_4_hours_type_2": "1",
    "over_4_hours_other": "3",
    "booked_over_4_hours_type_1": "1",
    "booked_over_4_hours_type_2": "0",
    "booked_over_4_hours_other": "0",
    "dta_waits_4_to_12_hours": "7",
    "dta_waits_over_12_hours": "2",
    "emergency_admissions_type_1": "30",
    "emergency_admissions_type_2": "0",
    "emergency_admissions_other": "0",
    "other_emergency_admissions": "12",
}


def run(
    engine: Engine, tmp_path: Path, rows: list[dict[str, str]], spec: DatasetSpec = SPEC
) -> list[tuple[Any, ...]]:
    """The one-pass query over ``rows``: (reasons, type 1 attendances) per row, in file order."""
    columns = list(BASE)
    path = tmp_path / "in.csv"
    path.write_text(
        ",".join(columns) + "\n" + "".join(",".join(r[c] for c in columns) + "\n" for r in rows)
    )
    mapping = FeedMapping.identity("X24", "ae_monthly_return")
    query = compile_standardise(spec, mapping, engine, Period(2025, 4), PADS)
    with engine.session(ingest=True) as session:
        session.stage(
            STAGED_TABLE,
            exp.select("*").from_(engine.scan_csv(path, delimiter=",", encoding="utf-8")),
        )
        session.stage("checked", query.query)
        ordered = (
            exp.select(exp.column(REASONS), exp.column("attendances_type_1"))
            .from_("checked")
            .order_by(query.row_number.copy())
        )
        return session.rows(ordered)


def reasons(engine: Engine, tmp_path: Path, rows: list[dict[str, str]]) -> list[str]:
    return [r[0] for r in run(engine, tmp_path, rows)]


COUNT_CASES = [
    ("a part below its whole passes", {}, ""),
    ("a part equal to its whole passes", {"over_4_hours_type_1": "100"}, ""),
    (
        "a part above its whole",
        {"over_4_hours_type_1": "101"},
        "OVER_4_HOURS_ABOVE_ATTENDANCES:over_4_hours_type_1",
    ),
    (
        "each department type has its own rule",
        {"over_4_hours_other": "51"},
        "OVER_4_HOURS_ABOVE_ATTENDANCES:over_4_hours_other",
    ),
    (
        "booked appointments are compared with booked appointments",
        {"booked_over_4_hours_type_1": "6"},
        "BOOKED_OVER_4_HOURS_ABOVE_BOOKED:booked_over_4_hours_type_1",
    ),
    (
        "an empty whole is not compared",
        {"booked_attendances_other": "", "booked_over_4_hours_other": "1"},
        "",
    ),
    ("an empty part is not compared", {"booked_over_4_hours_type_1": ""}, ""),
    (
        "emergency admissions above attendances pass (as published every month)",
        {"emergency_admissions_other": "16", "attendances_other": "0", "over_4_hours_other": "0"},
        "",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "expected"), COUNT_CASES, ids=[c[0] for c in COUNT_CASES]
)
def test_count_rule(
    engine: Engine, tmp_path: Path, name: str, change: dict[str, str], expected: str
) -> None:
    assert reasons(engine, tmp_path, [{**BASE, **change}]) == [expected]


def test_a_part_above_its_whole_is_reported_with_the_other_failures(
    engine: Engine, tmp_path: Path
) -> None:
    row = {**BASE, "over_4_hours_type_2": "11", "dta_waits_over_12_hours": "-1"}
    assert set(reasons(engine, tmp_path, [row])[0].split(";")) == {
        "OVER_4_HOURS_ABOVE_ATTENDANCES:over_4_hours_type_2",
        "OUT_OF_RANGE:dta_waits_over_12_hours",
    }


def england_total(label: str) -> dict[str, str]:
    """A total row as NHS England publishes it: labels in the text columns, sums in the others."""
    return {
        **BASE,
        "period_start": label,
        "provider_code": label,
        "parent_organisation": label,
        "provider_name": label,
        "attendances_type_1": "1354645",
        "over_4_hours_type_1": "544763",
    }


@pytest.mark.parametrize("label", ["TOTAL", "Total", "Total ", "total"])
def test_a_total_row_is_quarantined_as_a_total_and_nothing_else(
    engine: Engine, tmp_path: Path, label: str
) -> None:
    # The label also sits in the period column, which is not a date: only TOTAL_ROW is reported.
    rows = [BASE, england_total(label)]
    assert reasons(engine, tmp_path, rows) == ["", "TOTAL_ROW:provider_code"]


def test_a_total_row_is_recognised_even_when_its_sums_break_other_rules(
    engine: Engine, tmp_path: Path
) -> None:
    total = {**england_total("TOTAL"), "over_4_hours_type_1": "2000000", "attendances_type_2": ""}
    assert reasons(engine, tmp_path, [total]) == ["TOTAL_ROW:provider_code"]


@pytest.mark.parametrize("code", ["TOTALS", "TOT", "RTOTAL"])
def test_only_the_labels_themselves_make_a_summary_row(
    engine: Engine, tmp_path: Path, code: str
) -> None:
    assert reasons(engine, tmp_path, [{**BASE, "provider_code": code}]) == [""]


def test_a_provider_row_keeps_its_figures(engine: Engine, tmp_path: Path) -> None:
    assert run(engine, tmp_path, [BASE]) == [("", 100)]


def test_summary_labels_are_declared_in_the_spec(engine: Engine, tmp_path: Path) -> None:
    text = (
        "name: ae_monthly_return\ntitle: t\ndescription: d\nperiod_field: period_start\n"
        "freeze_after_days: 0\nfields:\n"
        "  - {name: period_start, type: timestamp, description: d}\n"
        "  - {name: provider_code, type: string, description: d}\n"
        "  - {name: attendances_type_1, type: integer, description: d}\n"
        "summary_rows:\n  - {field: provider_code, labels: [England], reason: ENGLAND_ROW}\n"
    )
    spec = load_model(DatasetSpec, text, "spec.yaml")
    rows = [BASE, {**BASE, "provider_code": "ENGLAND"}, {**BASE, "provider_code": "TOTAL"}]
    assert [r[0] for r in run(engine, tmp_path, rows, spec)] == [
        "",
        "ENGLAND_ROW:provider_code",
        "",
    ]
