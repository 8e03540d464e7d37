"""Governed reads on a real workspace: agreements in the register decide whose rows and which
fields leave, opt-outs are applied inside the engine, and every read is audited with its count."""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from workspaces import ADMIN, ED_HEADER, agreement_spec, make_platform, nhs_numbers, put_in_force

from carehub.errors import PolicyDenied, UserError
from carehub.governance.actors import Actor, Role
from carehub.governance.policy import Level, Purpose
from carehub.platform import Platform
from carehub.store.tables import AuditEvent

RAJ_PEOPLE = 30  # RAJ's attendances: one each
NUC_PEOPLE = 12
OPTED_OUT = 4  # of RAJ's people, on the national data opt-out list


def ed_file(path: Path, site: str, numbers: list[str], month: str = "2025-01") -> Path:
    rows = [
        f"{site}-{n},{nhs},{site},01,{month}-05 10:00:00,{month}-05 13:00:00,3\n"
        for n, nhs in enumerate(numbers)
    ]
    path.write_text(ED_HEADER + "".join(rows))
    return path


RITA = Actor("rita", "RAJ", Role.ANALYST)  # an analyst at the acute trust
NINA = Actor("nina", "NUC01", Role.ANALYST)  # an analyst at the urgent treatment centre
DAN = Actor("dan", "DPP01", Role.ANALYST)  # a partner with no agreement


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    folder = tmp_path_factory.mktemp("governed")
    hub = make_platform(folder / "home")
    for code, kind in (
        ("NUC01", "private_provider"),
        ("X24", "national"),
        ("DPP01", "private_provider"),
    ):
        hub.add_organisation(ADMIN, code, f"Organisation {code}", kind)
    numbers = iter(nhs_numbers())
    raj = [next(numbers) for _ in range(RAJ_PEOPLE)]
    nuc = [next(numbers) for _ in range(NUC_PEOPLE)]
    hub.submit(ADMIN, "RAJ", "ed_attendance", ed_file(folder / "raj.csv", "RAJ01", raj), "2025-01")
    hub.submit(
        ADMIN, "NUC01", "ed_attendance", ed_file(folder / "nuc.csv", "NUC1A", nuc), "2025-01"
    )
    opt_out = folder / "optout.csv"
    opt_out.write_text("nhs_number\n" + "".join(f"{n}\n" for n in raj[:OPTED_OUT]))
    hub.submit(ADMIN, "X24", "national_opt_out", opt_out, "2025-01")
    put_in_force(
        hub,
        agreement_spec(
            "ISA-OWN",
            purpose="service_planning",
            providers=["RAJ", "NUC01"],
            recipients=["RAJ", "NUC01"],
            datasets=[{"dataset": "ed_attendance", "rows": "own_organisation"}],
            level="pseudonymised",
        ),
    )
    put_in_force(
        hub,
        agreement_spec(
            "ISA-AGG",
            purpose="performance_monitoring",
            providers=["RAJ", "NUC01"],
            recipients=["RAJ", "NUC01"],
            datasets=[{"dataset": "ed_attendance", "fields": ["site_code", "department_type"]}],
            level="aggregate",
        ),
    )
    put_in_force(
        hub,
        agreement_spec(
            "ISA-DC",
            purpose="direct_care",
            providers=["RAJ"],
            recipients=["RAJ"],
            datasets=[{"dataset": "ed_attendance", "fields": ["attendance_id", "nhs_number"]}],
            level="identifiable",
        ),
    )
    return hub


def audited_reads(hub: Platform) -> list[AuditEvent]:
    with hub.database.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("read%"))))


def test_own_rows_only_and_opted_out_people_left_out(hub: Platform) -> None:
    result = hub.read_rows(RITA, Purpose.SERVICE_PLANNING, "ed_attendance", limit=1000)
    assert {r["org_code"] for r in result.records()} == {"RAJ"}
    assert len(result.rows) == RAJ_PEOPLE - OPTED_OUT
    assert "nhs_number" not in result.columns and "person_id" in result.columns
    assert all(len(r["person_id"]) == 64 for r in result.records())  # hex of 32 bytes
    nina = hub.read_rows(NINA, Purpose.SERVICE_PLANNING, "ed_attendance", limit=1000)
    assert {r["org_code"] for r in nina.records()} == {"NUC01"} and len(nina.rows) == NUC_PEOPLE


def test_direct_care_includes_opted_out_people_and_only_agreed_fields(hub: Platform) -> None:
    result = hub.read_rows(
        RITA, Purpose.DIRECT_CARE, "ed_attendance", level=Level.IDENTIFIABLE, limit=1000
    )
    assert len(result.rows) == RAJ_PEOPLE  # opt-outs do not apply to individual care
    assert result.columns == ("org_code", "period", "attendance_id", "person_id")


def test_each_read_is_audited_with_its_rows_and_agreement(hub: Platform) -> None:
    before = len(audited_reads(hub))
    hub.read_rows(RITA, Purpose.SERVICE_PLANNING, "ed_attendance", limit=5)
    event = audited_reads(hub)[-1]
    detail = json.loads(event.detail)
    assert len(audited_reads(hub)) == before + 1
    assert (event.actor, event.action, event.purpose) == ("rita", "read", "service_planning")
    assert detail["rows"] == 5 and detail["agreement"] == "ISA-OWN" and detail["orgs"] == ["RAJ"]
    assert detail["opt_out_list"] is not None


def test_fields_outside_the_agreement_are_refused_and_the_refusal_audited(hub: Platform) -> None:
    with pytest.raises(PolicyDenied, match="age_years"):
        hub.read_counts(RITA, Purpose.PERFORMANCE_MONITORING, "ed_attendance", ("age_years",))
    assert audited_reads(hub)[-1].action == "read.denied"


def test_a_partner_without_an_agreement_gets_nothing(hub: Platform) -> None:
    with pytest.raises(PolicyDenied, match="no agreement shares ed_attendance with DPP01"):
        hub.read_counts(DAN, Purpose.PERFORMANCE_MONITORING, "ed_attendance", ("site_code",))


def test_counts_cover_every_provider_after_disclosure_control(hub: Platform) -> None:
    result = hub.read_counts(
        RITA, Purpose.PERFORMANCE_MONITORING, "ed_attendance", ("org_code", "period")
    )
    table = result.table
    assert table.rows == ("NUC01", "RAJ") and table.columns == ("2025-01",)
    # 26 RAJ rows after opt-outs -> 25; NUC01's 12 -> 10; the total 38 -> 40
    assert table.cell("RAJ", "2025-01") == 25 and table.cell("NUC01", "2025-01") == 10
    assert table.grand_total == 40


def test_aggregate_rights_never_give_rows(hub: Platform) -> None:
    with pytest.raises(PolicyDenied, match="aggregate"):
        hub.read_rows(RITA, Purpose.PERFORMANCE_MONITORING, "ed_attendance")


def test_access_stops_at_once_when_an_agreement_expires_or_is_terminated(
    tmp_path: Path,
) -> None:
    hub = make_platform(tmp_path / "home")
    ed_file(tmp_path / "raj.csv", "RAJ01", list(nhs_numbers())[:10])
    hub.submit(ADMIN, "RAJ", "ed_attendance", tmp_path / "raj.csv", "2025-01")
    spec = agreement_spec(
        "ISA-SHORT",
        purpose="service_planning",
        providers=["RAJ"],
        recipients=["RAJ"],
        datasets=[{"dataset": "ed_attendance"}],
        level="pseudonymised",
        review_on="2026-12-01",
        ends_on="2026-12-31",
    )
    put_in_force(hub, spec)
    hub.reader.today = lambda: date(2026, 12, 31)
    assert len(hub.read_rows(RITA, Purpose.SERVICE_PLANNING, "ed_attendance").rows) == 10
    hub.reader.today = lambda: date(2027, 1, 1)
    with pytest.raises(PolicyDenied, match="ISA-SHORT expired on 2026-12-31"):
        hub.read_rows(RITA, Purpose.SERVICE_PLANNING, "ed_attendance")
    hub.reader.today = lambda: date(2026, 12, 1)
    hub.terminate_agreement(ADMIN, "ISA-SHORT", "the service was decommissioned")
    with pytest.raises(PolicyDenied, match="ISA-SHORT was terminated"):
        hub.read_rows(RITA, Purpose.SERVICE_PLANNING, "ed_attendance")


def test_lifecycle_and_signatures(tmp_path: Path) -> None:
    hub = make_platform(tmp_path / "home")
    hub.add_organisation(ADMIN, "QH8", "ICB", "icb")
    spec = agreement_spec(
        "ISA-LIFE",
        purpose="population_health",
        providers=["RAJ"],
        recipients=["QH8"],
        datasets=[{"dataset": "ed_attendance"}],
        level="pseudonymised",
    )
    hub.register.add(ADMIN, spec)
    assert hub.agreement("ISA-LIFE").state == "draft"
    raj_steward = Actor("sam", "RAJ", Role.STEWARD)
    with pytest.raises(UserError, match="not awaiting signatures"):
        hub.sign_agreement(raj_steward, "ISA-LIFE", "RAJ", "Sam")
    hub.send_agreement(ADMIN, "ISA-LIFE")
    with pytest.raises(PolicyDenied, match="may not sign agreement ISA-LIFE for QH8"):
        hub.sign_agreement(raj_steward, "ISA-LIFE", "QH8", "Sam")
    assert hub.sign_agreement(raj_steward, "ISA-LIFE", "RAJ", "Sam") == "awaiting_signature"
    icb_steward = Actor("ivy", "QH8", Role.STEWARD)
    assert hub.sign_agreement(icb_steward, "ISA-LIFE", "QH8", "Ivy") == "active"
    state = hub.agreement("ISA-LIFE")
    assert state.in_force and state.signed == {"RAJ", "QH8"}
    hub.review_agreement(icb_steward, "ISA-LIFE")
    assert hub.agreement("ISA-LIFE").state == "under_review" and hub.agreement("ISA-LIFE").in_force
    hub.complete_review(icb_steward, "ISA-LIFE", date(2028, 3, 31))
    after = hub.agreement("ISA-LIFE")
    assert after.state == "active" and after.spec.review_on == date(2028, 3, 31)
    assert after.signed == {"RAJ", "QH8"}  # a review keeps the signatures
    assert [a.spec.id for a in hub.agreements_for_dataset("ed_attendance")] == ["ISA-LIFE"]
    assert hub.agreements_for_dataset("gp_registration") == []
    assert [a.spec.id for a in hub.agreements_for_org("QH8")] == ["ISA-LIFE"]
    with hub.database.session() as session:
        actions = [
            e.action
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.target == "agreement/ISA-LIFE")
            )
        ]
    assert actions == [
        "agreement.draft",
        "agreement.send",
        "agreement.sign",
        "agreement.sign",
        "agreement.activate",
        "agreement.review",
        "agreement.reviewed",
    ]


def test_an_access_request_approved_by_accession_and_one_refused(tmp_path: Path) -> None:
    hub = make_platform(tmp_path / "home")
    hub.add_organisation(ADMIN, "DPP01", "DPP provider", "private_provider")
    hub.submit(
        ADMIN,
        "RAJ",
        "ed_attendance",
        ed_file(tmp_path / "raj.csv", "RAJ01", list(itertools.islice(nhs_numbers(), 20))),
        "2025-01",
    )
    put_in_force(
        hub,
        agreement_spec(
            "ISA-AGG",
            purpose="performance_monitoring",
            providers=["RAJ"],
            recipients=["RAJ"],
            datasets=[{"dataset": "ed_attendance"}],
            level="aggregate",
        ),
    )
    with pytest.raises(PolicyDenied):
        hub.read_counts(DAN, Purpose.PERFORMANCE_MONITORING, "ed_attendance", ("period",))
    asked = hub.request_access(
        DAN,
        "ed_attendance",
        "RAJ",
        Purpose.PERFORMANCE_MONITORING,
        Level.AGGREGATE,
        "To compare referral sources with ED demand for the programme.",
    )
    raj_steward = Actor("sam", "RAJ", Role.STEWARD)
    nuc_steward = Actor("nat", "NUC01", Role.STEWARD)
    assert [r.id for r in hub.access_requests(raj_steward)] == [asked.id]
    assert hub.access_requests(nuc_steward) == []  # not their data
    with pytest.raises(UserError, match="reason"):
        hub.decide_access_request(
            raj_steward, asked.id, approve=True, note=" ", agreement_id="ISA-AGG"
        )
    decided = hub.decide_access_request(
        raj_steward, asked.id, approve=True, note="Aggregates only.", agreement_id="ISA-AGG"
    )
    assert decided.state == "approved" and decided.agreement_id == "ISA-AGG"
    assert "DPP01" in hub.agreement("ISA-AGG").spec.recipients
    # DPP01 is bound once it signs the agreement it joined; until then, still nothing.
    with pytest.raises(PolicyDenied, match="DPP01 has not yet signed ISA-AGG"):
        hub.read_counts(DAN, Purpose.PERFORMANCE_MONITORING, "ed_attendance", ("period",))
    hub.sign_agreement(Actor("dee", "DPP01", Role.STEWARD), "ISA-AGG", "DPP01", "Dee")
    table = hub.read_counts(DAN, Purpose.PERFORMANCE_MONITORING, "ed_attendance", ("period",)).table
    assert table.grand_total == 20
    # A second request is refused with a reason the requester sees.
    again = hub.request_access(
        DAN,
        "ed_attendance",
        "RAJ",
        Purpose.SERVICE_PLANNING,
        Level.PSEUDONYMISED,
        "Row-level records to follow up individual referrals.",
    )
    hub.decide_access_request(raj_steward, again.id, approve=False, note="Not for this purpose.")
    mine = {r.id: r for r in hub.access_requests(DAN)}
    assert (
        mine[again.id].state == "refused"
        and mine[again.id].decision_note == "Not for this purpose."
    )
    with hub.database.session() as session:
        actions = [
            e.action
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action.like("access.%")))
        ]
    assert actions == ["access.request", "access.approved", "access.request", "access.refused"]


def test_role_changes_are_audited(tmp_path: Path) -> None:
    hub = make_platform(tmp_path / "home")
    hub.add_user(ADMIN, "rita", "a-long-enough-password", "RAJ", Role.VIEWER, "Rita")
    with pytest.raises(PolicyDenied):
        hub.set_role(Actor("sam", "RAJ", Role.STEWARD), "rita", Role.ANALYST)
    hub.set_role(ADMIN, "rita", Role.ANALYST)
    assert hub.actor("rita").role is Role.ANALYST
    with hub.database.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.role")).one()
    assert json.loads(event.detail) == {"from": "viewer", "to": "analyst"}


def test_pages_neither_skip_nor_repeat_rows(hub: Platform) -> None:
    pages = [
        hub.read_rows(RITA, Purpose.SERVICE_PLANNING, "ed_attendance", limit=10, offset=offset)
        for offset in (0, 10, 20)
    ]
    assert [p.more for p in pages] == [True, True, False]
    ids = [r["attendance_id"] for p in pages for r in p.records()]
    assert len(ids) == len(set(ids)) == RAJ_PEOPLE - OPTED_OUT
    everything = hub.read_rows(RITA, Purpose.SERVICE_PLANNING, "ed_attendance", limit=1000)
    assert sorted(ids) == sorted(r["attendance_id"] for r in everything.records())


def test_the_period_is_always_readable_and_counted(hub: Platform) -> None:
    result = hub.read_rows(
        RITA, Purpose.SERVICE_PLANNING, "ed_attendance", fields=("period", "arrival_at"), limit=2
    )
    assert result.columns == ("org_code", "period", "arrival_at")
    table = hub.read_counts(
        RITA, Purpose.PERFORMANCE_MONITORING, "ed_attendance", ("period",)
    ).table
    assert table.rows == ("2025-01",) and table.grand_total == 40
