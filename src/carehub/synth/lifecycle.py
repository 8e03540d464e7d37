"""Births, deaths, moves and opt-out dates over the span.

Deaths follow a Gompertz curve in age (about 7 per 1,000 a year at 60, 48 at 80 and 126 at 90),
more with frailty, long-term conditions and deprivation, dated by the ONS weekly pattern of
deaths (winter peaks). People move away at 4% a year (more between 18 and 40) and as many move
in; babies are born at 10.5 per 1,000 a year. Newcomers get new NHS numbers from the spare ones.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import replace
from datetime import date, timedelta

from carehub.synth.population import PopulationBuilder, Resident

GOMPERTZ = (-10.8, 0.097)  # annual mortality q(age) = exp(a + b * age)
MOVE_RATE = 0.04  # moves out (and in) per resident-year
BIRTH_RATE = 0.0105  # births per resident-year
ENTRY_RATE = MOVE_RATE + BIRTH_RATE
OPT_OUT_DURING = 0.15  # share of opt-outs made during the span rather than before it


def annual_mortality(resident: Resident, on: date) -> float:
    age = max(resident.age_on(on), 0)
    a, b = GOMPERTZ
    extra = (2.0 if resident.frail else 1.0) * (1 + 0.15 * len(resident.conditions))
    return min(math.exp(a + b * age) * extra * (1 + 0.04 * (5.5 - resident.imd_decile)), 0.9)


def spare_numbers_needed(count: int, years: float) -> int:
    return math.ceil(count * ENTRY_RATE * years * 1.2) + 10


class DayPicker:
    """Draws a day in a window of the span, uniformly or weighted by ISO week, in O(log n)."""

    def __init__(self, start: date, end: date, weeks: tuple[float, ...] | None) -> None:
        self.start = start
        days = [start + timedelta(days=n) for n in range((end - start).days)]
        weights = [weeks[d.isocalendar().week - 1] if weeks else 1.0 for d in days]
        self.cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random, first: date, end: date) -> date:
        lo, hi = (first - self.start).days, (end - self.start).days
        below = self.cumulative[lo - 1] if lo > 0 else 0.0
        point = rng.uniform(below, self.cumulative[hi - 1])
        return self.start + timedelta(
            days=min(bisect.bisect_left(self.cumulative, point, lo, hi), hi - 1)
        )


class Lifecycle:
    def __init__(
        self, rng: random.Random, builder: PopulationBuilder, start: date, end: date
    ) -> None:
        self.rng, self.builder, self.start, self.end = rng, builder, start, end
        self.years = (end - start).days / 365.25
        self.deaths = DayPicker(start, end, builder.footprint.death_weeks)
        self.days = DayPicker(start, end, None)

    def apply(self, residents: list[Resident]) -> list[Resident]:
        newcomers = self._newcomers(len(residents))
        return [self._exit(self._opt_out(r)) for r in residents + newcomers]

    def _newcomers(self, count: int) -> list[Resident]:
        spare = iter(self.builder.spare_numbers)
        born = _poisson_count(self.rng, count * BIRTH_RATE * self.years)
        moved = _poisson_count(self.rng, count * MOVE_RATE * self.years)
        people = [
            self.builder.newcomer(next(spare), self.days.pick(self.rng, self.start, self.end), True)
            for _ in range(born)
        ]
        people += [
            self.builder.newcomer(
                next(spare), self.days.pick(self.rng, self.start, self.end), False
            )
            for _ in range(moved)
        ]
        return people

    def _exit(self, resident: Resident) -> Resident:
        first = resident.arrived_on or self.start
        years = (self.end - first).days / 365.25
        if self.rng.random() < 1 - (1 - annual_mortality(resident, first)) ** years:
            return replace(
                resident, left_on=self.deaths.pick(self.rng, first, self.end), left_reason="died"
            )
        age = resident.age_on(first)
        move = MOVE_RATE * (1.8 if 18 <= age <= 40 else 0.6)
        if self.rng.random() < 1 - (1 - move) ** years:
            return replace(
                resident, left_on=self.days.pick(self.rng, first, self.end), left_reason="moved"
            )
        return resident

    def _opt_out(self, resident: Resident) -> Resident:
        if not resident.opted_out:
            return resident
        if self.rng.random() < OPT_OUT_DURING:
            return replace(
                resident,
                opted_out_on=self.days.pick(self.rng, resident.arrived_on or self.start, self.end),
            )
        return replace(
            resident, opted_out_on=self.start - timedelta(days=self.rng.randrange(1, 1500))
        )


def _poisson_count(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0
