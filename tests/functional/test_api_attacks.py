"""Attacks on the data API of the demo workspace (the synthetic ICS under its agreements). Each
must fail to get data: the answer is a refusal, or only what the agreements allow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from workspaces import ADMIN

from carehub.platform import Platform
from carehub.web.app import create_app

ROWS = "/api/v1/datasets/ed_attendance/rows"
COUNTS = "/api/v1/datasets/ed_attendance/counts"


@pytest.fixture(scope="module")
def client(demo_platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(demo_platform)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def raj(demo_platform: Platform) -> dict[str, str]:
    secret, _ = demo_platform.create_token(ADMIN, "raj.analyst", "attack tests", ["read"])
    return {"Authorization": f"Bearer {secret}"}


def test_an_analyst_reads_only_their_own_trusts_rows(
    client: TestClient, raj: dict[str, str]
) -> None:
    body = client.get(ROWS, params={"purpose": "service_planning", "limit": 500}, headers=raj)
    assert body.status_code == 200, body.text
    document = body.json()
    assert document["organisations"] == ["RAJ"] and document["agreements"] == ["ISA-MSE-002"]
    org = document["columns"].index("org_code")
    assert {row[org] for row in document["rows"]} == {"RAJ"} and len(document["rows"]) == 500
    assert "nhs_number" not in document["columns"]


@pytest.mark.parametrize(
    "tampered",
    [
        {"org": "NUC01"},
        {"org_code": "NUC01"},
        {"provider": "NUC01"},
        {"organisations": "NUC01"},
        {"fields": "org_code,person_id", "org": "NUC01"},
    ],
)
def test_naming_another_organisation_in_the_url_changes_nothing(
    client: TestClient, raj: dict[str, str], tampered: dict[str, str]
) -> None:
    params = {"purpose": "service_planning", "limit": 200, **tampered}
    document = client.get(ROWS, params=params, headers=raj).json()
    org = document["columns"].index("org_code")
    assert {row[org] for row in document["rows"]} == {"RAJ"}


def test_another_partners_data_is_refused_with_the_agreement_needed(
    client: TestClient, raj: dict[str, str]
) -> None:
    for path in (
        "/api/v1/datasets/dpp_event/rows",
        "/api/v1/datasets/dpp_event/counts",
    ):
        answer = client.get(
            path, params={"purpose": "performance_monitoring", "by": "org_code"}, headers=raj
        )
        assert answer.status_code == 403
        body = answer.json()
        assert "no agreement shares dpp_event with RAJ" in body["message"]
        assert "RAJ as a recipient" in body["hint"]


def test_fields_outside_the_agreement_are_refused(client: TestClient, raj: dict[str, str]) -> None:
    answer = client.get(
        ROWS,
        params={"purpose": "direct_care", "level": "identifiable", "fields": "person_id"},
        headers=raj,
    )
    assert answer.status_code == 403  # no direct care agreement at all in the demo
    counts = client.get(
        "/api/v1/datasets/gp_registration/counts",
        params={"purpose": "population_health", "by": "postcode"},
        headers=raj,
    )
    assert counts.status_code == 403


def test_other_providers_are_seen_only_in_aggregate(
    client: TestClient, raj: dict[str, str]
) -> None:
    rows = client.get(ROWS, params={"purpose": "performance_monitoring"}, headers=raj)
    assert rows.status_code == 403 and "aggregate" in rows.json()["message"]
    counts = client.get(
        COUNTS, params={"purpose": "performance_monitoring", "by": "org_code,period"}, headers=raj
    ).json()
    assert counts["rows"] == ["NUC01", "RAJ"] and counts["agreements"] == ["ISA-MSE-001"]
    released = [v for line in counts["cells"] for v in line if v is not None]
    assert released and all(v == 0 or (v > 7 and v % 5 == 0) for v in released)


def test_a_revoked_token_reads_nothing(demo_platform: Platform, client: TestClient) -> None:
    secret, token = demo_platform.create_token(ADMIN, "raj.analyst", "soon revoked", ["read"])
    headers = {"Authorization": f"Bearer {secret}"}
    params = {"purpose": "service_planning", "limit": 1}
    assert client.get(ROWS, params=params, headers=headers).status_code == 200
    demo_platform.revoke_token(ADMIN, token.id)
    answer = client.get(ROWS, params=params, headers=headers)
    assert answer.status_code == 401 and "rows" not in answer.json()


def test_a_submit_only_token_reads_nothing(demo_platform: Platform, client: TestClient) -> None:
    secret, _ = demo_platform.create_token(ADMIN, "raj.analyst", "sender", ["submit"])
    answer = client.get(
        ROWS, params={"purpose": "service_planning"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code in (401, 403) and "rows" not in answer.json()


def test_a_submitter_reads_no_rows_even_with_a_read_token(
    demo_platform: Platform, client: TestClient
) -> None:
    secret, _ = demo_platform.create_token(ADMIN, "raj.submitter", "nosy", ["read"])
    answer = client.get(
        ROWS, params={"purpose": "service_planning"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 403 and "submitters send data" in answer.json()["message"]
