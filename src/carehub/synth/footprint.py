"""The real footprint of one ICB, read from ../shared/data: its LSOAs (2021) with their IMD 2025
deciles, live postcodes, and active GP practices. Nothing here is about people."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from carehub.errors import ConfigurationError

DEFAULT_ICB = "QH8"  # NHS Mid and South Essex ICB (ODS code)
ONS_AGE_CAP = 90  # the ONS table's last band is "90+"
EPRACCUR_ICB, EPRACCUR_STATUS, EPRACCUR_SETTING = 3, 12, 25  # 0-based columns of epraccur.csv
GP_PRACTICE_SETTING = "4"  # prescribing setting 4 = GP practice


@dataclass(frozen=True)
class Lsoa:
    code: str  # LSOA 2021
    name: str
    imd_decile: int  # IMD 2025, 1 = most deprived
    postcodes: tuple[str, ...]


@dataclass(frozen=True)
class Practice:
    ods_code: str
    name: str
    postcode: str
    lsoa: str | None  # LSOA 2021 of the surgery, when its postcode is known


@dataclass(frozen=True)
class Footprint:
    icb: str
    icb_name: str
    lsoas: tuple[Lsoa, ...]
    practices: tuple[Practice, ...]
    population: dict[str, tuple[float, ...]]  # sex -> share of each single year of age 0..90+
    death_weeks: tuple[float, ...]  # relative deaths in ISO weeks 1..53 (ONS weekly deaths)
    condition_codes: dict[str, tuple[str, ...]]  # condition -> SNOMED CT codes (OpenCodelists)


def _require(path: Path) -> Path:
    if not path.exists():
        raise ConfigurationError(
            f"reference data file {path} is missing",
            hint="point CAREHUB_SHARED_DATA (or --shared-data) at the shared/data folder",
        )
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with _require(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _icb_lsoas(shared: Path, icb: str) -> tuple[dict[str, str], str]:
    rows = [
        r
        for r in _rows(shared / "geographr_lookups" / "lookup_lsoa21_icb24.csv")
        if r["icb24_code_nhs"] == icb
    ]
    if not rows:
        raise ConfigurationError(
            f"no LSOA belongs to ICB {icb}", hint="give an ICB's 3-character ODS code"
        )
    return {r["lsoa21_code"]: r["lsoa21_name"] for r in rows}, rows[0]["icb24_name"]


def _imd_deciles(shared: Path, codes: set[str]) -> dict[str, int]:
    rows = _rows(shared / "imd" / "imd2025_england_lsoa21.csv")
    return {
        r["lsoa21_code"]: int(float(r["IMD_decile"])) for r in rows if r["lsoa21_code"] in codes
    }


def _postcodes(shared: Path, lsoa21: set[str]) -> dict[str, list[str]]:
    """Live postcodes (no termination date) by LSOA 2021, via the ONS LSOA 2011 -> 2021 lookup."""
    to_2021: dict[str, str] = {}
    for row in _rows(shared / "geographr_lookups" / "lookup_lsoa11_lsoa21_ltla22.csv"):
        if row["lsoa21_code"] in lsoa21:
            to_2021.setdefault(row["lsoa11_code"], row["lsoa21_code"])
    table = pq.read_table(
        _require(shared / "postcode_lsoa" / "pcd_oa_lsoa_msoa_lad_may22_uk.parquet"),
        columns=["pcds", "doterm", "lsoa11cd"],
    )
    live = table.filter(
        pc.and_(
            pc.is_in(table["lsoa11cd"], value_set=pa.array(list(to_2021), type=pa.string())),
            pc.is_null(table["doterm"]),
        )
    )
    found: dict[str, list[str]] = defaultdict(list)
    for postcode, lsoa11 in zip(
        live["pcds"].to_pylist(), live["lsoa11cd"].to_pylist(), strict=True
    ):
        found[to_2021[lsoa11]].append(postcode)
    return found


def _practices(shared: Path, icb: str, postcode_lsoa: dict[str, str]) -> tuple[Practice, ...]:
    with _require(shared / "ods" / "epraccur.csv").open(encoding="utf-8", newline="") as handle:
        rows = [
            r
            for r in csv.reader(handle)
            if r[EPRACCUR_ICB] == icb
            and r[EPRACCUR_STATUS] == "A"
            and r[EPRACCUR_SETTING] == GP_PRACTICE_SETTING
        ]
    practices = (Practice(r[0], r[1].title(), r[9], postcode_lsoa.get(r[9])) for r in rows)
    return tuple(sorted(practices, key=lambda p: p.ods_code))


def _population(shared: Path) -> dict[str, tuple[float, ...]]:
    counts: dict[str, list[float]] = {
        "female": [0.0] * (ONS_AGE_CAP + 1),
        "male": [0.0] * (ONS_AGE_CAP + 1),
    }
    for row in _rows(shared / "nhsrdatasets" / "ons_uk_population_2023.csv"):
        if row["Name"] == "ENGLAND":
            age = ONS_AGE_CAP if row["age"] == "90+" else int(row["age"])
            counts[row["sex"].removesuffix("s")][age] += float(row["count"])
    total = sum(sum(v) for v in counts.values())
    return {sex: tuple(c / total for c in values) for sex, values in counts.items()}


def _death_weeks(shared: Path) -> tuple[float, ...]:
    """The seasonal shape of deaths: mean weekly deaths in England and Wales by week number."""
    totals: dict[int, list[float]] = defaultdict(list)
    for row in _rows(shared / "nhsrdatasets" / "ons_mortality.csv"):
        if (
            row["category_1"] == "Total deaths"
            and row["category_2"] == "all ages"
            and row["counts"]
        ):
            totals[int(row["week_no"])].append(float(row["counts"]))
    means = [sum(totals[w]) / len(totals[w]) if totals.get(w) else 0.0 for w in range(1, 54)]
    average = sum(means[:52]) / 52
    return tuple(m / average for m in means)


CODELISTS = {  # condition -> OpenSAFELY codelist file in ../shared/data/opensafely_codelists
    "hypertension": "winter-pressures-phase-II/nhsd-primary-care-domain-refsets-hyp_cod.csv",
    "diabetes": "winter-pressures-phase-II/nhsd-primary-care-domain-refsets-dm_cod.csv",
    "asthma": "winter-pressures-phase-II/nhsd-primary-care-domain-refsets-ast_cod.csv",
    "copd": "winter-pressures-phase-II/nhsd-primary-care-domain-refsets-copd_cod.csv",
    "chd": "post-covid-vaccinated/user-elsie_horne-ami_snomed.csv",
    "heart_failure": "post-covid-vaccinated/user-elsie_horne-hf_snomed.csv",
    "ckd": "post-covid-vaccinated/user-elsie_horne-ckd_snomed.csv",
    "dementia": "post-covid-vaccinated/user-elsie_horne-dementia_snomed.csv",
}


def _codelists(shared: Path) -> dict[str, tuple[str, ...]]:
    folder = shared / "opensafely_codelists"
    return {
        name: tuple(sorted(r["code"] for r in _rows(folder / file)))
        for name, file in CODELISTS.items()
    }


def load_footprint(shared: Path, icb: str = DEFAULT_ICB) -> Footprint:
    names, icb_name = _icb_lsoas(shared, icb)
    deciles = _imd_deciles(shared, set(names))
    postcodes = _postcodes(shared, set(names))
    lsoas = tuple(
        Lsoa(code, names[code], deciles[code], tuple(sorted(postcodes[code])))
        for code in sorted(names)
        if code in deciles and postcodes.get(code)
    )
    postcode_lsoa = {p: lsoa.code for lsoa in lsoas for p in lsoa.postcodes}
    practices = _practices(shared, icb, postcode_lsoa)
    return Footprint(
        icb,
        icb_name,
        lsoas,
        practices,
        _population(shared),
        _death_weeks(shared),
        _codelists(shared),
    )
