"""Community and care-home bed capacity, and council adult social care.

Community beds (the community trust's daily return) take older patients stepping down from acute
spells of five days or more. Councils report, each week, care-home beds and vacancies and the
people awaiting a package of care by where they are now: in an acute bed (a share of the long
stays in progress), in a community bed, or at home.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.acute import Admission
from carehub.synth.files import write_csv
from carehub.synth.world import World

COMMUNITY_TRUST = ("R1L", "Essex Partnership University NHS Foundation Trust")  # real ODS code
COMMUNITY_UNITS = {  # illustrative unit codes -> the local authorities they serve
    "R1L01": ("Southend-on-Sea", "Rochford", "Castle Point"),
    "R1L02": ("Chelmsford", "Braintree", "Maldon"),
    "R1L03": ("Basildon", "Thurrock", "Brentwood"),
}
COUNCILS = {  # illustrative codes -> (name, local authorities)
    "ESXCC": (
        "Essex County Council",
        ("Basildon", "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Maldon", "Rochford"),
    ),
    "SOSCC": ("Southend-on-Sea City Council", ("Southend-on-Sea",)),
    "THRKC": ("Thurrock Council", ("Thurrock",)),
}
STEP_DOWN_SHARE = 0.25  # of spells of 5+ days for people 70+ discharged home
COMMUNITY_OCCUPANCY = 0.90
CARE_HOME_BEDS_PER_1000 = 8.0  # beds per 1,000 residents (England is about 7 to 9)
COMMUNITY_COLUMNS = ("Date", "UnitCode", "BedsOpen", "BedsOccupied")
SOCIAL_CARE_COLUMNS = (
    "WeekEnding",
    "CouncilCode",
    "CareHomeBeds",
    "CareHomeVacancies",
    "AwaitingInAcuteBed",
    "AwaitingInCommunityBed",
    "AwaitingAtHome",
)


def feed_mappings() -> list[dict[str, object]]:
    community = {
        "organisation": COMMUNITY_TRUST[0],
        "dataset": "community_beds",
        "version": 1,
        "description": "community trust daily bed return",
        "fields": {
            "reported_on": "Date",
            "unit_code": "UnitCode",
            "beds_open": "BedsOpen",
            "beds_occupied": "BedsOccupied",
        },
    }
    councils = [
        {
            "organisation": code,
            "dataset": "social_care",
            "version": 1,
            "description": f"{name}: weekly adult social care return",
            "fields": {
                "week_ending": "WeekEnding",
                "council_code": "CouncilCode",
                "care_home_beds": "CareHomeBeds",
                "care_home_vacancies": "CareHomeVacancies",
                "awaiting_in_acute_bed": "AwaitingInAcuteBed",
                "awaiting_in_community_bed": "AwaitingInCommunityBed",
                "awaiting_at_home": "AwaitingAtHome",
            },
        }
        for code, (name, _) in COUNCILS.items()
    ]
    return [community, *councils]


class CapacityModel:
    def __init__(self, world: World, admissions: list[Admission]) -> None:
        self.world = world
        self.rng = world.stream("capacity")
        self.first, self.last = world.periods[0].start, world.periods[-1].end
        unit_of = {area: code for code, areas in COMMUNITY_UNITS.items() for area in areas}
        self.community: dict[tuple[str, date], int] = defaultdict(int)
        self.long_stays: dict[tuple[str, date], int] = defaultdict(int)
        for a in admissions:
            area = world.area_of(a.resident)
            self._long_stay(a, area)
            older = a.resident.age_on(a.on_ward.date()) >= 70
            candidate = a.destination == "19" and a.stay_days >= 5 and older
            if candidate and self.rng.random() < STEP_DOWN_SHARE:
                self._step_down(a, unit_of[area])
        days = self.days()
        self.open_beds = {
            u: max(
                1, round(sum(self.community[u, d] for d in days) / len(days) / COMMUNITY_OCCUPANCY)
            )
            for u in COMMUNITY_UNITS
        }

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days)]

    def _step_down(self, admission: Admission, unit: str) -> None:
        stay = self.rng.lognormvariate(math.log(14), 0.5)
        day = admission.discharged_at.date()
        end = day + timedelta(days=stay)
        while day < end and day < self.last:
            if day >= self.first and admission.resident.present_on(day):
                self.community[unit, day] += 1
            day += timedelta(days=1)

    def _long_stay(self, admission: Admission, area: str) -> None:
        """Days on which a patient had been in an acute bed 14 days or more."""
        day = (admission.on_ward + timedelta(days=14)).date()
        while datetime.combine(day, time(8)) < admission.discharged_at and day < self.last:
            if day >= self.first:
                self.long_stays[area, day] += 1
            day += timedelta(days=1)

    def write_community(self, path: Path, period: Period) -> int:
        rows = []
        for day in (d for d in self.days() if Period.of(d) == period):
            for unit in COMMUNITY_UNITS:
                occupied = self.community[unit, day]
                rows.append(
                    [day.isoformat(), unit, str(max(self.open_beds[unit], occupied)), str(occupied)]
                )
        return write_csv(path, COMMUNITY_COLUMNS, rows)

    def write_social_care(self, path: Path, council: str, period: Period) -> int:
        areas = COUNCILS[council][1]
        people = sum(
            1
            for r in self.world.residents
            if self.world.area_of(r) in areas and r.arrived_on is None
        )
        beds = max(1, round(people * CARE_HOME_BEDS_PER_1000 / 1000))
        shares = {
            u: len(set(served) & set(areas)) / len(served) for u, served in COMMUNITY_UNITS.items()
        }
        rows = []
        for day in (
            d for d in self.days() if Period.of(d) == period and d.weekday() == 6
        ):  # Sundays
            winter = max(math.cos(2 * math.pi * (day.month - 1) / 12), 0)
            vacancies = max(
                0, round(beds * (0.09 - 0.04 * winter) + self.rng.gauss(0, math.sqrt(beds) * 0.1))
            )
            in_acute = sum(self.long_stays[a, day] for a in areas)
            in_community = sum(self.community[u, day] * share for u, share in shares.items())
            at_home = max(
                0,
                round(
                    self.rng.gauss(people / 2500 * (1 + 0.3 * winter), math.sqrt(people / 2500 + 1))
                ),
            )
            rows.append(
                [
                    day.isoformat(),
                    council,
                    str(beds),
                    str(vacancies),
                    str(round(in_acute * 0.4)),
                    str(round(in_community * 0.3)),
                    str(at_home),
                ]
            )
        return write_csv(path, SOCIAL_CARE_COLUMNS, rows)
