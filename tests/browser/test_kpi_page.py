"""The KPI page in a real browser: signing in and out, the SPC charts, provenance, accessibility
(axe-core) and the rule that carehub loads nothing from outside the machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browsing import assert_no_axe_violations
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, expect

KPI = "ed_four_hours"
KPI_PATH = f"/metrics/{KPI}"
EXPECTED_SITES = ("RAJ01", "RAJ02", "RAJ12")
# The data marks of the SPC chart as vl-convert draws them: one <path> per plotted month inside
# the symbol layer (the legend's swatches are `role-legend-symbol`, so they are not counted).
CHART_POINTS = "g.mark-symbol.role-mark path[aria-roledescription='point']"
# A chart smaller than this would not be readable, even if it is technically on screen.
MIN_CHART_PX = 100
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def sign_in(page: Page, password: str, username: str = "analyst") -> None:
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def open_kpi_page(page: Page, password: str) -> None:
    """Ask for the KPI page, sign in on the form it sends us to, and wait until we are back."""
    page.goto(KPI_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to carehub")
    sign_in(page, password)
    page.wait_for_url(f"**{KPI_PATH}")
    expect(page.locator("section.carehub-chart").first).to_be_visible()


def kpi_document(page: Page) -> dict[str, Any]:
    """The page's JSON twin, fetched with the browser context's session cookie."""
    response = page.request.get(f"{KPI_PATH}.json")
    assert response.ok, f"{KPI_PATH}.json answered {response.status}: {response.text()[:300]}"
    document: dict[str, Any] = response.json()
    return document


def chart_section(page: Page, facet: str) -> Locator:
    heading = page.get_by_role("heading", level=2, name=f"Site {facet}", exact=True)
    return page.locator("section.carehub-chart").filter(has=heading)


def chart_svg(page: Page, facet: str) -> Locator:
    return chart_section(page, facet).locator("figure.carehub-figure div.carehub-svg > svg")


def month_label(period: str) -> str:
    """How the chart labels a month (`%b %Y` in the Vega-Lite spec), from a 'YYYY-MM' period."""
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def test_sign_in_returns_to_the_kpi_page_with_one_chart_per_site(
    tab: Page, live_server: str, demo_password: str
) -> None:
    tab.goto(KPI_PATH)
    expect(tab).to_have_url(f"{live_server}/sign-in?next={KPI_PATH}")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Sign in to carehub")

    sign_in(tab, demo_password)

    expect(tab).to_have_url(f"{live_server}{KPI_PATH}")
    expect(tab.get_by_role("heading", level=1)).to_have_text(
        "ED attendances with time in department of 4 hours or less"
    )
    headings = tab.locator("section.carehub-chart h2")
    facets = sorted(text.removeprefix("Site ") for text in headings.all_inner_texts())
    assert set(EXPECTED_SITES) <= set(facets), f"site headings on the page: {facets}"
    assert len(facets) == len(set(facets)), f"a site has more than one section: {facets}"
    assert tab.locator("figure.carehub-figure div.carehub-svg > svg").count() == len(facets), (
        "expected exactly one SPC chart per site section"
    )
    for facet in facets:
        svg = chart_svg(tab, facet)
        expect(svg).to_have_count(1)
        svg.scroll_into_view_if_needed()
        expect(svg).to_be_visible()
        expect(svg).to_be_in_viewport()
        box = svg.bounding_box()
        assert box is not None, f"the chart for {facet} is not rendered"
        assert box["width"] >= MIN_CHART_PX and box["height"] >= MIN_CHART_PX, (
            f"the chart for {facet} is drawn at {box['width']:.0f}x{box['height']:.0f}px"
        )
        # The chart under each heading is that site's chart, not another's.
        expect(svg.locator("g.role-title-text text")).to_have_text(f"Site {facet}")


def test_each_chart_plots_every_month_of_its_series(tab: Page, demo_password: str) -> None:
    open_kpi_page(tab, demo_password)
    document = kpi_document(tab)
    series = {entry["facet"]: entry["points"] for entry in document["series"]}
    assert set(EXPECTED_SITES) <= set(series), f"series in the JSON twin: {sorted(series)}"

    for facet, points in series.items():
        plotted = [p for p in points if p["value"] is not None]
        assert plotted, f"the demo data should give {facet} some values to plot"
        marks = chart_svg(tab, facet).locator(CHART_POINTS)
        expect(marks).to_have_count(len(plotted))
        expect(marks.first).to_be_visible()
        labels = marks.evaluate_all("marks => marks.map(m => m.getAttribute('aria-label'))")
        shown = [label.split(";")[0].removeprefix("Month: ") for label in labels]
        assert shown == [month_label(p["period"]) for p in plotted], (
            f"months plotted for {facet}: {shown}"
        )


def test_provenance_table_lists_the_submissions(tab: Page, demo_password: str) -> None:
    open_kpi_page(tab, demo_password)
    document = kpi_document(tab)
    sources = document["provenance"]
    assert sources, "the demo KPI should be computed from some submissions"

    table = tab.get_by_role("table", name="Submissions behind this KPI")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(sources))
    for row, source in zip(rows.all(), sources, strict=True):
        cells = row.locator("td").all_inner_texts()
        expected = [
            source["period"],
            source["org_code"],
            str(source["submission_id"]),
            source["filename"],
        ]
        assert cells[:4] == expected, f"provenance row {cells} does not match {expected}"
        assert cells[5] == source["period_status"], f"provenance row {cells}: {source}"

    provisional = tab.get_by_text("Provisional data:")
    if document["provisional_periods"]:
        expect(provisional).to_be_visible()
        for period in document["provisional_periods"]:
            expect(provisional.locator("xpath=..")).to_contain_text(period)
    else:
        expect(provisional).to_have_count(0)


def test_wrong_password_shows_the_error_summary_and_stays_on_sign_in(
    tab: Page, live_server: str, demo_password: str
) -> None:
    tab.goto("/sign-in")
    sign_in(tab, demo_password + "-wrong")

    summary = tab.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(
        summary.get_by_role("link", name="The username or password is not right")
    ).to_have_attribute("href", "#username")
    expect(summary).to_be_focused()  # the design system's script moves focus to the summary
    assert urlsplit(tab.url).path == "/sign-in"
    expect(tab.get_by_role("heading", level=1)).to_have_text("Sign in to carehub")
    expect(tab.locator("#username")).to_have_value("analyst")
    expect(tab.locator("#password")).to_have_value("")
    # And the browser is still signed out.
    tab.goto("/metrics")
    expect(tab).to_have_url(f"{live_server}/sign-in?next=/metrics")


def _open_for_axe(page: Page, which: str, password: str) -> None:
    if which == "sign-in":
        page.goto("/sign-in")
    elif which == "sign-in-failed":
        page.goto("/sign-in")
        sign_in(page, password + "-wrong")
        expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    elif which == "kpi-page":
        open_kpi_page(page, password)
        # Audit the per-site figure tables too: axe skips the contents of closed <details>.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    else:  # pragma: no cover - a typo in the parametrisation
        raise AssertionError(which)
    page.wait_for_load_state("load")


@pytest.mark.parametrize("which", ["sign-in", "sign-in-failed", "kpi-page"])
def test_page_has_no_axe_violations(
    tab: Page, axe_script: Path, demo_password: str, which: str
) -> None:
    _open_for_axe(tab, which, demo_password)
    assert_no_axe_violations(tab, axe_script)


def test_kpi_page_loads_nothing_from_outside_loopback(
    tab: Page, live_server: str, demo_password: str
) -> None:
    requested: list[str] = []
    tab.on("request", lambda request: requested.append(request.url))

    open_kpi_page(tab, demo_password)
    tab.wait_for_load_state("networkidle")

    server = urlsplit(live_server)
    outside = [
        url
        for url in requested
        if not url.startswith("data:")
        and (urlsplit(url).scheme, urlsplit(url).netloc) != ("http", server.netloc)
    ]
    assert not outside, (
        "the KPI page loaded from outside the carehub server on loopback:\n" + "\n".join(outside)
    )
    # The recording did see the page and its assets (otherwise the check above proves nothing).
    paths = {urlsplit(url).path for url in requested}
    for path in (
        KPI_PATH,
        "/static/npm/nhsuk-frontend.min.css",
        "/static/carehub.js",
        "/static/npm/nhsuk-frontend.min.js",
    ):
        assert path in paths, f"{path} was not requested; requests seen: {sorted(paths)}"


def test_kpi_page_assets_load_and_scripts_run_without_errors(tab: Page, demo_password: str) -> None:
    problems: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status} for {response.url}")

    def on_failed(request: Request) -> None:
        problems.append(f"request failed: {request.url} ({request.failure})")

    tab.on("pageerror", lambda error: problems.append(f"uncaught script error: {error}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    tab.on("response", on_response)
    tab.on("requestfailed", on_failed)
    tab.on("console", on_console)

    open_kpi_page(tab, demo_password)
    tab.wait_for_load_state("networkidle")

    assert not problems, "\n".join(problems)
    # carehub.js started the NHS design system: each component is marked as initialised.
    modules = tab.locator("[data-module]")
    assert modules.count() > 0
    for module in modules.all():
        name = module.get_attribute("data-module")
        expect(module).to_have_attribute(f"data-{name}-init", "")


def test_sign_out_returns_to_sign_in_and_ends_the_session(
    tab: Page, live_server: str, demo_password: str
) -> None:
    tab.goto("/sign-in")
    sign_in(tab, demo_password)
    expect(tab).to_have_url(f"{live_server}/metrics")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Key performance indicators")

    tab.get_by_role("link", name="Sign out", exact=True).click()
    expect(tab).to_have_url(f"{live_server}/sign-out")
    tab.get_by_role("button", name="Sign out", exact=True).click()

    expect(tab).to_have_url(f"{live_server}/sign-in")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Sign in to carehub")
    expect(tab.get_by_role("link", name="Sign out")).to_have_count(0)
    tab.goto("/metrics")
    expect(tab).to_have_url(f"{live_server}/sign-in?next=/metrics")
    tab.goto(KPI_PATH)
    expect(tab).to_have_url(f"{live_server}/sign-in?next={KPI_PATH}")
