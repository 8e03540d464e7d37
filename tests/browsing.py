"""Helpers of the browser tests (importable: pytest puts tests/ on sys.path): serving an
app on loopback and checking a page with axe-core."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page

SERVER_START_TIMEOUT_SECONDS = 30
DEFAULT_TIMEOUT_MS = 15_000
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_TARGETS_SHOWN = 5


def _wait_until_healthy(base_url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError(f"the carehub server thread stopped before {base_url} answered")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last_error = exc
        time.sleep(0.05)
    raise RuntimeError(
        f"{base_url}/healthz did not answer within {SERVER_START_TIMEOUT_SECONDS}s: {last_error!r}"
    )


@contextmanager
def serving(app: FastAPI, lifespan: str = "off") -> Iterator[str]:
    """Serve an app with uvicorn in a thread on a free loopback port; yields the base URL.

    The listening socket is bound here (port 0) and handed to uvicorn, so no other process can
    take the port between choosing it and serving on it. With ``lifespan="on"`` the app's job
    workers run too."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    # log_config=None: leave the process's logging configuration alone (other tests share it).
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan=lifespan,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="carehub-live-server", daemon=True
    )
    thread.start()
    base_url = f"http://{host}:{port}"
    try:
        _wait_until_healthy(base_url, thread)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
    if thread.is_alive():
        raise RuntimeError("the carehub server thread did not stop within 15s")


def _describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        targets = [" ".join(map(str, node["target"])) for node in nodes[:AXE_TARGETS_SHOWN]]
        more = (
            f" (+{len(nodes) - AXE_TARGETS_SHOWN} more)" if len(nodes) > AXE_TARGETS_SHOWN else ""
        )
        heading = f"- {violation['id']} ({violation['impact']}): {violation['help']}"
        lines.append(f"{heading} [{violation['helpUrl']}]")
        lines.append(f"    {len(nodes)} element(s): {', '.join(targets)}{more}")
        if nodes and nodes[0].get("failureSummary"):
            summary = " ".join(nodes[0]["failureSummary"].split())
            lines.append(f"    first: {summary}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, axe_script: Path) -> None:
    """Run axe-core's WCAG 2.1 A and AA rules on the page as it is now."""
    page.add_script_tag(path=str(axe_script))
    results: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    assert results["passes"], f"axe ran no passing rule on {page.url}: is the tag list right?"
    violations = results["violations"]
    assert not violations, (
        f"axe-core {results['testEngine']['version']} found {len(violations)} WCAG 2.1 A/AA "
        f"violation(s) on {page.url}:\n{_describe_violations(violations)}"
    )


@contextmanager
def fresh_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page in a new browser context (no cookies shared between tests), based at the server."""
    context = browser.new_context(base_url=base_url, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
