"""Primary care, the opt-out list, capacity, social care and the DPP agree with the truth."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from carehub.model.periods import Period
from carehub.synth.dpp import COMPLETION_SESSIONS
from carehub.synth.footprint import load_footprint
from carehub.synth.ics import RESIDENTS_TRUTH, Manifest
from carehub.synth.primary_care import QOF_REGISTERS

Synth = tuple[Path, Manifest]


def _read(synth: Synth, dataset: str, org: str | None = None) -> dict[str, list[dict[str, str]]]:
    folder, manifest = synth
    files: dict[str, list[dict[str, str]]] = {}
    for feed in manifest.feeds:
        if feed.dataset == dataset and (org is None or feed.org_code == org):
            with (folder / feed.path).open(newline="", encoding="utf-8") as handle:
                files[feed.period] = list(csv.DictReader(handle))
    return files


@pytest.fixture(scope="module")
def truth(synth_ics: Synth) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(synth_ics[0] / RESIDENTS_TRUTH).to_pylist()
    return rows


def _present(person: dict[str, object], day: date) -> bool:
    arrived, left = person["arrived_on"], person["left_on"]
    return (arrived is None or arrived <= day) and (left is None or day < left)  # type: ignore[operator]


def test_registrations_are_the_people_living_there_that_day(
    synth_ics: Synth, truth: list[dict[str, object]]
) -> None:
    snapshots = _read(synth_ics, "gp_registration")
    assert len(snapshots) == 3  # the first day, and 1 April of each of the two years
    for period, rows in snapshots.items():
        on = Period.parse(period).start  # snapshots are taken on the first of a month
        expected = {str(p["nhs_number"]) for p in truth if _present(p, on)}
        assert {r["NHSNumber"] for r in rows} == expected


def test_register_codes_come_from_the_condition_codelists(
    synth_ics: Synth, shared_data: Path
) -> None:
    codes = load_footprint(shared_data).condition_codes
    by_register = {register: set(codes[c]) for c, register in QOF_REGISTERS.items()}
    rows = next(iter(_read(synth_ics, "ltc_register").values()))
    counts = Counter(r["Register"] for r in rows)
    assert counts["HYP"] > counts["DM"] > counts["COPD"] > counts["DEM"] > 0
    assert all(r["SnomedCode"] in by_register[r["Register"]] for r in rows)


def test_the_opt_out_list_matches_the_truth(
    synth_ics: Synth, truth: list[dict[str, object]]
) -> None:
    lists = _read(synth_ics, "national_opt_out")
    for period, rows in lists.items():
        last = Period.parse(period).end - timedelta(days=1)
        expected = {
            str(p["nhs_number"])
            for p in truth
            if p["opted_out_on"] is not None and p["opted_out_on"] <= last and _present(p, last)  # type: ignore[operator]
        }
        assert {r["NHSNumber"] for r in rows} == expected
    sizes = [len(rows) for _, rows in sorted(lists.items())]
    assert sizes[-1] > sizes[0]  # opt-outs made during the span add up


def test_the_poor_dpp_provider_is_consistently_poor(synth_ics: Synth) -> None:
    outcome: dict[str, Counter[str]] = defaultdict(Counter)
    missing: dict[str, list[bool]] = defaultdict(list)
    for provider in ("DPP01", "DPP02", "DPP03"):
        for rows in _read(synth_ics, "dpp_event", provider).values():
            for row in rows:
                outcome[provider][row["EventType"]] += 1
                if row["EventType"] in ("INITIAL_ASSESSMENT", "COMPLETION"):
                    missing[provider].append(row["WeightKg"] == "")

    def rate(provider: str, event: str) -> float:
        return outcome[provider][event] / outcome[provider]["REFERRAL"]

    for good in ("DPP01", "DPP02"):
        assert rate("DPP03", "INITIAL_ASSESSMENT") < rate(good, "INITIAL_ASSESSMENT") - 0.1
        assert rate("DPP03", "COMPLETION") < rate(good, "COMPLETION") / 1.5
        assert sum(missing["DPP03"]) / len(missing["DPP03"]) > 3 * sum(missing[good]) / len(
            missing[good]
        )
    assert COMPLETION_SESSIONS == 8


def test_community_beds_and_social_care_returns(synth_ics: Synth) -> None:
    beds = [r for rows in _read(synth_ics, "community_beds").values() for r in rows]
    assert beds and all(int(r["BedsOccupied"]) <= int(r["BedsOpen"]) for r in beds)
    assert sum(int(r["BedsOccupied"]) for r in beds) > 0
    weeks = [r for rows in _read(synth_ics, "social_care", "ESXCC").values() for r in rows]
    assert all(date.fromisoformat(r["WeekEnding"]).weekday() == 6 for r in weeks)
    assert 95 <= len(weeks) <= 106  # two years of weekly returns
    assert all(0 <= int(r["CareHomeVacancies"]) <= int(r["CareHomeBeds"]) for r in weeks)
