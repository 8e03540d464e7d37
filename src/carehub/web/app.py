"""`create_app(platform)`: the FastAPI app. No globals: everything hangs off the platform."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from carehub.errors import AuthenticationRequired, CarehubError, ConfigurationError
from carehub.platform import Platform
from carehub.web import (
    access,
    agreements,
    api,
    coverage,
    dictionary,
    explorer,
    feedback,
    pages,
    submissions,
    transparency,
)
from carehub.web.api import API_PREFIX
from carehub.web.oidc import install as install_oidc
from carehub.web.rendering import Renderer

SESSION_MAX_AGE_SECONDS = 8 * 60 * 60  # one working day
WORKER_STOP_SECONDS = 30  # a worker mid-job finishes its current step before the server exits
NPM_ASSETS_HINT = "run `make assets` (installs nhsuk-frontend and htmx from npm)"


def static_root() -> Path:
    return Path(str(resources.files("carehub.web") / "static"))


def _check_assets(root: Path) -> None:
    required = (
        root / "npm" / "nhsuk-frontend.min.css",
        root / "npm" / "htmx.min.js",
        root / "npm" / "assets" / "images" / "favicon.svg",
    )
    if not all(p.is_file() for p in required):
        raise ConfigurationError(
            "the web app's front-end assets are not built", hint=NPM_ASSETS_HINT
        )


def wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.endswith(".json")
        or path.startswith(API_PREFIX)
        or "application/json" in request.headers.get("accept", "")
    )


@asynccontextmanager
async def job_workers(app: FastAPI) -> AsyncIterator[None]:
    """Run queued jobs in threads beside the requests (``CAREHUB_WEB_WORKERS``, default 1), so
    an upload answers at once and its processing never blocks a page."""
    platform: Platform = app.state.platform
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=platform.work, args=(stop,), name=f"carehub-worker-{n}", daemon=True
        )
        for n in range(platform.settings.web_workers)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=WORKER_STOP_SECONDS)


def create_app(platform: Platform) -> FastAPI:
    root = static_root()
    _check_assets(root)
    app = FastAPI(
        title="carehub",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=job_workers,
    )
    app.state.platform = platform
    app.state.renderer = Renderer()
    install_oidc(app, platform.settings)  # sign-in with OpenID Connect, when configured
    app.add_middleware(
        SessionMiddleware,
        secret_key=platform.session_key().hex(),
        session_cookie="carehub_session",
        max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=False,
    )
    app.mount("/assets", StaticFiles(directory=root / "npm" / "assets"), name="assets")
    app.mount("/static", StaticFiles(directory=root), name="static")
    app.include_router(pages.router)
    app.include_router(submissions.router)
    app.include_router(feedback.router)
    app.include_router(coverage.router)
    app.include_router(dictionary.router)
    app.include_router(agreements.router)
    app.include_router(explorer.router)
    app.include_router(access.router)
    app.include_router(transparency.router)
    app.include_router(api.router)

    @app.exception_handler(CarehubError)
    async def carehub_error(request: Request, error: CarehubError) -> Response:
        if isinstance(error, AuthenticationRequired) and not wants_json(request):
            query = request.url.query  # e.g. the explorer's ?purpose=, kept through sign-in
            target = request.url.path + (f"?{query}" if query else "")
            return RedirectResponse(f"/sign-in?next={quote(target, safe='/')}", status_code=303)
        body = {"error": type(error).__name__, "message": error.message, "hint": error.hint}
        if wants_json(request):
            headers = (
                {"WWW-Authenticate": "Bearer"}
                if isinstance(error, AuthenticationRequired)
                else None
            )
            return JSONResponse(body, status_code=error.http_status, headers=headers)
        renderer: Renderer = request.app.state.renderer
        return renderer.page(request, "error.html", {"error": body}, status_code=error.http_status)

    return app


WEB_APP_FACTORY = "carehub.web.app:app_factory"


def app_factory() -> FastAPI:
    """Build the app from CAREHUB_* settings (uvicorn calls this by name, e.g. with --workers)."""
    from carehub.settings import Settings

    return create_app(Platform(Settings()))
