"""The policy decision function, on agreements built in the test (no database)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from workspaces import agreement_spec

from carehub.governance.actors import Actor, Role
from carehub.governance.agreements import AgreementState, Signature, State
from carehub.governance.policy import Decision, Level, Purpose, ReadRequest, decide
from carehub.model.agreements import AgreementSpec

TODAY = date(2026, 6, 1)
RAJ_ANALYST = Actor("rita", "RAJ", Role.ANALYST)
ICB_ANALYST = Actor("ian", "QH8", Role.ANALYST)


def in_force(
    spec: AgreementSpec,
    state: State = State.ACTIVE,
    signed: tuple[str, ...] | None = None,
    today: date = TODAY,
) -> AgreementState:
    parties = spec.parties if signed is None else signed
    signatures = tuple(Signature(org, "S", "admin", datetime(2024, 1, 1)) for org in parties)
    return AgreementState(spec, 1, state, signatures, None, today)


def ask(
    actor: Actor,
    agreements: list[AgreementState],
    *,
    dataset: str = "ed_attendance",
    purpose: Purpose = Purpose.SERVICE_PLANNING,
    level: Level = Level.PSEUDONYMISED,
    fields: tuple[str, ...] | None = None,
) -> Decision:
    return decide(ReadRequest(actor, purpose, dataset, level, fields), agreements)


OWN_ROWS = agreement_spec(
    "ISA-OWN",
    purpose="service_planning",
    providers=["RAJ", "NUC01"],
    recipients=["RAJ", "NUC01"],
    datasets=[{"dataset": "ed_attendance", "rows": "own_organisation"}],
    level="pseudonymised",
)
AGGREGATES = agreement_spec(
    "ISA-AGG",
    purpose="performance_monitoring",
    providers=["RAJ", "NUC01"],
    recipients=["RAJ", "NUC01", "QH8"],
    datasets=[{"dataset": "ed_attendance", "fields": ["site_code", "department_type"]}],
    level="aggregate",
    disclosure={"threshold": 9, "rounding_base": 5},
)
PHM = agreement_spec(
    "ISA-PHM",
    purpose="population_health",
    providers=["QH8", "RAJ"],
    recipients=["QH8"],
    datasets=[{"dataset": "gp_registration"}, {"dataset": "ed_attendance"}],
    level="pseudonymised",
)
DIRECT = agreement_spec(
    "ISA-DC",
    purpose="direct_care",
    providers=["QH8"],
    recipients=["RAJ"],
    datasets=[{"dataset": "gp_registration"}],
    level="identifiable",
)


def test_own_organisation_rows_only() -> None:
    decision = ask(RAJ_ANALYST, [in_force(OWN_ROWS)])
    assert decision and decision.orgs == {"RAJ"} and decision.agreements == ("ISA-OWN",)
    assert "person_id" in decision.fields and "nhs_number" not in decision.fields
    assert decision.exclude_opt_outs  # service planning is a secondary use


def test_aggregate_agreement_gives_no_rows_but_gives_counts() -> None:
    rows = ask(RAJ_ANALYST, [in_force(AGGREGATES)], purpose=Purpose.PERFORMANCE_MONITORING)
    assert not rows and "aggregate" in rows.reason and rows.agreements == ("ISA-AGG",)
    counts = ask(
        RAJ_ANALYST,
        [in_force(AGGREGATES)],
        purpose=Purpose.PERFORMANCE_MONITORING,
        level=Level.AGGREGATE,
        fields=("site_code",),
    )
    assert counts and counts.orgs == {"RAJ", "NUC01"}
    assert counts.disclosure is not None and counts.disclosure.threshold == 9


def test_fields_outside_the_agreement_are_refused_and_named() -> None:
    decision = ask(
        RAJ_ANALYST,
        [in_force(AGGREGATES)],
        purpose=Purpose.PERFORMANCE_MONITORING,
        level=Level.AGGREGATE,
        fields=("site_code", "age_years"),
    )
    assert not decision and "age_years" in decision.reason and "ISA-AGG" in decision.reason


def test_without_fields_the_read_is_restricted_to_the_agreements_fields() -> None:
    decision = ask(
        ICB_ANALYST,
        [in_force(AGGREGATES)],
        purpose=Purpose.PERFORMANCE_MONITORING,
        level=Level.AGGREGATE,
    )
    assert decision.fields == ("org_code", "period", "site_code", "department_type")


def test_no_agreement_names_what_would_be_needed() -> None:
    decision = ask(RAJ_ANALYST, [in_force(PHM)], purpose=Purpose.POPULATION_HEALTH)
    assert not decision
    assert decision.reason == "no agreement shares ed_attendance with RAJ for population_health"
    assert decision.needed is not None and "RAJ as a recipient" in decision.needed


@pytest.mark.parametrize(
    ("state", "signed", "today", "why"),
    [
        (State.EXPIRED, None, TODAY, "ISA-OWN expired on 2030-01-01"),
        (State.TERMINATED, None, TODAY, "ISA-OWN was terminated"),
        (State.AWAITING_SIGNATURE, ("NUC01",), TODAY, "awaiting the signature of RAJ"),
        (State.ACTIVE, ("NUC01",), TODAY, "RAJ has not yet signed ISA-OWN"),
        (State.ACTIVE, None, date(2023, 12, 31), "comes into force on 2024-01-01"),
    ],
)
def test_an_agreement_not_in_force_gives_nothing_and_says_why(
    state: State, signed: tuple[str, ...] | None, today: date, why: str
) -> None:
    decision = ask(RAJ_ANALYST, [in_force(OWN_ROWS, state, signed, today)])
    assert not decision and why in decision.reason and decision.orgs == frozenset()


def test_access_stops_the_day_after_the_end_date() -> None:
    last_day = in_force(OWN_ROWS, today=date(2030, 1, 1))
    assert ask(RAJ_ANALYST, [last_day])
    # The register works the state out from the date (an active agreement past its end date
    # is expired), and the policy refuses it.
    after = in_force(OWN_ROWS, today=date(2030, 1, 2))
    assert not after.in_force and not ask(RAJ_ANALYST, [after])


def test_roles() -> None:
    submitter = Actor("sub", "RAJ", Role.SUBMITTER)
    viewer = Actor("vic", "RAJ", Role.VIEWER)
    assert not ask(submitter, [in_force(OWN_ROWS)])
    assert not ask(viewer, [in_force(OWN_ROWS)])
    assert "analyst or steward" in ask(viewer, [in_force(OWN_ROWS)]).reason
    assert ask(viewer, [in_force(OWN_ROWS)], level=Level.AGGREGATE)


def test_identifying_fields_leave_only_for_direct_care() -> None:
    pseudonymised = ask(
        ICB_ANALYST, [in_force(PHM)], dataset="gp_registration", purpose=Purpose.POPULATION_HEALTH
    )
    assert pseudonymised and not {"birth_date", "postcode"} & set(pseudonymised.fields)
    asked = ask(
        ICB_ANALYST,
        [in_force(PHM)],
        dataset="gp_registration",
        purpose=Purpose.POPULATION_HEALTH,
        fields=("person_id", "birth_date"),
    )
    assert not asked and "birth_date" in asked.reason
    direct = ask(
        RAJ_ANALYST,
        [in_force(DIRECT)],
        dataset="gp_registration",
        purpose=Purpose.DIRECT_CARE,
        level=Level.IDENTIFIABLE,
    )
    assert direct and {"birth_date", "postcode"} <= set(direct.fields)
    assert not direct.exclude_opt_outs  # opt-outs do not apply to direct care


def test_identifiable_access_is_for_direct_care_only() -> None:
    with pytest.raises(ValueError, match="direct care only"):
        agreement_spec(
            "ISA-BAD",
            purpose="population_health",
            providers=["QH8"],
            recipients=["RAJ"],
            datasets=[{"dataset": "gp_registration"}],
            level="identifiable",
        )


def test_several_agreements_combine_rows_and_take_the_strictest_disclosure_rule() -> None:
    wide = agreement_spec(
        "ISA-WIDE",
        purpose="performance_monitoring",
        providers=["RYC"],
        recipients=["RAJ"],
        datasets=[{"dataset": "ed_attendance", "fields": ["site_code"]}],
        level="pseudonymised",
        disclosure={"threshold": 7, "rounding_base": 10},
    )
    decision = ask(
        RAJ_ANALYST,
        [in_force(AGGREGATES), in_force(wide)],
        purpose=Purpose.PERFORMANCE_MONITORING,
        level=Level.AGGREGATE,
        fields=("site_code",),
    )
    assert decision.orgs == {"RAJ", "NUC01", "RYC"}
    assert decision.disclosure is not None
    # the strictest single rule (a higher threshold wins), never a mix of two rules
    assert (decision.disclosure.threshold, decision.disclosure.rounding_base) == (9, 5)
