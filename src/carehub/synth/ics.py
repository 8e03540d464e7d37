"""Generate the synthetic ICS: partner feeds, their feed mappings and a ground-truth manifest.

OUT/feeds/<ODS>/<dataset>/<file>        what each partner would send
OUT/mappings/<ODS>/<dataset>.yaml       how the hub maps each partner's layout
OUT/manifest.json                       organisations, demo users, planted defects and signals
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from carehub.model.periods import Period
from carehub.synth.ed import TRUST_COLUMNS, TRUST_DATE_FORMAT, Defect, EdFeedWriter, Signal, Site
from carehub.synth.people import nhs_numbers

ACUTE_TRUST = ("RAJ", "Mid and South Essex NHS Foundation Trust")  # real ODS code and name
# Site codes are illustrative; the hospitals are the trust's three acute sites.
ACUTE_SITES = (
    Site("RAJ01", "Southend University Hospital", 60, 0.78),
    Site("RAJ02", "Broomfield Hospital", 55, 0.74),
    Site("RAJ12", "Basildon University Hospital", 65, 0.76),
)
DEFECT_RATE = 0.004  # share of rows given one planted defect


@dataclass(frozen=True)
class Feed:
    org_code: str
    dataset: str
    period: str
    path: str  # relative to the output folder


@dataclass
class Manifest:
    seed: int
    first_period: str
    last_period: str
    organisations: list[dict[str, str]] = field(default_factory=list)
    users: list[dict[str, str]] = field(default_factory=list)
    feeds: list[Feed] = field(default_factory=list)
    mappings: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)


def periods_ending(last: Period, months: int) -> list[Period]:
    periods = [last]
    for _ in range(months - 1):
        previous = periods[-1]
        periods.append(Period(previous.year - (previous.month == 1), (previous.month - 2) % 12 + 1))
    return periods[::-1]


def planted_signals(periods: list[Period]) -> tuple[Signal, ...]:
    """One step change (a deterioration) and one improving trend, at fixed points of the span."""
    step_at = periods[len(periods) * 2 // 3]
    trend_at = periods[len(periods) // 3]
    return (
        Signal(site="RAJ12", kind="step", start=str(step_at), size=-0.10),
        Signal(site="RAJ01", kind="trend", start=str(trend_at), size=0.012, months=7),
    )


def _trust_mapping() -> dict[str, object]:
    org = ACUTE_TRUST[0]
    stamp = {"format": TRUST_DATE_FORMAT}
    return {
        "organisation": org,
        "dataset": "ed_attendance",
        "version": 1,
        "description": f"{ACUTE_TRUST[1]}: ECDS extract in the trust's own layout",
        "fields": {
            "attendance_id": "AttendanceRef",
            "nhs_number": "NHSNumber",
            "site_code": "SiteCode",
            "department_type": {
                "column": "DeptType",
                "values": {"1": "01", "2": "02", "3": "03", "4": "04"},
            },
            "arrival_at": {"column": "ArrivalDateTime", **stamp},
            "initial_assessment_at": {"column": "AssessmentDateTime", **stamp},
            "departed_at": {"column": "DepartureDateTime", **stamp},
            "acuity": "Acuity",
            "age_years": "AgeAtArrival",
            "sex": {"column": "Gender", "values": {"M": "1", "F": "2", "U": "X"}},
        },
    }


def generate(
    out: Path, *, seed: int, last: Period, months: int, residents: int = 20_000
) -> Manifest:
    """Write the synthetic ICS to ``out`` and return its manifest (also written as JSON)."""
    rng = random.Random(seed)
    periods = periods_ending(last, months)
    signals = planted_signals(periods)
    manifest = Manifest(seed, str(periods[0]), str(periods[-1]), signals=list(signals))
    manifest.organisations.append(
        {"ods_code": ACUTE_TRUST[0], "name": ACUTE_TRUST[1], "kind": "trust"}
    )
    manifest.users.append(
        {"username": "raj.submitter", "org_code": ACUTE_TRUST[0], "role": "submitter"}
    )
    mapping_path = Path("mappings") / ACUTE_TRUST[0] / "ed_attendance.yaml"
    (out / mapping_path).parent.mkdir(parents=True, exist_ok=True)
    (out / mapping_path).write_text(
        yaml.safe_dump(_trust_mapping(), sort_keys=False), encoding="utf-8"
    )
    manifest.mappings.append(mapping_path.as_posix())
    writer = EdFeedWriter(rng, nhs_numbers(rng, residents), DEFECT_RATE)
    for period in periods:
        relative = (
            Path("feeds") / ACUTE_TRUST[0] / "ed_attendance" / f"{ACUTE_TRUST[0]}_ECDS_{period}.csv"
        )
        manifest.defects.extend(writer.write(out / relative, ACUTE_SITES, period, signals))
        manifest.feeds.append(
            Feed(ACUTE_TRUST[0], "ed_attendance", str(period), relative.as_posix())
        )
    (out / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


__all__ = ["ACUTE_SITES", "TRUST_COLUMNS", "Feed", "Manifest", "generate"]
