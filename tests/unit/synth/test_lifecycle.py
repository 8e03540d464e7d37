"""Births, deaths and moves: plausible rates, winter deaths, and no activity outside a life."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from synthfeeds import read_feeds

from carehub.synth.ed import TRUST_DATE_FORMAT
from carehub.synth.ics import RESIDENTS_TRUTH, Manifest

Synth = tuple[Path, Manifest]


@pytest.fixture(scope="module")
def people(synth_ics: Synth) -> dict[str, dict[str, object]]:
    rows = pq.read_table(synth_ics[0] / RESIDENTS_TRUTH).to_pylist()
    return {str(r["nhs_number"]): r for r in rows}


def test_rates_are_plausible(synth_ics: Synth) -> None:
    f = synth_ics[1].footprint
    years = 2.0
    assert (
        6 < f["died"] / f["residents"] / years * 1000 < 16
    )  # deaths per 1,000 a year (England ~10)
    assert 7 < f["born"] / f["residents"] / years * 1000 < 14
    assert 0.02 < f["moved_away"] / f["residents"] / years < 0.07


def test_deaths_peak_in_winter(people: dict[str, dict[str, object]]) -> None:
    deaths = [p["left_on"] for p in people.values() if p["left_reason"] == "died"]
    winter = sum(d.month in (12, 1, 2) for d in deaths)  # type: ignore[union-attr]
    summer = sum(d.month in (6, 7, 8) for d in deaths)  # type: ignore[union-attr]
    assert winter > 1.15 * summer


def test_nobody_attends_ed_outside_their_life_in_the_area(
    synth_ics: Synth, people: dict[str, dict[str, object]]
) -> None:
    checked = 0
    for row in read_feeds(synth_ics, "ed_attendance"):
        person = people.get(row["NHSNumber"])
        try:
            arrival = datetime.strptime(row["ArrivalDateTime"], TRUST_DATE_FORMAT).date()
        except ValueError:
            continue  # a planted impossible date
        if person is None:
            continue  # a planted invalid or placeholder number
        arrived, left = person["arrived_on"], person["left_on"]
        assert arrived is None or arrived <= arrival, row["AttendanceRef"]  # type: ignore[operator]
        assert left is None or arrival <= left, row["AttendanceRef"]  # type: ignore[operator]
        checked += 1
    assert checked > 10_000


def test_deaths_in_hospital_end_the_spell_on_the_day_of_death(
    synth_ics: Synth, people: dict[str, dict[str, object]]
) -> None:
    spells = read_feeds(synth_ics, "admitted_spell")
    died = [s for s in spells if s["DischargeDestination"] == "79"]
    assert died
    for spell in died:
        person = people[spell["NHSNumber"]]
        assert person["left_reason"] == "died"
        assert date.fromisoformat(spell["DischargeDateTime"][:10]) == person["left_on"]
    deaths = sum(p["left_reason"] == "died" for p in people.values())
    assert 0.30 < len({s["NHSNumber"] for s in died}) / deaths < 0.50  # about 45% die in hospital
