"""The synthetic ICS's data sharing agreements, written as the YAML a steward would load.

They make the demo's governance visible: every partner sees the shared urgent care picture only
in aggregate, each provider gets its own rows back pseudonymised, the hub computes the KPIs, the
ICB runs population health, and the Diabetes Prevention Programme providers share with the ICB
alone, so a trust's analyst sees nothing of theirs.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from carehub.model.agreements import AgreementSpec
from carehub.model.periods import Period

HUB = "HUB"  # the hub itself, party to the agreements it runs
UEC_PROVIDERS = ("RAJ", "NUC01", "RYC", "NI111", "R1L")
COUNCILS = ("ESXCC", "SOSCC", "THRKC")
ICB = "QH8"
DPP_PROVIDERS = ("DPP01", "DPP02", "DPP03")
UEC_DATASETS = (
    "ed_attendance",
    "admitted_spell",
    "bed_sitrep",
    "ambulance_incident",
    "nhs111_call",
    "community_beds",
)
_COMMON = {
    "data_quality": "Providers send each month's data within 20 working days of the month's end, "
    "mapped to the common data model; the hub's quality reports are acted on at source.",
    "security": "Held in the hub's UK data centre, encrypted at rest and in transit; NHS numbers "
    "are replaced by a keyed pseudonym before data reaches the shared zone.",
    "retention": "Eight years from the end of the reporting period (NHS Records Management Code "
    "of Practice), then destroyed.",
    "individuals_rights": "Privacy notices of every party describe this sharing; the national "
    "data opt-out is applied to every use beyond individual care.",
    "sanctions": "A breach is reported to the parties' data protection officers within 24 hours "
    "and may suspend the breaching party's access.",
}
SECONDARY_USE_BASIS = "UK GDPR Article 6(1)(e) and Article 9(2)(h); NHS Act 2006 s.14Z61"


def _definitions() -> list[dict[str, Any]]:
    uec = [{"dataset": d} for d in UEC_DATASETS]
    return [
        {
            "id": "ISA-MSE-001",
            "title": "Urgent and emergency care performance across the ICS",
            "purpose": "performance_monitoring",
            "purpose_description": "Monitor urgent and emergency care performance across the "
            "system with shared KPIs, in aggregate, with small numbers suppressed.",
            "providers": [*UEC_PROVIDERS, *COUNCILS],
            "recipients": [ICB, *UEC_PROVIDERS, *COUNCILS, HUB],
            "datasets": [*uec, {"dataset": "social_care"}],
            "level": "aggregate",
        },
        {
            "id": "ISA-MSE-002",
            "title": "Providers' own records returned for service planning",
            "purpose": "service_planning",
            "purpose_description": "Each provider receives its own records back, standardised "
            "and pseudonymised, to plan its services; it sees no other provider's rows.",
            "providers": list(UEC_PROVIDERS),
            "recipients": list(UEC_PROVIDERS),
            "datasets": [{**d, "rows": "own_organisation"} for d in uec],
            "level": "pseudonymised",
        },
        {
            "id": "ISA-MSE-003",
            "title": "KPI computation by the hub",
            "purpose": "kpi_computation",
            "purpose_description": "The hub computes each shared KPI once, from pseudonymised "
            "records, and publishes only aggregates.",
            "providers": list(UEC_PROVIDERS),
            "recipients": [HUB],
            "datasets": uec,
            "level": "pseudonymised",
        },
        {
            "id": "ISA-MSE-004",
            "title": "Population health management",
            "purpose": "population_health",
            "purpose_description": "The ICB links pseudonymised records across organisations to "
            "segment its population, stratify risk and find inequalities.",
            "providers": [ICB, *UEC_PROVIDERS],
            "recipients": [ICB],
            "datasets": [{"dataset": "gp_registration"}, {"dataset": "ltc_register"}, *uec],
            "level": "pseudonymised",
        },
        {
            "id": "ISA-MSE-005",
            "title": "NHS Diabetes Prevention Programme monitoring",
            "purpose": "performance_monitoring",
            "purpose_description": "The ICB monitors referrals, uptake and outcomes of its "
            "Diabetes Prevention Programme providers, in aggregate.",
            "providers": list(DPP_PROVIDERS),
            "recipients": [ICB, HUB],
            "datasets": [{"dataset": "dpp_event"}],
            "level": "aggregate",
        },
    ]


def write_agreements(out: Path, first: Period, last: Period) -> list[str]:
    """Write each agreement to ``OUT/agreements/<id>.yaml``; return the relative paths."""
    starts = first.start
    review = date(last.end.year + 1, 3, 31)  # reviewed each financial year
    ends = date(last.end.year + 4, 3, 31)
    written = []
    for definition in _definitions():
        document = {
            **definition,
            "legal_basis": SECONDARY_USE_BASIS,
            **_COMMON,
            "starts_on": starts.isoformat(),
            "review_on": review.isoformat(),
            "ends_on": ends.isoformat(),
        }
        AgreementSpec.model_validate(document)  # fail here, not in the demo, if it is wrong
        relative = Path("agreements") / f"{definition['id']}.yaml"
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        written.append(relative.as_posix())
    return written
