"""Emergency department attendances, in the acute trust's own CSV layout.

Visits come from two sources: residents who walk in (an attendance propensity that is U-shaped in
age and higher with deprivation, conditions and frailty) and emergency admissions through ED
(drawn by the admission risk model in acute.py). Time in department follows each site's planned
four-hour performance with winter pressure and the planted signals.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.acute import Admission, Hazard
from carehub.synth.files import write_csv
from carehub.synth.people import invalid_nhs_number
from carehub.synth.population import Resident
from carehub.synth.sampling import poisson
from carehub.synth.world import Defect, World

FOUR_HOURS = 240
ED_KPI = "ed_four_hours"
TRUST_COLUMNS = (
    "AttendanceRef",
    "NHSNumber",
    "SiteCode",
    "DeptType",
    "ArrivalMode",
    "ArrivalDateTime",
    "AssessmentDateTime",
    "ChiefComplaint",
    "DTADateTime",
    "DepartureDateTime",
    "Acuity",
    "AgeAtArrival",
    "Gender",
    "DischargeDest",
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
ADMITTED_PENALTY = 0.25  # admitted patients wait for a bed: fewer leave within four hours
# The trust's local codes (translated by its feed mapping).
COMPLAINTS = {
    "CHEST PAIN": 9,
    "SOB": 8,
    "ABDO PAIN": 11,
    "FALL": 9,
    "LIMB INJURY": 14,
    "HEAD INJURY": 5,
    "FEVER": 6,
    "COLLAPSE": 4,
    "MENTAL HEALTH": 5,
    "OTHER": 29,
}
DISCHARGES = {"HOME": 55, "GP": 30, "XFER": 3, "LWBS": 4, "OTHER": 8}  # non-admitted outcomes


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    areas: tuple[str, ...]  # the local authorities whose residents it serves
    base_performance: float  # planned share within four hours outside winter


AGE_RATES = ((4, 0.42), (15, 0.21), (24, 0.32), (44, 0.25), (64, 0.22), (79, 0.28), (200, 0.55))


def attendance_propensity(resident: Resident, on: date) -> float:
    """Expected walk-in ED attendances a year (not admitted): a U-shape in age, more in
    deprived areas, with more long-term conditions and with frailty."""
    age = resident.age_on(on)
    by_age = next(rate for limit, rate in AGE_RATES if age <= limit)
    deprivation = 1 + 0.06 * (5.5 - resident.imd_decile)
    return (
        by_age
        * deprivation
        * (1 + 0.25 * len(resident.conditions))
        * (1.5 if resident.frail else 1.0)
    )


@dataclass
class Visit:
    resident: Resident
    site: Site
    arrival: datetime
    by_ambulance: bool
    admission: Admission | None = None


def planned_performance(world: World, site: Site, period: Period) -> float:
    winter = 0.06 if period.month in (12, 1, 2) else 0.03 if period.month in (11, 3) else 0.0
    share = site.base_performance - winter + world.signal_effect(ED_KPI, site.code, period)
    return min(max(share, 0.3), 0.99)


def _arrival(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60))


def _fmt(value: datetime | None) -> str:
    return value.strftime(TRUST_DATE_FORMAT) if value else ""


class EdModel:
    """Every ED visit of the span; admitted visits set their admission's time on the ward."""

    def __init__(self, world: World, sites: tuple[Site, ...], admissions: list[Admission]) -> None:
        self.world, self.sites = world, {s.code: s for s in sites}
        self.rng = world.stream("ed")
        served: dict[str, list[Resident]] = {s.code: [] for s in sites}
        site_of = {area: s.code for s in sites for area in s.areas}
        for resident in world.residents:
            code = site_of.get(world.area_of(resident))
            if code:
                served[code].append(resident)
        start = world.periods[0].start
        self.walk_ins = {
            c: Hazard(p, [attendance_propensity(r, start) for r in p]) for c, p in served.items()
        }
        self.by_month: dict[str, list[Visit]] = {str(p): [] for p in world.periods}
        for admission in (a for a in admissions if a.via_ed):
            visit = Visit(
                admission.resident,
                self.sites[admission.site],
                admission.arrived_at,
                admission.by_ambulance,
                admission,
            )
            self.by_month.setdefault(str(Period.of(visit.arrival.date())), []).append(visit)
        for period in world.periods:
            self._walk_ins(period)

    def _walk_ins(self, period: Period) -> None:
        day = period.start
        while day < period.end:
            season = 1 + SEASONAL_AMPLITUDE * math.cos(2 * math.pi * (day.month - 1) / 12)
            for code, hazard in self.walk_ins.items():
                expected = hazard.total / 365.25 * WEEKDAY_FACTOR[day.weekday()] * season
                count = poisson(self.rng, expected)
                for _, resident in hazard.draw_on(self.rng, [day] * count):
                    by_ambulance = self.rng.random() < 0.12
                    self.by_month[str(period)].append(
                        Visit(resident, self.sites[code], _arrival(self.rng, day), by_ambulance)
                    )
            day += timedelta(days=1)


class EdFeedWriter:
    """Writes one month of the trust's ED attendances and records the defects it plants."""

    def __init__(self, world: World, defect_rate: float) -> None:
        self.world, self.defect_rate = world, defect_rate
        self.rng = world.stream("ed-feed")
        self.serial = 0

    def write(self, path: Path, visits: list[Visit], period: Period) -> list[Defect]:
        rows = [
            self._row(v, period)
            for v in sorted(visits, key=lambda v: (v.arrival, v.resident.nhs_number))
        ]
        rows, defects = self._plant(path.name, rows)
        write_csv(path, TRUST_COLUMNS, rows)
        return defects

    def _stay(self, visit: Visit, period: Period) -> int:
        within = planned_performance(self.world, visit.site, period) - (
            ADMITTED_PENALTY if visit.admission else 0.0
        )
        if self.rng.random() < max(within, 0.05):
            return self.rng.randint(15, FOUR_HOURS)
        return FOUR_HOURS + 1 + int(self.rng.expovariate(1 / (240 if visit.admission else 120)))

    def _row(self, visit: Visit, period: Period) -> list[str]:
        rng = self.rng
        self.serial += 1
        stay = self._stay(visit, period)
        departure = visit.arrival + timedelta(minutes=stay)
        assessment = visit.arrival + timedelta(minutes=min(int(rng.expovariate(1 / 14)), stay))
        decision = None
        if visit.admission:
            decision = visit.arrival + timedelta(minutes=int(stay * rng.uniform(0.45, 0.9)))
            visit.admission.admitted_at = departure
        outcome = (
            "ADM"
            if visit.admission
            else rng.choices(list(DISCHARGES), weights=list(DISCHARGES.values()))[0]
        )
        acuity = rng.choices(
            "12345", (5, 30, 50, 14, 1) if visit.admission else (1, 10, 44, 36, 9)
        )[0]
        sex = "U" if rng.random() < 0.005 else {"1": "M", "2": "F"}[visit.resident.sex]
        return [
            f"{visit.site.code}-{self.serial:08d}",
            visit.resident.nhs_number,
            visit.site.code,
            "1",
            "AMB" if visit.by_ambulance else "OTH",
            _fmt(visit.arrival),
            _fmt(assessment) if rng.random() < 0.97 else "",
            rng.choices(list(COMPLAINTS), weights=list(COMPLAINTS.values()))[0],
            _fmt(decision),
            _fmt(departure),
            acuity,
            str(visit.resident.age_on(visit.arrival.date())),
            sex,
            outcome,
        ]

    def _plant(self, file: str, rows: list[list[str]]) -> tuple[list[list[str]], list[Defect]]:
        planted: list[list[str]] = []
        defects: list[Defect] = []
        for row in rows:
            planted.append(row)
            if self.rng.random() < self.defect_rate:
                defect = self._defect(file, len(planted), row)
                if defect.kind == "duplicate_row":
                    planted.append(list(row))
                    defect = Defect(file, len(planted), "AttendanceRef", "duplicate_row", "quality")
                defects.append(defect)
        return planted, defects

    def _defect(self, file: str, number: int, row: list[str]) -> Defect:
        kind = self.rng.choice(DEFECT_KINDS)
        if kind == "invalid_nhs_number":
            row[1] = invalid_nhs_number(self.rng)
            return Defect(file, number, "NHSNumber", kind)
        if kind == "missing_nhs_number":
            row[1] = ""
            return Defect(file, number, "NHSNumber", kind, "quality")
        if kind == "placeholder_nhs_number":
            row[1] = "0000000000"  # passes Modulus 11: a quality check must catch it
            return Defect(file, number, "NHSNumber", kind, "quality")
        if kind == "departure_before_arrival":
            arrival = datetime.strptime(row[5], TRUST_DATE_FORMAT)
            row[9] = _fmt(arrival - timedelta(minutes=self.rng.randint(5, 90)))
            row[6] = row[8] = ""
            return Defect(file, number, "DepartureDateTime", kind)
        if kind == "impossible_date":
            row[5] = "31/02/" + row[5][6:]  # no 31st of February
            row[6] = row[8] = ""
            return Defect(file, number, "ArrivalDateTime", kind)
        if kind == "shifted_columns":
            row[3:] = [*row[4:], ""]  # the department type went missing: the rest moved left
            return Defect(file, number, "DeptType", kind)
        if kind == "unknown_acuity":
            row[10] = "7"
            return Defect(file, number, "Acuity", kind)
        return Defect(file, number, "AttendanceRef", "duplicate_row", "quality")


DEFECT_KINDS = (
    "invalid_nhs_number",
    "missing_nhs_number",
    "placeholder_nhs_number",
    "departure_before_arrival",
    "impossible_date",
    "unknown_acuity",
    "duplicate_row",
    "shifted_columns",
)
# The reason code carehub gives each quarantined kind (tests compare the hub with the manifest).
EXPECTED_REASONS = {
    "invalid_nhs_number": "NHS_NUMBER_INVALID:nhs_number",
    "departure_before_arrival": "DEPARTURE_BEFORE_ARRIVAL:departed_at",
    "impossible_date": "INVALID_TIMESTAMP:arrival_at",
    "unknown_acuity": "UNKNOWN_CODE:acuity",
}
