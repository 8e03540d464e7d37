"""The data quality report a provider reads about its own submission, in a real browser on the
synthetic ICS: accessibility (axe-core)."""

from __future__ import annotations

from pathlib import Path

from browsing import assert_no_axe_violations
from playwright.sync_api import Page, expect

from carehub.errors import NotFound
from carehub.platform import Platform


def _raj_submission_with_failed_checks(platform: Platform) -> int:
    actor = platform.actor("raj.submitter")
    for receipt in platform.visible_submissions(actor):
        try:
            card = platform.scorecard(actor, receipt.submission_id)
        except NotFound:
            continue
        if any(r.status == "failed" and r.captured for r in card.results):
            return receipt.submission_id
    raise AssertionError("the demo has no RAJ submission with failing rows")


def test_the_quality_report_is_accessible(
    tab: Page, demo_platform: Platform, demo_password: str, axe_script: Path
) -> None:
    path = f"/submissions/{_raj_submission_with_failed_checks(demo_platform)}/quality"
    tab.goto(path)
    tab.locator("#username").fill("raj.submitter")
    tab.locator("#password").fill(demo_password)
    tab.get_by_role("button", name="Sign in", exact=True).click()
    tab.wait_for_url(f"**{path}")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Data quality report")
    expect(
        tab.get_by_role("link", name="Download this report as an Excel workbook")
    ).to_be_visible()
    assert_no_axe_violations(tab, axe_script)
