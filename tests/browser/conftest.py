"""Real-browser tests: carehub served by uvicorn on loopback, driven by Debian's headless Chromium.

Every test in this folder is marked `browser`, so `-m "not browser"` leaves them out. `make test`
runs `pytest -n 2 --dist loadfile`, which keeps each test module in one worker (and so one server
and one browser). The `xdist_group("browser")` mark is kept for `--dist loadgroup`, which pytest
9.2 with pytest-xdist 3.8.0 silently ignores (pytest-xdist issue #1386).

Playwright is started here rather than through pytest-playwright's `page` fixture: the sync API
leaves its event loop marked as running in the main thread for as long as Playwright is up, so
`asyncio.run()` fails in any test that runs meanwhile. pytest-playwright keeps Playwright for the
whole session; here it lives for one test module, and the tests after it are unaffected.

No `playwright install`: the browser is the system one, /usr/bin/chromium. When it is missing the
tests are skipped, unless CAREHUB_REQUIRE_BROWSER is set (CI sets it), in which case they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import DEFAULT_TIMEOUT_MS, fresh_page, serving
from playwright.sync_api import Browser, Page, expect, sync_playwright
from workspaces import DEMO_PASSWORD

from carehub.platform import Platform
from carehub.web.app import create_app

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this folder (this hook sees the whole session's items). tryfirst: the
    marks must be in place before `-m` deselects and before xdist's loadgroup reads the group."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session", autouse=True)
def chromium_executable() -> Path:
    """Debian's Chromium; autouse so that a missing browser skips before the server is built."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = (
            f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
        )
        if _required("CAREHUB_REQUIRE_BROWSER"):
            pytest.fail(f"CAREHUB_REQUIRE_BROWSER is set but {message}")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def demo_password() -> str:
    return DEMO_PASSWORD


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `npm ci` (or `make assets`)")
    return AXE_SCRIPT


@pytest.fixture(scope="session")
def live_server(demo_platform: Platform) -> Iterator[str]:
    """carehub on the demo workspace (read-only use: no job workers)."""
    with serving(create_app(demo_platform)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def chromium(chromium_executable: Path) -> Iterator[Browser]:
    """One headless Chromium per test module (see the module docstring for why not per session)."""
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_executable), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def tab(chromium: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh browser context on the demo server."""
    with fresh_page(chromium, live_server) as page:
        yield page
