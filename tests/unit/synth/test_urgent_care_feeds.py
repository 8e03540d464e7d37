"""Ambulance, NHS 111 and urgent treatment centre feeds: consistent with ED, with the planted
signals visible in the data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from statistics import mean

import pytest
from openpyxl import load_workbook
from synthfeeds import read_feeds

from carehub.synth.ed import TRUST_DATE_FORMAT
from carehub.synth.ics import Manifest
from carehub.synth.utc import COLUMNS as UTC_COLUMNS
from carehub.synth.utc import HEADER_ROW

Synth = tuple[Path, Manifest]


@pytest.fixture(scope="module")
def incidents(synth_ics: Synth) -> list[dict[str, str]]:
    return read_feeds(synth_ics, "ambulance_incident")


def _signal(synth: Synth, kpi: str, kind: str):  # type: ignore[no-untyped-def]
    return next(s for s in synth[1].signals if s.kpi == kpi and s.kind == kind)


def _minutes(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 60


def test_conveyed_incidents_are_the_ed_arrivals_by_ambulance(
    synth_ics: Synth, incidents: list[dict[str, str]]
) -> None:
    conveyed = {
        (i["DestinationSite"], i["HospitalArrivalDateTime"][:16])
        for i in incidents
        if i["Outcome"] == "STC"
    }
    arrivals = {
        (a["SiteCode"], datetime.strptime(a["ArrivalDateTime"], TRUST_DATE_FORMAT).isoformat()[:16])
        for a in read_feeds(synth_ics, "ed_attendance")
        if a["ArrivalMode"] == "AMB" and a["ArrivalDateTime"][:2] != "31"
    }
    assert len(conveyed) > 1000
    assert len(arrivals - conveyed) < 0.01 * len(arrivals)
    for incident in incidents:
        if incident["ResponseDateTime"]:
            assert _minutes(incident["CallDateTime"], incident["ResponseDateTime"]) >= 0
        if incident["Outcome"] == "STC":
            assert _minutes(incident["ResponseDateTime"], incident["HospitalArrivalDateTime"]) > 0
            assert _minutes(incident["HospitalArrivalDateTime"], incident["HandoverDateTime"]) >= 0


def test_the_planted_c2_and_handover_steps_show(
    synth_ics: Synth, incidents: list[dict[str, str]]
) -> None:
    step = _signal(synth_ics, "ambulance_c2_mean_response", "step")
    c2 = [
        i
        for i in incidents
        if i["Category"] == "2" and i["IncidentArea"] == step.unit and i["ResponseDateTime"]
    ]

    def c2_mean(after: bool) -> float:
        return mean(
            _minutes(i["CallDateTime"], i["ResponseDateTime"])
            for i in c2
            if (i["CallDateTime"][:7] >= step.start) == after
        )

    assert c2_mean(True) > c2_mean(False) + step.size / 2
    handover = _signal(synth_ics, "ambulance_handover_mean", "step")
    at_site = [i for i in incidents if i["DestinationSite"] == handover.unit]

    def handover_mean(after: bool) -> float:
        return mean(
            _minutes(i["HospitalArrivalDateTime"], i["HandoverDateTime"])
            for i in at_site
            if (i["CallDateTime"][:7] >= handover.start) == after
        )

    assert handover_mean(True) > handover_mean(False) + handover.size / 2


def test_nhs111_clinical_input_step_and_first_choice_rules(synth_ics: Synth) -> None:
    calls = read_feeds(synth_ics, "nhs111_call")
    step = _signal(synth_ics, "nhs111_clinical_input", "step")
    area = [c for c in calls if c["CallerArea"] == step.unit]

    def share(after: bool) -> float:
        chosen = [
            c
            for c in area
            if (f"{c['CallDateTime'][6:10]}-{c['CallDateTime'][3:5]}" >= step.start) == after
        ]
        return sum(c["ClinicalInput"] == "Y" for c in chosen) / len(chosen)

    assert share(False) - share(True) > abs(step.size) / 2
    for call in calls:
        offered = call["ServicesOffered"].split("|") if call["ServicesOffered"] else []
        if call["FirstChoiceRejectedReason"]:
            assert call["ServiceTakenUp"] == offered[1]
        elif offered:
            assert call["ServiceTakenUp"] == offered[0]


def test_the_utc_workbook_has_its_own_layout_and_planted_defects(synth_ics: Synth) -> None:
    folder, manifest = synth_ics
    feed = next(f for f in manifest.feeds if f.format == "xlsx")
    workbook = load_workbook(folder / feed.path, read_only=True)
    assert workbook.sheetnames == ["Notes", "Attendances"]
    rows = list(workbook["Attendances"].iter_rows(values_only=True))
    assert tuple(rows[HEADER_ROW - 1]) == UTC_COLUMNS
    data = rows[HEADER_ROW:]
    defects = {d.row: d for d in manifest.defects if d.file == Path(feed.path).name}
    for number, row in enumerate(data, start=1):
        arrival, left = row[2], row[4]
        assert isinstance(arrival, datetime) and isinstance(left, datetime)
        if number in defects and defects[number].kind == "departure_before_arrival":
            assert left < arrival
        else:
            assert left > arrival
