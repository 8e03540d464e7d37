"""The mapping proposer: column matches by name and by values, formats, codes, the YAML."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import yaml

from carehub.errors import DataContractError, UserError
from carehub.model.datasets import get_dataset
from carehub.model.mappings import FeedMapping
from carehub.model.yaml_loading import load_model
from carehub.standardise.draft_values import ColumnValues
from carehub.standardise.drafting import Confidence, Draft, propose_mapping

ED = get_dataset("ed_attendance")
VALID_NHS = ["9434765919", "9990000018", "9990000026", "943 476 5919"]


@dataclass(frozen=True)
class Table:
    """A sample as acquire's reader gives it, written in the test."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    file: str = "sample.csv"
    more_rows: bool = False
    sheet: str | None = None
    header_row: int = 1
    ragged_rows: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def table(columns: dict[str, list[str]]) -> Table:
    length = max(len(v) for v in columns.values())
    rows = tuple(
        tuple(values[i % len(values)] if values else "" for values in columns.values())
        for i in range(length)
    )
    return Table(tuple(columns), rows)


def draft(columns: dict[str, list[str]], dataset: str = "ed_attendance") -> Draft:
    return propose_mapping(get_dataset(dataset), "RAJ", table(columns))


@pytest.mark.parametrize(
    ("column", "dataset", "field_name"),
    [
        ("NHS No", "ed_attendance", "nhs_number"),
        ("Patient NHS No.", "ed_attendance", "nhs_number"),
        ("Arrival Date/Time", "ed_attendance", "arrival_at"),
        ("Dept Type", "ed_attendance", "department_type"),
        ("A&E Type", "ed_attendance", "department_type"),
        ("Attendance Ref", "ed_attendance", "attendance_id"),
        ("DTADateTime", "ed_attendance", "decision_to_admit_at"),
        ("Gender", "ed_attendance", "sex"),
        ("DOB", "gp_registration", "birth_date"),
        ("Date of Birth", "gp_registration", "birth_date"),
        ("RegistrationDate", "gp_registration", "registered_on"),
        ("GA_Beds_Open", "bed_sitrep", "general_acute_open"),
        ("CC Beds Occupied", "bed_sitrep", "critical_care_occupied"),
        ("HbA1c", "dpp_event", "hba1c_mmol_mol"),
        ("AdmissionDateTime", "admitted_spell", "admitted_at"),
        ("ResponseDateTime", "ambulance_incident", "responded_at"),
    ],
)
def test_common_nhs_column_names_match_their_field(
    column: str, dataset: str, field_name: str
) -> None:
    proposal = draft({column: []}, dataset)
    assert proposal.field(field_name).column == column
    assert [f.name for f in proposal.matched] == [field_name]


def test_valid_nhs_numbers_are_found_whatever_the_column_is_called() -> None:
    proposal = draft({"Col7": VALID_NHS, "Col8": ["x", "y"]})
    nhs = proposal.field("nhs_number")
    assert nhs.column == "Col7" and nhs.confidence is Confidence.MEDIUM
    assert any("pass Modulus 11" in e for e in nhs.evidence)
    assert "Col8" in proposal.unused_columns


def test_invalid_nhs_numbers_are_a_weaker_match_with_a_note() -> None:
    proposal = draft({"Col7": ["123-456-7890", "111-111-1112"]})
    nhs = proposal.field("nhs_number")
    assert nhs.column == "Col7" and nhs.confidence is Confidence.LOW
    assert any("0% of the values pass Modulus 11" in n for n in nhs.notes)


def test_values_of_a_code_set_find_its_field() -> None:
    proposal = draft({"X1": ["01", "03", "01"], "X2": ["ambulance", "other"]})
    assert proposal.field("department_type").column == "X1"
    assert proposal.field("arrival_mode").column == "X2"


def test_counts_are_not_taken_for_codes() -> None:
    counts = [str(n) for n in range(40)]  # a few of them ("1", "3") look like department types
    proposal = draft({"Department Type 1 attendances": counts})
    assert proposal.matched == ()


def test_value_evidence_decides_between_names() -> None:
    # "AgeAtArrival" shares a word with arrival_at, but its values are whole numbers
    proposal = draft({"AgeAtArrival": ["41", "7", "88"], "ArrivalDateTime": ["01/04/2025 10:00"]})
    assert proposal.field("age_years").column == "AgeAtArrival"
    assert proposal.field("arrival_at").column == "ArrivalDateTime"


def test_each_column_goes_to_one_field_only_the_best_scoring() -> None:
    proposal = draft({"Arrival": ["2025-04-01 10:00:00"]})
    assert proposal.field("arrival_at").column == "Arrival"
    assert proposal.field("arrival_mode").column is None
    assert len(proposal.matched) == 1


@pytest.mark.parametrize(
    ("values", "expected", "ambiguous"),
    [
        (["2025-04-01 10:00:00", "2025-04-13T08:30:00"], None, None),
        (["2025-04-01"], None, None),
        (["01/04/2025 10:00", "13/04/2025 11:00"], "%d/%m/%Y %H:%M", None),
        (["01/04/2025 10:00", "03/04/2025 11:00"], "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"),
        (["04/13/2025 10:00", "04/03/2025 11:00"], "%m/%d/%Y %H:%M", None),
        (["01/04/2025 10:00:05"], "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S"),
        (["202504131000", "202504011000"], "%Y%m%d%H%M", None),
        (["13-Apr-2025 10:00", "01-APR-2025 10:00"], "%d-%b-%Y %H:%M", None),
    ],
)
def test_the_date_format_is_found_and_ambiguity_reported(
    values: list[str], expected: str | None, ambiguous: str | None
) -> None:
    proposal = draft({"ArrivalDateTime": values})
    arrival = proposal.field("arrival_at")
    assert arrival.column == "ArrivalDateTime" and arrival.format == expected
    said = [n for n in arrival.notes if "day-first from month-first" in n]
    assert bool(said) == (ambiguous is not None)
    if ambiguous:
        assert ambiguous in said[0] and any(ambiguous in w for w in proposal.warnings)


def test_unreadable_dates_are_a_problem() -> None:
    values = [f"{day} April 2025 at {hour}h" for day in range(1, 11) for hour in range(10)]
    proposal = draft({"ArrivalDateTime": values})
    arrival = proposal.field("arrival_at")
    assert arrival.column == "ArrivalDateTime" and arrival.confidence is Confidence.LOW
    assert any(
        "no known date format reads column 'ArrivalDateTime'" in p for p in proposal.problems
    )


def test_unmapped_code_values_are_counted_and_obvious_ones_translated() -> None:
    proposal = draft(
        {
            "Gender": ["M", "F", "M", "Male", "female ", "U"],
            "Dept Type": ["1", "3", "1", "9"],
            "DischargeDest": ["HOME", "Left_Before_Treatment", "ADM"],
        }
    )
    sex = proposal.field("sex")
    assert sex.translations == {"Male": "1", "female": "2"}
    assert [(u.value, u.rows) for u in sex.unmapped] == [("M", 2), ("F", 1), ("U", 1)]
    department = proposal.field("department_type")
    assert department.translations == {"1": "01", "3": "03"}  # the same number
    assert [u.value for u in department.unmapped] == ["9"]
    destination = proposal.field("discharge_destination")
    assert destination.translations == {
        "HOME": "home",
        "Left_Before_Treatment": ("left_before_treatment"),
    }
    assert any("sex: 3 distinct sample values need a translation" in w for w in proposal.warnings)


def test_identifying_values_are_never_listed() -> None:
    values = ["M", *VALID_NHS, "SS7 2RW", "01/04/2025", "1970-01-01", "x" * 80]
    proposal = draft({"Gender": values})
    sex = proposal.field("sex")
    assert [u.value for u in sex.unmapped] == ["M"]
    assert sex.unmapped_hidden == 8 and any("not listed" in n for n in sex.notes)
    text = proposal.to_yaml() + "\n".join(proposal.report())
    for value in values[1:]:
        assert value not in text


def test_a_column_of_many_values_lists_none() -> None:
    proposal = draft({"Gender": [f"V{i}" for i in range(100)]})
    sex = proposal.field("sex")
    assert sex.column == "Gender" and sex.unmapped == () and sex.unmapped_hidden == 100
    assert "V1" not in proposal.to_yaml()


def test_required_fields_without_a_column_are_problems() -> None:
    proposal = draft({"NHS No": VALID_NHS})
    missing = {p.split(" ")[0] for p in proposal.problems}
    assert missing == {f.name for f in ED.required_fields}


def test_a_repeated_column_and_ragged_rows_are_problems() -> None:
    sample = Table(("Site", "Site", "Ref"), (("RAJ01", "RAJ01", "A1"),), ragged_rows=3)
    proposal = propose_mapping(ED, "RAJ", sample)
    assert any("repeats column(s) 'Site'" in p for p in proposal.problems)
    assert any("3 sample rows have more or fewer fields" in p for p in proposal.problems)


FULL = {
    "AttendanceRef": ["A1", "A2", "A3"],
    "NHSNumber": VALID_NHS[:3],
    "SiteCode": ["RAJ01", "RAJ02"],
    "DeptType": ["1", "1", "3"],
    "ArrivalDateTime": ["01/04/2025 10:00", "13/04/2025 11:00"],
    "DepartureDateTime": ["01/04/2025 12:00", "13/04/2025 15:00"],
    "Gender": ["M", "F", "Male"],
    "Acuity": ["3", "2"],
}


def test_the_yaml_loads_as_the_proposed_mapping() -> None:
    proposal = draft(FULL)
    mapping = load_model(FeedMapping, proposal.to_yaml(), "draft.yaml")
    assert {n: m.column for n, m in mapping.fields.items()} == {
        f.name: f.column for f in proposal.matched
    }
    assert mapping.fields["arrival_at"].format == "%d/%m/%Y %H:%M"
    assert mapping.fields["department_type"].values == {"1": "01", "3": "03"}
    assert mapping.fields["sex"].values == {"Male": "1"}
    assert (mapping.organisation, mapping.dataset, mapping.version) == ("RAJ", "ed_attendance", 1)


def test_the_yaml_needs_the_gaps_filled_then_loads() -> None:
    proposal = draft({k: v for k, v in FULL.items() if k != "DeptType"})
    text = proposal.to_yaml()
    with pytest.raises(UserError, match="required fields not mapped: department_type"):
        load_model(FeedMapping, text, "draft.yaml")
    filled = text.replace("  # department_type:\n", "  department_type:\n").replace(
        '  #   column: ""  # or  value: ""', '    value: "01"'
    )
    assert load_model(FeedMapping, filled, "draft.yaml").fields["department_type"].value == "01"


def test_uncommenting_the_unmapped_values_gives_translations_to_fill() -> None:
    proposal = draft(FULL)
    lines = proposal.to_yaml().splitlines()
    uncommented = "\n".join(
        line.replace("# ", "", 1) if line.strip().startswith('# "') else line for line in lines
    )
    mapping = load_model(FeedMapping, uncommented, "draft.yaml")
    assert mapping.fields["sex"].values == {"Male": "1", "M": "", "F": ""}


NASTY = [
    'Ref "quoted"',
    "a: b",
    "# not a comment",
    "two\nlines\nx: 1",
    "Zoë",
    "tab\there",
    "del\x7f",
]


@pytest.mark.parametrize("name", NASTY)
def test_any_column_name_survives_the_yaml(name: str) -> None:
    columns = (name, "Attendance Ref", f"{name} 2")
    rows = tuple((nhs, f"A{i}", "x") for i, nhs in enumerate(VALID_NHS))
    proposal = propose_mapping(ED, "RAJ", Table(columns, rows))
    assert proposal.field("nhs_number").column == name
    assert proposal.unused_columns == (f"{name} 2",)
    data = yaml.safe_load(proposal.to_yaml())
    assert set(data) == {"organisation", "dataset", "version", "description", "fields"}
    assert data["fields"]["nhs_number"] == {"column": name}
    assert set(data["fields"]) == {"attendance_id", "nhs_number"}


def test_a_file_without_a_header_row_is_refused_without_showing_its_first_row() -> None:
    first_row = {"9434765919": ["9990000018"], "1985-03-02": ["1990-01-01"], "SW1A 1AA": ["X"]}
    with pytest.raises(DataContractError) as refused:
        propose_mapping(ED, "RAJ", table(first_row))
    shown = refused.value.message + (refused.value.hint or "")
    assert "line 1 holds values" in shown
    assert not any(value in shown for value in first_row)


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-05T10:00:00Z",
        "2024-01-05T10:00:00+01:00",
        "05/01/2024 10:00:00.000",
        "EC1A  1BB",
        "9434765919",
        "943 476 5919",
    ],
)
def test_values_that_look_like_dates_postcodes_or_nhs_numbers_are_never_listed(value: str) -> None:
    assert not ColumnValues([value]).may_be_listed(value)
    assert ColumnValues(["Dx01"]).may_be_listed("Dx01")  # a local code is
