"""The data dictionary tells a sender how a receipt names each rule across fields (REASON:field);
here each rule is broken in turn and the compiled query must report exactly that code."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from carehub.model.datasets import DatasetSpec, get_dataset
from carehub.model.mappings import FeedMapping
from carehub.model.periods import Period
from carehub.standardise.compile import STAGED_TABLE, compile_standardise
from carehub.standardise.row_rules import RowRule, row_rules
from carehub.store.engines import Engine, HmacPads

PADS = HmacPads.from_key(bytes(range(32)))
# Two times of ed_attendance's month, inside its clean row's arrival and departure.
LATER, EARLIER = "2025-01-10 11:00:00", "2025-01-10 10:30:00"
# A clean row of each dataset with rules (optional times left empty, so that breaking one
# sequence rule breaks no other), and the month it belongs to.
CLEAN = {
    "ed_attendance": (
        Period(2025, 1),
        {
            "attendance_id": "A",
            "site_code": "RAJ01",
            "department_type": "01",
            "arrival_at": "2025-01-10 10:00:00",
            "departed_at": "2025-01-10 12:00:00",
        },
    ),
    "ae_monthly_return": (
        Period(2025, 4),
        {
            "period_start": "2025-04-01",
            "provider_code": "RAJ",
            **dict.fromkeys(
                (
                    "attendances_type_1",
                    "attendances_type_2",
                    "attendances_other",
                    "booked_attendances_type_1",
                    "booked_attendances_type_2",
                    "booked_attendances_other",
                ),
                "10",
            ),
            **dict.fromkeys(
                (
                    "over_4_hours_type_1",
                    "over_4_hours_type_2",
                    "over_4_hours_other",
                    "booked_over_4_hours_type_1",
                    "booked_over_4_hours_type_2",
                    "booked_over_4_hours_other",
                    "dta_waits_4_to_12_hours",
                    "dta_waits_over_12_hours",
                    "emergency_admissions_type_1",
                    "emergency_admissions_type_2",
                    "emergency_admissions_other",
                    "other_emergency_admissions",
                ),
                "1",
            ),
        },
    ),
}
CASES = [(name, rule) for name in CLEAN for rule in row_rules(get_dataset(name))]


def broken(row: dict[str, str], rule: RowRule) -> dict[str, str]:
    """The row with the rule broken, and nothing else."""
    if rule.kind == "sequence":
        earlier, later = rule.fields
        return {**row, earlier: LATER, later: EARLIER}
    if rule.kind == "count":
        part, whole = rule.fields
        return {**row, part: str(int(row[whole]) + 1)}
    return {**row, rule.fields[0]: f" {rule.labels[0].lower()} "}  # any case, spaces ignored


def receipt_reasons(
    engine: Engine, tmp_path: Path, spec: DatasetSpec, period: Period, row: dict[str, str]
) -> str:
    columns = [f.name for f in spec.fields]
    path = tmp_path / "in.csv"
    path.write_text(",".join(columns) + "\n" + ",".join(row.get(c, "") for c in columns) + "\n")
    mapping = FeedMapping.identity("RAJ", spec.name)
    query = compile_standardise(spec, mapping, engine, period, PADS)
    with engine.session(ingest=True) as session:
        session.stage(
            STAGED_TABLE,
            exp.select("*").from_(engine.scan_csv(path, delimiter=",", encoding="utf-8")),
        )
        session.stage("checked", query.query)
        [(_, reasons)] = session.rows(query.reasons("checked"))
        return str(reasons)


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_the_clean_rows_pass(engine: Engine, tmp_path: Path, name: str) -> None:
    period, row = CLEAN[name]
    assert receipt_reasons(engine, tmp_path, get_dataset(name), period, row) == ""


@pytest.mark.parametrize(
    ("name", "rule"), CASES, ids=[f"{name}-{rule.receipt_code}" for name, rule in CASES]
)
def test_a_broken_rule_is_reported_as_the_dictionary_says(
    engine: Engine, tmp_path: Path, name: str, rule: RowRule
) -> None:
    period, row = CLEAN[name]
    reported = receipt_reasons(engine, tmp_path, get_dataset(name), period, broken(row, rule))
    assert reported == rule.receipt_code


def test_every_kind_of_rule_is_covered() -> None:
    assert {rule.kind for _, rule in CASES} == {"sequence", "count", "summary"}
