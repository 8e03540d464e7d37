"""Signing in with an OpenID Connect provider, beside passwords (configured, not required).

Only when CAREHUB_OIDC_ISSUER and CAREHUB_OIDC_CLIENT_ID are set are the routes there; otherwise
they answer 404 and the sign-in page shows no button. The provider vouches for who someone is;
what they may do stays in carehub: the claim must name an existing, active carehub user, and
nothing is created for a stranger.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from carehub.errors import AuthenticationRequired
from carehub.settings import Settings
from carehub.web.oidc_protocol import (
    OidcClient,
    OidcConfig,
    Pending,
    SignInFailed,
    provider_error_code,
)
from carehub.web.pages import PlatformDep, RendererDep, _safe_next
from carehub.web.rendering import Renderer

LOG = logging.getLogger(__name__)

PENDING_SESSION_KEY = "oidc"
PENDING_MAX_AGE_SECONDS = 10 * 60  # time allowed at the provider's sign-in page
CALLBACK_PATH = "/sign-in/oidc/callback"  # the redirect URL to register at the provider

router = APIRouter(include_in_schema=False)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the routes when a provider is configured (a half-done configuration fails here)."""
    config = OidcConfig.from_settings(settings)
    app.state.oidc = OidcClient(config) if config else None
    if config is not None:
        app.include_router(router)


def get_client(request: Request) -> OidcClient:
    client: OidcClient = request.app.state.oidc
    return client


ClientDep = Annotated[OidcClient, Depends(get_client)]


def _redirect_uri(request: Request, client: OidcClient) -> str:
    return client.config.redirect_url or str(request.url_for("oidc_callback"))


def _problem(
    request: Request, renderer: Renderer, failure: SignInFailed | AuthenticationRequired
) -> Response:
    if isinstance(failure, SignInFailed):
        message, hint, status = failure.message, failure.hint, failure.status
    else:
        message, hint, status = failure.message, failure.hint, 403
    return renderer.page(
        request, "oidc_error.html", {"message": message, "hint": hint}, status_code=status
    )


@router.get("/sign-in/oidc", name="oidc_start")
def start(
    request: Request, client: ClientDep, renderer: RendererDep, next: str | None = None
) -> Response:
    pending = Pending.start(_safe_next(next))
    try:
        url = client.authorization_url(pending, _redirect_uri(request, client))
    except SignInFailed as failure:
        return _problem(request, renderer, failure)
    request.session[PENDING_SESSION_KEY] = pending.as_dict()
    return RedirectResponse(url, status_code=303)


def _answered(
    client: OidcClient,
    pending: Pending | None,
    state: str | None,
    code: str | None,
    error: str | None,
) -> Pending:
    """The sign-in this answer belongs to: started here, lately, with the same ``state``."""
    label = client.config.label
    if pending is None or time.time() - pending.started > PENDING_MAX_AGE_SECONDS:
        raise SignInFailed(
            "no_pending_sign_in",
            f"This answer from {label} does not belong to a sign-in started here, or it took "
            "too long.",
            "start again from the sign-in page",
            status=400,
        )
    if not state or not secrets.compare_digest(state, pending.state):
        raise SignInFailed(
            "state",
            f"This answer from {label} does not match the sign-in you started (state).",
            "start again from the sign-in page",
            status=400,
        )
    if error is not None or not code:
        code_name = provider_error_code(error)
        raise SignInFailed(
            f"provider_{code_name}",
            f"You cancelled the sign-in, or {label} refused it ({code_name}).",
            f"sign in at {label} again, or with your carehub username and password",
        )
    return pending


@router.get(CALLBACK_PATH, name="oidc_callback")
def callback(
    request: Request,
    platform: PlatformDep,
    client: ClientDep,
    renderer: RendererDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    issuer = client.config.issuer
    raw = request.session.pop(PENDING_SESSION_KEY, None)  # single use, whatever the outcome
    try:
        pending = _answered(client, Pending.from_dict(raw), state, code, error)
        id_token = client.exchange(str(code), pending.verifier, _redirect_uri(request, client))
        username = client.username(client.validate(id_token, pending.nonce))
    except SignInFailed as failure:
        LOG.warning("OpenID Connect sign-in refused: %s", failure.reason)
        platform.refuse_external_sign_in(issuer, failure.reason)
        return _problem(request, renderer, failure)
    try:
        actor = platform.authenticate_external(username, issuer)
    except AuthenticationRequired as refused:
        return _problem(request, renderer, refused)
    request.session.clear()  # a fresh session (and CSRF token) after sign-in
    request.session["user"] = actor.username
    return RedirectResponse(_safe_next(pending.next), status_code=303)
