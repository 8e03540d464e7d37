"""Ambulance incidents from the ambulance trust's computer-aided dispatch (CAD) extract.

Conveyed incidents are the ED visits that arrived by ambulance (so the two feeds agree: the
ambulance's hospital arrival is the ED arrival); non-conveyed incidents (hear and treat, see and
treat) are drawn from residents, more for older and more deprived people. Response times depend
on the category, winter and the planted signals (C2 mean response by local authority);
handover times depend on the receiving site, winter and the planted signals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.acute import Hazard
from carehub.synth.ed import Visit
from carehub.synth.files import write_csv
from carehub.synth.sampling import poisson
from carehub.synth.world import World

AMBULANCE_TRUST = ("RYC", "East of England Ambulance Service NHS Trust")  # real ODS code and name
C2_KPI = "ambulance_c2_mean_response"  # minutes
HANDOVER_KPI = "ambulance_handover_mean"  # minutes
NON_CONVEYED_RATE = 0.07  # hear-and-treat and see-and-treat incidents per resident-year
CATEGORY_SHARES = {"1": 8, "2": 60, "3": 26, "4": 6}
MEAN_RESPONSE = {"1": 8.0, "2": 32.0, "3": 95.0, "4": 150.0}  # minutes, outside winter
WINTER_RESPONSE = 0.30  # responses are about 30% slower in January
MEAN_HANDOVER = 24.0  # minutes from arrival at hospital to handover, outside winter
COLUMNS = (
    "IncidentRef",
    "NHSNumber",
    "CallDateTime",
    "Category",
    "ResponseDateTime",
    "Outcome",
    "IncidentArea",
    "DestinationSite",
    "HospitalArrivalDateTime",
    "HandoverDateTime",
)
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
NHS_NUMBER_TRACED = 0.88  # the crew does not always trace the patient's NHS number


@dataclass(frozen=True)
class Incident:
    nhs_number: str
    area: str
    call: datetime
    category: str
    outcome: str  # STC see and convey, STR see treat and refer, HT hear and treat
    response: datetime | None
    visit: Visit | None  # the ED visit of a conveyed patient


def feed_mapping() -> dict[str, object]:
    return {
        "organisation": AMBULANCE_TRUST[0],
        "dataset": "ambulance_incident",
        "version": 1,
        "description": "CAD extract in the ambulance trust's own layout",
        "fields": {
            "incident_id": "IncidentRef",
            "nhs_number": "NHSNumber",
            "call_at": "CallDateTime",
            "category": "Category",
            "responded_at": "ResponseDateTime",
            "outcome": {
                "column": "Outcome",
                "values": {"STC": "conveyed", "STR": "see_and_treat", "HT": "hear_and_treat"},
            },
            "incident_area": "IncidentArea",
            "destination_site": "DestinationSite",
            "hospital_arrival_at": "HospitalArrivalDateTime",
            "handover_at": "HandoverDateTime",
        },
    }


def _winter(period: Period) -> float:
    return math.cos(2 * math.pi * (period.month - 1) / 12)


def _fmt(value: datetime | None) -> str:
    return value.strftime(DATE_FORMAT) if value else ""


class AmbulanceFeed:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.stream("ambulance")
        start = world.periods[0].start
        people = world.residents
        weights = [
            (1 + max(r.age_on(start) - 50, 0) / 15) * (1 + 0.05 * (5.5 - r.imd_decile))
            for r in people
        ]
        self.hazard = Hazard(people, weights)
        self.scale = (
            len(people) * NON_CONVEYED_RATE / 12 / self.hazard.total if self.hazard.total else 0.0
        )
        self.serial = 0

    def _response(self, category: str, area: str, period: Period) -> float:
        mean = MEAN_RESPONSE[category] * (1 + WINTER_RESPONSE * max(_winter(period), 0))
        if category == "2":
            mean += self.world.signal_effect(C2_KPI, area, period)
        return self.rng.lognormvariate(math.log(max(mean, 1.0)) - 0.18, 0.6)

    def _handover(self, site: str, period: Period) -> float:
        mean = MEAN_HANDOVER * (1 + 0.6 * max(_winter(period), 0)) + self.world.signal_effect(
            HANDOVER_KPI, site, period
        )
        return self.rng.lognormvariate(math.log(max(mean, 1.0)) - 0.3, 0.75)

    def _row(self, incident: Incident, period: Period) -> list[str]:
        self.serial += 1
        arrival = handover = None
        site = ""
        if incident.visit is not None:
            site, arrival = incident.visit.site.code, incident.visit.arrival
            handover = arrival + timedelta(minutes=self._handover(site, period))
        traced = self.rng.random() < NHS_NUMBER_TRACED
        return [
            f"{AMBULANCE_TRUST[0]}-{self.serial:09d}",
            incident.nhs_number if traced else "",
            _fmt(incident.call),
            incident.category,
            _fmt(incident.response),
            incident.outcome,
            incident.area,
            site,
            _fmt(arrival),
            _fmt(handover),
        ]

    def _conveyed(self, visit: Visit, period: Period) -> Incident:
        """Worked back from the ED arrival: call, response, time on scene, travel."""
        weights = (15, 70, 14, 1) if visit.admission else (5, 55, 35, 5)
        category = self.rng.choices("1234", weights)[0]
        area = self.world.area_of(visit.resident)
        respond = self._response(category, area, period)
        on_scene_and_travel = self.rng.uniform(20, 45) + self.rng.uniform(10, 35)
        call = visit.arrival - timedelta(minutes=respond + on_scene_and_travel)
        response = call + timedelta(minutes=respond)
        return Incident(visit.resident.nhs_number, area, call, category, "STC", response, visit)

    def _not_conveyed(self, period: Period) -> list[Incident]:
        incidents = []
        minutes = (period.end - period.start).days * 1440
        start = datetime.combine(period.start, datetime.min.time())
        count = poisson(self.rng, self.hazard.total * self.scale)
        calls = [start + timedelta(minutes=self.rng.randrange(minutes)) for _ in range(count)]
        for call, resident in self.hazard.draw_on(self.rng, calls):
            outcome = "HT" if self.rng.random() < 0.35 else "STR"  # hear and treat; see and treat
            category = self.rng.choices("234", (30, 50, 20))[0]
            area = self.world.area_of(resident)
            response = None
            if outcome != "HT":
                response = call + timedelta(minutes=self._response(category, area, period))
            incidents.append(
                Incident(resident.nhs_number, area, call, category, outcome, response, None)
            )
        return incidents

    def plan(self, visits_by_month: dict[str, list[Visit]]) -> None:
        """Every incident of the span, filed by the month of the call (a conveyed patient who
        arrived just after midnight on the 1st may have called in the month before)."""
        self.by_month: dict[str, list[Incident]] = defaultdict(list)
        for period in self.world.periods:
            visits = visits_by_month.get(str(period), [])
            incidents = [self._conveyed(v, period) for v in visits if v.by_ambulance]
            incidents.extend(self._not_conveyed(period))
            for incident in incidents:
                self.by_month[str(Period.of(incident.call.date()))].append(incident)

    def write(self, path: Path, period: Period) -> int:
        incidents = sorted(self.by_month.get(str(period), []), key=lambda i: (i.call, i.nhs_number))
        return write_csv(path, COLUMNS, [self._row(i, period) for i in incidents])
