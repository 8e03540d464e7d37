"""What an agreement's state allows, and to whom: worked out from the date and signatures."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from workspaces import agreement_spec

from carehub.governance.actors import Actor, Role
from carehub.governance.agreements import AgreementState, Signature, State

SPEC = agreement_spec(
    "ISA-S",
    purpose="service_planning",
    providers=["RAJ"],
    recipients=["QH8"],
    datasets=[{"dataset": "ed_attendance"}],
    level="aggregate",
    review_on="2026-07-01",
    ends_on="2026-09-15",
)


def state(
    stored: State, signed: tuple[str, ...] = (), today: date = date(2026, 6, 1)
) -> AgreementState:
    signatures = tuple(Signature(o, "S", "admin", datetime(2026, 1, 1)) for o in signed)
    return AgreementState(SPEC, 1, stored, signatures, None, today)


@pytest.mark.parametrize(
    ("stored", "signed", "actor", "expected"),
    [
        (State.DRAFT, (), Actor("s", "RAJ", Role.STEWARD), {"send", "terminate"}),
        (
            State.AWAITING_SIGNATURE,
            ("QH8",),
            Actor("s", "RAJ", Role.STEWARD),
            {"sign", "terminate"},
        ),
        (State.AWAITING_SIGNATURE, ("RAJ",), Actor("s", "RAJ", Role.STEWARD), {"terminate"}),
        (State.ACTIVE, ("RAJ", "QH8"), Actor("s", "QH8", Role.STEWARD), {"review", "terminate"}),
        (
            State.UNDER_REVIEW,
            ("RAJ", "QH8"),
            Actor("a", "HUB", Role.ADMIN),
            {"complete", "terminate"},
        ),
        (State.TERMINATED, ("RAJ", "QH8"), Actor("a", "HUB", Role.ADMIN), set()),
        (State.ACTIVE, ("RAJ", "QH8"), Actor("x", "QH8", Role.ANALYST), set()),
    ],
)
def test_the_steps_offered(
    stored: State, signed: tuple[str, ...], actor: Actor, expected: set[str]
) -> None:
    assert state(stored, signed).actions_for(actor) == expected


def test_warnings_before_a_review_and_an_end() -> None:
    assert state(State.ACTIVE, today=date(2026, 6, 20)).warnings == (
        "review due on 2026-07-01",
        "expires on 2026-09-15",
    )
    assert "review overdue since 2026-07-01" in state(State.ACTIVE, today=date(2026, 7, 2)).warnings
    assert state(State.DRAFT).warnings == ()
