"""Coverage and timeliness: for each feed, the months expected, received on time, late, missing
and still awaited, measured against the schedule its partner agreed (``FeedMapping.schedule``).

A month counts as received when a file for it was accepted (published, even if superseded since);
a file that was rejected does not cover its month, but is counted so the sender can see it tried.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from carehub.model.mappings import Schedule

ACCEPTED_STATES = frozenset({"published", "superseded"})


class MonthState(StrEnum):
    ON_TIME = "on time"
    LATE = "late"
    MISSING = "missing"
    AWAITED = "awaited"  # not received, and not yet due


@dataclass(frozen=True)
class Arrival:
    """One submission as coverage sees it: no rows, no names."""

    period: str | None
    received_at: datetime
    state: str


@dataclass(frozen=True)
class MonthCoverage:
    period: str
    state: MonthState
    due: date
    received_on: date | None
    days_late: int
    rejected: int  # files for this month that were refused


@dataclass(frozen=True)
class FeedCoverage:
    org_code: str
    dataset: str
    due_days: int
    months: tuple[MonthCoverage, ...]

    def count(self, state: MonthState) -> int:
        return sum(1 for m in self.months if m.state is state)

    @property
    def expected(self) -> int:
        return len(self.months)


def feed_coverage(
    org_code: str, dataset: str, schedule: Schedule, arrivals: Iterable[Arrival], as_of: date
) -> FeedCoverage:
    first_accepted: dict[str, date] = {}
    rejected: dict[str, int] = {}
    for arrival in arrivals:
        if arrival.period is None or arrival.received_at.date() > as_of:
            continue  # not yet known which month it is for, or after the date asked about
        if arrival.state in ACCEPTED_STATES:
            day = arrival.received_at.date()
            first_accepted[arrival.period] = min(day, first_accepted.get(arrival.period, day))
        elif arrival.state == "rejected":
            rejected[arrival.period] = rejected.get(arrival.period, 0) + 1
    months = []
    for period in schedule.expected(as_of):
        key, due = str(period), schedule.due(period)
        received = first_accepted.get(key)
        if received is not None:
            late = max((received - due).days, 0)
            state = MonthState.LATE if late else MonthState.ON_TIME
        else:
            late, state = 0, MonthState.MISSING if as_of > due else MonthState.AWAITED
        months.append(MonthCoverage(key, state, due, received, late, rejected.get(key, 0)))
    return FeedCoverage(org_code, dataset, schedule.due_days, tuple(months))
