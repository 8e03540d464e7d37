"""The access policy: one decision function for every read.

Until the agreements register arrives, the hub runs under one built-in interim agreement,
`INTERIM_AGREEMENT`, which allows exactly the reads below. Anything else is refused with the reason
and the kind of agreement that would be needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from carehub.governance.actors import Actor, Role


class Level(StrEnum):
    AGGREGATE = "aggregate"  # counts with disclosure control
    PSEUDONYMISED = "pseudonymised"  # row level, person_id instead of NHS number
    IDENTIFIABLE = "identifiable"  # direct care only, under an agreement that allows it


class Purpose(StrEnum):
    KPI_COMPUTATION = "kpi_computation"
    PERFORMANCE_MONITORING = "performance_monitoring"


INTERIM_AGREEMENT = "HUB-INTERIM-001"  # the hub's built-in agreement until the register exists

_ALLOWED: dict[tuple[Purpose, Level], frozenset[Role]] = {
    (Purpose.KPI_COMPUTATION, Level.PSEUDONYMISED): frozenset({Role.SYSTEM}),
    (Purpose.PERFORMANCE_MONITORING, Level.AGGREGATE): frozenset(
        {Role.ADMIN, Role.STEWARD, Role.ANALYST, Role.VIEWER}
    ),
}
INTERIM_DATASETS = frozenset({"ed_attendance"})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    agreement: str | None

    def __bool__(self) -> bool:
        return self.allowed


def decide(actor: Actor, purpose: Purpose, dataset: str, level: Level) -> Decision:
    """May ``actor`` read ``dataset`` at ``level`` for ``purpose``?"""
    if dataset not in INTERIM_DATASETS:
        return Decision(False, f"no agreement covers dataset {dataset}", None)
    roles = _ALLOWED.get((purpose, level))
    if roles is None:
        needed = "a direct care agreement" if level is Level.IDENTIFIABLE else "an agreement"
        return Decision(
            False, f"{needed} allowing {level} access for {purpose} to {dataset} is needed", None
        )
    if actor.role not in roles:
        allowed = ", ".join(sorted(roles))
        return Decision(
            False,
            f"{INTERIM_AGREEMENT} allows {level} access for {purpose} only to: {allowed}",
            INTERIM_AGREEMENT,
        )
    return Decision(True, f"allowed by {INTERIM_AGREEMENT}", INTERIM_AGREEMENT)
