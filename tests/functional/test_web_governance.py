"""The governance pages through ASGI on the synthetic ICS: the agreements register and its
lifecycle forms, the public transparency page, the data explorer and its CSV download, and
access (your own, a steward's explanation of anyone's, and requests for access).

The shared demo workspace is only read here, or given new access requests; the lifecycle of an
agreement is driven on a small fresh workspace of its own."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape
from sqlalchemy import select
from workspaces import ADMIN, DEMO_PASSWORD, agreement_spec, make_platform

from carehub.platform import Platform, Role
from carehub.store.tables import AuditEvent
from carehub.web.app import create_app

AGREEMENTS = [f"ISA-MSE-00{n}" for n in range(1, 6)]
UEC_PROVIDERS = {"RAJ", "NUC01", "RYC", "NI111", "R1L"}


@pytest.fixture
def client(demo_platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(demo_platform)) as test_client:
        yield test_client


def token(client: TestClient, path: str = "/sign-in") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"{path} carries a form with a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> None:
    client.cookies.clear()
    data = {"username": username, "password": password, "csrf_token": token(client)}
    assert client.post("/sign-in", data=data, follow_redirects=False).status_code == 303


def post(client: TestClient, path: str, **fields: str) -> Response:
    """A form sent as the browser would, with the session's CSRF token."""
    data = {"csrf_token": token(client, "/sign-out"), **fields}
    return client.post(path, data=data, follow_redirects=False)


def last_seq(platform: Platform) -> int:
    with platform.database.session() as session:
        return session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).first() or 0


def events_after(platform: Platform, seq: int) -> list[AuditEvent]:
    with platform.database.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.seq > seq)))


# --- the agreements register -------------------------------------------------------------------


def test_the_register_needs_sign_in(client: TestClient) -> None:
    response = client.get("/agreements", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
    assert client.get("/agreements.json").status_code == 401
    assert client.get("/data.json").status_code == 401
    assert client.get("/access.json").status_code == 401


def test_the_register_lists_every_agreement_and_filters_by_dataset_and_org(
    client: TestClient,
) -> None:
    sign_in(client, "raj.analyst")
    listed = client.get("/agreements.json").json()["agreements"]
    assert [a["id"] for a in listed] == AGREEMENTS
    assert {a["state"] for a in listed} == {"active"} and all(a["in_force"] for a in listed)
    page = client.get("/agreements").text
    assert all(f'href="/agreements/{a}"' in page for a in AGREEMENTS)
    assert page.count('data-state="active"') == 5

    def ids(query: str) -> list[str]:
        return [a["id"] for a in client.get(f"/agreements.json?{query}").json()["agreements"]]

    assert ids("dataset=dpp_event") == ["ISA-MSE-005"]
    assert ids("dataset=ed_attendance") == AGREEMENTS[:4]
    assert ids("org=DPP01") == ["ISA-MSE-005"]
    assert ids("org=RAJ") == AGREEMENTS[:4]
    assert ids("dataset=gp_registration&org=RAJ") == ["ISA-MSE-004"]
    filtered = client.get("/agreements?dataset=dpp_event").text
    assert "Agreements that share" in filtered and "ISA-MSE-001" not in filtered
    assert client.get("/agreements.json?dataset=nope").status_code == 404
    assert client.get("/agreements.json?org=NOPE").status_code == 404


def test_an_agreement_page_shows_every_element_of_the_protocol(client: TestClient) -> None:
    sign_in(client, "viewer")
    document = client.get("/agreements/ISA-MSE-002.json").json()
    assert document["purpose"] == "service_planning" and document["level"] == "pseudonymised"
    assert {g["rows"] for g in document["datasets"]} == {"own_organisation"}
    assert set(document["signed_by"]) == UEC_PROVIDERS and document["awaiting"] == []
    assert document["party_names"]["RAJ"] == "Mid and South Essex NHS Foundation Trust"
    page = client.get("/agreements/ISA-MSE-002").text
    for text in (
        document["legal_basis"],
        "Each recipient&#39;s own rows only",
        "Eight years from the end of the reporting period",
        "Test Signatory",
        "Counts of 1 to 7 are hidden",
        "Every party has signed",
        document["review_on"],
        "Emergency department attendances",
    ):
        assert text in page, text
    assert "Manage this agreement" not in page and "csrf_token" not in page.split("<main")[1]
    assert client.get("/agreements/ISA-NOPE-1").status_code == 404


def test_a_steward_is_offered_the_lifecycle_forms(client: TestClient) -> None:
    sign_in(client, "steward")
    page = client.get("/agreements/ISA-MSE-001").text
    assert 'action="/agreements/ISA-MSE-001/review"' in page
    assert 'action="/agreements/ISA-MSE-001/terminate"' in page
    assert 'action="/agreements/ISA-MSE-001/send"' not in page  # it is not a draft
    assert 'action="/agreements/ISA-MSE-001/sign"' not in page  # HUB has signed


def test_forms_without_the_csrf_token_are_refused(
    client: TestClient, demo_platform: Platform
) -> None:
    sign_in(client, "steward")
    forged = {"csrf_token": "forged", "reason": "no"}
    response = client.post("/agreements/ISA-MSE-001/terminate", data=forged)
    assert response.status_code == 403 and "did not come from carehub" in response.text
    assert demo_platform.agreement("ISA-MSE-001").state == "active"
    request = {
        "csrf_token": "forged",
        "dataset": "dpp_event",
        "provider": "DPP01",
        "purpose": "performance_monitoring",
        "level": "aggregate",
        "justification": "A forged request must not be recorded.",
    }
    before = len(demo_platform.access_requests(ADMIN))
    assert client.post("/access/requests/new", data=request).status_code == 403
    assert client.post("/access/requests/1/refuse", data=forged).status_code == 403
    assert client.post("/access/requests/new", data={}).status_code == 422  # no token at all
    assert len(demo_platform.access_requests(ADMIN)) == before


# --- transparency ----------------------------------------------------------------------------


def test_the_transparency_page_is_public_and_counts_uses(
    client: TestClient, demo_platform: Platform
) -> None:
    before = client.get("/transparency.json").json()
    assert [a["id"] for a in before["agreements"]] == AGREEMENTS
    isa1 = before["agreements"][0]
    assert "Mid and South Essex NHS Foundation Trust" in {p["name"] for p in isa1["providers"]}
    assert isa1["purpose_in_words"] and isa1["legal_basis"].startswith("UK GDPR")
    assert {d["name"] for d in isa1["datasets"]} >= {"ed_attendance", "social_care"}
    page = client.get("/transparency")
    assert page.status_code == 200 and "Sign out" not in page.text
    for a in before["agreements"]:
        assert f'id="{a["id"]}"' in page.text and str(escape(a["title"])) in page.text
    assert "national data opt-out" in page.text and "Essex County Council" in page.text
    assert 'href="/transparency"' in client.get("/sign-in").text  # header, footer and the form

    sign_in(client, "raj.analyst")
    assert client.get("/data/ed_attendance.json?purpose=performance_monitoring").status_code == 200
    client.cookies.clear()
    after = client.get("/transparency.json").json()["agreements"][0]
    uses = {m["month"]: m["uses"] for m in after["uses_by_month"]}
    old = {m["month"]: m["uses"] for m in isa1["uses_by_month"]}
    changed = {month: n - old.get(month, 0) for month, n in uses.items() if n != old.get(month)}
    assert list(changed.values()) == [1] and after["total_uses"] == isa1["total_uses"] + 1
    assert sum(uses.values()) == after["total_uses"]


# --- the data explorer -------------------------------------------------------------------------


def test_raj_sees_its_own_rows_for_service_planning(client: TestClient) -> None:
    sign_in(client, "raj.analyst")
    document = client.get("/data/ed_attendance.json?purpose=service_planning").json()
    rows = document["rows"]
    assert rows["agreements"] == ["ISA-MSE-002"] and rows["organisations"] == ["RAJ"]
    assert len(rows["rows"]) == 50 and rows["more"] is True
    org = rows["columns"].index("org_code")
    assert {row[org] for row in rows["rows"]} == {"RAJ"}
    assert "person_id" in rows["columns"] and "nhs_number" not in rows["columns"]
    assert document["counts"]["rows"] == ["RAJ"] and document["refusal"] is None
    page = client.get("/data/ed_attendance?purpose=service_planning").text
    assert 'href="/data/ed_attendance/export.csv?purpose=service_planning"' in page
    assert page.count('<td class="nhsuk-table__cell">RAJ</td>') == 50


def test_raj_sees_counts_of_every_uec_provider_for_performance_monitoring(
    client: TestClient,
) -> None:
    sign_in(client, "raj.analyst")
    document = client.get("/data/ed_attendance.json?purpose=performance_monitoring").json()
    assert document["rows"] is None  # aggregate only
    counts = document["counts"]
    assert {"NUC01", "RAJ"} <= set(counts["rows"]) <= UEC_PROVIDERS
    assert counts["agreements"] == ["ISA-MSE-001"] and counts["by"] == ["org_code", "period"]
    assert len(counts["columns"]) == 24
    released = [v for line in counts["cells"] for v in line if v is not None]
    assert released and all(v % 5 == 0 for v in released)
    assert counts["disclosure"] == {"threshold": 7, "rounding_base": 5}
    assert counts["grid"][0] == ["", *counts["columns"], "Total"]
    page = client.get("/data/ed_attendance?purpose=performance_monitoring").text
    assert "Counts by month and organisation" in page and "hidden and shown as *" in page
    assert "NUC01" in page and "Download every row" not in page


def test_a_refused_read_says_why_and_which_agreement_is_needed(
    client: TestClient, demo_platform: Platform
) -> None:
    sign_in(client, "raj.analyst")
    seq = last_seq(demo_platform)
    response = client.get("/data/dpp_event.json?purpose=performance_monitoring")
    assert response.status_code == 403
    refusal = response.json()["refusal"]
    assert refusal["reason"] == "no agreement shares dpp_event with RAJ for performance_monitoring"
    assert "no agreement shares dpp_event with RAJ" in refusal["message"]
    assert "an agreement with RAJ as a recipient, covering dpp_event" in refusal["needed"]
    assert response.json()["rows"] is None and response.json()["counts"] is None
    denied = [(e.action, e.target) for e in events_after(demo_platform, seq)]
    assert denied == [("read.denied", "standard/dpp_event")]
    page = client.get("/data/dpp_event?purpose=performance_monitoring")
    assert page.status_code == 403 and "Traceback" not in page.text
    assert "No agreement shares dpp_event with RAJ for performance_monitoring" in page.text
    assert "/access/requests/new?dataset=dpp_event&amp;purpose=performance_monitoring" in page.text
    export = client.get("/data/ed_attendance/export.csv?purpose=performance_monitoring")
    assert export.status_code == 403 and "pseudonymised access is not agreed" in export.text


def test_the_csv_download_has_every_row_and_is_audited(
    client: TestClient, demo_platform: Platform
) -> None:
    sign_in(client, "raj.analyst")
    seq = last_seq(demo_platform)
    response = client.get("/data/ed_attendance/export.csv?purpose=service_planning")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="ed_attendance-service_planning.csv"'
    )
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    preview = client.get("/data/ed_attendance.json?purpose=service_planning").json()["rows"]
    assert header == preview["columns"] and len(rows) > 1000
    assert {row[header.index("org_code")] for row in rows} == {"RAJ"}
    exports = [e for e in events_after(demo_platform, seq) if e.action == "export"]
    assert len(exports) == 1 and json.loads(exports[0].detail)["rows"] == len(rows)
    assert client.get("/data/ed_attendance/export.csv").status_code == 400  # no purpose


def test_the_data_list_shows_the_access_level_per_dataset(client: TestClient) -> None:
    sign_in(client, "raj.analyst")
    datasets = {d["name"]: d for d in client.get("/data.json").json()["datasets"]}
    ed = {
        (a["purpose"], a["level"], tuple(a["agreements"]))
        for a in datasets["ed_attendance"]["access"]
    }
    assert ed == {
        ("performance_monitoring", "aggregate", ("ISA-MSE-001",)),
        ("service_planning", "pseudonymised", ("ISA-MSE-002",)),
    }
    assert datasets["dpp_event"]["access"] == []
    page = client.get("/data").text
    assert "/access/requests/new?dataset=dpp_event" in page and "Service planning" in page
    assert client.get("/data/nope.json").status_code == 404
    assert client.get("/data/ed_attendance.json?purpose=fun").status_code == 400


def test_a_submitter_cannot_use_the_explorer(client: TestClient) -> None:
    sign_in(client, "raj.submitter")
    for path in (
        "/data",
        "/data.json",
        "/data/ed_attendance.json?purpose=service_planning",
        "/data/ed_attendance/export.csv?purpose=service_planning",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "submitters send data" in response.text, path


# --- access ------------------------------------------------------------------------------------


def test_your_access_lists_only_what_you_may_read(client: TestClient) -> None:
    sign_in(client, "raj.analyst")
    document = client.get("/access.json").json()
    lines = [line for group in document["datasets"] for line in group["lines"]]
    assert lines and all(line["allowed"] for line in lines)
    ed = {(x["purpose"], x["level"]) for x in lines if x["dataset"] == "ed_attendance"}
    assert ed == {
        ("performance_monitoring", "aggregate"),
        ("service_planning", "aggregate"),
        ("service_planning", "pseudonymised"),
    }
    assert not any(x["dataset"] == "dpp_event" for x in lines)
    assert "See why a person may or may not read data" not in client.get("/access").text
    refused = client.get("/access.json?user=analyst")
    assert refused.status_code == 403 and "another person" in refused.json()["message"]


def test_a_steward_sees_why_raj_may_not_read(client: TestClient) -> None:
    sign_in(client, "steward")
    document = client.get("/access.json?user=raj.analyst&dataset=dpp_event").json()
    assert document["username"] == "raj.analyst" and document["explaining"] is True
    lines = document["datasets"][0]["lines"]
    assert len(lines) == 15 and not any(line["allowed"] for line in lines)
    monitoring = [x for x in lines if x["purpose"] == "performance_monitoring"]
    assert {x["reason"] for x in monitoring} == {
        "no agreement shares dpp_event with RAJ for performance_monitoring"
    }
    ed = client.get("/access.json?user=raj.analyst&dataset=ed_attendance").json()
    reasons = {(x["purpose"], x["level"]): x["reason"] for x in ed["datasets"][0]["lines"]}
    assert reasons[("performance_monitoring", "pseudonymised")] == (
        "pseudonymised access is not agreed: ISA-MSE-001 allows aggregate"
    )
    page = client.get("/access?user=raj.analyst&dataset=dpp_event").text
    assert "Access of raj.analyst" in page and page.count('data-allowed="false"') == 15
    assert "No agreement shares dpp_event with RAJ for performance_monitoring." in page
    account = page.split('aria-label="Account"')[1].split("</nav>")[0]
    assert "steward" in account and "raj.analyst" not in account  # who is signed in


def test_an_access_request_is_refused_with_a_reason_the_requester_sees(
    client: TestClient,
) -> None:
    sign_in(client, "raj.analyst")
    form = client.get("/access/requests/new?dataset=dpp_event&purpose=performance_monitoring")
    assert re.search(r'<option value="dpp_event" selected\s*>', form.text)
    fields = {
        "dataset": "dpp_event",
        "provider": "DPP01",
        "purpose": "performance_monitoring",
        "level": "aggregate",
    }
    short = post(client, "/access/requests/new", **fields, justification="because")
    assert short.status_code == 400 and "There is a problem" in short.text
    why = "Compare diabetes prevention uptake with our ED attendances."
    sent = post(client, "/access/requests/new", **fields, justification=why)
    assert sent.status_code == 303
    url = sent.headers["location"].split("?")[0]
    request_id = int(url.rsplit("/", 1)[1])
    mine = client.get("/access.json").json()["requests"]["mine"]
    assert (mine[0]["id"], mine[0]["state"]) == (request_id, "requested")

    sign_in(client, "steward")
    waiting = client.get("/access.json").json()["requests"]["to_decide"]
    assert request_id in {r["id"] for r in waiting}
    page = client.get(url).text
    assert f'action="/access/requests/{request_id}/refuse"' in page and why in page
    assert re.search(r'<option value="ISA-MSE-005"\s*>', page)  # it shares DPP01's data
    empty = post(client, f"{url}/refuse", note="")
    assert empty.status_code == 400 and "give the reason" in empty.text
    reason = "The ICB monitors the programme; ask the ICB analysts for the published figures."
    assert post(client, f"{url}/refuse", note=reason).status_code == 303
    again = post(client, f"{url}/refuse", note=reason)
    assert again.status_code == 409

    sign_in(client, "raj.analyst")
    decided = client.get(f"{url}.json").json()
    assert (decided["state"], decided["decided_by"]) == ("refused", "steward")
    assert decided["decision_note"] == reason
    assert reason in client.get("/access").text
    assert f'action="{url}/refuse"' not in client.get(url).text  # nothing to decide here


# --- the lifecycle of an agreement, on a workspace of its own ----------------------------------

PASSWORD = "lifecycle-password"


@pytest.fixture
def lifecycle(tmp_path: Path) -> Iterator[tuple[TestClient, Platform]]:
    hub = make_platform(tmp_path / "home")
    for username, org, role in (
        ("hub.steward", "HUB", Role.STEWARD),
        ("raj.steward", "RAJ", Role.STEWARD),
        ("hub.viewer", "HUB", Role.VIEWER),
    ):
        hub.add_user(ADMIN, username, PASSWORD, org, role)
    spec = agreement_spec(
        "ISA-WEB-1",
        purpose="performance_monitoring",
        providers=["RAJ"],
        recipients=["HUB"],
        datasets=[{"dataset": "ed_attendance"}],
        level="aggregate",
        ends_on=(date.today() + timedelta(days=3650)).isoformat(),
    )
    hub.register.add(ADMIN, spec)
    with TestClient(create_app(hub)) as test_client:
        yield test_client, hub


def test_stewards_take_an_agreement_through_its_lifecycle(
    lifecycle: tuple[TestClient, Platform],
) -> None:
    client, hub = lifecycle
    url = "/agreements/ISA-WEB-1"
    sign_in(client, "hub.viewer", PASSWORD)
    assert "Manage this agreement" not in client.get(url).text
    refused = post(client, f"{url}/send")
    assert refused.status_code == 403 and "may not send" in refused.text

    sign_in(client, "hub.steward", PASSWORD)
    sent = post(client, f"{url}/send")
    assert sent.headers["location"] == f"{url}?done=sent"
    assert hub.agreement("ISA-WEB-1").state == "awaiting_signature"
    assert "sent to its parties for signature" in client.get(f"{url}?done=sent").text
    unsigned = post(client, f"{url}/sign", signatory=" ")
    assert unsigned.status_code == 400 and "signatory" in unsigned.text
    assert post(client, f"{url}/sign", signatory="HUB SIRO").status_code == 303
    assert hub.agreement("ISA-WEB-1").awaiting == ("RAJ",)
    assert f'action="{url}/sign"' not in client.get(url).text  # HUB has signed

    sign_in(client, "raj.steward", PASSWORD)
    assert post(client, f"{url}/sign", signatory="RAJ Caldicott Guardian").status_code == 303
    assert hub.agreement("ISA-WEB-1").state == "active"
    again = post(client, f"{url}/sign", signatory="RAJ Caldicott Guardian")
    assert again.status_code == 409 and "already signed" in again.text
    assert post(client, f"{url}/review").status_code == 303
    assert hub.agreement("ISA-WEB-1").state == "under_review"
    bad = post(client, f"{url}/review/complete", day="31", month="2", year="2027")
    assert bad.status_code == 400 and "not a real date" in bad.text
    next_review = date.today() + timedelta(days=200)
    done = post(
        client,
        f"{url}/review/complete",
        day=str(next_review.day),
        month=str(next_review.month),
        year=str(next_review.year),
    )
    assert done.status_code == 303
    reviewed = hub.agreement("ISA-WEB-1")
    assert reviewed.state == "active" and reviewed.spec.review_on == next_review

    no_reason = post(client, f"{url}/terminate", reason="")
    assert no_reason.status_code == 400 and 'href="#reason"' in no_reason.text
    ended = post(client, f"{url}/terminate", reason="The service was decommissioned.")
    assert ended.status_code == 303
    page = client.get(url).text
    assert 'data-state="terminated"' in page and "The service was decommissioned." in page
    assert "Manage this agreement" not in page
    document = client.get(f"{url}.json").json()
    assert document["state"] == "terminated" and document["in_force"] is False


def test_changing_an_id_in_the_url_shows_nothing_of_someone_elses(
    client: TestClient, demo_platform: Platform
) -> None:
    icb = demo_platform.actor("icb.analyst")
    theirs = demo_platform.request_access(
        icb,
        "ed_attendance",
        "RAJ",
        demo_platform.explain_access(icb, "icb.analyst", "ed_attendance")[0].purpose,
        demo_platform.explain_access(icb, "icb.analyst", "ed_attendance")[0].level,
        "Another analyst's request, which RAJ's analyst must not see.",
    )
    sign_in(client, "raj.analyst")
    for path in (f"/access/requests/{theirs.id}", f"/access/requests/{theirs.id}.json"):
        answer = client.get(path)
        assert answer.status_code == 404 and "Another analyst" not in answer.text
    assert "Another analyst" not in client.get("/access.json").text
    # Nor can an analyst act on an agreement, whatever id the form is posted to.
    forged = client.post(
        "/agreements/ISA-MSE-005/terminate",
        data={"csrf_token": token(client, "/sign-out"), "reason": "forged"},
    )
    assert forged.status_code == 403
    assert demo_platform.agreement("ISA-MSE-005").in_force
