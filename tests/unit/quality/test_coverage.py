"""Coverage and timeliness of a feed against its schedule."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from carehub.model.mappings import Schedule
from carehub.model.periods import Period
from carehub.quality.coverage import Arrival, MonthState, feed_coverage

SCHEDULE = Schedule(first_period="2025-01", due_days=20)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00")


def states(arrivals: list[Arrival], as_of: date, schedule: Schedule = SCHEDULE) -> dict[str, str]:
    coverage = feed_coverage("RAJ", "ed_attendance", schedule, arrivals, as_of)
    return {m.period: str(m.state) for m in coverage.months}


def test_months_are_expected_once_they_end() -> None:
    assert [str(p) for p in SCHEDULE.expected(date(2025, 4, 1))] == [
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    assert SCHEDULE.expected(date(2025, 1, 31)) == []
    ended = Schedule(first_period="2025-01", last_period="2025-02", due_days=5)
    assert [str(p) for p in ended.expected(date(2026, 1, 1))] == ["2025-01", "2025-02"]
    assert SCHEDULE.due(Period(2025, 1)) == date(2025, 2, 21)


def test_on_time_late_missing_and_awaited() -> None:
    arrivals = [
        Arrival("2025-01", at("2025-02-21"), "superseded"),  # on the due date: on time
        Arrival("2025-01", at("2025-03-30"), "published"),  # a later resend does not make it late
        Arrival("2025-02", at("2025-03-25"), "published"),  # 4 days after 2025-03-21
        Arrival("2025-03", at("2025-04-10"), "rejected"),  # refused: the month is not covered
    ]
    assert states(arrivals, date(2025, 5, 10)) == {
        "2025-01": "on time",
        "2025-02": "late",
        "2025-03": "missing",
        "2025-04": "awaited",  # due 2025-05-21
    }
    coverage = feed_coverage("RAJ", "ed_attendance", SCHEDULE, arrivals, date(2025, 5, 10))
    late = coverage.months[1]
    assert (late.days_late, late.received_on) == (4, date(2025, 3, 25))
    assert coverage.months[2].rejected == 1
    assert (coverage.expected, coverage.count(MonthState.ON_TIME)) == (4, 1)


def test_judged_as_of_a_past_date_ignores_later_files() -> None:
    arrivals = [Arrival("2025-01", at("2025-03-30"), "published")]
    assert states(arrivals, date(2025, 3, 1)) == {"2025-01": "missing", "2025-02": "awaited"}
    assert states(arrivals, date(2025, 4, 1))["2025-01"] == "late"


def test_files_still_being_checked_or_for_unknown_months_cover_nothing() -> None:
    arrivals = [
        Arrival(None, at("2025-02-02"), "received"),
        Arrival("2025-01", at("2025-02-02"), "validating"),
    ]
    assert states(arrivals, date(2025, 3, 1)) == {"2025-01": "missing", "2025-02": "awaited"}


def test_a_schedule_must_make_sense() -> None:
    with pytest.raises(ValidationError, match="last_period is before first_period"):
        Schedule(first_period="2025-05", last_period="2025-01", due_days=5)
    with pytest.raises(ValidationError):
        Schedule(first_period="2025-13", due_days=5)
    with pytest.raises(ValidationError):
        Schedule(first_period="2025-01", due_days=-1)
