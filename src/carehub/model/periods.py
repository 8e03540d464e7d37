"""Reporting periods: calendar months written yyyy-mm, provisional until their freeze date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from carehub.errors import UserError

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodStatus(StrEnum):
    """The strategy's "flex and freeze": data may still change until the freeze date."""

    PROVISIONAL = "provisional"
    FINAL = "final"


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text.strip())
        if not match:
            raise UserError(
                f"{text!r} is not a reporting period", hint="write a month as yyyy-mm, e.g. 2025-04"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The first day of the next month (exclusive end)."""
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min)

    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min)

    def freeze_date(self, freeze_after_days: int) -> date:
        return self.end + timedelta(days=freeze_after_days)

    def status(self, freeze_after_days: int, today: date) -> PeriodStatus:
        frozen = today >= self.freeze_date(freeze_after_days)
        return PeriodStatus.FINAL if frozen else PeriodStatus.PROVISIONAL
