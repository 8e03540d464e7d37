"""Feedback to the sender: a report on one checked submission that its provider can act on.

For each failed check it says what is wrong, how to fix it at source, how many rows failed out
of how many (against the share tolerated) and the first failing rows as the checks kept them:
row number in the file, field and reason code, never a value. It compares the failed checks with
the provider's previous checked submission (new, persisting, resolved) from the scorecard.

The same report becomes an Excel workbook (``workbook_bytes``) with a Summary sheet, a sheet of
checks and a sheet of failing rows. Every cell is a value: a text that a spreadsheet would read
as a formula (starting with = + - @) is written as a plain string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from carehub.errors import NotFound
from carehub.model.check_rules import (
    DefaultValueShare,
    InCodeSet,
    InSequence,
    MaxDuration,
    NotAbove,
    NotInFuture,
    NotNull,
    Pattern,
    Range,
    Reference,
    Rule,
    Unique,
    ValidNhsNumberShare,
)
from carehub.model.checks import CheckDefinition, get_check_pack
from carehub.quality.evaluation import Failure
from carehub.quality.results import CheckResultView
from carehub.quality.scorecard import PROBLEM_STATUS, Scorecard

PAGE_ROWS = 20  # failing row numbers listed per check on the page and in its JSON twin
FORMULA_STARTS = ("=", "+", "-", "@")  # OWASP CSV/spreadsheet injection: never a formula
SHEETS = ("Summary", "Checks", "Failing rows")


@dataclass(frozen=True)
class FailedCheck:
    check_id: str
    title: str
    severity: str
    category: str
    rule: str
    fields: tuple[str, ...]
    failing: int | None
    denominator: int | None
    failing_pct: float | None
    tolerated_pct: float
    change: str  # "new" or "persisting" since the previous submission
    what_is_wrong: str
    how_to_fix: str
    captured: int  # failing rows the checks kept (the first ones)
    rows: tuple[Failure, ...]  # the first of them (``PAGE_ROWS`` on the page)


@dataclass(frozen=True)
class ResolvedCheck:
    check_id: str
    title: str


@dataclass(frozen=True)
class FeedbackReport:
    submission_id: int
    dataset: str
    org_code: str
    period: str | None
    score: float | None
    coverage: float
    checks_run: int
    checks_passed: int
    previous_submission_id: int | None
    failed: tuple[FailedCheck, ...]
    resolved: tuple[ResolvedCheck, ...]

    @property
    def new(self) -> tuple[str, ...]:
        return tuple(c.check_id for c in self.failed if c.change == "new")

    @property
    def persisting(self) -> tuple[str, ...]:
        return tuple(c.check_id for c in self.failed if c.change == "persisting")


def what_is_wrong(rule: Rule | None, fields: Sequence[str]) -> str:
    """The rule's failure in plain English, from the rule kind and its fields."""
    named = " and ".join(fields) or "the file"
    match rule:
        case NotNull(field=f):
            return f"{f} is empty"
        case InCodeSet(field=f):
            return f"{f} holds a code that is not in its code set"
        case Range(field=f, min=low, max=high):
            return f"{f} is outside {_bounds(low, high)}"
        case Pattern(field=f, format=fmt):
            return f"{f} is not a valid {fmt}"
        case InSequence(earlier=a, later=b):
            return f"{b} is before {a}"
        case NotAbove(part=p, whole=w):
            return f"{p} is more than {w}"
        case MaxDuration(start=s, end=e, hours=h):
            return f"more than {h:g} hours from {s} to {e}"
        case NotInFuture(field=f):
            return f"{f} is after the file was received"
        case ValidNhsNumberShare(field=f):
            return f"{f} is missing or not a valid NHS number"
        case DefaultValueShare(field=f):
            return f"{f} holds a default value that says nothing"
        case Unique():
            return f"a row repeats an earlier row's {named}"
        case Reference(field=f, list=name):
            return f"{f} is not in the reference list {name}"
    return f"the check of {named} failed"


def how_to_fix(rule: Rule | None, dataset: str) -> str:
    """What the sender can change at source so that the check passes next time."""
    dictionary = f"/dictionary/{dataset}"
    match rule:
        case NotNull(field=f):
            return f"fill in {f} on every row; it is required"
        case InCodeSet(field=f):
            return f"use one of the codes listed in the data dictionary for {f} ({dictionary})"
        case Range(field=f, min=low, max=high):
            return f"check how {f} is recorded: it should be {_bounds(low, high)}"
        case Pattern(field=f, format=fmt):
            return f"write {f} as a valid {fmt} (see {dictionary})"
        case InSequence(earlier=a, later=b):
            return f"{b} must not be before {a}: check both times at source"
        case NotAbove(part=p, whole=w):
            return f"{p} must not be more than {w}: check both counts at source"
        case MaxDuration(start=s, end=e, hours=h):
            return f"check {s} and {e}: they should be at most {h:g} hours apart"
        case NotInFuture(field=f):
            return f"{f} must not be after the date the file is sent: check the date format"
        case ValidNhsNumberShare(field=f):
            return f"send the person's traced NHS number in {f} (10 digits, valid check digit)"
        case DefaultValueShare(field=f):
            return f"record the real value of {f} rather than a 'not known' default"
        case Unique(fields_=names):
            return f"send each {' + '.join(names)} once: remove duplicated rows"
        case Reference(field=f):
            return f"check {f} against the current national reference list (see {dictionary})"
    return f"see the check's description in the data dictionary ({dictionary})"


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def _definition(dataset: str, check_id: str) -> CheckDefinition | None:
    try:
        return get_check_pack(dataset).check(check_id)
    except NotFound:  # dropped from the pack since the run
        return None


def _failed(
    card: Scorecard, result: CheckResultView, failures: Mapping[str, Sequence[Failure]]
) -> FailedCheck:
    check = _definition(card.dataset, result.check_id)
    rule = check.rule if check else None
    return FailedCheck(
        check_id=result.check_id,
        title=check.title if check else result.check_id,
        severity=result.severity,
        category=result.category,
        rule=result.rule,
        fields=result.fields,
        failing=result.failing,
        denominator=result.denominator,
        failing_pct=result.failing_pct,
        tolerated_pct=result.tolerated_pct,
        change="persisting" if result.check_id in card.problems.persisting else "new",
        what_is_wrong=what_is_wrong(rule, result.fields),
        how_to_fix=how_to_fix(rule, card.dataset),
        captured=result.captured,
        rows=tuple(failures.get(result.check_id, ())),
    )


def build_feedback(card: Scorecard, failures: Mapping[str, Sequence[Failure]]) -> FeedbackReport:
    """The report of a scorecard, with the kept failing rows of each failed check."""
    failed = tuple(_failed(card, r, failures) for r in card.results if r.status == PROBLEM_STATUS)
    resolved = tuple(
        ResolvedCheck(c, check.title if (check := _definition(card.dataset, c)) else c)
        for c in card.problems.resolved
    )
    return FeedbackReport(
        submission_id=card.submission_id,
        dataset=card.dataset,
        org_code=card.org_code,
        period=card.period,
        score=card.published_score,
        coverage=card.coverage,
        checks_run=len(card.results),
        checks_passed=sum(1 for r in card.results if r.status == "passed"),
        previous_submission_id=card.previous_submission_id,
        failed=failed,
        resolved=resolved,
    )


# --- the workbook ------------------------------------------------------------------------------

Cell = str | int | float | None


def _append(sheet: Worksheet, values: Sequence[Cell]) -> None:
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
            cell.data_type = "s"  # a string, whatever it starts with


def _summary(sheet: Worksheet, report: FeedbackReport) -> None:
    sheet.title = SHEETS[0]
    lines: list[tuple[str, Cell]] = [
        ("Submission", report.submission_id),
        ("Dataset", report.dataset),
        ("Organisation", report.org_code),
        ("Period", report.period or ""),
        ("Score (DQMI-compatible, %)", report.score),
        ("Coverage", report.coverage),
        ("Checks run", report.checks_run),
        ("Checks passed", report.checks_passed),
        ("Checks failed", len(report.failed)),
        ("Previous submission", report.previous_submission_id),
        ("New since previous", ", ".join(report.new)),
        ("Persisting since previous", ", ".join(report.persisting)),
        ("Resolved since previous", ", ".join(c.check_id for c in report.resolved)),
    ]
    for line in lines:
        _append(sheet, line)


CHECK_COLUMNS = (
    "Check",
    "Title",
    "Severity",
    "Fields",
    "Failing rows",
    "Rows checked",
    "Failing %",
    "Tolerated %",
    "Since previous",
    "What is wrong",
    "How to fix it",
)


def workbook_bytes(report: FeedbackReport, rows: Mapping[str, Sequence[Failure]]) -> bytes:
    """The report as an .xlsx workbook; ``rows``: every kept failing row of each failed check."""
    book = Workbook()
    first = book.active
    assert isinstance(first, Worksheet)  # a new workbook starts with one worksheet
    _summary(first, report)
    checks = book.create_sheet(SHEETS[1])
    _append(checks, CHECK_COLUMNS)
    for c in report.failed:
        _append(
            checks,
            (
                c.check_id,
                c.title,
                c.severity,
                ", ".join(c.fields),
                c.failing,
                c.denominator,
                c.failing_pct,
                c.tolerated_pct,
                c.change,
                c.what_is_wrong,
                c.how_to_fix,
            ),
        )
    failing = book.create_sheet(SHEETS[2])
    _append(failing, ("Check", "Row number", "Field", "Reason"))
    for c in report.failed:
        for f in rows.get(c.check_id, ()):
            _append(failing, (c.check_id, f.source_row, f.field, f.reason))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
