"""The access policy: one decision function for every read of the lake.

``decide`` is pure: given who asks, for what purpose, which dataset, fields and level, and the
agreements as they stand today, it allows with a restriction (the organisations whose rows, the
fields, the disclosure control, whether opt-outs apply) or refuses with the reason and the
agreement that would be needed. The governed reader applies the restriction inside the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from carehub.governance.actors import Actor, Role
from carehub.governance.agreements import AgreementState, State
from carehub.model.agreements import VERSION_FIELDS, DatasetGrant, DisclosureRule, Level, Purpose
from carehub.model.datasets import get_dataset

__all__ = ["Decision", "Level", "Purpose", "ReadRequest", "decide", "readable_fields"]

ROW_LEVEL_ROLES = frozenset({Role.ANALYST, Role.STEWARD, Role.SYSTEM})
AGGREGATE_ROLES = frozenset({Role.ADMIN, Role.STEWARD, Role.ANALYST, Role.VIEWER, Role.SYSTEM})


@dataclass(frozen=True)
class ReadRequest:
    actor: Actor
    purpose: Purpose
    dataset: str
    level: Level
    fields: tuple[str, ...] | None = None  # None: every field the agreements allow


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    agreements: tuple[str, ...] = ()
    orgs: frozenset[str] = frozenset()  # whose rows may be read
    fields: tuple[str, ...] = ()  # which columns may leave (org_code always may)
    disclosure: DisclosureRule | None = None  # for aggregate outputs
    exclude_opt_outs: bool = True
    needed: str | None = field(default=None)  # the agreement that would allow a refused read

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def agreement(self) -> str | None:
        return ", ".join(self.agreements) or None


def readable_fields(grant: DatasetGrant, level: Level) -> tuple[str, ...]:
    """The grant's fields that may leave at ``level``: identifying ones only for direct care."""
    spec = get_dataset(grant.dataset)
    identifying = {f.name for f in spec.fields if f.identifying}
    names = grant.field_names()
    if level is not Level.IDENTIFIABLE:
        names = tuple(n for n in names if n not in identifying)
    return (*VERSION_FIELDS, *names)


def _deny(request: ReadRequest, reason: str, agreements: Sequence[str] = ()) -> Decision:
    needed = (
        f"an agreement with {request.actor.org_code} as a recipient, covering "
        f"{request.dataset} for {request.purpose} at {request.level} level or above"
    )
    return Decision(False, reason, tuple(agreements), needed=needed)


def _role_refusal(request: ReadRequest) -> str | None:
    role = request.actor.role
    if role is Role.SUBMITTER:
        return (
            "provider submitters send data and see their own submissions; they do not read the lake"
        )
    if request.level is Level.AGGREGATE:
        return None if role in AGGREGATE_ROLES else f"the {role} role reads nothing"
    if role not in ROW_LEVEL_ROLES:
        return f"row-level access needs the analyst or steward role (this user is a {role})"
    return None


def _why_not_binding(candidates: Sequence[AgreementState], org: str) -> str:
    reasons = []
    for a in candidates:
        if a.state is State.EXPIRED:
            reasons.append(f"{a.spec.id} expired on {a.spec.ends_on}")
        elif a.state is State.TERMINATED:
            reasons.append(f"{a.spec.id} was terminated")
        elif a.state in (State.DRAFT, State.AWAITING_SIGNATURE):
            waiting = ", ".join(a.awaiting) or "nobody"
            reasons.append(f"{a.spec.id} is {a.state} (awaiting the signature of {waiting})")
        elif a.today > a.spec.ends_on:
            reasons.append(f"{a.spec.id} ended on {a.spec.ends_on}")
        elif a.today < a.spec.starts_on:
            reasons.append(f"{a.spec.id} comes into force on {a.spec.starts_on}")
        elif org not in a.signed:
            reasons.append(f"{org} has not yet signed {a.spec.id}")
    return "; ".join(reasons)


def decide(request: ReadRequest, agreements: Sequence[AgreementState]) -> Decision:
    """May the request be served, and restricted to what?"""
    refusal = _role_refusal(request)
    if refusal:
        return _deny(request, refusal)
    org, dataset = request.actor.org_code, request.dataset
    candidates = [
        a
        for a in agreements
        if a.spec.purpose is request.purpose
        and a.spec.grant(dataset) is not None
        and org in a.spec.recipients
    ]
    if not candidates:
        return _deny(request, f"no agreement shares {dataset} with {org} for {request.purpose}")
    binding = [a for a in candidates if a.binds(org)]
    if not binding:
        ids = [a.spec.id for a in candidates]
        return _deny(request, "no agreement is in force: " + _why_not_binding(candidates, org), ids)
    high_enough = [a for a in binding if a.spec.level.rank >= request.level.rank]
    if not high_enough:
        levels = ", ".join(f"{a.spec.id} allows {a.spec.level}" for a in binding)
        return _deny(
            request, f"{request.level} access is not agreed: {levels}", [a.spec.id for a in binding]
        )
    return _restrict(request, high_enough)


def _restrict(request: ReadRequest, binding: Sequence[AgreementState]) -> Decision:
    org = request.actor.org_code
    grants = [(a, a.spec.grant(request.dataset)) for a in binding]
    readable = {a.spec.id: readable_fields(g, request.level) for a, g in grants if g}
    if request.fields is not None:
        serving = [a for a in binding if set(request.fields) <= set(readable[a.spec.id])]
        if not serving:
            outside = sorted(set(request.fields) - set().union(*map(set, readable.values())))
            what = (
                f"field(s) {', '.join(outside)} are outside"
                if outside
                else "no single agreement covers all the fields requested in"
            )
            ids = [a.spec.id for a in binding]
            return _deny(request, f"{what} agreement(s) {', '.join(ids)}", ids)
        fields = request.fields
    else:
        serving = list(binding)
        common = set.intersection(*(set(readable[a.spec.id]) for a in serving))
        fields = tuple(n for n in readable[serving[0].spec.id] if n in common)
    orgs: set[str] = set()
    for a in serving:
        grant = a.spec.grant(request.dataset)
        providers = set(a.spec.providers) & a.signed
        if grant is not None and grant.rows == "own_organisation":
            providers &= {org}
        orgs |= providers
    ids = [a.spec.id for a in serving]
    if not orgs:
        return _deny(
            request,
            f"agreement(s) {', '.join(ids)} share only each recipient's own rows of "
            f"{request.dataset}, and {org} provides none",
            ids,
        )
    # The strictest single rule: mixing one agreement's threshold with another's rounding base
    # could make a rule that releases a small count.
    disclosure = max(
        (a.spec.disclosure for a in serving), key=lambda r: (r.threshold, r.rounding_base)
    )
    return Decision(
        True,
        f"allowed by {', '.join(ids)}",
        tuple(ids),
        frozenset(orgs),
        fields,
        disclosure,
        exclude_opt_outs=request.purpose.secondary_use,
    )
