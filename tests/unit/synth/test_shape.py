"""The synthetic ICS looks like the real one: checked against ONS, IMD and the manifest."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from carehub.synth.ed import TRUST_DATE_FORMAT
from carehub.synth.footprint import load_footprint
from carehub.synth.ics import ACUTE_SITES, RESIDENTS_TRUTH, Manifest
from carehub.synth.utc import HEADER_ROW

Synth = tuple[Path, Manifest]


@pytest.fixture(scope="module")
def residents(synth_ics: Synth) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(synth_ics[0] / RESIDENTS_TRUTH).to_pylist()
    return rows


@pytest.fixture(scope="module")
def attendances(synth_ics: Synth) -> list[dict[str, str]]:
    folder, manifest = synth_ics
    rows: list[dict[str, str]] = []
    for feed in (f for f in manifest.feeds if f.dataset == "ed_attendance" and f.format == "csv"):
        with (folder / feed.path).open(newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_age_and_sex_follow_the_ons_population(
    residents: list[dict[str, object]], synth_ics: Synth, shared_data: Path
) -> None:
    ons = load_footprint(shared_data).population
    start = datetime.strptime(synth_ics[1].first_period, "%Y-%m").date()
    bands = [(0, 15), (16, 44), (45, 64), (65, 79), (80, 200)]
    counts: Counter[tuple[str, int]] = Counter()
    founders = [p for p in residents if p["arrived_on"] is None]  # there at the start
    for person in founders:
        age = _age(person["birth_date"], start)  # type: ignore[arg-type]
        band = next(i for i, (low, high) in enumerate(bands) if low <= age <= high)
        counts["male" if person["sex"] == "1" else "female", band] += 1
    for sex in ("female", "male"):
        for i, (low, high) in enumerate(bands):
            expected = sum(ons[sex][low : min(high, 90) + 1])
            assert counts[sex, i] / len(founders) == pytest.approx(expected, abs=0.01), (
                sex,
                low,
                high,
            )


def test_more_deprived_areas_have_more_illness_and_more_ed_use(
    residents: list[dict[str, object]], attendances: list[dict[str, str]]
) -> None:
    people: Counter[int] = Counter()
    conditions: Counter[int] = Counter()
    decile_of = {}
    for person in residents:
        decile = int(person["imd_decile"])  # type: ignore[call-overload]
        people[decile] += 1
        conditions[decile] += len(person["conditions"])  # type: ignore[arg-type]
        decile_of[person["nhs_number"]] = decile
    visits: Counter[int] = Counter(
        decile_of[a["NHSNumber"]] for a in attendances if a["NHSNumber"] in decile_of
    )
    most, least = (1, 2, 3), (8, 9, 10)

    def rate(counter: Counter[int], deciles: tuple[int, ...]) -> float:
        return sum(counter[d] for d in deciles) / sum(people[d] for d in deciles)

    assert rate(conditions, most) > 1.3 * rate(conditions, least)
    assert rate(visits, most) > 1.2 * rate(visits, least)


def _when(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TRUST_DATE_FORMAT)
    except ValueError:  # a planted impossible date
        return None


def test_winter_is_busier_than_summer(attendances: list[dict[str, str]]) -> None:
    arrivals = (_when(a["ArrivalDateTime"]) for a in attendances)
    by_month: Counter[int] = Counter(a.month for a in arrivals if a)
    winter = sum(by_month[m] for m in (12, 1, 2)) / 90
    summer = sum(by_month[m] for m in (6, 7, 8)) / 92
    assert winter > 1.05 * summer


def test_four_hour_performance_is_plausible(attendances: list[dict[str, str]]) -> None:
    within: dict[str, list[int]] = defaultdict(list)
    for a in attendances:
        try:
            stay = datetime.strptime(a["DepartureDateTime"], TRUST_DATE_FORMAT) - datetime.strptime(
                a["ArrivalDateTime"], TRUST_DATE_FORMAT
            )
        except ValueError:
            continue
        within[a["SiteCode"]].append(stay.total_seconds() <= 4 * 3600)
    assert set(within) == {s.code for s in ACUTE_SITES}
    for site, flags in within.items():
        assert 0.55 < sum(flags) / len(flags) < 0.92, site  # England's type 1 range in 2024/25


def _data_rows(path: Path, file_format: str) -> int:
    if file_format == "xlsx":
        sheet = load_workbook(path, read_only=True)["Attendances"]
        return sum(1 for _ in sheet.iter_rows(min_row=HEADER_ROW + 1))
    data = path.read_bytes()
    text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8")
    return len(text.splitlines()) - 1  # a truncated file has no final newline


def test_the_manifest_agrees_with_the_files(
    synth_ics: Synth, residents: list[dict[str, object]]
) -> None:
    folder, manifest = synth_ics
    assert manifest.footprint["people"] == len(residents)
    assert manifest.footprint["residents"] == sum(r["arrived_on"] is None for r in residents)
    assert manifest.footprint["opted_out"] == sum(bool(r["opted_out"]) for r in residents)
    assert 0.03 < manifest.footprint["opted_out"] / len(residents) < 0.08
    assert all((folder / f.path).is_file() for f in manifest.feeds)
    assert all((folder / t).is_file() for t in manifest.truth)
    lengths = {Path(f.path).name: _data_rows(folder / f.path, f.format) for f in manifest.feeds}
    for defect in (d for d in manifest.defects if d.row):  # row 0: a whole-file defect
        assert defect.row <= lengths[defect.file], defect
    assert len({(d.file, d.row) for d in manifest.defects}) == len(manifest.defects)
    known = {r["nhs_number"] for r in residents}
    assert len(known) == len(residents)
    assert all(str(n).startswith("999") for n in known)


def test_every_feed_has_its_organisation_and_a_submitter(synth_ics: Synth) -> None:
    manifest = synth_ics[1]
    organisations = {o["ods_code"] for o in manifest.organisations}
    assert {f.org_code for f in manifest.feeds} == organisations
    assert {u["org_code"] for u in manifest.users if u["role"] == "submitter"} == organisations
