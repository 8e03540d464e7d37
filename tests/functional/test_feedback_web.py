"""Feedback to the sender on the synthetic ICS (read-only): a provider's quality report of its
own submission as a page, its JSON twin and an Excel workbook; nothing of another provider's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from workspaces import DEMO_PASSWORD

from carehub.errors import NotFound
from carehub.platform import Platform, Scorecard
from carehub.store.tables import AuditEvent
from carehub.web.app import create_app

NHS_NUMBER = re.compile(r"\b\d{10}\b")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")  # a date or time from the file (periods are yyyy-mm)


def sign_in(client: TestClient, username: str) -> None:
    form = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "the sign-in form carries a CSRF token"
    data = {"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/sign-in", data=data, follow_redirects=False).status_code == 303


@pytest.fixture
def client(demo_platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(demo_platform)) as test_client:
        yield test_client


def _with_failed_rows(platform: Platform, username: str, org: str) -> Scorecard:
    """The first of ``org``'s checked submissions with a failed check that kept rows and a
    previous submission to compare with."""
    actor = platform.actor(username)
    for receipt in platform.visible_submissions(actor):
        if receipt.org_code != org:
            continue
        try:
            card = platform.scorecard(actor, receipt.submission_id)
        except NotFound:
            continue
        failed = [r for r in card.results if r.status == "failed" and r.captured]
        if failed and card.previous_submission_id is not None:
            return card
    raise AssertionError(f"the demo has no {org} submission with failing rows")


def test_a_provider_reads_its_report_as_a_page_json_and_workbook(
    client: TestClient, demo_platform: Platform
) -> None:
    card = _with_failed_rows(demo_platform, "raj.submitter", "RAJ")
    failed = [r for r in card.results if r.status == "failed"]
    sign_in(client, "raj.submitter")
    base = f"/submissions/{card.submission_id}"
    assert f'href="{base}/quality"' in client.get(base).text  # linked from the receipt
    page = client.get(f"{base}/quality")
    assert page.status_code == 200 and "Data quality report" in page.text
    assert "How to fix it" in page.text and f"{base}/quality.xlsx" in page.text

    response = client.get(f"{base}/quality.json")
    document = response.json()
    assert [c["check_id"] for c in document["failed"]] == [r.check_id for r in failed]
    assert set(document["new"]) | set(document["persisting"]) == {r.check_id for r in failed}
    assert document["previous_submission_id"] == card.previous_submission_id
    with_rows = [c for c in document["failed"] if c["rows"]]
    assert with_rows
    for check in with_rows:
        assert all(set(row) == {"source_row", "field", "reason"} for row in check["rows"])
        assert all(row["field"] in check["fields"] for row in check["rows"])
        assert check["how_to_fix"] and check["what_is_wrong"]
    assert not NHS_NUMBER.search(response.text) and not DATE.search(response.text)

    download = client.get(f"{base}/quality.xlsx")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    book = load_workbook(BytesIO(download.content))
    assert book.sheetnames == ["Summary", "Checks", "Failing rows"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Submission"] == card.submission_id and summary["Checks failed"] == len(failed)
    checks = list(book["Checks"].iter_rows(min_row=2, values_only=True))
    assert [(c[0], c[4], c[5]) for c in checks] == [
        (r.check_id, r.failing, r.denominator) for r in failed
    ]
    rows = list(book["Failing rows"].iter_rows(min_row=2, values_only=True))
    kept = {r.check_id: r.captured for r in failed}
    assert {c: sum(1 for row in rows if row[0] == c) for c in kept} == kept
    with demo_platform.database.session() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (last.action, last.actor) == ("quality.feedback", "raj.submitter")


def test_another_providers_report_is_not_found(client: TestClient, demo_platform: Platform) -> None:
    card = _with_failed_rows(demo_platform, "steward", "DPP03")
    sign_in(client, "raj.submitter")
    for suffix in ("", ".json", ".xlsx"):
        response = client.get(f"/submissions/{card.submission_id}/quality{suffix}")
        assert response.status_code == 404, suffix
        assert "DPP03" not in response.text
    client.cookies.clear()
    sign_in(client, "steward")
    document = client.get(f"/submissions/{card.submission_id}/quality.json").json()
    assert document["org_code"] == "DPP03" and document["failed"]
