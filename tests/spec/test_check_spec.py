"""What each kind of check counts, on small tables written here and run on the engine.

Each table is written as the standardiser writes a submission (a Parquet file of typed rows with
``source_row``, the NHS number replaced by ``person_id``; quarantined rows with their reasons),
then a pack of one or a few checks is evaluated over it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlglot import exp

from carehub.model.checks import CheckPack
from carehub.quality.compile import (
    CompileContext,
    aggregate_query,
    compile_row_check,
    failing_rows_query,
)
from carehub.quality.evaluation import (
    CheckOutcome,
    Failure,
    Status,
    SubmissionRows,
    cause,
    evaluate,
)
from carehub.quality.reference import ODS_COLUMNS, ReferenceData
from carehub.store.engines import Engine, HmacPads

KEY = bytes(range(32))
PADS = HmacPads.from_key(KEY)
RECEIVED = datetime(2025, 2, 3, 9, 0)
TYPES = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "ts": pa.timestamp("us"),
    "bytes": pa.binary(),
}


def person(nhs_number: str) -> bytes:
    """The pseudonym the standardiser gives an NHS number under KEY."""
    return hmac.new(KEY, nhs_number.encode(), hashlib.sha256).digest()


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def write(path: Path, columns: dict[str, tuple[str, Sequence[Any]]]) -> Path:
    """A Parquet file of these columns (name: (type, values)), numbered from row 1."""
    rows = len(next(iter(columns.values()))[1])
    arrays = {"source_row": pa.array(range(1, rows + 1), pa.int64())}
    arrays |= {name: pa.array(values, TYPES[kind]) for name, (kind, values) in columns.items()}
    pq.write_table(pa.table(arrays), path)
    return path


def check(check_id: str, category: str, rule: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": check_id,
        "title": check_id.replace("_", " "),
        "category": category,
        "context": "verification",
        "severity": "error",
        "rule": rule,
        "notes": "set for the test",
        **extra,
    }


def pack(dataset: str, *checks: dict[str, Any]) -> CheckPack:
    data = {"dataset": dataset, "description": "test pack", "checks": list(checks)}
    return CheckPack.model_validate(data)


class Submission:
    """A submission's files in a folder, and the checks run over them."""

    def __init__(self, folder: Path, engine: Engine, reference: Path | None = None) -> None:
        self.folder, self.engine = folder, engine
        self.reference = ReferenceData(reference or folder / "no-reference-data")

    def run(
        self,
        checks: CheckPack,
        columns: dict[str, tuple[str, Sequence[Any]]],
        quarantined: Sequence[str] = (),
        **records: Any,
    ) -> dict[str, CheckOutcome]:
        standard = write(self.folder / "standard.parquet", columns)
        rows = len(next(iter(columns.values()))[1])
        quarantine = None
        if quarantined:  # after the published rows, numbered on from them
            numbers = range(rows + 1, rows + len(quarantined) + 1)
            quarantine = self.folder / "quarantine.parquet"
            table = {"source_row": pa.array(numbers, pa.int64()), "reasons": list(quarantined)}
            pq.write_table(pa.table(table), quarantine)
        submission = SubmissionRows(
            submission_id=1,
            dataset=checks.dataset,
            org_code="RAJ",
            period="2025-01",
            received_at=RECEIVED,
            rows_published=rows,
            rows_quarantined=len(quarantined),
            standard=standard,
            quarantine=quarantine,
            **records,
        )
        outcomes = evaluate(checks, submission, self.engine, self.reference, PADS)
        return {o.check.id: o for o in outcomes}


@pytest.fixture
def submission(tmp_path: Path, engine: Engine) -> Submission:
    return Submission(tmp_path, engine)


def counts(outcome: CheckOutcome) -> tuple[str, int | None, int | None]:
    return outcome.status, outcome.failing, outcome.denominator


# --- one behaviour each ------------------------------------------------------------------------


def test_not_null_counts_missing_values(submission: Submission) -> None:
    checks = pack(
        "ed_attendance", check("acuity", "completeness", {"kind": "not_null", "field": "acuity"})
    )
    result = submission.run(checks, {"acuity": ("str", ["1", None, "3", None, "5"])})
    assert counts(result["acuity"]) == ("failed", 2, 5)
    assert result["acuity"].failures == (
        Failure(2, "acuity", "MISSING"),
        Failure(4, "acuity", "MISSING"),
    )


def test_the_tolerated_share_decides_pass_or_fail(submission: Submission) -> None:
    rule = {"kind": "not_null", "field": "acuity"}
    checks = pack(
        "ed_attendance",
        check("at_40", "completeness", rule, tolerated_failure_pct=40),
        check("at_39", "completeness", rule, tolerated_failure_pct=39.9),
    )
    result = submission.run(checks, {"acuity": ("str", ["1", None, "3", None, "5"])})
    assert counts(result["at_40"]) == ("passed", 2, 5)  # 40% failing, 40% tolerated
    assert counts(result["at_39"]) == ("failed", 2, 5)
    assert result["at_40"].failing_pct == pytest.approx(40.0)


def test_in_code_set_fails_codes_outside_the_set_and_ignores_missing_ones(
    submission: Submission,
) -> None:
    checks = pack(
        "ed_attendance",
        check("dept", "conformance", {"kind": "in_code_set", "field": "department_type"}),
    )
    result = submission.run(checks, {"department_type": ("str", ["01", "07", None, "04", "1"])})
    assert counts(result["dept"]) == ("failed", 2, 5)
    assert [f.source_row for f in result["dept"].failures] == [2, 5]


def test_range_is_inclusive(submission: Submission) -> None:
    checks = pack(
        "ed_attendance",
        check("age", "plausibility", {"kind": "range", "field": "age_years", "min": 0, "max": 120}),
    )
    result = submission.run(checks, {"age_years": ("int", [-1, 0, 120, 121, None])})
    assert counts(result["age"]) == ("failed", 2, 5)
    assert [f.source_row for f in result["age"].failures] == [1, 4]


POSTCODES_VALID = ["EC1A 1BB", "W1A 0AX", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "SW1A 1AA"]
POSTCODES_VALID += ["LS1 4AP", "EC1A1BB", "ec1a 1bb", "ZZ99 3VZ", "ZZ99 3WZ", "ZZ99 3CZ"]
POSTCODES_INVALID = ["QQ1 1AA", "EC1A1BBB", "12345", "SW1A 1AA; DROP"]


def test_the_postcode_pattern_follows_the_reference_vectors(submission: Submission) -> None:
    """NHS_ANALYTICS_REFERENCE §7.2: Royal Mail format after upper-casing and normalising the
    spaces, and the NHS pseudo-postcodes, which the Royal Mail pattern does not match."""
    checks = pack(
        "gp_registration",
        check(
            "postcode",
            "conformance",
            {"kind": "pattern", "field": "postcode", "format": "uk_postcode"},
        ),
    )
    values = POSTCODES_VALID + POSTCODES_INVALID + [None]
    result = submission.run(checks, {"postcode": ("str", values)})
    assert counts(result["postcode"]) == ("failed", len(POSTCODES_INVALID), len(values))
    first_invalid = len(POSTCODES_VALID) + 1
    assert [f.source_row for f in result["postcode"].failures] == list(
        range(first_invalid, first_invalid + len(POSTCODES_INVALID))
    )


@pytest.mark.parametrize(
    ("format_", "good", "bad"),
    [
        ("gp_practice", ["A81001", "Y02707"], ["A8100", "81001A", "a81001"]),
        ("ods_site", ["R0A07", "RAJ01"], ["RAJ", "RAJ01A"]),
        ("ods_organisation", ["RAJ", "NUC01A", "8J094"], ["RA", "RAJ0123", "raj"]),
        ("snomed_ct_id", ["22298006", "1240581000000104"], ["012345", "12345", "22298006X"]),
        ("icd10_code", ["J44", "J44.1", "J441", "A41X"], ["44J", "J4", "J44.12345"]),
    ],
)
def test_named_patterns(
    submission: Submission, format_: str, good: list[str], bad: list[str]
) -> None:
    field = "primary_diagnosis"  # a string field of admitted_spell
    checks = pack(
        "admitted_spell",
        check("pattern", "conformance", {"kind": "pattern", "field": field, "format": format_}),
    )
    result = submission.run(checks, {field: ("str", good + bad)})
    assert counts(result["pattern"]) == ("failed", len(bad), len(good) + len(bad))


def test_sequence_fails_a_later_time_before_the_earlier_one(submission: Submission) -> None:
    checks = pack(
        "ed_attendance",
        check(
            "seq",
            "plausibility",
            {"kind": "sequence", "earlier": "arrival_at", "later": "departed_at"},
        ),
    )
    arrivals = [ts("2025-01-05 10:00"), ts("2025-01-05 10:00"), ts("2025-01-05 10:00"), None]
    departures = [ts("2025-01-05 09:59"), ts("2025-01-05 10:00"), None, ts("2025-01-05 08:00")]
    result = submission.run(
        checks, {"arrival_at": ("ts", arrivals), "departed_at": ("ts", departures)}
    )
    assert counts(result["seq"]) == ("failed", 1, 4)
    assert result["seq"].failures == (Failure(1, "departed_at", "OUT_OF_SEQUENCE"),)


def test_not_above_fails_a_part_larger_than_its_whole(submission: Submission) -> None:
    rule = {"kind": "not_above", "part": "general_acute_occupied", "whole": "general_acute_open"}
    checks = pack("bed_sitrep", check("occupied", "plausibility", rule))
    result = submission.run(
        checks,
        {
            "general_acute_open": ("int", [30, 30, 30, None]),
            "general_acute_occupied": ("int", [29, 30, 31, 12]),
        },
    )
    assert counts(result["occupied"]) == ("failed", 1, 4)
    assert result["occupied"].failures == (Failure(3, "general_acute_occupied", "ABOVE_WHOLE"),)


def test_max_duration_allows_exactly_the_limit(submission: Submission) -> None:
    rule = {"kind": "max_duration", "start": "arrival_at", "end": "departed_at", "hours": 72}
    checks = pack("ed_attendance", check("stay", "plausibility", rule))
    arrival = ts("2025-01-05 10:00")
    departures = [ts("2025-01-08 10:00"), ts("2025-01-08 10:01"), ts("2025-01-05 11:00"), None]
    result = submission.run(
        checks, {"arrival_at": ("ts", [arrival] * 4), "departed_at": ("ts", departures)}
    )
    assert counts(result["stay"]) == ("failed", 1, 4)
    assert result["stay"].failures == (Failure(2, "departed_at", "DURATION_TOO_LONG"),)


def test_not_in_future_is_measured_from_when_the_file_was_received(
    submission: Submission,
) -> None:
    checks = pack(
        "ed_attendance",
        check("future", "plausibility", {"kind": "not_in_future", "field": "arrival_at"}),
    )
    arrivals = [ts("2025-02-03 09:00"), ts("2025-02-03 09:01"), ts("2024-12-31 23:00")]
    result = submission.run(checks, {"arrival_at": ("ts", arrivals)})
    assert counts(result["future"]) == ("failed", 1, 3)


def test_valid_nhs_numbers_count_missing_ones_and_invalid_ones_quarantined(
    submission: Submission,
) -> None:
    checks = pack(
        "ed_attendance",
        check("linkable", "linkage", {"kind": "valid_nhs_number_share", "field": "nhs_number"}),
    )
    people = [person("9434765919"), None, person("9434765870")]
    quarantined = [
        "NHS_NUMBER_INVALID:nhs_number",
        "NHS_NUMBER_INVALID:nhs_number;UNKNOWN_CODE:acuity",
        "UNKNOWN_CODE:acuity",
    ]
    result = submission.run(checks, {"person_id": ("bytes", people)}, quarantined)
    # one published row without a number, two quarantined for an invalid one, of six rows
    assert counts(result["linkable"]) == ("failed", 3, 6)
    assert result["linkable"].failures == (
        Failure(2, "nhs_number", "NO_VALID_NHS_NUMBER"),
        Failure(4, "nhs_number", "NHS_NUMBER_INVALID"),
        Failure(5, "nhs_number", "NHS_NUMBER_INVALID"),
    )


def test_placeholder_nhs_numbers_are_recognised_by_their_pseudonym(
    submission: Submission,
) -> None:
    rule = {
        "kind": "default_value_share",
        "field": "nhs_number",
        "values": ["0000000000", "9999999999"],
    }
    checks = pack("ed_attendance", check("placeholder", "completeness", rule))
    people = [person("0000000000"), person("9434765919"), None, person("9999999999")]
    result = submission.run(checks, {"person_id": ("bytes", people)})
    assert counts(result["placeholder"]) == ("failed", 2, 4)
    assert [f.source_row for f in result["placeholder"].failures] == [1, 4]


def test_default_codes_are_counted(submission: Submission) -> None:
    rule = {"kind": "default_value_share", "field": "sex", "values": ["X", "9"]}
    checks = pack("ed_attendance", check("sex", "completeness", rule, tolerated_failure_pct=50))
    result = submission.run(checks, {"sex": ("str", ["1", "X", "2", "9", None, "X"])})
    assert counts(result["sex"]) == ("passed", 3, 6)


def test_unique_fails_each_copy_after_the_first(submission: Submission) -> None:
    checks = pack(
        "ed_attendance", check("ids", "uniqueness", {"kind": "unique", "fields": ["attendance_id"]})
    )
    ids = ["A", "B", "A", None, "A", None, "C"]
    result = submission.run(checks, {"attendance_id": ("str", ids)})
    assert counts(result["ids"]) == ("failed", 2, 7)  # missing ids are not compared
    assert result["ids"].failures == (
        Failure(3, "attendance_id", "DUPLICATE"),
        Failure(5, "attendance_id", "DUPLICATE"),
    )


def test_unique_over_several_fields_including_the_nhs_number(submission: Submission) -> None:
    rule = {"kind": "unique", "fields": ["nhs_number", "site_code", "arrival_at"]}
    checks = pack("ed_attendance", check("dupes", "uniqueness", rule))
    same, other = person("9434765919"), person("9434765870")
    arrival = ts("2025-01-05 10:00")
    result = submission.run(
        checks,
        {
            "person_id": ("bytes", [same, same, same, other, None, None]),
            "site_code": ("str", ["RAJ01", "RAJ01", "RAJ02", "RAJ01", "RAJ01", "RAJ01"]),
            "arrival_at": ("ts", [arrival] * 6),
        },
    )
    assert counts(result["dupes"]) == ("failed", 1, 6)
    assert result["dupes"].failures == (Failure(2, "nhs_number,site_code,arrival_at", "DUPLICATE"),)


def write_reference(root: Path) -> Path:
    """A shared data folder with an ODS practice extract (no header, 27 columns) and a postcode
    lookup."""
    (root / "ods").mkdir(parents=True)
    lines = [
        ",".join([f'"{code}"', '"A PRACTICE"'] + ['""'] * (ODS_COLUMNS - 2))
        for code in ("A81001", "F81001")
    ]
    (root / "ods" / "epraccur.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "postcode_lsoa").mkdir()
    postcodes = pa.table({"pcds": ["SS7 5DP", "EC1A 1BB"], "lsoa11cd": ["E01", "E02"]})
    pq.write_table(postcodes, root / "postcode_lsoa" / "pcd_oa_lsoa_msoa_lad_may22_uk.parquet")
    return root


def test_reference_lists_match_codes_and_compacted_postcodes(
    tmp_path: Path, engine: Engine
) -> None:
    submission = Submission(tmp_path, engine, write_reference(tmp_path / "shared"))
    checks = pack(
        "gp_registration",
        check(
            "practice",
            "referential",
            {"kind": "reference", "field": "practice_code", "list": "ods_gp_practices"},
        ),
        check(
            "postcode",
            "referential",
            {"kind": "reference", "field": "postcode", "list": "postcodes"},
        ),
    )
    result = submission.run(
        checks,
        {
            # the first practice of the file is data, not a header
            "practice_code": ("str", ["A81001", "F81001", "Z99999", None]),
            "postcode": ("str", ["ss7 5dp", "SS75DP", "SS7 5DQ", None]),
        },
    )
    assert counts(result["practice"]) == ("failed", 1, 4)
    assert result["practice"].failures == (Failure(3, "practice_code", "NOT_IN_REFERENCE"),)
    assert counts(result["postcode"]) == ("failed", 1, 4)


def test_a_required_field_counts_its_quarantined_missing_values(
    submission: Submission,
) -> None:
    checks = pack(
        "ed_attendance", check("site", "completeness", {"kind": "not_null", "field": "site_code"})
    )
    quarantined = [
        "MISSING_VALUE:site_code",
        "MISSING_VALUE:arrival_at",
        "MISSING_VALUE:site_code;OUT_OF_RANGE:age_years",
    ]
    result = submission.run(checks, {"site_code": ("str", ["RAJ01", "RAJ02"])}, quarantined)
    assert counts(result["site"]) == ("failed", 2, 5)
    assert result["site"].failures == (
        Failure(3, "site_code", "MISSING_VALUE"),
        Failure(5, "site_code", "MISSING_VALUE"),
    )


def test_a_reason_is_matched_whole_not_as_a_prefix(submission: Submission) -> None:
    """OUT_OF_RANGE:age_years must not match OUT_OF_RANGE:age_years_at_death."""
    checks = pack(
        "ed_attendance",
        check("age", "plausibility", {"kind": "range", "field": "age_years", "min": 0, "max": 120}),
    )
    quarantined = [
        "OUT_OF_RANGE:age_years_at_death",
        "XOUT_OF_RANGE:age_years",
        "OUT_OF_RANGE:age_years",
    ]
    result = submission.run(checks, {"age_years": ("int", [30])}, quarantined)
    assert counts(result["age"]) == ("failed", 1, 4)


def test_when_limits_a_check_to_some_rows(submission: Submission) -> None:
    when = {"field": "department_type", "values": ["01", "02"]}
    checks = pack(
        "ed_attendance",
        check("acuity", "completeness", {"kind": "not_null", "field": "acuity"}, when=when),
    )
    result = submission.run(
        checks,
        {
            "department_type": ("str", ["01", "01", "02", "03", "03"]),
            "acuity": ("str", ["2", None, "3", None, None]),
        },
    )
    assert counts(result["acuity"]) == ("failed", 1, 3)  # of the three type 1 and 2 rows
    result = submission.run(checks, {"department_type": ("str", ["03"]), "acuity": ("str", [None])})
    assert counts(result["acuity"]) == ("not_applicable", 0, 0)


def test_volume_is_compared_with_the_providers_own_history(submission: Submission) -> None:
    rule = {"kind": "volume_vs_history", "months": 3, "min_history": 2}
    checks = pack(
        "ed_attendance",
        check("volume", "volume", rule, context="validation", tolerated_failure_pct=30),
    )
    columns = {"attendance_id": ("str", [str(i) for i in range(140)])}
    result = submission.run(checks, columns, history=(100, 100, 100, 10))
    assert counts(result["volume"]) == ("failed", 40, 100)  # 40% above the last 3 months' mean
    result = submission.run(checks, columns, history=(120, 120))
    assert counts(result["volume"]) == ("passed", 20, 120)
    result = submission.run(checks, columns, history=(140,))
    assert result["volume"].status == "not_applicable"


def test_timeliness_against_the_due_date(submission: Submission) -> None:
    checks = pack(
        "ed_attendance",
        check("on_time", "timeliness", {"kind": "received_by_due_date"}, context="validation"),
    )
    columns = {"attendance_id": ("str", ["A"])}
    late = submission.run(checks, columns, due=datetime(2025, 2, 2).date())
    on_time = submission.run(checks, columns, due=datetime(2025, 2, 3).date())
    unscheduled = submission.run(checks, columns)
    assert counts(late["on_time"]) == ("failed", 1, 1)
    assert counts(on_time["on_time"]) == ("passed", 0, 1)
    assert unscheduled["on_time"].status == "not_applicable"


def test_the_quarantined_share(submission: Submission) -> None:
    checks = pack(
        "ed_attendance",
        check("quarantined", "conformance", {"kind": "quarantine_share"}, tolerated_failure_pct=25),
    )
    result = submission.run(
        checks, {"attendance_id": ("str", ["A", "B", "C"])}, ["MISSING_VALUE:site_code"]
    )
    assert counts(result["quarantined"]) == ("passed", 1, 4)


# --- one query, and errors that stay with their check -------------------------------------------

ROW_CHECKS = pack(
    "ed_attendance",
    check("acuity", "completeness", {"kind": "not_null", "field": "acuity"}),
    check("dept", "conformance", {"kind": "in_code_set", "field": "department_type"}),
    check("age", "plausibility", {"kind": "range", "field": "age_years", "min": 0, "max": 120}),
    check(
        "seq", "plausibility", {"kind": "sequence", "earlier": "arrival_at", "later": "departed_at"}
    ),
    check(
        "stay",
        "plausibility",
        {"kind": "max_duration", "start": "arrival_at", "end": "departed_at", "hours": 24},
    ),
    check("future", "plausibility", {"kind": "not_in_future", "field": "departed_at"}),
    check("site", "conformance", {"kind": "pattern", "field": "site_code", "format": "ods_site"}),
    check("linkable", "linkage", {"kind": "valid_nhs_number_share", "field": "nhs_number"}),
    check(
        "placeholder",
        "completeness",
        {"kind": "default_value_share", "field": "nhs_number", "values": ["0000000000"]},
    ),
    check(
        "acuity_type_1",
        "completeness",
        {"kind": "not_null", "field": "acuity"},
        when={"field": "department_type", "values": ["01"]},
    ),
)
ROWS = {
    "acuity": ("str", ["1", None, "3", None, "5", "2"]),
    "department_type": ("str", ["01", "09", "01", "03", None, "01"]),
    "age_years": ("int", [30, 130, -2, 40, None, 50]),
    "arrival_at": ("ts", [ts("2025-01-05 10:00")] * 6),
    "departed_at": (
        "ts",
        [
            ts("2025-01-05 09:00"),
            ts("2025-01-07 10:00"),
            ts("2025-03-01 10:00"),
            None,
            ts("2025-01-05 11:00"),
            ts("2025-01-05 12:00"),
        ],
    ),
    "site_code": ("str", ["RAJ01", "RAJ", "RAJ02", "RAJ02", "R!J01", "RAJ01"]),
    "person_id": (
        "bytes",
        [person("9434765919"), None, person("0000000000"), None, person("9434765870"), None],
    ),
}
EXPECTED = {
    "acuity": 2,
    "dept": 1,
    "age": 2,
    "seq": 1,
    "stay": 2,  # 48 hours, and the departure in March
    "future": 1,
    "site": 2,
    "linkable": 3,
    "placeholder": 1,
    "acuity_type_1": 0,
}


def test_one_combined_query_counts_as_each_check_alone(tmp_path: Path, engine: Engine) -> None:
    path = write(tmp_path / "rows.parquet", ROWS)
    spec = ROW_CHECKS.dataset_spec
    context = CompileContext(as_of=RECEIVED, pads=PADS)
    compiled = [compile_row_check(c, spec, engine, context) for c in ROW_CHECKS.checks]
    source = engine.scan_parquet([path])
    with engine.session() as session:
        combined = session.rows(aggregate_query(compiled, source))[0]
        alone = [session.rows(aggregate_query([c], source))[0] for c in compiled]
        captured = session.rows(failing_rows_query(compiled, source, cap=1))
    assert combined[0] == 6
    together = {
        c.check.id: (combined[1 + 2 * i], combined[2 + 2 * i]) for i, c in enumerate(compiled)
    }
    assert together == {
        c.check.id: (row[1], row[2]) for c, row in zip(compiled, alone, strict=True)
    }
    assert {k: v[0] for k, v in together.items()} == EXPECTED
    assert together["acuity_type_1"][1] == 3  # applies to the three type 1 rows
    # at most one row per check is kept, the first in the file
    first = {
        c.check.id: min((r[0] for r in captured if r[1 + i]), default=None)
        for i, c in enumerate(compiled)
    }
    assert sum(r[1 + i] for r in captured for i in range(len(compiled))) == sum(
        1 for v in EXPECTED.values() if v
    )
    assert first["age"] == 2 and first["acuity"] == 2 and first["stay"] == 2


def test_evaluating_the_pack_gives_the_same_counts(submission: Submission) -> None:
    result = submission.run(ROW_CHECKS, ROWS)
    assert {k: o.failing for k, o in result.items()} == EXPECTED
    assert all(o.status == ("failed" if EXPECTED[k] else "passed") for k, o in result.items())


def test_a_check_that_breaks_on_the_engine_is_an_error_and_the_others_still_run(
    submission: Submission,
) -> None:
    """The file lacks the acuity column the first check reads: the combined query fails, so
    every check is run alone to find the one at fault."""
    rows = {k: v for k, v in ROWS.items() if k != "acuity"}
    result = submission.run(ROW_CHECKS, rows)
    for broken in ("acuity", "acuity_type_1"):
        assert result[broken].status == Status.ERROR
        assert result[broken].error is not None and "acuity" in result[broken].error
    others = {k: o.failing for k, o in result.items() if k not in ("acuity", "acuity_type_1")}
    assert others == {k: v for k, v in EXPECTED.items() if k not in ("acuity", "acuity_type_1")}


def test_a_missing_reference_list_is_an_error_and_the_others_pass(
    submission: Submission,
) -> None:
    checks = pack(
        "gp_registration",
        check(
            "practice",
            "referential",
            {"kind": "reference", "field": "practice_code", "list": "ods_gp_practices"},
        ),
        check(
            "format",
            "conformance",
            {"kind": "pattern", "field": "practice_code", "format": "gp_practice"},
        ),
        check("ids", "uniqueness", {"kind": "unique", "fields": ["practice_code"]}),
    )
    result = submission.run(checks, {"practice_code": ("str", ["A81001", "F81001"])})
    assert result["practice"].status == Status.ERROR
    assert result["practice"].error is not None
    assert "reference list ods_gp_practices is not available" in result["practice"].error
    assert "epraccur.csv is missing" in result["practice"].error
    assert (result["format"].status, result["ids"].status) == ("passed", "passed")


def test_placeholders_cannot_be_recognised_without_the_key(tmp_path: Path, engine: Engine) -> None:
    checks = pack(
        "ed_attendance",
        check(
            "placeholder",
            "completeness",
            {"kind": "default_value_share", "field": "nhs_number", "values": ["0000000000"]},
        ),
        check("linkable", "linkage", {"kind": "valid_nhs_number_share", "field": "nhs_number"}),
    )
    path = write(tmp_path / "rows.parquet", {"person_id": ("bytes", [person("0000000000")])})
    rows = SubmissionRows(1, "ed_attendance", "RAJ", "2025-01", RECEIVED, 1, 0, path, None)
    outcomes = evaluate(checks, rows, engine, ReferenceData(tmp_path), pads=None)
    assert [o.status for o in outcomes] == [Status.ERROR, Status.PASSED]
    assert outcomes[0].error is not None and "key" in outcomes[0].error


def test_an_unreadable_file_leaves_only_the_record_checks(tmp_path: Path, engine: Engine) -> None:
    checks = pack(
        "ed_attendance",
        check("acuity", "completeness", {"kind": "not_null", "field": "acuity"}),
        check("quarantined", "conformance", {"kind": "quarantine_share"}),
    )
    rows = SubmissionRows(
        1, "ed_attendance", "RAJ", "2025-01", RECEIVED, 5, 0, tmp_path / "gone.parquet", None
    )
    outcomes = evaluate(checks, rows, engine, ReferenceData(tmp_path), PADS)
    assert [o.status for o in outcomes] == [Status.ERROR, Status.PASSED]


def test_an_engine_error_keeps_no_value(engine: Engine) -> None:
    value = "9434765919"
    with engine.session() as session, pytest.raises(Exception) as raised:
        session.rows(exp.select(exp.cast(exp.Literal.string(f"x{value}"), "INT")))
    assert value in str(raised.value)  # the engine quotes it …
    assert value not in cause(raised.value)  # … the recorded cause does not
    assert cause(raised.value).startswith("ConversionException")
