"""The data dictionary in a real browser, signed out: accessibility (axe-core), the links from
fields to their code sets, and pages that reflow on a narrow screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import assert_no_axe_violations, fresh_page, serving
from playwright.sync_api import Browser, Page, expect
from workspaces import make_platform

from carehub.model.datasets import get_dataset
from carehub.web.app import create_app

DATASET = "ed_attendance"
# WCAG 2.1 reflow (1.4.10): content fits 320 CSS pixels without scrolling sideways.
NARROW_PX = 320


@pytest.fixture(scope="module")
def dictionary_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh workspace with no users: the dictionary needs no sign-in."""
    hub = make_platform(tmp_path_factory.mktemp("dictionary") / "home")
    with serving(create_app(hub)) as base_url:
        yield base_url


@pytest.fixture
def page(chromium: Browser, dictionary_server: str) -> Iterator[Page]:
    with fresh_page(chromium, dictionary_server) as page:
        yield page


@pytest.mark.parametrize("path", ["/dictionary", f"/dictionary/{DATASET}"])
def test_page_has_no_axe_violations(page: Page, axe_script: Path, path: str) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_axe_violations(page, axe_script)


def test_the_list_leads_to_a_dataset_page(page: Page, dictionary_server: str) -> None:
    page.goto("/sign-in")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Data dictionary").click()
    expect(page).to_have_url(f"{dictionary_server}/dictionary")
    table = page.get_by_role("table", name="Datasets of the common data model")
    expect(table).to_be_visible()
    spec = get_dataset(DATASET)
    table.get_by_role("link", name=spec.title, exact=True).click()
    expect(page).to_have_url(f"{dictionary_server}/dictionary/{DATASET}")
    expect(page.get_by_role("heading", level=1)).to_have_text(spec.title)


def test_code_set_links_go_to_anchors_that_exist(page: Page) -> None:
    page.goto(f"/dictionary/{DATASET}")
    spec = get_dataset(DATASET)
    code_fields = [f for f in spec.fields if f.code_set]
    assert code_fields, f"{DATASET} should have code fields to link from"
    links = page.locator("table a[href^='#code-set-']")
    expect(links).to_have_count(len(code_fields))
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == [f"#code-set-{f.code_set}" for f in code_fields]
    # Every in-page link (fields, contents list, code sets) has a target on the page.
    targets = page.locator("main a[href^='#']").evaluate_all(
        "links => links.map(a => [a.getAttribute('href'), !!document.getElementById("
        "decodeURIComponent(a.getAttribute('href').slice(1)))])"
    )
    missing = [href for href, found in targets if not found]
    assert targets and not missing, f"in-page links without a target: {missing}"

    field = next(f for f in code_fields if f.name == "discharge_destination")
    page.locator(f"#field-{field.name} a").click()
    expect(page).to_have_url(re.compile(f"/dictionary/{DATASET}#code-set-{field.code_set}$"))
    heading = page.get_by_role("heading", level=3, name=field.code_set, exact=True)
    expect(heading).to_be_in_viewport()
    codes = page.get_by_role("table", name=f"Codes of {field.code_set} and what they mean")
    code_set = spec.code_sets[field.code_set or ""]
    expect(codes.locator("tbody tr")).to_have_count(len(code_set.codes))
    for row, (code, meaning) in zip(
        codes.locator("tbody tr").all(), code_set.codes.items(), strict=True
    ):
        expect(row.locator("td")).to_have_text([code, meaning])


@pytest.mark.parametrize(
    "path", ["/dictionary", f"/dictionary/{DATASET}", "/dictionary/ae_monthly_return"]
)
def test_pages_reflow_on_a_narrow_screen(page: Page, path: str) -> None:
    page.set_viewport_size({"width": NARROW_PX, "height": 800})
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW_PX, f"{path} is {width}px wide at a {NARROW_PX}px viewport"
