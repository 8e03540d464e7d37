"""NHS 111 calls from the integrated urgent care provider's extract.

Each call has a disposition, whether a clinician was involved, the ordered list of Directory of
Services (DoS) services offered for that disposition (the caller's own area first) and the one
taken up, with the caller's reason when the first choice was rejected. Clinical input and first
choice acceptance follow the planted signals by local authority.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.acute import Hazard
from carehub.synth.files import write_csv
from carehub.synth.sampling import poisson
from carehub.synth.world import World

NHS111_PROVIDER = ("NI111", "NHS 111 integrated urgent care provider (illustrative ODS code)")
CLINICAL_INPUT_KPI = "nhs111_clinical_input"  # share of calls with a clinician involved
FIRST_CHOICE_KPI = "nhs111_first_choice_acceptance"  # share taking up the first service offered
CALL_RATE = 0.30  # calls per resident-year
CLINICAL_INPUT = 0.52
FIRST_CHOICE = 0.80
DISPOSITIONS = {  # local codes: weight, the DoS service types offered
    "AMB": (9, ()),
    "ED": (11, ("ED",)),
    "UTC": (10, ("UTC",)),
    "GP_URGENT": (24, ("GPOOH", "GP")),
    "GP_ROUTINE": (12, ("GP",)),
    "PHARMACY": (12, ("PHARM",)),
    "DENTAL": (6, ("DENTAL",)),
    "SELF_CARE": (12, ()),
    "OTHER": (4, ("MH",)),
}
REASONS = ("TOO_FAR", "NO_CAPACITY", "PREFERS_OTHER", "ALREADY_TRIED")
COLUMNS = (
    "CallRef",
    "NHSNumber",
    "CallDateTime",
    "AgeAtCall",
    "CallerArea",
    "Disposition",
    "ClinicalInput",
    "ServicesOffered",
    "ServiceTakenUp",
    "FirstChoiceRejectedReason",
)
HOUR_WEIGHTS = (
    3,
    2,
    1.5,
    1,
    1,
    1,
    1.5,
    3,
    5,
    6,
    6,
    5.5,
    5,
    5,
    5,
    5,
    5.5,
    6.5,
    7.5,
    8,
    7.5,
    6.5,
    5,
    4,
)


def feed_mapping() -> dict[str, object]:
    return {
        "organisation": NHS111_PROVIDER[0],
        "dataset": "nhs111_call",
        "version": 1,
        "description": "call extract in the NHS 111 provider's own layout",
        "fields": {
            "call_id": "CallRef",
            "nhs_number": "NHSNumber",
            "called_at": {"column": "CallDateTime", "format": "%d/%m/%Y %H:%M:%S"},
            "age_years": "AgeAtCall",
            "caller_area": "CallerArea",
            "disposition": {
                "column": "Disposition",
                "values": {
                    "AMB": "ambulance",
                    "ED": "emergency_department",
                    "UTC": "urgent_treatment_centre",
                    "GP_URGENT": "gp_urgent",
                    "GP_ROUTINE": "gp_routine",
                    "PHARMACY": "pharmacy",
                    "DENTAL": "dental",
                    "SELF_CARE": "self_care",
                    "OTHER": "other",
                },
            },
            "clinical_input": "ClinicalInput",
            "services_offered": "ServicesOffered",
            "service_taken_up": "ServiceTakenUp",
            "first_choice_rejected_reason": {
                "column": "FirstChoiceRejectedReason",
                "values": {r: r.lower() for r in REASONS},
            },
        },
    }


def dos_services(areas: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Synthetic DoS services: (service id, area) by service type."""
    services: dict[str, list[tuple[str, str]]] = {}
    for kind in ("ED", "UTC", "GPOOH", "GP", "PHARM", "DENTAL", "MH"):
        per_area = 3 if kind == "PHARM" else 1
        services[kind] = [
            (f"DOS-{kind}-{i:02d}{n}", area)
            for i, area in enumerate(areas, 1)
            for n in "ABC"[:per_area]
        ]
    return services


class Nhs111Feed:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.stream("nhs111")
        start = world.periods[0].start
        weights = [
            2.2 if r.age_on(start) < 5 else 1.4 if r.age_on(start) >= 75 else 1.0
            for r in world.residents
        ]
        self.hazard = Hazard(world.residents, weights)
        self.scale = (
            len(world.residents) * CALL_RATE / 12 / self.hazard.total if self.hazard.total else 0.0
        )
        self.areas = sorted({world.area_of(r) for r in world.residents})
        self.services = dos_services(self.areas)
        self.serial = 0

    def _offered(self, kinds: tuple[str, ...], area: str) -> list[str]:
        offered: list[str] = []
        for kind in kinds:
            local = [s for s, a in self.services[kind] if a == area]
            others = [s for s, a in self.services[kind] if a != area]
            offered.extend(local + self.rng.sample(others, min(2, len(others))))
        return offered[:4]

    def _call(
        self, resident_number: str, age: int, area: str, when: datetime, period: Period
    ) -> list[str]:
        rng = self.rng
        self.serial += 1
        disposition = rng.choices(
            list(DISPOSITIONS), weights=[w for w, _ in DISPOSITIONS.values()]
        )[0]
        clinical = rng.random() < CLINICAL_INPUT + self.world.signal_effect(
            CLINICAL_INPUT_KPI, area, period
        )
        offered = self._offered(DISPOSITIONS[disposition][1], area)
        taken, reason = "", ""
        if offered:
            accepts = FIRST_CHOICE + self.world.signal_effect(FIRST_CHOICE_KPI, area, period)
            if rng.random() < accepts or len(offered) == 1:
                taken = offered[0]
            else:
                taken, reason = offered[1], rng.choice(REASONS)
        number = resident_number if rng.random() < 0.9 else ""
        return [
            f"111-{self.serial:09d}",
            number,
            when.strftime("%d/%m/%Y %H:%M:%S"),
            str(age),
            area,
            disposition,
            "Y" if clinical else "N",
            "|".join(offered),
            taken,
            reason,
        ]

    def write(self, path: Path, period: Period) -> int:
        days = (period.end - period.start).days
        season = 1 + 0.12 * math.cos(2 * math.pi * (period.month - 1) / 12)
        calls = []
        count = poisson(self.rng, self.hazard.total * self.scale * season)
        dates = [period.start + timedelta(days=self.rng.randrange(days)) for _ in range(count)]
        for day, resident in self.hazard.draw_on(self.rng, dates):
            hour = self.rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            when = datetime(
                day.year, day.month, day.day, hour, self.rng.randrange(60), self.rng.randrange(60)
            )
            calls.append(
                (
                    when,
                    self._call(
                        resident.nhs_number,
                        resident.age_on(day),
                        self.world.area_of(resident),
                        when,
                        period,
                    ),
                )
            )
        calls.sort(key=lambda pair: pair[0])
        return write_csv(path, COLUMNS, [row for _, row in calls])
