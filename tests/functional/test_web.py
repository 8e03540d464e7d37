"""The web app through ASGI on the synthetic ICS: sign-in, the KPI page, its JSON twin, refusals."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from jinja2 import StrictUndefined, meta, nodes
from sqlalchemy import select
from workspaces import DEMO_PASSWORD as PASSWORD

from carehub.platform import Platform
from carehub.store.tables import AuditEvent
from carehub.web.app import create_app
from carehub.web.rendering import make_environment


@pytest.fixture
def client(demo_platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(demo_platform)) as test_client:
        yield test_client


def csrf(client: TestClient, path: str = "/sign-in") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/metrics"
) -> int:
    data = {
        "username": username,
        "password": password,
        "csrf_token": csrf(client),
        "next": next_path,
    }
    return client.post("/sign-in", data=data, follow_redirects=False).status_code


def test_pages_need_sign_in(client: TestClient) -> None:
    response = client.get("/metrics/ed_four_hours", follow_redirects=False)
    assert (
        response.status_code == 303
        and response.headers["location"] == "/sign-in?next=/metrics/ed_four_hours"
    )
    assert client.get("/metrics/ed_four_hours.json").status_code == 401


def test_the_kpi_page_shows_a_chart_per_site_with_provenance(client: TestClient) -> None:
    assert sign_in(client, "analyst") == 303
    page = client.get("/metrics/ed_four_hours")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 3
    for site in ("RAJ01", "RAJ02", "RAJ12"):
        assert f"Site {site}" in page.text
    assert "Submissions behind this KPI" in page.text and "RAJ_ECDS_2025-06.csv" in page.text
    assert "https://" not in page.text.replace("https://vega.github.io/schema", "")


def test_the_json_twin_has_the_series_spc_and_provenance(
    client: TestClient, demo_platform: Platform
) -> None:
    sign_in(client, "viewer")
    document = client.get("/metrics/ed_four_hours.json").json()
    series = {s["facet"]: s["points"] for s in document["series"]}
    # the trust's three sites and the urgent treatment centre's three (from its workbooks)
    assert set(series) == {"RAJ01", "RAJ02", "RAJ12", "NUC01A", "NUC01B", "NUC01C"}
    assert all(len(points) == 24 for points in series.values())
    point = series["RAJ12"][-1]
    assert {"value", "mean", "upl", "lpl", "point_type", "period_status"} <= set(point)
    assert point["denominator"] % 5 == 0  # released counts are rounded to 5
    assert len(document["provenance"]) == 48
    assert {p["org_code"] for p in document["provenance"]} == {"RAJ", "NUC01"}
    assert {p["period_status"] for p in document["provenance"]} == {"final"}


def _series(document: dict[str, object], facet: str) -> list[dict[str, object]]:
    return next(s["points"] for s in document["series"] if s["facet"] == facet)  # type: ignore[attr-defined, index]


def test_spc_finds_the_planted_step_and_trend(
    client: TestClient, synth_ics: tuple[object, object]
) -> None:
    sign_in(client, "analyst")
    document = client.get("/metrics/ed_four_hours.json").json()
    signals = {s.kind: s for s in synth_ics[1].signals if s.kpi == "ed_four_hours"}  # type: ignore[attr-defined]
    step, trend = signals["step"], signals["trend"]
    after = [p for p in _series(document, step.unit) if p["period"] >= step.start]
    concern = [p for p in after if p["point_type"] == "special_cause_concern"]
    assert len(after) >= 6 and len(concern) >= 0.75 * len(after)
    assert not any(p["point_type"] == "special_cause_improvement" for p in after)
    rising = [p for p in _series(document, trend.unit) if p["period"] >= trend.start][
        : trend.months + 2
    ]
    improving = [p for p in rising if p["point_type"] == "special_cause_improvement"]
    # Winter pressure overlaps the trend, so not every month is flagged; several are flagged as
    # improvement, and once the trend has run its course no month is flagged as concern.
    assert len(improving) >= 3
    ended = [p for p in _series(document, trend.unit) if p["period"] >= trend.start][trend.months :]
    assert ended and not any(p["point_type"] == "special_cause_concern" for p in ended)


def test_a_wrong_password_is_refused_and_audited(
    client: TestClient, demo_platform: Platform
) -> None:
    assert sign_in(client, "analyst", "wrong-password-here") == 401
    with demo_platform.database.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)
        ).all()
    assert actions == ["signin.failed"]


def test_a_submitter_may_not_read_the_kpi(client: TestClient) -> None:
    sign_in(client, "raj.submitter")
    response = client.get("/metrics/ed_four_hours.json")
    assert response.status_code == 403
    assert "provider submitters send data" in response.json()["message"]
    assert client.get("/metrics/ed_four_hours").status_code == 403


def test_every_read_writes_an_audit_event(client: TestClient, demo_platform: Platform) -> None:
    sign_in(client, "analyst")
    with demo_platform.database.session() as session:
        before = session.scalars(
            select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)
        ).one()
    client.get("/metrics/ed_four_hours.json")
    with demo_platform.database.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [(e.actor, e.action, e.target, e.purpose) for e in events] == [
        ("analyst", "read", "metric/ed_four_hours", "performance_monitoring")
    ]


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    response = client.post(
        "/sign-in", data={"username": "analyst", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403


def test_sign_in_never_redirects_off_site(client: TestClient) -> None:
    data = {
        "username": "analyst",
        "password": PASSWORD,
        "csrf_token": csrf(client),
        "next": "//evil.example/x",
    }
    response = client.post("/sign-in", data=data, follow_redirects=False)
    assert response.headers["location"] == "/metrics"


def test_an_unknown_kpi_is_a_404_with_a_hint(client: TestClient) -> None:
    sign_in(client, "analyst")
    response = client.get("/metrics/nope.json")
    assert response.status_code == 404 and "known KPIs" in response.json()["hint"]


def test_sign_out_ends_the_session(client: TestClient) -> None:
    sign_in(client, "analyst")
    token = csrf(client, "/sign-out")
    assert (
        client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/metrics.json").status_code == 401


COMMON = {"request", "user", "csrf_token", "path", "title"}
CONTEXTS = {
    "base.html": set(),
    "sign_in.html": {"next", "failed", "username", "oidc_label"},
    "oidc_error.html": {"message", "hint"},
    "sign_out.html": set(),
    "metrics.html": {"metrics", "actor"},
    "metric.html": {"view", "charts", "labels", "json_url"},
    "error.html": {"error"},
    "submissions.html": {"rows", "tags", "actor"},
    "submission_new.html": {"dataset_items", "org_items", "errors", "error_list", "values"},
    "submission.html": {
        "receipt",
        "job",
        "finished",
        "tag",
        "reasons",
        "percent",
        "json_url",
        "quality_url",
    },
    "submission_quality.html": {"report", "severity_tags", "json_url", "xlsx_url"},
    "_submission_status.html": {"receipt", "job", "finished", "tag", "reasons", "percent"},
    "coverage.html": {"document", "problems", "json_url"},
    "dictionary.html": {"datasets", "field_checks", "rule_reasons", "json_url"},
    "dictionary_dataset.html": {"dataset", "fields", "code_sets", "contents"},
    "agreements.html": {"agreements", "filters", "dataset_items", "org_items", "json_url"},
    "agreement.html": {
        "agreement",
        "datasets",
        "actions",
        "actor",
        "done",
        "json_url",
        "error",
        "error_list",
    },
    "transparency.html": {"today", "today_in_words", "agreements", "opt_out_url", "json_url"},
    "data.html": {"username", "datasets", "json_url"},
    "data_dataset.html": {"document", "purpose_items", "chosen_title", "counts_grid", "json_url"},
    "access.html": {
        "username",
        "explaining",
        "dataset",
        "datasets",
        "requests",
        "actor",
        "steward",
        "dataset_items",
        "json_url",
    },
    "access_request_new.html": {
        "values",
        "errors",
        "error_list",
        "dataset_items",
        "provider_items",
        "purpose_items",
        "level_items",
    },
    "access_request.html": {
        "info",
        "names",
        "deciding",
        "agreement_items",
        "json_url",
        "error",
        "error_list",
        "done",
    },
}


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_our_templates_use_only_names_their_route_provides(template: str) -> None:
    """Our templates are parsed and every free name checked against what the route passes, so
    a typo fails here (the nhsuk macros need ChainableUndefined, which hides it at run time)."""
    environment = make_environment(StrictUndefined)
    source = environment.loader.get_source(environment, template)[0]  # type: ignore[union-attr]
    tree = environment.parse(source)
    imported = {
        n if isinstance(n, str) else n[1] or n[0]
        for i in tree.find_all(nodes.FromImport)
        for n in i.names
    }
    free = meta.find_undeclared_variables(tree) - imported
    assert free <= COMMON | CONTEXTS[template], free - COMMON - CONTEXTS[template]


def test_coverage_page_and_its_json_twin(client: TestClient) -> None:
    sign_in(client, "analyst")
    document = client.get("/coverage.json?as_of=2025-08-01").json()
    late = {
        (f["org_code"], m["period"])
        for f in document["feeds"]
        for m in f["months"]
        if m["state"] == "late"
    }
    assert {org for org, _ in late} == {"NUC01", "DPP03"} and len(late) == 3
    page = client.get("/coverage?as_of=2025-08-01").text
    assert "Months late or missing" in page and "DPP03" in page and "not received" in page
    refused = client.get("/coverage.json?as_of=yesterday")
    assert refused.status_code == 400 and "yyyy-mm-dd" in refused.json()["hint"]
    client.cookies.clear()
    sign_in(client, "raj.submitter")
    own = client.get("/coverage.json?as_of=2025-08-01").json()["feeds"]
    assert own and {f["org_code"] for f in own} == {"RAJ"}  # a sender sees its own feeds
