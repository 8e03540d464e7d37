"""The governance pages in a real browser on the synthetic ICS: accessibility (axe-core) of the
public transparency page, the agreements register, the data explorer and access, and the
explorer's download of a CSV file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from browsing import assert_no_axe_violations
from playwright.sync_api import Page, expect

EXPLORER = "/data/ed_attendance?purpose=service_planning"


def sign_in_at(page: Page, path: str, username: str, password: str) -> None:
    """Ask for a page, sign in on the form it sends us to, and wait until we are back."""
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to carehub")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"**{path}")


def test_the_transparency_page_is_public_and_accessible(tab: Page, axe_script: Path) -> None:
    tab.goto("/sign-in")
    tab.get_by_role("navigation", name="Menu").get_by_role("link", name="Transparency").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(
        "How your health and care data is shared"
    )
    for n in range(1, 6):
        expect(
            tab.get_by_role("heading", level=2).and_(tab.locator(f"#ISA-MSE-00{n}"))
        ).to_be_visible()
    expect(
        tab.get_by_role("table", name="How often information was used under this agreement").first
    ).to_be_visible()
    assert_no_axe_violations(tab, axe_script)


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("raj.analyst", "/agreements"),
        ("raj.analyst", "/agreements/ISA-MSE-002"),
        ("steward", "/agreements/ISA-MSE-001"),  # with the lifecycle forms
        ("raj.analyst", "/data"),
        ("raj.analyst", EXPLORER),
        ("raj.analyst", "/data/ed_attendance?purpose=performance_monitoring"),
        ("raj.analyst", "/data/dpp_event?purpose=performance_monitoring"),  # refused
        ("raj.analyst", "/access"),
        ("raj.analyst", "/access/requests/new"),
        ("steward", "/access?user=raj.analyst&dataset=ed_attendance"),
    ],
)
def test_governance_pages_have_no_axe_violations(
    tab: Page, axe_script: Path, demo_password: str, username: str, path: str
) -> None:
    sign_in_at(tab, path, username, demo_password)
    expect(tab.get_by_role("heading", level=1)).to_be_visible()
    assert_no_axe_violations(tab, axe_script)


def test_the_explorer_downloads_the_rows_as_csv(
    tab: Page, demo_password: str, tmp_path: Path
) -> None:
    sign_in_at(tab, EXPLORER, "raj.analyst", demo_password)
    preview = tab.get_by_role("table", name="Preview of ed_attendance")
    expect(preview.locator("tbody tr")).to_have_count(50)
    with tab.expect_download() as started:
        tab.get_by_role("button", name="Download every row (CSV)").click()
    download = started.value
    assert download.suggested_filename == "ed_attendance-service_planning.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    columns = preview.locator("thead th").all_inner_texts()
    assert header == columns and len(rows) > 50
    assert {row[header.index("org_code")] for row in rows} == {"RAJ"}
