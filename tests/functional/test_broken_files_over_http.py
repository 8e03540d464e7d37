"""The broken-file corpus sent through the HTTP API to a running app with its job worker: every
file gets its answer on its receipt (rejected with words, or published), no answer carries a row
value, and the server keeps serving."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from brokenfiles import CORPUS, DATASET, ORG, SENTINELS, BrokenFile, Refused
from fastapi.testclient import TestClient
from workspaces import ADMIN, make_platform

from carehub.governance.actors import Role
from carehub.web.app import create_app

PASSWORD = "corpus-over-http-password"
GROUPS: dict[str, list[BrokenFile]] = {}
for case in CORPUS:  # one workspace per feed mapping the corpus uses
    GROUPS.setdefault(case.mapping or "", []).append(case)


def finished(client: TestClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        document: dict[str, Any] = client.get(url, headers=headers).json()
        if document["finished"]:
            return document
        time.sleep(0.05)
    raise AssertionError(f"{url} did not finish within a minute")


@pytest.fixture(params=sorted(GROUPS), ids=lambda m: "identity" if not m else f"mapping{len(m)}")
def group(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, ...]]:
    hub = make_platform(tmp_path / "home")
    if request.param:
        path = tmp_path / "mapping.yaml"
        path.write_text(request.param, encoding="utf-8")
        hub.install_mapping(ADMIN, path)
    hub.add_user(ADMIN, "raj.submitter", PASSWORD, ORG, Role.SUBMITTER)
    secret, _ = hub.create_token(ADMIN, "raj.submitter", "corpus", ["submit"])
    with TestClient(create_app(hub)) as client:
        yield client, {"Authorization": f"Bearer {secret}"}, GROUPS[request.param]


def test_every_broken_file_gets_its_answer_over_http(group: tuple[Any, ...]) -> None:
    client, headers, cases = group
    answered = 0
    for case in cases:
        form = {"dataset": DATASET, **({"period": case.period} if case.period else {})}
        sent = client.post(
            "/api/v1/submissions",
            data=form,
            files={"file": (case.filename, case.make(), "application/octet-stream")},
            headers=headers,
        )
        assert sent.status_code in (200, 202), (case.name, sent.text)
        document = finished(client, sent.headers["location"], headers)
        text = sent.text + str(document)
        assert not any(s in text for s in SENTINELS), case.name  # never a row value
        if isinstance(case.expected, Refused):
            assert document["state"] == "rejected", (case.name, document["state"])
            assert case.filename in document["error"] and document["hint"], case.name
            assert all(w in document["error"] for w in case.expected.words), (
                case.name,
                document["error"],
            )
        else:
            assert document["state"] in ("published", "superseded"), (case.name, document)
            assert document["rows_published"] == case.expected.rows_published, case.name
        answered += 1
        assert client.get("/healthz").json() == {"status": "ok"}
    assert answered == len(cases)
