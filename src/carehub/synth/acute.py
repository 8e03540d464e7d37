"""Admitted patient care: emergency admissions driven by the recorded risk model, elective
admissions, their spells, and the daily bed sitrep that follows from the spells in progress."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

from carehub.model.periods import Period
from carehub.synth.files import write_csv
from carehub.synth.population import Resident
from carehub.synth.sampling import poisson
from carehub.synth.world import World

M = TypeVar("M", date, datetime)
MAX_REDRAWS = 30  # tries to find a resident present on the day of an event
WINTER_ADMISSIONS = 0.10  # emergency admissions peak about 10% above the mean in January
ELECTIVE_RATE = 0.10  # elective admissions per resident-year (day cases included)
DAY_CASE_SHARE = 0.75
VIA_ED_SHARE = 0.85  # emergency admissions through the emergency department
CRITICAL_CARE_SHARE = 0.03
BURN_IN_MONTHS = 3  # admissions start this early so the first month's beds are not empty
TARGET_OCCUPANCY = 0.92  # G&A beds are sized so occupancy averages about 92%
CRITICAL_CARE_OCCUPANCY = 0.80
# NHS Data Dictionary codes
EMERGENCY_VIA_ED, EMERGENCY_VIA_GP, ELECTIVE_WAITING_LIST = "21", "22", "11"
DESTINATIONS = (("19", 0.90), ("54", 0.07), ("51", 0.03))  # home, care home, other hospital
DIED = "79"  # discharge destination "not applicable - patient died"
IN_HOSPITAL_DEATHS = 0.45  # about 45% of deaths in England happen in hospital
DIAGNOSES = {  # ICD-10 codes from the OpenSAFELY codelists in ../shared/data, by condition
    "copd": "J44",
    "heart_failure": "I50",
    "chd": "I21",
    "diabetes": "E11",
    "dementia": "F03",
    "ckd": "N18",
    "asthma": "J45",
    "hypertension": "I10",
}
OTHER_DIAGNOSES = (
    "R07",
    "R55",
    "J18",
    "N39",
    "S72",
    "K59",
    "R10",
    "A41",
)  # chest pain, syncope, pneumonia, UTI, hip fracture …


@dataclass
class Admission:
    number: int
    resident: Resident
    site: str
    method: str
    arrived_at: datetime  # at ED for admissions through ED, else on the ward
    stay_days: float
    destination: str
    diagnosis: str
    critical_care_days: int
    via_ed: bool
    by_ambulance: bool
    admitted_at: datetime | None = None  # on the ward: set by the ED model for ED admissions

    @property
    def on_ward(self) -> datetime:
        return self.admitted_at or self.arrived_at

    @property
    def discharged_at(self) -> datetime:
        planned = self.on_ward + timedelta(days=self.stay_days)
        died = self.resident.left_on if self.destination == DIED else None
        if died is None:
            return planned
        last_minute = datetime.combine(died, time(23, 59))  # the spell ends on the day of death
        return max(min(planned, last_minute), self.on_ward)

    @property
    def day_case(self) -> bool:
        return (
            self.on_ward.date() == self.discharged_at.date()
            and self.method == ELECTIVE_WAITING_LIST
        )


class Hazard:
    """Residents with cumulative weights, for drawing events in proportion to a rate."""

    def __init__(self, residents: list[Resident], weights: list[float]) -> None:
        self.residents = residents
        self.cumulative = list(_accumulate(weights))

    @property
    def total(self) -> float:
        return self.cumulative[-1] if self.cumulative else 0.0

    def draw_on(self, rng: random.Random, moments: list[M]) -> list[tuple[M, Resident]]:
        """One resident for each moment (a date or a datetime) among those living in the area
        that day: born, not yet dead or gone; a moment whose draws keep missing is dropped."""
        found = []
        for moment in moments:
            day = moment.date() if isinstance(moment, datetime) else moment
            for _ in range(MAX_REDRAWS):
                resident = rng.choices(self.residents, cum_weights=self.cumulative)[0]
                if resident.present_on(day):
                    found.append((moment, resident))
                    break
        return found


def _accumulate(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _burn_in(first: Period, months: int) -> list[Period]:
    """The months before the first period, so that beds are full when the files begin."""
    periods = [first]
    for _ in range(months):
        previous = periods[0]
        periods.insert(
            0, Period(previous.year - (previous.month == 1), (previous.month - 2) % 12 + 1)
        )
    return periods[:-1]


def _length_of_stay(rng: random.Random, resident: Resident, on: date) -> float:
    age = resident.age_on(on)
    median = 2.0 if age < 65 else 4.0 if age < 80 else 6.5  # days; mean is about 1.5x the median
    return min(rng.lognormvariate(math.log(median * (1.5 if resident.frail else 1.0)), 0.9), 120.0)


def _moment(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time()) + timedelta(minutes=rng.randrange(24 * 60))


class AdmissionModel:
    """Draws every admission of the span, month by month; ED and the sitrep read them."""

    def __init__(self, world: World, site_of: dict[str, str]) -> None:
        self.world, self.site_of = world, site_of
        self.rng = world.stream("admissions")
        served = [r for r in world.residents if world.area_of(r) in site_of]
        self.emergency = Hazard(served, [r.admission_risk for r in served])
        self.elective = Hazard(
            served, [0.5 + r.age_on(world.periods[0].start) / 50 for r in served]
        )
        self.admissions: list[Admission] = []
        for period in _burn_in(world.periods[0], BURN_IN_MONTHS) + world.periods:
            self._month(period)
        self._deaths(served)

    def _deaths(self, served: list[Resident]) -> None:
        """A final emergency admission for the people who die in hospital."""
        first = self.world.periods[0].start
        for resident in served:
            died = resident.left_on if resident.left_reason == "died" else None
            if died is None or self.rng.random() >= IN_HOSPITAL_DEATHS:
                continue
            stay = min(self.rng.lognormvariate(math.log(5.0), 0.8), 60.0)
            arrived = datetime.combine(died, time()) - timedelta(days=stay)
            if arrived.date() >= max(first, resident.arrived_on or first):
                via_ed = self.rng.random() < VIA_ED_SHARE
                method = EMERGENCY_VIA_ED if via_ed else EMERGENCY_VIA_GP
                self._add(resident, method, arrived, stay, via_ed, destination=DIED)

    def _month(self, period: Period) -> None:
        days = (period.end - period.start).days
        season = 1 + WINTER_ADMISSIONS * math.cos(2 * math.pi * (period.month - 1) / 12)
        count = poisson(self.rng, self.emergency.total / 12 * season)
        dates = [period.start + timedelta(days=self.rng.randrange(days)) for _ in range(count)]
        for day, resident in self.emergency.draw_on(self.rng, dates):
            self._emergency(resident, day)
        expected = len(self.elective.residents) * ELECTIVE_RATE / 12
        scale = expected / self.elective.total if self.elective.total else 0.0
        dates = []
        for _ in range(poisson(self.rng, self.elective.total * scale)):
            day = period.start + timedelta(days=self.rng.randrange(days))
            while day.weekday() >= 5 and day > period.start:  # elective lists run on weekdays
                day -= timedelta(days=1)
            dates.append(day)
        for day, resident in self.elective.draw_on(self.rng, dates):
            self._elective(resident, day)

    def _add(
        self,
        resident: Resident,
        method: str,
        admitted: datetime,
        stay_days: float,
        via_ed: bool,
        destination: str = "",
    ) -> None:
        rng = self.rng
        if not destination:
            weights = [w for _, w in DESTINATIONS]
            destination = rng.choices([d for d, _ in DESTINATIONS], weights=weights)[0]
        if resident.left_reason == "died" and resident.left_on is not None:
            latest = (datetime.combine(resident.left_on, time()) - admitted).total_seconds() / 86400
            if stay_days >= latest:  # they die before the planned discharge
                stay_days, destination = max(latest, 0.01), DIED
        conditions = [DIAGNOSES[c] for c in resident.conditions]
        diagnosis = (
            rng.choice(conditions)
            if conditions and rng.random() < 0.5
            else rng.choice(OTHER_DIAGNOSES)
        )
        critical = (
            rng.randint(1, 6)
            if method != ELECTIVE_WAITING_LIST and rng.random() < CRITICAL_CARE_SHARE
            else 0
        )
        self.admissions.append(
            Admission(
                len(self.admissions) + 1,
                resident,
                self.site_of[self.world.area_of(resident)],
                method,
                admitted,
                stay_days,
                destination if method != ELECTIVE_WAITING_LIST or destination == DIED else "19",
                diagnosis,
                critical,
                via_ed,
                via_ed and rng.random() < 0.55,
            )
        )

    def _emergency(self, resident: Resident, day: date) -> None:
        via_ed = self.rng.random() < VIA_ED_SHARE
        method = EMERGENCY_VIA_ED if via_ed else EMERGENCY_VIA_GP
        self._add(
            resident,
            method,
            _moment(self.rng, day),
            _length_of_stay(self.rng, resident, day),
            via_ed,
        )

    def _elective(self, resident: Resident, day: date) -> None:
        admitted = datetime.combine(day, time(8)) + timedelta(minutes=self.rng.randrange(240))
        stay = (
            0.3 if self.rng.random() < DAY_CASE_SHARE else _length_of_stay(self.rng, resident, day)
        )
        self._add(resident, ELECTIVE_WAITING_LIST, admitted, stay, False)


@dataclass(frozen=True)
class BedDay:
    day: date
    site: str
    general_acute_open: int
    general_acute_occupied: int
    critical_care_open: int
    critical_care_occupied: int


def bed_days(world: World, admissions: list[Admission], sites: list[str]) -> list[BedDay]:
    """Beds occupied at 08:00 each day by spells in progress; open beds sized to the occupancy
    target, less any planted closures (a bed_occupancy signal of size -0.06 closes 6%)."""
    first, last = world.periods[0].start, world.periods[-1].end
    occupied: dict[tuple[str, date], int] = defaultdict(int)
    critical: dict[tuple[str, date], int] = defaultdict(int)
    for a in admissions:
        if a.day_case:
            continue
        day = max(a.on_ward.date() + timedelta(days=1), first)
        while day < last and datetime.combine(day, time(8)) < a.discharged_at:
            occupied[a.site, day] += 1
            if (day - a.on_ward.date()).days <= a.critical_care_days:
                critical[a.site, day] += 1
            day += timedelta(days=1)
    days = [first + timedelta(days=n) for n in range((last - first).days)]
    out = []
    for site in sites:
        mean = sum(occupied[site, d] for d in days) / len(days)
        base = max(1, round(mean / TARGET_OCCUPANCY))
        cc_base = max(
            1, math.ceil(sum(critical[site, d] for d in days) / len(days) / CRITICAL_CARE_OCCUPANCY)
        )
        for day in days:
            closed = world.signal_effect("bed_occupancy", site, Period.of(day))
            open_beds = max(occupied[site, day], round(base * (1 + closed)))
            out.append(
                BedDay(
                    day,
                    site,
                    open_beds,
                    occupied[site, day],
                    max(cc_base, critical[site, day]),
                    critical[site, day],
                )
            )
    return out


def month_of_discharge(admissions: list[Admission]) -> dict[str, list[Admission]]:
    grouped: dict[str, list[Admission]] = defaultdict(list)
    for a in admissions:
        grouped[str(Period.of(a.discharged_at.date()))].append(a)
    return grouped


SPELL_COLUMNS = (
    "SpellNumber",
    "NHSNumber",
    "SiteCode",
    "AdmissionMethod",
    "AdmissionDateTime",
    "DischargeDateTime",
    "DischargeDestination",
    "PrimaryDiagnosis",
    "AgeOnAdmission",
    "Sex",
    "CriticalCareDays",
)
SITREP_COLUMNS = (
    "Date",
    "SiteCode",
    "GA_Beds_Open",
    "GA_Beds_Occupied",
    "CC_Beds_Open",
    "CC_Beds_Occupied",
)
ISO_FORMAT = "%Y-%m-%d %H:%M:%S"


def spell_mapping(org: str) -> dict[str, object]:
    return {
        "organisation": org,
        "dataset": "admitted_spell",
        "version": 1,
        "description": "SUS-like spell extract in the trust's own layout",
        "fields": {
            "spell_id": "SpellNumber",
            "nhs_number": "NHSNumber",
            "site_code": "SiteCode",
            "admission_method": "AdmissionMethod",
            "admitted_at": "AdmissionDateTime",
            "discharged_at": "DischargeDateTime",
            "discharge_destination": "DischargeDestination",
            "primary_diagnosis": "PrimaryDiagnosis",
            "age_years": "AgeOnAdmission",
            "sex": "Sex",
            "critical_care_days": "CriticalCareDays",
        },
    }


def sitrep_mapping(org: str) -> dict[str, object]:
    return {
        "organisation": org,
        "dataset": "bed_sitrep",
        "version": 1,
        "description": "daily UEC sitrep in the trust's own layout",
        "fields": {
            "reported_on": "Date",
            "site_code": "SiteCode",
            "general_acute_open": "GA_Beds_Open",
            "general_acute_occupied": "GA_Beds_Occupied",
            "critical_care_open": "CC_Beds_Open",
            "critical_care_occupied": "CC_Beds_Occupied",
        },
    }


def write_spells(path: Path, admissions: list[Admission]) -> int:
    """Spells that ended in the month, in the trust's SUS-like layout (ISO dates)."""
    rows = [
        [
            f"S{a.number:09d}",
            a.resident.nhs_number,
            a.site,
            a.method,
            a.on_ward.strftime(ISO_FORMAT),
            a.discharged_at.strftime(ISO_FORMAT),
            a.destination,
            a.diagnosis,
            str(a.resident.age_on(a.on_ward.date())),
            a.resident.sex,
            str(a.critical_care_days),
        ]
        for a in sorted(admissions, key=lambda a: (a.discharged_at, a.number))
    ]
    return write_csv(path, SPELL_COLUMNS, rows)


def write_sitrep(path: Path, days: list[BedDay]) -> int:
    rows = [
        [
            d.day.isoformat(),
            d.site,
            str(d.general_acute_open),
            str(d.general_acute_occupied),
            str(d.critical_care_open),
            str(d.critical_care_occupied),
        ]
        for d in days
    ]
    return write_csv(path, SITREP_COLUMNS, rows)
