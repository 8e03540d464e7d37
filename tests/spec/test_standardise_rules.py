"""Standardisation rules, one behaviour per table: input rows -> (published, reasons)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from carehub.model.datasets import get_dataset
from carehub.model.mappings import FeedMapping
from carehub.model.periods import Period
from carehub.standardise.compile import STAGED_TABLE, compile_standardise
from carehub.store.engines import Engine, HmacPads

SPEC = get_dataset("ed_attendance")
PADS = HmacPads.from_key(bytes(range(32)))
BASE = {
    "attendance_id": "A",
    "nhs_number": "9990000018",
    "site_code": "RAJ01",
    "department_type": "01",
    "arrival_at": "2025-01-10 10:00:00",
    "initial_assessment_at": "",
    "departed_at": "2025-01-10 12:00:00",
    "acuity": "3",
    "age_years": "40",
    "sex": "1",
    "arrival_mode": "",
    "chief_complaint": "",
    "decision_to_admit_at": "",
    "discharge_destination": "",
}


def check(
    engine: Engine, tmp_path: Path, rows: list[dict[str, str]], mapping: FeedMapping | None = None
) -> list[str]:
    """Run the one-pass query over ``rows``; return each row's reasons ('' = published)."""
    columns = list(BASE)
    path = tmp_path / "in.csv"
    path.write_text(
        ",".join(columns) + "\n" + "".join(",".join(r[c] for c in columns) + "\n" for r in rows)
    )
    query = compile_standardise(
        SPEC, mapping or FeedMapping.identity("RAJ", "ed_attendance"), engine, Period(2025, 1), PADS
    )
    with engine.session(ingest=True) as session:
        session.stage(
            STAGED_TABLE,
            exp.select("*").from_(engine.scan_csv(path, delimiter=",", encoding="utf-8")),
        )
        session.stage("checked", query.query)
        return [reasons for _, reasons in session.rows(query.reasons("checked"))]


CASES = [
    ("a clean row passes", {}, ""),
    ("spaced NHS number passes", {"nhs_number": "999 000 0018"}, ""),
    ("hyphenated NHS number passes", {"nhs_number": "999-000-0018"}, ""),
    ("missing NHS number passes", {"nhs_number": ""}, ""),
    ("wrong check digit", {"nhs_number": "9990000019"}, "NHS_NUMBER_INVALID:nhs_number"),
    ("check digit of 10", {"nhs_number": "9991234560"}, "NHS_NUMBER_INVALID:nhs_number"),
    ("mixed separators", {"nhs_number": "999 000-0018"}, "NHS_NUMBER_INVALID:nhs_number"),
    ("nine digits", {"nhs_number": "999000001"}, "NHS_NUMBER_INVALID:nhs_number"),
    ("missing required", {"site_code": ""}, "MISSING_VALUE:site_code"),
    ("unreadable timestamp", {"departed_at": "yesterday"}, "INVALID_TIMESTAMP:departed_at"),
    (
        "departure before arrival",
        {"departed_at": "2025-01-10 09:59:00"},
        "DEPARTURE_BEFORE_ARRIVAL:departed_at",
    ),
    ("departure equal to arrival passes", {"departed_at": "2025-01-10 10:00:00"}, ""),
    (
        "assessment after departure",
        {"initial_assessment_at": "2025-01-10 12:30:00"},
        "ASSESSMENT_AFTER_DEPARTURE:departed_at",
    ),
    ("unknown code", {"department_type": "1"}, "UNKNOWN_CODE:department_type"),
    (
        "decision after departure",
        {"decision_to_admit_at": "2025-01-10 12:01:00"},
        "DECISION_AFTER_DEPARTURE:departed_at",
    ),
    (
        "admitted with a decision passes",
        {"decision_to_admit_at": "2025-01-10 11:00:00", "discharge_destination": "admitted"},
        "",
    ),
    ("not an integer", {"age_years": "forty"}, "NOT_AN_INTEGER:age_years"),
    ("age above range", {"age_years": "121"}, "OUT_OF_RANGE:age_years"),
    (
        "arrival outside the period",
        {"arrival_at": "2025-02-01 00:00:00", "departed_at": "2025-02-01 01:00:00"},
        "OUTSIDE_PERIOD:arrival_at",
    ),
    (
        "last minute of the period passes",
        {"arrival_at": "2025-01-31 23:59:00", "departed_at": "2025-02-01 01:00:00"},
        "",
    ),
]


@pytest.mark.parametrize(("name", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule(
    engine: Engine, tmp_path: Path, name: str, change: dict[str, str], expected: str
) -> None:
    assert check(engine, tmp_path, [{**BASE, **change}]) == [expected]


def test_several_failures_are_all_reported(engine: Engine, tmp_path: Path) -> None:
    reasons = check(
        engine, tmp_path, [{**BASE, "nhs_number": "123", "sex": "Q", "age_years": "-1"}]
    )
    assert set(reasons[0].split(";")) == {
        "NHS_NUMBER_INVALID:nhs_number",
        "UNKNOWN_CODE:sex",
        "OUT_OF_RANGE:age_years",
    }


def test_local_codes_are_translated_by_the_mapping(engine: Engine, tmp_path: Path) -> None:
    identity = FeedMapping.identity("RAJ", "ed_attendance")
    fields = {
        **identity.fields,
        "department_type": identity.fields["department_type"].model_copy(
            update={"values": {"1": "01"}}
        ),
    }
    mapping = identity.model_copy(update={"fields": fields})
    assert check(engine, tmp_path, [{**BASE, "department_type": "1"}], mapping) == [""]


def test_the_nhs_number_becomes_a_keyed_pseudonym(engine: Engine, tmp_path: Path) -> None:
    import hashlib
    import hmac

    path = tmp_path / "in.csv"
    path.write_text(",".join(BASE) + "\n" + ",".join(BASE.values()) + "\n")
    query = compile_standardise(
        SPEC, FeedMapping.identity("RAJ", "ed_attendance"), engine, Period(2025, 1), PADS
    )
    with engine.session(ingest=True) as session:
        session.stage(
            STAGED_TABLE,
            exp.select("*").from_(engine.scan_csv(path, delimiter=",", encoding="utf-8")),
        )
        session.stage("checked", query.query)
        published = query.published("checked")
        names = session.columns(published)
        row = session.rows(published)[0]
    assert "nhs_number" not in names
    person_id = bytes(row[names.index("person_id")])
    assert person_id == hmac.new(bytes(range(32)), b"9990000018", hashlib.sha256).digest()
