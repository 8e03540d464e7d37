"""The data dictionary through ASGI: a public page per dataset of the model, listing every field,
code set and rule, with a JSON twin that reads back as the dataset's specification."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select
from workspaces import make_platform

from carehub.model.datasets import DatasetSpec, FieldType, dataset_names, get_dataset
from carehub.platform import Platform
from carehub.store.tables import AuditEvent
from carehub.web.app import create_app
from carehub.web.dictionary import FIELD_TYPES

NAMES = dataset_names()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """No one signs in: every request here is anonymous."""
    hub = make_platform(tmp_path_factory.mktemp("dictionary") / "home")
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def receipt_code(spec: DatasetSpec, reason: str) -> list[str]:
    """What a receipt calls each rule with this reason, worked out from the spec itself."""
    codes = [f"{r.reason}:{r.later}" for r in spec.sequence_rules if r.reason == reason]
    codes += [f"{r.reason}:{r.part}" for r in spec.count_rules if r.reason == reason]
    return codes + [f"{r.reason}:{r.field}" for r in spec.summary_rows if r.reason == reason]


def test_the_model_has_datasets_to_show() -> None:
    assert "ed_attendance" in NAMES and len(NAMES) >= 10


def test_every_field_type_has_words_for_the_page() -> None:
    assert set(FIELD_TYPES) == {t.value for t in FieldType}


def test_the_list_shows_every_dataset_without_sign_in(client: TestClient) -> None:
    response = client.get("/dictionary", follow_redirects=False)
    assert response.status_code == 200
    for name in NAMES:
        spec = get_dataset(name)
        assert f'<a href="/dictionary/{name}">{escape(spec.title)}</a>' in response.text
        assert f"<code>{name}</code>" in response.text
    assert "Sign out" not in response.text  # nobody is signed in
    assert '<a href="/dictionary.json">' in response.text


def test_the_list_twin_gives_each_datasets_facts(client: TestClient) -> None:
    document = client.get("/dictionary.json").json()
    rows = {row["name"]: row for row in document["datasets"]}
    assert list(rows) == list(NAMES)
    for name, row in rows.items():
        spec = get_dataset(name)
        assert (row["title"], row["description"]) == (spec.title, spec.description)
        assert row["snapshot"] is (spec.period_field is None)
        assert row["period_field"] == spec.period_field
        assert row["field_count"] == len(spec.fields)
        assert row["freeze_after_days"] == spec.freeze_after_days
        assert spec.description.startswith(row["summary"]) and row["summary"].endswith(".")
    assert rows["gp_registration"]["snapshot"] and not rows["ed_attendance"]["snapshot"]


def test_the_list_explains_every_reason_code(client: TestClient) -> None:
    document = client.get("/dictionary.json").json()
    checks = {r["code"]: r["meaning"] for r in document["field_checks"]}
    assert {"MISSING_VALUE", "UNKNOWN_CODE", "OUT_OF_RANGE", "NHS_NUMBER_INVALID"} <= set(checks)
    rules = {r["code"]: r for r in document["rule_reasons"]}
    used = {reason for name in NAMES for reason in get_dataset(name).rule_reasons}
    assert set(rules) == used
    for reason, row in rules.items():
        assert row["datasets"] == [n for n in NAMES if reason in get_dataset(n).rule_reasons]
        assert row["meaning"]
    assert all(meaning for meaning in checks.values())
    page = client.get("/dictionary").text
    assert 'id="quarantine-reasons"' in page
    for code in [*checks, *rules]:
        assert f"<code>{code}</code>" in page


@pytest.mark.parametrize("name", NAMES)
def test_each_dataset_page_lists_every_field_code_and_rule(client: TestClient, name: str) -> None:
    spec = get_dataset(name)
    response = client.get(f"/dictionary/{name}", follow_redirects=False)
    assert response.status_code == 200
    page = response.text
    assert f"<h1>{escape(spec.title)}</h1>" in page
    rows = re.findall(r'<tr class="nhsuk-table__row" role="row" id="field-([a-z0-9_]+)">', page)
    assert rows == [f.name for f in spec.fields]
    for field in spec.fields:
        assert str(escape(field.description)) in page
        if field.data_dictionary_name:
            assert f"NHS Data Dictionary: {escape(field.data_dictionary_name)}" in page
        if field.code_set:
            assert f'<a href="#code-set-{field.code_set}">' in page
    tags = re.findall(r'<strong class="nhsuk-tag[^"]*"\s*>\s*(Required|Optional)\s*</strong>', page)
    assert tags == ["Required" if f.required else "Optional" for f in spec.fields]
    for code_set_name, code_set in spec.code_sets.items():
        assert f'<h3 id="code-set-{code_set_name}">' in page
        for code, meaning in code_set.codes.items():
            assert f"<code>{escape(code)}</code></td>" in page
            assert f">{escape(meaning)}</td>" in page
    for reason in spec.rule_reasons:
        for code in receipt_code(spec, reason):
            assert f"<code>{code.replace(':', ':<wbr>')}</code>" in page


@pytest.mark.parametrize("name", NAMES)
def test_each_dataset_twin_reads_back_as_its_spec(client: TestClient, name: str) -> None:
    spec = get_dataset(name)
    document = client.get(f"/dictionary/{name}.json").json()
    assert DatasetSpec.model_validate({k: document[k] for k in DatasetSpec.model_fields}) == spec
    assert [f["name"] for f in document["fields"]] == [f.name for f in spec.fields]
    codes = [rule["receipt_code"] for rule in document["rules"]]
    assert codes == [code for reason in spec.rule_reasons for code in receipt_code(spec, reason)]
    for rule in document["rules"]:
        assert rule["meaning"] and rule["text"]
        assert all(field in rule["text"] for field in rule["fields"])


def test_a_rule_reads_in_plain_words(client: TestClient) -> None:
    rules = client.get("/dictionary/ae_monthly_return.json").json()["rules"]
    texts = {rule["receipt_code"]: rule["text"] for rule in rules}
    assert texts["OVER_4_HOURS_ABOVE_ATTENDANCES:over_4_hours_type_1"] == (
        "over_4_hours_type_1 must not be more than attendances_type_1, when both are given."
    )
    assert texts["TOTAL_ROW:provider_code"].startswith("A row whose provider_code reads TOTAL ")
    sequence = client.get("/dictionary/ed_attendance.json").json()["rules"][0]
    assert sequence["kind"] == "sequence" and sequence["text"] == (
        "arrival_at must not be after departed_at, when both are given."
    )


def test_code_set_links_go_to_anchors_on_the_page(client: TestClient) -> None:
    for name in NAMES:
        page = client.get(f"/dictionary/{name}").text
        anchors = set(re.findall(r'id="([^"]+)"', page))
        links = set(re.findall(r'href="#([^"]+)"', page))
        assert links <= anchors, f"{name}: links to missing anchors {links - anchors}"


@pytest.mark.parametrize("path", ["/dictionary/nope", "/dictionary/nope.json"])
def test_an_unknown_dataset_is_a_404_naming_the_known_ones(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 404
    if path.endswith(".json"):
        assert response.json()["hint"] == f"known datasets: {', '.join(NAMES)}"
    else:
        assert "there is no dataset called" in response.text
        assert all(name in response.text for name in NAMES)


def test_a_name_that_is_not_an_identifier_is_a_404(client: TestClient) -> None:
    assert client.get("/dictionary/ED_ATTENDANCE.json").status_code == 404
    assert client.get("/dictionary/ed%20attendance").status_code == 404


def test_navigation_and_footer_link_to_the_dictionary(client: TestClient) -> None:
    sign_in = client.get("/sign-in").text
    # header navigation, footer, and the sign-in page's note of what anyone can see
    assert sign_in.count('href="/dictionary"') == 3
    page = client.get("/dictionary/ed_attendance").text
    assert 'href="/dictionary" aria-current="page"' in page  # the header marks where we are


def test_reading_the_dictionary_writes_no_audit_event(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Reference information, not data: nothing to audit, and no workspace state to read."""
    hub: Platform = make_platform(tmp_path_factory.mktemp("audit") / "home")

    def events() -> int:
        with hub.database.session() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent)) or 0

    before = events()
    with TestClient(create_app(hub)) as anonymous:
        assert anonymous.get("/dictionary/ed_attendance.json").status_code == 200
        assert anonymous.get("/dictionary").status_code == 200
    assert events() == before
