"""A provider submitter sends a file through the upload page in a real browser and reads the
result, which the page updates by itself (htmx) while a job worker processes the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import assert_no_axe_violations, fresh_page, serving
from playwright.sync_api import Browser, Page, expect
from workspaces import ADMIN, make_platform

from carehub.governance.actors import Role
from carehub.web.app import create_app

PASSWORD = "upload-browser-password"
ROWS = (
    "attendance_id,nhs_number,site_code,department_type,arrival_at,"
    "initial_assessment_at,departed_at,acuity,age_years,sex\n"
    "A1,9434765919,RAJ01,01,2025-02-03 10:00:00,,2025-02-03 13:00:00,3,45,1\n"
    "A2,9434765918,RAJ01,01,2025-02-03 11:00:00,,2025-02-03 16:00:00,2,30,2\n"
)


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    hub = make_platform(tmp_path_factory.mktemp("upload") / "home")
    hub.add_user(ADMIN, "raj.submitter", PASSWORD, "RAJ", Role.SUBMITTER)
    with serving(create_app(hub), lifespan="on") as base_url:
        yield base_url


@pytest.fixture
def page(chromium: Browser, upload_server: str) -> Iterator[Page]:
    with fresh_page(chromium, upload_server) as page:
        yield page


def sign_in_to_upload(page: Page) -> None:
    page.goto("/submissions/new")
    page.locator("#username").fill("raj.submitter")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/submissions/new")


def test_a_submitter_uploads_a_file_and_the_page_shows_the_result(
    page: Page, tmp_path: Path, axe_script: Path
) -> None:
    sign_in_to_upload(page)
    assert_no_axe_violations(page, axe_script)
    path = tmp_path / "raj-ecds-feb.csv"
    path.write_text(ROWS)
    page.get_by_label("Dataset").select_option("ed_attendance")
    page.locator("input[type=file][name=file]").set_input_files(str(path))
    page.get_by_role("button", name="Send file").click()
    page.wait_for_url("**/submissions/*")
    expect(page.get_by_role("heading", level=1)).to_have_text("raj-ecds-feb.csv")
    # No reload: htmx swaps the status in until the worker has published the file.
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "published")
    expect(page.get_by_text("Why rows were quarantined")).to_be_visible()
    expect(page.get_by_text("Modulus 11")).to_be_visible()
    assert_no_axe_violations(page, axe_script)


def test_a_rejected_upload_says_what_to_do(page: Page, tmp_path: Path) -> None:
    sign_in_to_upload(page)
    path = tmp_path / "not-ecds.csv"
    path.write_text("call_id,disposition\n1,Dx01\n")
    page.get_by_label("Dataset").select_option("ed_attendance")
    page.locator("input[type=file][name=file]").set_input_files(str(path))
    page.get_by_role("button", name="Send file").click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "rejected")
    expect(page.get_by_text("The file was not accepted")).to_be_visible()
    expect(page.get_by_text("What to do:")).to_be_visible()


def test_sending_without_a_file_shows_the_error_summary(page: Page) -> None:
    sign_in_to_upload(page)
    page.get_by_role("button", name="Send file").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_role("link", name="Choose a file to send")).to_be_visible()
