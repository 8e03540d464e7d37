"""Jinja2 set-up: our templates first, then the NHS design system's macros."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader, select_autoescape

CSRF_SESSION_KEY = "csrf"


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


def csrf_valid(request: Request, submitted: str) -> bool:
    expected = request.session.get(CSRF_SESSION_KEY)
    return bool(expected) and secrets.compare_digest(str(expected), submitted)


def make_environment(undefined: type = ChainableUndefined) -> Environment:
    """The nhsuk macros need ChainableUndefined; tests render our pages with StrictUndefined."""
    loader = ChoiceLoader(
        [
            PackageLoader("carehub.web", "templates"),
            PackageLoader("nhsuk_frontend_jinja", "templates"),
        ]
    )
    return Environment(
        loader=loader, autoescape=select_autoescape(("html", "jinja")), undefined=undefined
    )


class Renderer:
    def __init__(self, environment: Environment | None = None) -> None:
        self.environment = environment or make_environment()

    def page(
        self, request: Request, template: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        user = request.session.get("user")
        full = {
            "request": request,
            "user": user,
            "csrf_token": csrf_token(request),
            "path": request.url.path,
            **context,
        }
        html = self.environment.get_template(template).render(full)
        return HTMLResponse(html, status_code=status_code)

    def fragment(self, template: str, context: dict[str, Any]) -> HTMLResponse:
        """Part of a page (for htmx to swap in): no layout, no session."""
        return HTMLResponse(self.environment.get_template(template).render(context))
