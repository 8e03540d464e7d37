"""Sending files over the web: the upload page for provider submitters and the token API, on a
real app whose job worker runs beside its requests."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from workspaces import ADMIN, make_platform

from carehub.governance.actors import Role
from carehub.platform import Platform
from carehub.store.tables import AuditEvent
from carehub.web.app import create_app

PASSWORD = "upload-test-password"
HEADER = (
    "attendance_id,nhs_number,site_code,department_type,arrival_at,"
    "initial_assessment_at,departed_at,acuity,age_years,sex\n"
)
GOOD = HEADER + (
    "A1,9434765919,RAJ01,01,2025-01-03 10:00:00,,2025-01-03 13:00:00,3,45,1\n"
    "A2,9434765918,RAJ01,01,2025-01-03 11:00:00,,2025-01-03 16:00:00,2,30,2\n"
    "A3,9990000018,RAJ01,01,2025-01-04 11:00:00,,2025-01-04 15:00:00,2,30,2\n"
)


@pytest.fixture
def hub(tmp_path: Path) -> Platform:
    hub = make_platform(tmp_path / "home")
    hub.add_organisation(ADMIN, "RYC", "East of England Ambulance Service NHS Trust", "trust")
    for username, org, role in (
        ("raj.submitter", "RAJ", Role.SUBMITTER),
        ("ryc.submitter", "RYC", Role.SUBMITTER),
        ("steward", "HUB", Role.STEWARD),
    ):
        hub.add_user(ADMIN, username, PASSWORD, org, role)
    return hub


@pytest.fixture
def client(hub: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:  # the lifespan starts the job worker
        yield test_client


def csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"{path} has a form with a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str) -> None:
    data = {"username": username, "password": PASSWORD, "csrf_token": csrf(client, "/sign-in")}
    assert client.post("/sign-in", data=data, follow_redirects=False).status_code == 303


def until_finished(client: TestClient, url: str, **kwargs: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        document: dict[str, Any] = client.get(url, **kwargs).json()
        if document["finished"]:
            return document
        time.sleep(0.1)
    raise AssertionError(f"{url} did not finish within a minute")


def upload(client: TestClient, name: str, content: str, **form: str) -> Any:
    token = csrf(client, "/submissions/new")
    return client.post(
        "/submissions/new",
        data={"csrf_token": token, "dataset": "ed_attendance", **form},
        files={"file": (name, content.encode(), "text/csv")},
        follow_redirects=False,
    )


def test_a_submitter_uploads_a_file_and_watches_it_publish(client: TestClient) -> None:
    sign_in(client, "raj.submitter")
    form = client.get("/submissions/new").text
    assert 'enctype="multipart/form-data"' in form and 'name="file"' in form
    assert 'name="org"' not in form  # a submitter sends for their own organisation only
    response = upload(client, "raj-ecds-jan.csv", GOOD)
    assert response.status_code == 303
    page_url = response.headers["location"]
    assert re.fullmatch(r"/submissions/\d+", page_url)
    document = until_finished(client, page_url + ".json")
    assert (document["state"], document["period"]) == ("published", "2025-01")
    assert (document["rows_published"], document["rows_quarantined"]) == (2, 1)
    assert document["job"]["state"] == "done" and document["job"]["progress"] == 1.0
    page = client.get(page_url).text
    assert 'data-state="published"' in page and "raj-ecds-jan.csv" in page
    assert "Modulus 11" in page  # the quarantine reason explained in words
    assert "9434765918" not in page  # never the value itself
    status = client.get(page_url + "/status").text
    assert "hx-trigger" not in status  # finished: the page stops polling
    assert "raj-ecds-jan.csv" in client.get("/submissions").text


def test_the_status_polls_while_a_file_waits(hub: Platform) -> None:
    stopped = Platform(hub.settings.model_copy(update={"web_workers": 0}))
    with TestClient(create_app(stopped)) as client:
        sign_in(client, "raj.submitter")
        page_url = upload(client, "waiting.csv", GOOD).headers["location"]
        status = client.get(page_url + "/status").text
        assert 'hx-trigger="every 1s"' in status and 'data-state="received"' in status
        assert "<progress" in status


def test_a_broken_upload_is_answered_in_words(client: TestClient) -> None:
    sign_in(client, "raj.submitter")
    response = upload(client, "wrong.csv", "call_id,disposition\n1,Dx01\n")
    document = until_finished(client, response.headers["location"] + ".json")
    assert document["state"] == "rejected"
    assert "wrong.csv" in document["error"] and document["hint"]
    page = client.get(response.headers["location"]).text
    assert "The file was not accepted" in page and "What to do" in page


def test_the_upload_form_needs_its_csrf_token_and_a_file(client: TestClient) -> None:
    sign_in(client, "raj.submitter")
    forged = client.post(
        "/submissions/new",
        data={"csrf_token": "forged", "dataset": "ed_attendance"},
        files={"file": ("x.csv", GOOD.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    empty = client.post(
        "/submissions/new",
        data={"csrf_token": csrf(client, "/submissions/new"), "dataset": ""},
        follow_redirects=False,
    )
    assert empty.status_code == 400 and "Choose a file to send" in empty.text
    assert client.get("/submissions.json").json()["submissions"] == []


def test_senders_see_only_their_own_submissions(client: TestClient, hub: Platform) -> None:
    sign_in(client, "raj.submitter")
    url = upload(client, "raj.csv", GOOD).headers["location"]
    until_finished(client, url + ".json")
    client.cookies.clear()
    sign_in(client, "ryc.submitter")
    assert client.get(url + ".json").status_code == 404
    assert client.get(url).status_code == 404
    assert client.get("/submissions.json").json()["submissions"] == []
    forged = upload(client, "raj-again.csv", GOOD, org="RAJ")
    assert forged.status_code == 403  # a submitter cannot send for another organisation
    client.cookies.clear()
    sign_in(client, "steward")
    assert client.get(url + ".json").json()["state"] == "published"


def test_the_api_takes_files_with_a_token(client: TestClient, hub: Platform) -> None:
    secret, token = hub.create_token(ADMIN, "raj.submitter", "nightly ECDS", ["submit"])
    headers = {"Authorization": f"Bearer {secret}"}
    files = {"file": ("raj-jan.csv", GOOD.encode(), "text/csv")}
    sent = client.post(
        "/api/v1/submissions", data={"dataset": "ed_attendance"}, files=files, headers=headers
    )
    assert sent.status_code == 202
    url = sent.headers["location"]
    assert sent.json()["state"] == "received" and sent.json()["links"]["self"] == url
    done = until_finished(client, url, headers=headers)
    assert (done["state"], done["rows_published"]) == ("published", 2)
    again = client.post(
        "/api/v1/submissions", data={"dataset": "ed_attendance"}, files=files, headers=headers
    )
    assert again.status_code == 200 and again.json()["duplicate"]
    listed = client.get("/api/v1/submissions", headers=headers).json()["submissions"]
    assert [s["submission_id"] for s in listed] == [done["submission_id"]]
    assert client.get(f"/api/v1/jobs/{done['job_id']}", headers=headers).json()["job"]["state"] == (
        "done"
    )
    with hub.database.session() as session:
        events = session.scalars(select(AuditEvent)).all()
    assert {"token.create", "submission.received", "submission.published"} <= {
        e.action for e in events
    }
    assert not any(secret in f"{e.target} {e.detail}" for e in events)  # the secret never
    assert token.id and token.scopes == ("submit",)


def test_the_api_refuses_missing_wrong_and_revoked_tokens(
    client: TestClient, hub: Platform
) -> None:
    files = {"file": ("raj.csv", GOOD.encode(), "text/csv")}
    data = {"dataset": "ed_attendance"}
    anonymous = client.post("/api/v1/submissions", data=data, files=files)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in anonymous.json()["hint"]
    forged = {"Authorization": "Bearer chub_not-a-real-token"}
    assert client.post(
        "/api/v1/submissions", data=data, files=files, headers=forged
    ).status_code == (401)
    reader, _ = hub.create_token(ADMIN, "raj.submitter", "dashboards", ["read"])
    wrong_scope = client.post(
        "/api/v1/submissions", data=data, files=files, headers={"Authorization": f"Bearer {reader}"}
    )
    assert wrong_scope.status_code == 401 and "submit scope" in wrong_scope.json()["message"]
    secret, token = hub.create_token(ADMIN, "ryc.submitter", "ambulance feed", ["submit"])
    headers = {"Authorization": f"Bearer {secret}"}
    other_org = client.post(
        "/api/v1/submissions", data={**data, "org": "RAJ"}, files=files, headers=headers
    )
    assert other_org.status_code == 403
    hub.revoke_token(ADMIN, token.id)
    revoked = client.get("/api/v1/submissions", headers=headers)
    assert revoked.status_code == 401
    assert hub.submissions() == []  # nothing was received from any refused call


def test_a_job_that_stops_is_reported_and_waits_for_a_retry(
    client: TestClient, hub: Platform
) -> None:
    # A real failure of the hub, not of the file: a folder sits where the Parquet file must go.
    blocker = hub.lake.standard_path("ed_attendance", "RAJ", "2025-01", 1)
    blocker.mkdir(parents=True)
    secret, _ = hub.create_token(ADMIN, "raj.submitter", "nightly ECDS", ["submit"])
    headers = {"Authorization": f"Bearer {secret}"}
    sent = client.post(
        "/api/v1/submissions",
        data={"dataset": "ed_attendance"},
        files={"file": ("raj.csv", GOOD.encode(), "text/csv")},
        headers=headers,
    )
    stopped = until_finished(client, sent.headers["location"], headers=headers)
    assert stopped["state"] == "received"  # no verdict: the file is not to blame
    assert stopped["job"]["state"] == "failed" and "IsADirectoryError" in stopped["job"]["error"]
    sign_in(client, "raj.submitter")
    page = client.get(stopped["links"]["page"]).text
    assert "Processing stopped" in page and 'hx-trigger="every 1s"' in page
    blocker.rmdir()
    hub.retry_job(ADMIN, stopped["job_id"])
    done = until_finished(client, sent.headers["location"], headers=headers)
    assert (done["state"], done["rows_published"]) == ("published", 2)
