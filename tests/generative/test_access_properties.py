"""Properties of the access policy (STYLE.md): no read returns a row or a field the agreements do
not allow. Hypothesis generates users, agreements (in every lifecycle state, signed or not,
current or not) and queries; the first property checks the decision, the second the rows a real
workspace returns."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from workspaces import ADMIN, ED_HEADER, agreement_spec, make_platform, nhs_numbers

from carehub.errors import PolicyDenied
from carehub.governance.actors import Actor, Role
from carehub.governance.agreements import AgreementState, Signature, State
from carehub.governance.policy import Decision, Level, Purpose, ReadRequest, decide, readable_fields
from carehub.model.agreements import AgreementSpec
from carehub.model.datasets import get_dataset
from carehub.platform import Platform

ORGS = ("RAJ", "NUC01", "QH8", "HUB")
DATASETS = ("ed_attendance", "gp_registration")
TODAY = date(2026, 6, 1)


def dataset_fields(dataset: str) -> list[str]:
    return [f.name for f in get_dataset(dataset).fields]


@st.composite
def grants(draw: st.DrawFn, datasets: tuple[str, ...] = DATASETS) -> list[dict[str, object]]:
    chosen = draw(st.lists(st.sampled_from(datasets), min_size=1, max_size=2, unique=True))
    out: list[dict[str, object]] = []
    for dataset in chosen:
        grant: dict[str, object] = {"dataset": dataset}
        if draw(st.booleans()):
            names = dataset_fields(dataset)
            grant["fields"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        grant["rows"] = draw(st.sampled_from(["providers", "own_organisation"]))
        out.append(grant)
    return out


@st.composite
def specs(draw: st.DrawFn, number: int, datasets: tuple[str, ...] = DATASETS) -> AgreementSpec:
    purpose = draw(st.sampled_from(list(Purpose)))
    levels = (
        list(Level) if purpose is Purpose.DIRECT_CARE else [Level.AGGREGATE, Level.PSEUDONYMISED]
    )
    starts = TODAY + timedelta(days=draw(st.integers(-400, 10)))
    ends = starts + timedelta(days=draw(st.integers(1, 800)))
    return agreement_spec(
        f"ISA-P-{number}",
        purpose=purpose,
        providers=draw(st.lists(st.sampled_from(ORGS[:3]), min_size=1, unique=True)),
        recipients=draw(st.lists(st.sampled_from(ORGS), min_size=1, unique=True)),
        datasets=draw(grants(datasets)),
        level=draw(st.sampled_from(levels)),
        starts_on=starts,
        review_on=starts,
        ends_on=ends,
    )


@st.composite
def agreement_states(draw: st.DrawFn) -> list[AgreementState]:
    count = draw(st.integers(0, 4))
    out = []
    for number in range(count):
        spec = draw(specs(number))
        # mostly active and fully signed, so that many decisions allow something
        stored = [s for s in State if s is not State.EXPIRED]
        state = draw(st.sampled_from([State.ACTIVE] * len(stored) + stored))
        if state in (State.ACTIVE, State.UNDER_REVIEW) and spec.ends_on < TODAY:
            state = State.EXPIRED  # as the register works it out
        signed = draw(
            st.just(list(spec.parties)) | st.lists(st.sampled_from(spec.parties), unique=True)
        )
        signatures = tuple(Signature(o, "S", "admin", datetime(2024, 1, 1)) for o in signed)
        out.append(AgreementState(spec, 1, state, signatures, None, TODAY))
    return out


@st.composite
def requests(
    draw: st.DrawFn,
    datasets: tuple[str, ...] = DATASETS,
    levels: tuple[Level, ...] = tuple(Level),
    roles: tuple[Role, ...] = tuple(Role),
) -> ReadRequest:
    dataset = draw(st.sampled_from(datasets))
    actor = Actor("someone", draw(st.sampled_from(ORGS)), draw(st.sampled_from(roles)))
    fields = None
    if draw(st.booleans()):
        names = ["org_code", "person_id", *dataset_fields(dataset)]
        fields = tuple(draw(st.lists(st.sampled_from(names), max_size=4, unique=True)))
    return ReadRequest(
        actor,
        draw(st.sampled_from(list(Purpose))),
        dataset,
        draw(st.sampled_from(levels)),
        fields,
    )


@st.composite
def aimed(
    draw: st.DrawFn, request: ReadRequest, spec: AgreementSpec | None, rows: bool = False
) -> ReadRequest:
    """Most requests aim at an agreement (its purpose, a recipient, a dataset and a level it
    covers), so that allowed reads are common and their restrictions get tested."""
    if spec is None or not draw(st.integers(0, 9)):
        return request
    dataset = draw(st.sampled_from([g.dataset for g in spec.datasets]))
    fields = request.fields
    if fields is not None:
        names = ["org_code", "person_id", *dataset_fields(dataset)]
        fields = tuple(draw(st.lists(st.sampled_from(names), max_size=4, unique=True)))
    levels = [level for level in Level if level.rank <= spec.level.rank]
    if rows:  # a read of rows, not counts: at least pseudonymised, even above the agreement's
        levels = [level for level in levels if level is not Level.AGGREGATE] or [request.level]
    actor = Actor("someone", draw(st.sampled_from(spec.recipients)), request.actor.role)
    return ReadRequest(actor, spec.purpose, dataset, draw(st.sampled_from(levels)), fields)


def allows(agreement: AgreementState, request: ReadRequest, org: str, fields: set[str]) -> bool:
    """Does this one agreement, on its own, allow ``request`` to see ``fields`` of ``org``'s
    rows? Written from the agreement's text, independently of the policy's code."""
    spec, reader = agreement.spec, request.actor.org_code
    grant = spec.grant(request.dataset)
    if grant is None or spec.purpose is not request.purpose:
        return False
    in_force = agreement.state in (State.ACTIVE, State.UNDER_REVIEW)
    in_force = in_force and spec.starts_on <= TODAY <= spec.ends_on
    parties_ok = reader in spec.recipients and reader in agreement.signed
    provider_ok = org in spec.providers and org in agreement.signed
    own_ok = grant.rows == "providers" or org == reader
    level_ok = spec.level.rank >= request.level.rank
    return (
        in_force
        and parties_ok
        and provider_ok
        and own_ok
        and level_ok
        and fields <= set(readable_fields(grant, request.level))
    )


@settings(max_examples=400, deadline=None)
@given(agreements=agreement_states(), request=requests(), data=st.data())
def test_no_decision_allows_a_row_or_field_outside_an_agreement(
    agreements: list[AgreementState], request: ReadRequest, data: st.DataObject
) -> None:
    target = data.draw(st.sampled_from(agreements)) if agreements else None
    request = data.draw(aimed(request, target.spec if target else None))
    decision = decide(request, agreements)
    event("allowed" if decision else "refused")
    if not decision:
        assert decision.orgs == frozenset() and decision.fields == () and decision.reason
        return
    role = request.actor.role
    assert role is not Role.SUBMITTER
    assert request.level is Level.AGGREGATE or role in (Role.ANALYST, Role.STEWARD, Role.SYSTEM)
    fields = set(decision.fields)
    if request.fields is not None:
        assert fields == set(request.fields)
    identifying = {f.name for f in get_dataset(request.dataset).fields if f.identifying}
    assert request.level is Level.IDENTIFIABLE or not fields & identifying
    for org in decision.orgs:
        assert any(allows(a, request, org, fields) for a in agreements), (org, fields)
    assert decision.exclude_opt_outs == (request.purpose is not Purpose.DIRECT_CARE)


# --- the same property, end to end: rows a real workspace returns ------------------------------

PEOPLE = {"RAJ": 9, "NUC01": 6}
OPTED_OUT = 3  # of RAJ's people


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    folder = tmp_path_factory.mktemp("access-properties")
    hub = make_platform(folder / "home")
    for code, kind in (("NUC01", "private_provider"), ("QH8", "icb"), ("X24", "national")):
        hub.add_organisation(ADMIN, code, code, kind)
    numbers = iter(nhs_numbers(999_500_000))
    raj: list[str] = []
    for org, count in PEOPLE.items():
        people = [next(numbers) for _ in range(count)]
        raj = raj or people
        rows = "".join(
            f"{org}-{n},{nhs},{org}S,01,2025-01-05 10:00:00,2025-01-05 13:00:00,3\n"
            for n, nhs in enumerate(people)
        )
        (folder / f"{org}.csv").write_text(ED_HEADER + rows)
        hub.submit(ADMIN, org, "ed_attendance", folder / f"{org}.csv", "2025-01")
    (folder / "optout.csv").write_text("nhs_number\n" + "\n".join(raj[:OPTED_OUT]) + "\n")
    hub.submit(ADMIN, "X24", "national_opt_out", folder / "optout.csv", "2025-01")
    hub.reader.today = lambda: TODAY
    return hub


COUNTER = itertools.count()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    spec=specs(0, ("ed_attendance",)),
    sign=st.sampled_from([True, True, True, False]),
    request=requests(
        ("ed_attendance",), (Level.PSEUDONYMISED, Level.IDENTIFIABLE), (Role.ANALYST, Role.STEWARD)
    ),
    data=st.data(),
)
def test_no_read_returns_a_row_or_field_outside_the_agreements(
    hub: Platform, spec: AgreementSpec, sign: bool, request: ReadRequest, data: st.DataObject
) -> None:
    spec = spec.model_copy(update={"id": f"ISA-E2E-{next(COUNTER)}"})
    if data.draw(st.integers(0, 3)):  # mostly in force today, and for rows
        level = max(spec.level, Level.PSEUDONYMISED, key=lambda level: level.rank)
        spec = spec.model_copy(update={"ends_on": max(spec.ends_on, TODAY), "level": level})
    request = data.draw(aimed(request, spec, rows=True))
    hub.register.add(ADMIN, spec)
    if sign:
        hub.record_paper_signatures(ADMIN, spec.id, "Signatory")
    try:
        decision: Decision = hub.reader.decide(request)
        event("allowed" if decision else "refused")
        try:
            result = hub.read_rows(
                request.actor,
                request.purpose,
                request.dataset,
                level=request.level,
                fields=request.fields,
                limit=100,
            )
        except PolicyDenied:
            assert not decision
            return
        assert decision
        records = result.records()
        assert {r["org_code"] for r in records} <= decision.orgs
        assert set(result.columns) - {"org_code", "period"} <= set(decision.fields)
        state = hub.agreement(spec.id)
        for org in {r["org_code"] for r in records}:
            assert allows(state, request, org, set(decision.fields))
        expected = sum(PEOPLE.get(o, 0) for o in decision.orgs)
        if decision.exclude_opt_outs and "RAJ" in decision.orgs:
            expected -= OPTED_OUT
        assert len(records) == expected
    finally:
        hub.terminate_agreement(ADMIN, spec.id, "end of example")
