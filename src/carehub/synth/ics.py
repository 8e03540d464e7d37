"""Generate the synthetic ICS: partner feeds, their feed mappings and a ground-truth manifest.

OUT/feeds/<ODS>/<dataset>/<file>        what each partner would send
OUT/mappings/<ODS>/<dataset>.yaml       how the hub maps each partner's layout
OUT/agreements/<id>.yaml                the data sharing agreements between the partners
OUT/truth/residents.parquet             everything about every resident (never a feed)
OUT/manifest.json                       organisations, feeds, planted defects, signals, models
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from carehub.model.periods import Period
from carehub.synth import acute
from carehub.synth.agreements import write_agreements
from carehub.synth.ambulance import AMBULANCE_TRUST, C2_KPI, HANDOVER_KPI, AmbulanceFeed
from carehub.synth.ambulance import feed_mapping as ambulance_mapping
from carehub.synth.capacity import COMMUNITY_TRUST, COUNCILS, CapacityModel
from carehub.synth.capacity import feed_mappings as capacity_mappings
from carehub.synth.delivery import DUE_DAYS, deliver
from carehub.synth.dpp import PROVIDERS, DppModel, provider_parameters
from carehub.synth.dpp import feed_mappings as dpp_mappings
from carehub.synth.ed import TRUST_DATE_FORMAT, EdFeedWriter, EdModel, Site
from carehub.synth.footprint import Footprint, load_footprint
from carehub.synth.lifecycle import Lifecycle, spare_numbers_needed
from carehub.synth.nhs111 import (
    CLINICAL_INPUT_KPI,
    FIRST_CHOICE_KPI,
    NHS111_PROVIDER,
    Nhs111Feed,
)
from carehub.synth.nhs111 import feed_mapping as nhs111_mapping
from carehub.synth.population import RISK_MODEL, PopulationBuilder, Resident
from carehub.synth.primary_care import (
    OPT_OUT_SOURCE,
    PRIMARY_CARE_EXTRACT,
    PrimaryCareFeed,
    snapshot_dates,
    write_opt_outs,
)
from carehub.synth.primary_care import feed_mappings as primary_care_mappings
from carehub.synth.utc import UTC_PROVIDER, UtcFeed
from carehub.synth.utc import feed_mapping as utc_feed_mapping
from carehub.synth.world import Defect, Feed, Signal, World

ACUTE_TRUST = ("RAJ", "Mid and South Essex NHS Foundation Trust")  # real ODS code and name
# Site codes are illustrative; the hospitals are the trust's three acute sites.
ACUTE_SITES = (
    Site(
        "RAJ01",
        "Southend University Hospital",
        ("Southend-on-Sea", "Rochford", "Castle Point"),
        0.78,
    ),
    Site("RAJ02", "Broomfield Hospital", ("Chelmsford", "Braintree", "Maldon"), 0.74),
    Site("RAJ12", "Basildon University Hospital", ("Basildon", "Thurrock", "Brentwood"), 0.76),
)
ICB_POPULATION = 1_200_000  # Mid and South Essex: about 1.2 million residents
# Shares of the ICB's population. "full" is capped at 60% (720,000 residents): the never-issued
# 999 range has only 909,091 valid NHS numbers, synthetic people never leave that range, and
# three years of births and moves in need about 130,000 more.
SCALES = {"small": 0.05, "medium": 0.25, "full": 0.60}
DEFECT_RATE = 0.006  # share of ED rows given one planted defect
RESIDENTS_TRUTH = Path("truth") / "residents.parquet"


@dataclass
class Manifest:
    seed: int
    first_period: str
    last_period: str
    organisations: list[dict[str, str]] = field(default_factory=list)
    users: list[dict[str, str]] = field(default_factory=list)
    feeds: list[Feed] = field(default_factory=list)
    mappings: list[str] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)
    footprint: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    truth: list[str] = field(default_factory=lambda: [RESIDENTS_TRUTH.as_posix()])

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)


def periods_ending(last: Period, months: int) -> list[Period]:
    periods = [last]
    for _ in range(months - 1):
        previous = periods[-1]
        periods.append(Period(previous.year - (previous.month == 1), (previous.month - 2) % 12 + 1))
    return periods[::-1]


def planted_signals(periods: list[Period]) -> tuple[Signal, ...]:
    """For each UEC KPI a step and a trend, in different units, at fixed points of the span."""
    third, half = str(periods[len(periods) // 3]), str(periods[len(periods) // 2])
    two_thirds = str(periods[len(periods) * 2 // 3])
    return (
        Signal("ed_four_hours", "RAJ12", "step", two_thirds, -0.10),
        Signal("ed_four_hours", "RAJ01", "trend", third, 0.012, months=7),
        Signal("bed_occupancy", "RAJ02", "step", half, -0.06),  # 6% of G&A beds close
        Signal("bed_occupancy", "RAJ01", "trend", third, -0.01, months=6),  # beds close one by one
        Signal(C2_KPI, "Thurrock", "step", half, 12.0),  # minutes slower
        Signal(C2_KPI, "Chelmsford", "trend", third, 1.5, months=7),
        Signal(HANDOVER_KPI, "RAJ12", "step", third, 15.0),
        Signal(HANDOVER_KPI, "RAJ02", "trend", half, 2.0, months=7),
        Signal(CLINICAL_INPUT_KPI, "Basildon", "step", half, -0.10),
        Signal(CLINICAL_INPUT_KPI, "Southend-on-Sea", "trend", third, 0.012, months=7),
        Signal(FIRST_CHOICE_KPI, "Braintree", "step", two_thirds, -0.12),
        Signal(FIRST_CHOICE_KPI, "Castle Point", "trend", third, 0.015, months=6),
    )


def _trust_mapping() -> dict[str, object]:
    stamp = {"format": TRUST_DATE_FORMAT}
    return {
        "organisation": ACUTE_TRUST[0],
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
            "arrival_mode": {
                "column": "ArrivalMode",
                "values": {"AMB": "ambulance", "OTH": "other"},
            },
            "arrival_at": {"column": "ArrivalDateTime", **stamp},
            "initial_assessment_at": {"column": "AssessmentDateTime", **stamp},
            "chief_complaint": {
                "column": "ChiefComplaint",
                "values": {
                    "CHEST PAIN": "chest_pain",
                    "SOB": "breathlessness",
                    "ABDO PAIN": "abdominal_pain",
                    "FALL": "fall",
                    "LIMB INJURY": "limb_injury",
                    "HEAD INJURY": "head_injury",
                    "FEVER": "fever",
                    "COLLAPSE": "collapse",
                    "MENTAL HEALTH": "mental_health",
                    "OTHER": "other",
                },
            },
            "decision_to_admit_at": {"column": "DTADateTime", **stamp},
            "departed_at": {"column": "DepartureDateTime", **stamp},
            "acuity": "Acuity",
            "age_years": "AgeAtArrival",
            "sex": {"column": "Gender", "values": {"M": "1", "F": "2", "U": "X"}},
            "discharge_destination": {
                "column": "DischargeDest",
                "values": {
                    "ADM": "admitted",
                    "HOME": "home",
                    "GP": "home_gp_follow_up",
                    "XFER": "transferred",
                    "LWBS": "left_before_treatment",
                    "OTHER": "other",
                },
            },
        },
    }


PARTNERS = (
    (ACUTE_TRUST, "trust"),
    (AMBULANCE_TRUST, "trust"),
    (NHS111_PROVIDER, "private_provider"),
    (UTC_PROVIDER, "private_provider"),
    (PRIMARY_CARE_EXTRACT, "icb"),
    (OPT_OUT_SOURCE, "national"),
    (COMMUNITY_TRUST, "trust"),
    *(((code, name), "council") for code, (name, _) in COUNCILS.items()),
    *(((p.code, p.name), "private_provider") for p in PROVIDERS),
)


def _add_feed(
    world: World, manifest: Manifest, org: str, dataset: str, period: str, name: str
) -> Path:
    relative = _feed_path(org, dataset, name)
    manifest.feeds.append(Feed(org, dataset, period, relative.as_posix()))
    return world.out / relative


def _community_feeds(world: World, manifest: Manifest, admissions: list[acute.Admission]) -> None:
    """Primary care, the opt-out list, community and care-home capacity, social care, the DPP."""
    icb = PRIMARY_CARE_EXTRACT[0]
    primary = PrimaryCareFeed(world)
    for on in snapshot_dates(world):
        month = str(Period.of(on))
        primary.write_registrations(
            _add_feed(world, manifest, icb, "gp_registration", month, f"registrations_{on}.csv"),
            on,
        )
        primary.write_registers(
            _add_feed(world, manifest, icb, "ltc_register", month, f"ltc_registers_{on}.csv"), on
        )
    capacity, dpp = CapacityModel(world, admissions), DppModel(world)
    for period in world.periods:
        name = f"optouts_{period}.csv"
        write_opt_outs(
            world,
            _add_feed(world, manifest, OPT_OUT_SOURCE[0], "national_opt_out", str(period), name),
            period,
        )
        name = f"{COMMUNITY_TRUST[0]}_community_beds_{period}.csv"
        capacity.write_community(
            _add_feed(world, manifest, COMMUNITY_TRUST[0], "community_beds", str(period), name),
            period,
        )
        for council in COUNCILS:
            name = f"{council}_social_care_{period}.csv"
            capacity.write_social_care(
                _add_feed(world, manifest, council, "social_care", str(period), name),
                council,
                period,
            )
        for provider in PROVIDERS:
            name = f"{provider.code}_events_{period}.csv"
            dpp.write(
                _add_feed(world, manifest, provider.code, "dpp_event", str(period), name),
                provider,
                period,
            )


def _write_residents(path: Path, residents: list[Resident]) -> None:
    """Every field of every resident: the ground truth tests compare the hub with."""
    columns = {f.name: [getattr(r, f.name) for r in residents] for f in fields(Resident)}
    columns["conditions"] = [list(r.conditions) for r in residents]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path, compression="zstd")


def _feed_path(org: str, dataset: str, name: str) -> Path:
    return Path("feeds") / org / dataset / name


def _acute_feeds(world: World, manifest: Manifest) -> tuple[EdModel, list[acute.Admission]]:
    org = ACUTE_TRUST[0]
    site_of = {area: site.code for site in ACUTE_SITES for area in site.areas}
    admissions = acute.AdmissionModel(world, site_of).admissions
    ed = EdModel(world, ACUTE_SITES, admissions)
    writer = EdFeedWriter(world, DEFECT_RATE)
    for period in world.periods:
        relative = _feed_path(org, "ed_attendance", f"{org}_ECDS_{period}.csv")
        manifest.defects.extend(
            writer.write(world.out / relative, ed.by_month[str(period)], period)
        )
        manifest.feeds.append(Feed(org, "ed_attendance", str(period), relative.as_posix()))
    spells = acute.month_of_discharge(admissions)
    beds = acute.bed_days(world, admissions, [s.code for s in ACUTE_SITES])
    for period in world.periods:
        relative = _feed_path(org, "admitted_spell", f"{org}_APC_{period}.csv")
        acute.write_spells(world.out / relative, spells.get(str(period), []))
        manifest.feeds.append(Feed(org, "admitted_spell", str(period), relative.as_posix()))
        relative = _feed_path(org, "bed_sitrep", f"{org}_SITREP_{period}.csv")
        acute.write_sitrep(world.out / relative, [d for d in beds if Period.of(d.day) == period])
        manifest.feeds.append(Feed(org, "bed_sitrep", str(period), relative.as_posix()))
    return ed, admissions


def _urgent_care_feeds(world: World, manifest: Manifest, ed: EdModel) -> None:
    ambulance, calls, utc = AmbulanceFeed(world), Nhs111Feed(world), UtcFeed(world)
    ambulance.plan(ed.by_month)
    for period in world.periods:
        relative = _feed_path(
            AMBULANCE_TRUST[0], "ambulance_incident", f"{AMBULANCE_TRUST[0]}_CAD_{period}.csv"
        )
        ambulance.write(world.out / relative, period)
        manifest.feeds.append(
            Feed(AMBULANCE_TRUST[0], "ambulance_incident", str(period), relative.as_posix())
        )
        relative = _feed_path(NHS111_PROVIDER[0], "nhs111_call", f"NHS111_calls_{period}.csv")
        calls.write(world.out / relative, period)
        manifest.feeds.append(
            Feed(NHS111_PROVIDER[0], "nhs111_call", str(period), relative.as_posix())
        )
        relative = _feed_path(UTC_PROVIDER[0], "ed_attendance", f"UTC attendances {period}.xlsx")
        manifest.defects.extend(utc.write(world.out / relative, period))
        manifest.feeds.append(
            Feed(UTC_PROVIDER[0], "ed_attendance", str(period), relative.as_posix(), "xlsx")
        )


def _population_summary(
    footprint: Footprint, founders: list[Resident], people: list[Resident]
) -> dict[str, Any]:
    return {
        "icb": footprint.icb,
        "name": footprint.icb_name,
        "lsoas": len(footprint.lsoas),
        "practices": len(footprint.practices),
        "residents": len(founders),  # at the start of the first period
        "born": sum(p.arrived_on is not None and p.birth_date == p.arrived_on for p in people),
        "moved_in": sum(p.arrived_on is not None and p.birth_date != p.arrived_on for p in people),
        "died": sum(p.left_reason == "died" for p in people),
        "moved_away": sum(p.left_reason == "moved" for p in people),
        "people": len(people),  # everyone who lived in the area at some time in the span
        "opted_out": sum(p.opted_out for p in people),
    }


def _add_partners(manifest: Manifest) -> None:
    for (code, name), kind in PARTNERS:
        manifest.organisations.append({"ods_code": code, "name": name, "kind": kind})
        username = f"{code.lower()}.submitter"
        manifest.users.append({"username": username, "org_code": code, "role": "submitter"})


def generate(
    out: Path,
    *,
    seed: int,
    last: Period,
    months: int,
    shared_data: Path,
    residents: int = int(ICB_POPULATION * SCALES["small"]),
) -> Manifest:
    """Write the synthetic ICS to ``out`` and return its manifest (also written as JSON)."""
    footprint = load_footprint(shared_data)
    periods = periods_ending(last, months)
    signals = planted_signals(periods)
    # Ages follow the ONS structure at the start, so nobody attends before being born.
    builder = PopulationBuilder(World.stream_for(seed, "population"), footprint, periods[0].start)
    start, end = periods[0].start, periods[-1].end
    spare = spare_numbers_needed(residents, (end - start).days / 365.25)
    founders = builder.build(residents, spare)
    people = Lifecycle(World.stream_for(seed, "lifecycle"), builder, start, end).apply(founders)
    world = World(seed, out, periods, footprint, people, signals)
    manifest = Manifest(seed, str(periods[0]), str(periods[-1]), signals=list(signals))
    manifest.footprint = _population_summary(footprint, founders, people)
    manifest.models = {"emergency_admission_risk": dict(RISK_MODEL)}
    _add_partners(manifest)
    _write_residents(out / RESIDENTS_TRUTH, people)
    mappings = [
        _trust_mapping(),
        utc_feed_mapping(),
        acute.spell_mapping(ACUTE_TRUST[0]),
        acute.sitrep_mapping(ACUTE_TRUST[0]),
        ambulance_mapping(),
        nhs111_mapping(),
        *primary_care_mappings(),
        *capacity_mappings(),
        *dpp_mappings(),
    ]
    ed, admissions = _acute_feeds(world, manifest)
    _urgent_care_feeds(world, manifest, ed)
    _community_feeds(world, manifest, admissions)
    manifest.models["dpp_providers"] = provider_parameters()
    _write_mappings(out, manifest, mappings)
    manifest.agreements = write_agreements(out, world.periods[0], world.periods[-1])
    manifest.feeds, delivered = deliver(world.stream("delivery"), out, manifest.feeds)
    manifest.defects.extend(delivered)
    (out / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _schedule(periods: list[str]) -> dict[str, object]:
    """The regular cadence the feed settles into (the annual registration snapshots also send a
    baseline at the start of the span, which is welcome but was not scheduled)."""
    months = [Period.parse(p).year * 12 + Period.parse(p).month for p in periods]
    every = months[-1] - months[-2] if len(months) > 1 else 1
    first = len(months) - 1
    while first > 0 and months[first] - months[first - 1] == every:
        first -= 1
    return {
        "first_period": periods[first],
        "last_period": periods[-1],
        "due_days": DUE_DAYS,
        "every_months": every,
    }


def _write_mappings(out: Path, manifest: Manifest, mappings: list[dict[str, object]]) -> None:
    """Each partner's feed mapping, with the schedule it agreed: the months of the span it sends
    (every month, or every few for snapshots), each due ``DUE_DAYS`` after the month ends."""
    for mapping in mappings:
        org, dataset = str(mapping["organisation"]), str(mapping["dataset"])
        periods = sorted(
            f.period for f in manifest.feeds if (f.org_code, f.dataset) == (org, dataset)
        )
        if periods:
            mapping = {**mapping, "schedule": _schedule(periods)}
        relative = Path("mappings") / org / f"{dataset}.yaml"
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
        manifest.mappings.append(relative.as_posix())


__all__ = [
    "ACUTE_SITES",
    "ICB_POPULATION",
    "RESIDENTS_TRUTH",
    "SCALES",
    "Feed",
    "Manifest",
    "generate",
]
