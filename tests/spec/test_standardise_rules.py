"""Standardisation rules, one behaviour per table: input rows -> (published, reasons)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from carehub.model.datasets import get_dataset
from carehub.model.mappings import FeedMapping
from carehub.model.periods import Period
from carehub.standardise.compile import REASONS, STAGED_TABLE, compile_standardise
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
    ("a fraction is not an integer", {"age_years": "40.5"}, "NOT_AN_INTEGER:age_years"),
    ("a whole number written with .0 passes", {"age_years": "40.0"}, ""),
    ("age above range", {"age_years": "121"}, "OUT_OF_RANGE:age_years"),
    ("a fraction is not a whole number", {"age_years": "45.7"}, "NOT_AN_INTEGER:age_years"),
    ("a whole number written as a float passes", {"age_years": "45.0"}, ""),
    ("a thousands point is not read", {"age_years": "1.000"}, "NOT_AN_INTEGER:age_years"),
    ("a digit separator is not read", {"age_years": "1_0"}, "NOT_AN_INTEGER:age_years"),
    ("hexadecimal is not read", {"age_years": "0x2D"}, "NOT_AN_INTEGER:age_years"),
    ("tabs and spaces around a code are trimmed", {"department_type": "\t01 "}, ""),
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


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        ("72.5", ""),
        ("72", ""),
        (".5e2", ""),
        ("-", "NOT_A_NUMBER:weight_kg"),
        ("7_2", "NOT_A_NUMBER:weight_kg"),
        ("0x48", "NOT_A_NUMBER:weight_kg"),
        ("nan", "NOT_A_NUMBER:weight_kg"),
        ("inf", "NOT_A_NUMBER:weight_kg"),
        ("72,5", "NOT_A_NUMBER:weight_kg"),
    ],
)
def test_a_decimal_must_look_like_a_number(
    engine: Engine, tmp_path: Path, weight: str, expected: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        f'event_on,referral_id,event_type,weight_kg\n2025-01-03,R1,SESSION,"{weight}"\n'
    )
    query = compile_standardise(
        get_dataset("dpp_event"),
        FeedMapping.identity("DPP01", "dpp_event").without(
            ("nhs_number", "practice_code", "session_number", "hba1c_mmol_mol")
        ),
        engine,
        Period(2025, 1),
        PADS,
    )
    with engine.session(ingest=True) as session:
        session.stage(
            STAGED_TABLE,
            exp.select("*").from_(engine.scan_csv(path, delimiter=",", encoding="utf-8")),
        )
        assert session.rows(exp.select(exp.column(REASONS)).from_(query.query.subquery("q"))) == [
            (expected,)
        ]
