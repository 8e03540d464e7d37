"""Emergency department attendances for the acute trust's sites, in the trust's own layout.

Time in department is drawn so that each site's monthly four-hour performance follows a planned
level with winter pressure, plus planted signals (recorded in the manifest) that SPC should find.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.people import invalid_nhs_number
from carehub.synth.population import Resident

FOUR_HOURS = 240
# Trust layout: the trust's own column names, UK date format, and its local codes.
TRUST_COLUMNS = (
    "AttendanceRef",
    "NHSNumber",
    "SiteCode",
    "DeptType",
    "ArrivalDateTime",
    "AssessmentDateTime",
    "DepartureDateTime",
    "Acuity",
    "AgeAtArrival",
    "Gender",
)
TRUST_DATE_FORMAT = "%d/%m/%Y %H:%M"
HOUR_WEIGHTS = (
    2,
    1.5,
    1.2,
    1,
    1,
    1.2,
    2,
    4,
    6,
    7,
    7,
    7,
    6.5,
    6,
    6,
    6,
    6,
    6,
    6,
    5.5,
    5,
    4.5,
    3.5,
    2.5,
)
WEEKDAY_FACTOR = (1.12, 1.02, 0.98, 0.98, 1.0, 0.94, 0.96)  # Monday first: the Monday peak


SEASONAL_AMPLITUDE = 0.07  # arrivals peak in January, about 7% above the yearly mean


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    areas: tuple[str, ...]  # the local authorities whose residents it serves
    base_performance: float  # planned share within four hours outside winter


def attendance_propensity(resident: Resident, on: date) -> float:
    """Expected ED attendances a year: a U-shape in age, more in deprived areas, with more
    long-term conditions and with frailty (the gradients the synthetic ICS plants)."""
    age = resident.age_on(on)
    by_age = next(rate for limit, rate in AGE_RATES if age <= limit)
    deprivation = 1 + 0.06 * (5.5 - resident.imd_decile)
    return (
        by_age
        * deprivation
        * (1 + 0.25 * len(resident.conditions))
        * (1.5 if resident.frail else 1.0)
    )


AGE_RATES = ((4, 0.55), (15, 0.28), (24, 0.42), (44, 0.33), (64, 0.30), (79, 0.40), (200, 0.85))


@dataclass
class Catchment:
    """The residents a site serves, with cumulative attendance weights for fast drawing."""

    residents: list[Resident]
    cumulative: list[float]

    @classmethod
    def of(cls, residents: list[Resident], on: date) -> Catchment:
        cumulative, total = [], 0.0
        for resident in residents:
            total += attendance_propensity(resident, on)
            cumulative.append(total)
        return cls(residents, cumulative)

    @property
    def yearly_attendances(self) -> float:
        return self.cumulative[-1] if self.cumulative else 0.0


@dataclass(frozen=True)
class Signal:
    """A planted change in a site's four-hour performance, from ``start`` on."""

    site: str
    kind: str  # "step" or "trend"
    start: str  # yyyy-mm
    size: float  # step: change in share; trend: change in share per month
    months: int = 0  # trend length


@dataclass(frozen=True)
class Defect:
    file: str
    row: int  # data row, 1-based (the file's line number minus one)
    column: str
    kind: str


def planned_performance(site: Site, period: Period, signals: tuple[Signal, ...]) -> float:
    winter = 0.06 if period.month in (12, 1, 2) else 0.03 if period.month in (11, 3) else 0.0
    share = site.base_performance - winter
    for signal in (s for s in signals if s.site == site.code):
        start = Period.parse(signal.start)
        elapsed = (period.year - start.year) * 12 + period.month - start.month
        if elapsed >= 0:
            share += (
                signal.size
                if signal.kind == "step"
                else signal.size * min(elapsed + 1, signal.months)
            )
    return min(max(share, 0.3), 0.99)


def _minutes_in_department(rng: random.Random, within: float) -> int:
    if rng.random() < within:
        return rng.randint(15, FOUR_HOURS)
    return FOUR_HOURS + 1 + int(rng.expovariate(1 / 150))


def _arrival(rng: random.Random, day: datetime) -> datetime:
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return day + timedelta(hours=hour, minutes=rng.randrange(60))


def _fmt(value: datetime) -> str:
    return value.strftime(TRUST_DATE_FORMAT)


class EdFeedWriter:
    """Writes one month of one trust's ED attendances and records the defects it plants."""

    def __init__(
        self, rng: random.Random, catchments: dict[str, Catchment], defect_rate: float
    ) -> None:
        self.rng, self.catchments, self.defect_rate = rng, catchments, defect_rate
        self.serial = 0

    def write(
        self, path: Path, sites: tuple[Site, ...], period: Period, signals: tuple[Signal, ...]
    ) -> list[Defect]:
        defects: list[Defect] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(TRUST_COLUMNS)
            for row_number, row in enumerate(self._rows(sites, period, signals), start=1):
                defects.extend(self._plant(path.name, row_number, row))
                writer.writerow(row)
        return defects

    def _rows(
        self, sites: tuple[Site, ...], period: Period, signals: tuple[Signal, ...]
    ) -> list[list[str]]:
        rows: list[tuple[datetime, list[str]]] = []
        day = period.start_at()
        while day < period.end_at():
            season = 1 + SEASONAL_AMPLITUDE * math.cos(2 * math.pi * (day.month - 1) / 12)
            for site in sites:
                within = planned_performance(site, period, signals)
                catchment = self.catchments[site.code]
                expected = (
                    catchment.yearly_attendances / 365.25 * WEEKDAY_FACTOR[day.weekday()] * season
                )
                count = _poisson(self.rng, expected)
                patients = self.rng.choices(
                    catchment.residents, cum_weights=catchment.cumulative, k=count
                )
                arrivals = [_arrival(self.rng, day) for _ in patients]
                rows.extend(
                    (a, self._row(site, p, a, within))
                    for p, a in zip(patients, arrivals, strict=True)
                )
            day += timedelta(days=1)
        rows.sort(key=lambda pair: pair[0])
        return [row for _, row in rows]

    def _row(self, site: Site, patient: Resident, arrival: datetime, within: float) -> list[str]:
        rng = self.rng
        self.serial += 1
        stay = _minutes_in_department(rng, within)
        assessment = arrival + timedelta(minutes=min(int(rng.expovariate(1 / 14)), stay))
        sex = "U" if rng.random() < 0.005 else {"1": "M", "2": "F"}[patient.sex]
        return [
            f"{site.code}-{self.serial:08d}",
            patient.nhs_number,
            site.code,
            "1",
            _fmt(arrival),
            _fmt(assessment) if rng.random() < 0.97 else "",
            _fmt(arrival + timedelta(minutes=stay)),
            str(rng.choices("12345", (2, 12, 45, 33, 8))[0]),
            str(patient.age_on(arrival.date())),
            sex,
        ]

    def _plant(self, file: str, row_number: int, row: list[str]) -> list[Defect]:
        if self.rng.random() >= self.defect_rate:
            return []
        kind = self.rng.choice(("invalid_nhs_number", "departure_before_arrival", "unknown_acuity"))
        if kind == "invalid_nhs_number":
            row[1] = invalid_nhs_number(self.rng)
            return [Defect(file, row_number, "NHSNumber", kind)]
        if kind == "departure_before_arrival":
            arrival = datetime.strptime(row[4], TRUST_DATE_FORMAT)
            row[6] = _fmt(arrival - timedelta(minutes=self.rng.randint(5, 90)))
            row[5] = ""
            return [Defect(file, row_number, "DepartureDateTime", kind)]
        row[7] = "7"
        return [Defect(file, row_number, "Acuity", kind)]


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal approximation for large ones."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k
