"""Synthetic residents of the footprint: who they are, where they live, how ill they are.

Age and sex follow the real ONS mid-2023 population of England; residents are spread over the
ICB's real LSOAs and postcodes and registered with a practice in their own local authority.
Long-term conditions become more likely with age and with deprivation, and the emergency
admission risk is a recorded logistic model, so that later analyses can be checked against it.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta

from carehub.synth.footprint import ONS_AGE_CAP, Footprint, Lsoa, Practice
from carehub.synth.people import nhs_numbers

# NHS Data Dictionary ETHNIC CATEGORY codes with rounded shares (ONS Census 2021, East of England).
ETHNIC_SHARES = {
    "A": 78.5,
    "B": 0.7,
    "C": 7.4,
    "D": 0.5,
    "E": 0.4,
    "F": 0.7,
    "G": 0.8,
    "H": 1.9,
    "J": 1.1,
    "K": 0.6,
    "L": 1.2,
    "M": 0.7,
    "N": 1.6,
    "P": 0.3,
    "R": 0.5,
    "S": 1.2,
    "Z": 1.9,
}
# Long-term conditions: prevalence model logit = base + per_decade * (age - 50) / 10
# + deprivation * (5.5 - IMD decile); tuned to the order of QOF prevalence in England.
CONDITIONS = {
    "hypertension": (-1.6, 0.75, 0.06),
    "diabetes": (-2.6, 0.45, 0.10),
    "asthma": (-2.5, 0.0, 0.06),
    "copd": (-4.3, 0.65, 0.16),
    "chd": (-3.9, 0.75, 0.08),
    "heart_failure": (-5.6, 0.85, 0.08),
    "ckd": (-4.2, 0.90, 0.05),
    "dementia": (-7.8, 1.25, 0.03),
}
ADULT_CONDITIONS_FROM_AGE = 18
OPT_OUT_RATE = 0.054  # national data opt-out, England 2023: about 5.4% of registered patients
# Emergency admission risk (next 12 months): the planted model that risk stratification should find.
RISK_MODEL = {
    "intercept": -2.9,
    "per_decade_over_50": 0.32,
    "per_condition": 0.42,
    "per_decile_below_6": 0.07,
    "frail": 0.9,
}


@dataclass(frozen=True)
class Resident:
    nhs_number: str
    sex: str  # PERSON STATED GENDER CODE: 1 male, 2 female
    birth_date: date
    ethnicity: str
    lsoa: str
    postcode: str
    imd_decile: int
    practice: str
    conditions: tuple[str, ...]
    frail: bool
    opted_out: bool
    admission_risk: float  # probability of an emergency admission in a year (RISK_MODEL)
    arrived_on: date | None = None  # born or moved in during the span (None: there at the start)
    left_on: date | None = None  # died or moved away during the span
    left_reason: str = ""  # "died" or "moved"
    opted_out_on: date | None = None

    def present_on(self, day: date) -> bool:
        return (self.arrived_on is None or self.arrived_on <= day) and (
            self.left_on is None or day < self.left_on
        )

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _local_authority(lsoa_name: str) -> str:
    return lsoa_name.rsplit(" ", 1)[0]  # "Southend-on-Sea 012A" -> "Southend-on-Sea"


def _practices_by_area(footprint: Footprint) -> dict[str, list[Practice]]:
    names = {lsoa.code: _local_authority(lsoa.name) for lsoa in footprint.lsoas}
    grouped: dict[str, list[Practice]] = defaultdict(list)
    for practice in footprint.practices:
        grouped[names.get(practice.lsoa or "", "")].append(practice)
    return grouped


def _conditions(rng: random.Random, age: int, decile: int) -> tuple[str, ...]:
    if age < ADULT_CONDITIONS_FROM_AGE:
        return ("asthma",) if rng.random() < 0.08 else ()
    found = []
    for name, (base, per_decade, deprivation) in CONDITIONS.items():
        if rng.random() < _logistic(
            base + per_decade * (age - 50) / 10 + deprivation * (5.5 - decile)
        ):
            found.append(name)
    return tuple(found)


def admission_risk(age: int, conditions: int, decile: int, frail: bool) -> float:
    m = RISK_MODEL
    x = (
        m["intercept"]
        + m["per_decade_over_50"] * max(age - 50, 0) / 10
        + m["per_condition"] * conditions
        + m["per_decile_below_6"] * max(6 - decile, 0)
        + (m["frail"] if frail else 0.0)
    )
    return _logistic(x)


class PopulationBuilder:
    def __init__(self, rng: random.Random, footprint: Footprint, on: date) -> None:
        self.rng, self.footprint, self.on = rng, footprint, on
        self.practices = _practices_by_area(footprint)
        sexes = [(sex, age) for sex in ("female", "male") for age in range(ONS_AGE_CAP + 1)]
        self.age_sex = sexes
        self.age_sex_weights = [footprint.population[s][a] for s, a in sexes]

    def build(self, count: int, spare: int = 0) -> list[Resident]:
        """``count`` residents; ``spare`` more NHS numbers are kept for newcomers."""
        numbers = nhs_numbers(self.rng, count + spare)
        self.spare_numbers = numbers[count:]
        lsoas = self.rng.choices(self.footprint.lsoas, k=count)
        return [self._resident(n, lsoa) for n, lsoa in zip(numbers[:count], lsoas, strict=True)]

    def newcomer(self, number: str, arrived_on: date, newborn: bool) -> Resident:
        """A baby born, or a person who moved in, on ``arrived_on``."""
        resident = self._resident(number, self.rng.choice(self.footprint.lsoas))
        if newborn:
            resident = replace(
                resident,
                birth_date=arrived_on,
                conditions=(),
                frail=False,
                admission_risk=admission_risk(0, 0, resident.imd_decile, False),
            )
        return replace(resident, arrived_on=arrived_on)

    def _birth_date(self, age: int) -> date:
        if age == ONS_AGE_CAP:
            age += min(int(self.rng.expovariate(1 / 3)), 14)
        return self.on - timedelta(days=age * 365 + self.rng.randrange(365))

    def _resident(self, number: str, lsoa: Lsoa) -> Resident:
        rng = self.rng
        sex, age = rng.choices(self.age_sex, weights=self.age_sex_weights)[0]
        conditions = _conditions(rng, age, lsoa.imd_decile)
        frail = age >= 65 and rng.random() < _logistic(
            -3.2 + 0.06 * (age - 65) + 0.5 * len(conditions)
        )
        local = self.practices.get(_local_authority(lsoa.name)) or list(self.footprint.practices)
        return Resident(
            nhs_number=number,
            sex="1" if sex == "male" else "2",
            birth_date=self._birth_date(age),
            ethnicity=rng.choices(list(ETHNIC_SHARES), weights=list(ETHNIC_SHARES.values()))[0],
            lsoa=lsoa.code,
            postcode=rng.choice(lsoa.postcodes),
            imd_decile=lsoa.imd_decile,
            practice=rng.choice(local).ods_code,
            conditions=conditions,
            frail=frail,
            opted_out=rng.random() < OPT_OUT_RATE,
            admission_risk=admission_risk(age, len(conditions), lsoa.imd_decile, frail),
        )
