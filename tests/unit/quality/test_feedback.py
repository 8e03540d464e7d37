"""The feedback report's pure parts: plain-English fixes per rule kind, and a workbook whose
cells are values, never formulas."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from carehub.model.check_rules import InCodeSet, InSequence, NotNull
from carehub.quality.evaluation import Failure
from carehub.quality.feedback import FailedCheck, FeedbackReport, how_to_fix, workbook_bytes


def test_a_fix_names_the_field_and_the_dictionary() -> None:
    assert how_to_fix(NotNull(field="site_code"), "ed_attendance") == (
        "fill in site_code on every row; it is required"
    )
    assert "/dictionary/ed_attendance" in how_to_fix(InCodeSet(field="acuity"), "ed_attendance")
    sequence = InSequence(earlier="arrival_at", later="departed_at")
    assert how_to_fix(sequence, "ed_attendance").startswith(
        "departed_at must not be before arrival_at"
    )
    assert "data dictionary" in how_to_fix(None, "ed_attendance")  # a check since dropped


def test_text_that_looks_like_a_formula_is_written_as_a_string() -> None:
    check = FailedCheck(
        check_id="c1",
        title='=HYPERLINK("http://example.invalid")',
        severity="error",
        category="completeness",
        rule="not_null",
        fields=("site_code",),
        failing=2,
        denominator=10,
        failing_pct=20.0,
        tolerated_pct=0,
        change="new",
        what_is_wrong="+1",
        how_to_fix="@SUM(A1)",
        captured=2,
        rows=(),
    )
    report = FeedbackReport(
        1, "ed_attendance", "RAJ", "2025-01", 90.0, 1.0, 3, 2, None, (check,), ()
    )
    rows = {"c1": [Failure(2, "site_code", "-MISSING"), Failure(5, "site_code", "MISSING")]}
    book = load_workbook(BytesIO(workbook_bytes(report, rows)))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    checks = list(book["Checks"].iter_rows(min_row=2, values_only=True))
    assert checks[0][1] == '=HYPERLINK("http://example.invalid")' and checks[0][10] == "@SUM(A1)"
    failing = list(book["Failing rows"].iter_rows(min_row=2, values_only=True))
    assert failing == [("c1", 2, "site_code", "-MISSING"), ("c1", 5, "site_code", "MISSING")]
