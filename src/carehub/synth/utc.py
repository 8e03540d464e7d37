"""Urgent treatment centre attendances, sent as an Excel workbook in the provider's own layout:
a notes sheet first, then an "Attendances" sheet with title rows above the header, real Excel
date-times, the NHS number stored as a number, and words instead of codes. The provider is
messier than the trust: more missing and invalid NHS numbers and impossible sequences."""

from __future__ import annotations

import math
import random
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

from carehub.model.periods import Period
from carehub.synth.acute import Hazard
from carehub.synth.people import invalid_nhs_number
from carehub.synth.population import Resident
from carehub.synth.sampling import poisson
from carehub.synth.world import Defect, World

UTC_PROVIDER = ("NUC01", "Essex Urgent Care (illustrative independent provider)")
UTC_SITES = {  # site code -> the local authorities it serves
    "NUC01A": ("Southend-on-Sea", "Rochford", "Castle Point"),
    "NUC01B": ("Chelmsford", "Braintree", "Maldon"),
    "NUC01C": ("Basildon", "Thurrock", "Brentwood"),
}
UTC_RATE = 0.18  # attendances per resident-year
HEADER_ROW = 4  # rows 1-3 hold a title, the month and a blank line
COLUMNS = (
    "Site",
    "Patient NHS No",
    "Arrival",
    "Seen",
    "Left",
    "Age",
    "Sex",
    "Presenting complaint",
    "Outcome",
    "Ref",
)
COMPLAINTS = (
    "Minor injury",
    "Sprain or strain",
    "Cut or graze",
    "Rash",
    "Earache",
    "Sore throat",
    "Urinary symptoms",
    "Eye problem",
    "Minor burn",
    "Other",
)
OUTCOMES = {"Discharged": 78, "Referred to GP": 12, "Referred to ED": 7, "Left before seen": 3}
DEFECT_RATE = 0.015
EXPECTED_REASONS = {  # when carehub reads workbooks (issue 4), these kinds go to quarantine
    "invalid_nhs_number": "NHS_NUMBER_INVALID:nhs_number",
    "departure_before_arrival": "DEPARTURE_BEFORE_ARRIVAL:departed_at",
}


def _propensity(resident: Resident, on: datetime) -> float:
    age = resident.age_on(on.date())
    return 1.6 if 5 <= age < 45 else 1.0 if age < 65 else 0.6


class UtcFeed:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.stream("utc")
        start = datetime.combine(world.periods[0].start, datetime.min.time())
        site_of = {area: code for code, areas in UTC_SITES.items() for area in areas}
        self.site_of = {
            r.nhs_number: site_of.get(world.area_of(r), "NUC01B") for r in world.residents
        }
        self.hazard = Hazard(world.residents, [_propensity(r, start) for r in world.residents])
        self.scale = (
            len(world.residents) * UTC_RATE / 12 / self.hazard.total if self.hazard.total else 0.0
        )

    def _row(self, resident: Resident, arrival: datetime) -> list[object]:
        rng = self.rng
        seen = arrival + timedelta(minutes=int(rng.expovariate(1 / 35)))
        left = seen + timedelta(minutes=int(rng.expovariate(1 / 40)) + 5)
        sex = {"1": "Male", "2": "Female"}[resident.sex]
        outcome = rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0]
        return [
            self.site_of[resident.nhs_number],
            int(resident.nhs_number),
            arrival,
            seen,
            left,
            resident.age_on(arrival.date()),
            sex,
            rng.choice(COMPLAINTS),
            outcome,
        ]

    def _plant(self, file: str, number: int, row: list[object], rng: random.Random) -> Defect:
        arrival = row[2]
        assert isinstance(arrival, datetime)
        kind = rng.choice(("invalid_nhs_number", "missing_nhs_number", "departure_before_arrival"))
        if kind == "invalid_nhs_number":
            row[1] = int(invalid_nhs_number(rng))
            return Defect(file, number, "Patient NHS No", kind)
        if kind == "missing_nhs_number":
            row[1] = None
            return Defect(file, number, "Patient NHS No", kind, "quality")
        row[4] = arrival - timedelta(minutes=rng.randint(5, 60))
        row[3] = None
        return Defect(file, number, "Left", kind)

    def write(self, path: Path, period: Period) -> list[Defect]:
        days = (period.end - period.start).days
        season = 1 + 0.05 * math.cos(2 * math.pi * (period.month - 1) / 12)
        timed: list[tuple[datetime, str, list[object]]] = []
        count = poisson(self.rng, self.hazard.total * self.scale * season)
        dates = [period.start + timedelta(days=self.rng.randrange(days)) for _ in range(count)]
        for day, resident in self.hazard.draw_on(self.rng, dates):
            start = datetime.combine(day, datetime.min.time())
            arrival = start + timedelta(hours=self.rng.uniform(8, 22))
            timed.append((arrival, resident.nhs_number, self._row(resident, arrival)))
        visits = [row for _, _, row in sorted(timed, key=lambda t: (t[0], t[1]))]
        for number, row in enumerate(visits, 1):
            row.append(f"UTC-{period}-{number:05d}")  # the provider's own reference
        defects = [
            self._plant(path.name, n, row, self.rng)
            for n, row in enumerate(visits, 1)
            if self.rng.random() < DEFECT_RATE
        ]
        _save(path, period, visits)
        return defects


def feed_mapping() -> dict[str, object]:
    """How the hub maps the UTC's workbook (written to mappings/NUC01/ed_attendance.yaml)."""
    complaints = {c: "other" for c in COMPLAINTS}
    complaints.update({"Minor injury": "limb_injury", "Sprain or strain": "limb_injury"})
    return {
        "organisation": UTC_PROVIDER[0],
        "dataset": "ed_attendance",
        "version": 1,
        "description": f"{UTC_PROVIDER[1]}: monthly workbook, sheet Attendances, header on row 4",
        "sheet": "Attendances",
        "header_row": HEADER_ROW,
        "fields": {
            "attendance_id": "Ref",
            "nhs_number": "Patient NHS No",
            "site_code": "Site",
            "department_type": {"value": "03"},  # every UTC attendance is type 3
            "arrival_at": "Arrival",
            "initial_assessment_at": "Seen",
            "departed_at": "Left",
            "age_years": "Age",
            "sex": {"column": "Sex", "values": {"Male": "1", "Female": "2"}},
            "chief_complaint": {"column": "Presenting complaint", "values": complaints},
            "discharge_destination": {
                "column": "Outcome",
                "values": {
                    "Discharged": "home",
                    "Referred to GP": "home_gp_follow_up",
                    "Referred to ED": "transferred",
                    "Left before seen": "left_before_treatment",
                },
            },
        },
    }


def _save(path: Path, period: Period, rows: list[list[object]]) -> None:
    workbook = Workbook(write_only=True)
    notes = workbook.create_sheet("Notes")
    notes.append(["Monthly return of urgent treatment centre attendances. Times are local time."])
    sheet = workbook.create_sheet("Attendances")
    sheet.append([f"{UTC_PROVIDER[1]}: urgent treatment centre attendances"])
    sheet.append([f"Month: {period.start.strftime('%B %Y')}"])
    sheet.append([])
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    _make_reproducible(path, datetime.combine(period.end, datetime.min.time()))


FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _make_reproducible(path: Path, stamp: datetime) -> None:
    """openpyxl writes the current time into docProps/core.xml and into every zip entry; replace
    both with fixed values so that the same seed gives the same bytes."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + iso, data)
            target.writestr(
                zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME), data, zipfile.ZIP_DEFLATED
            )
