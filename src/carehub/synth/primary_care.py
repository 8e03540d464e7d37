"""Primary care: the ICB's yearly extracts of GP registrations and long-term-condition registers
(from its primary care data service), and NHS England's monthly national data opt-out list.

Registrations and registers are snapshots on the first day of the span and on each 1 April
after it (the QOF year), of everyone living in the area that day. Register entries carry a
SNOMED CT code from the condition's OpenSAFELY codelist and the date it was first recorded.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.files import write_csv
from carehub.synth.world import World

PRIMARY_CARE_EXTRACT = ("QH8", "NHS Mid and South Essex Integrated Care Board")  # real ODS code
OPT_OUT_SOURCE = ("X24", "NHS England (national data opt-out service)")  # NHS England's ODS code
QOF_REGISTERS = {  # condition -> QOF register code
    "hypertension": "HYP",
    "diabetes": "DM",
    "asthma": "AST",
    "copd": "COPD",
    "chd": "CHD",
    "heart_failure": "HF",
    "ckd": "CKD",
    "dementia": "DEM",
}
REGISTRATION_COLUMNS = (
    "NHSNumber",
    "PracticeCode",
    "RegistrationDate",
    "Postcode",
    "Sex",
    "DateOfBirth",
)
REGISTER_COLUMNS = ("NHSNumber", "PracticeCode", "Register", "SnomedCode", "DateFirstRecorded")
OPT_OUT_COLUMNS = ("NHSNumber",)


def feed_mappings() -> list[dict[str, object]]:
    icb, source = PRIMARY_CARE_EXTRACT[0], OPT_OUT_SOURCE[0]
    return [
        {
            "organisation": icb,
            "dataset": "gp_registration",
            "version": 1,
            "description": "primary care data service: registrations snapshot",
            "fields": {
                "nhs_number": "NHSNumber",
                "practice_code": "PracticeCode",
                "registered_on": "RegistrationDate",
                "postcode": "Postcode",
                "sex": "Sex",
                "birth_date": "DateOfBirth",
            },
        },
        {
            "organisation": icb,
            "dataset": "ltc_register",
            "version": 1,
            "description": "primary care data service: QOF registers snapshot",
            "fields": {
                "nhs_number": "NHSNumber",
                "practice_code": "PracticeCode",
                "register": "Register",
                "snomed_code": "SnomedCode",
                "first_recorded_on": "DateFirstRecorded",
            },
        },
        {
            "organisation": source,
            "dataset": "national_opt_out",
            "version": 1,
            "description": "national data opt-out list",
            "fields": {"nhs_number": "NHSNumber"},
        },
    ]


def snapshot_dates(world: World) -> list[date]:
    """The first day of the span and each 1 April after it."""
    first, last = world.periods[0].start, world.periods[-1].end
    dates = [first] + [date(y, 4, 1) for y in range(first.year, last.year + 1)]
    return sorted({d for d in dates if first <= d < last})


class PrimaryCareFeed:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.stream("primary-care")
        start = world.periods[0].start
        self.registered_on = {
            r.nhs_number: r.arrived_on
            or max(r.birth_date, start - timedelta(days=self.rng.randrange(1, 9000)))
            for r in world.residents
        }
        self.recorded_on = {
            (r.nhs_number, c): start - timedelta(days=self.rng.randrange(30, 5000))
            for r in world.residents
            for c in r.conditions
        }
        self.codes = {
            (r.nhs_number, c): self.rng.choice(world.footprint.condition_codes[c])
            for r in world.residents
            for c in r.conditions
        }

    def write_registrations(self, path: Path, on: date) -> int:
        rows = [
            [
                r.nhs_number,
                r.practice,
                self.registered_on[r.nhs_number].isoformat(),
                r.postcode,
                r.sex,
                r.birth_date.isoformat(),
            ]
            for r in self.world.residents
            if r.present_on(on)
        ]
        return write_csv(path, REGISTRATION_COLUMNS, sorted(rows, key=lambda row: (row[1], row[0])))

    def write_registers(self, path: Path, on: date) -> int:
        rows = []
        for resident in self.world.residents:
            if not resident.present_on(on):
                continue
            for condition in resident.conditions:
                recorded = max(
                    self.recorded_on[resident.nhs_number, condition], resident.birth_date
                )
                rows.append(
                    [
                        resident.nhs_number,
                        resident.practice,
                        QOF_REGISTERS[condition],
                        self.codes[resident.nhs_number, condition],
                        recorded.isoformat(),
                    ]
                )
        return write_csv(
            path, REGISTER_COLUMNS, sorted(rows, key=lambda row: (row[1], row[0], row[2]))
        )


def write_opt_outs(world: World, path: Path, period: Period) -> int:
    """Everyone living in the area at the month's end who had opted out by then."""
    last_day = period.end - timedelta(days=1)
    numbers = sorted(
        r.nhs_number
        for r in world.residents
        if r.opted_out_on is not None and r.opted_out_on <= last_day and r.present_on(last_day)
    )
    return write_csv(path, OPT_OUT_COLUMNS, [[n] for n in numbers])
