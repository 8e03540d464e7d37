"""Routes. Each HTML page has a JSON twin at the same path with `.json` appended."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from carehub.errors import AuthenticationRequired, CarehubError, PolicyDenied
from carehub.platform import Actor, MetricView, Platform
from carehub.web.charts import POINT_LABELS, render_svg, spc_spec
from carehub.web.rendering import Renderer, csrf_valid

router = APIRouter()


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


def current_actor(request: Request, platform: Annotated[Platform, Depends(get_platform)]) -> Actor:
    username = request.session.get("user")
    if not username:
        raise AuthenticationRequired("sign in to see this page")
    try:
        return platform.actor(str(username))
    except CarehubError:
        request.session.clear()
        raise


PlatformDep = Annotated[Platform, Depends(get_platform)]
RendererDep = Annotated[Renderer, Depends(get_renderer)]
ActorDep = Annotated[Actor, Depends(current_actor)]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would let a phishing link borrow our sign-in."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or urlparse(target).netloc
    ):
        return "/metrics"
    return target


def require_csrf(request: Request, token: str) -> None:
    if not csrf_valid(request, token):
        raise PolicyDenied(
            "the form has expired or did not come from carehub",
            hint="reload the page and try again",
        )


@router.get("/", include_in_schema=False)
def home(request: Request) -> RedirectResponse:
    return RedirectResponse(
        "/metrics" if request.session.get("user") else "/sign-in", status_code=303
    )


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _oidc_label(platform: Platform) -> str | None:
    """What the OpenID Connect button calls the provider; None when there is none."""
    settings = platform.settings
    return settings.oidc_label if settings.oidc_configured else None


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request, platform: PlatformDep, renderer: RendererDep, next: str | None = None
) -> HTMLResponse:
    context = {"next": _safe_next(next), "failed": False, "username": ""}
    return renderer.page(request, "sign_in.html", {**context, "oidc_label": _oidc_label(platform)})


@router.post("/sign-in", response_model=None)
def sign_in(
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    username: Annotated[str, Form(max_length=120)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/metrics",
) -> Response:
    require_csrf(request, csrf_token)
    try:
        actor = platform.authenticate(username, password)
    except AuthenticationRequired:
        context = {"next": _safe_next(next), "failed": True, "username": username}
        context["oidc_label"] = _oidc_label(platform)  # the button stays after a failure
        return renderer.page(request, "sign_in.html", context, status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) after sign-in
    request.session["user"] = actor.username
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/sign-out", response_class=HTMLResponse)
def sign_out_page(request: Request, renderer: RendererDep) -> HTMLResponse:
    return renderer.page(request, "sign_out.html", {})


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form()]) -> RedirectResponse:
    require_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/sign-in", status_code=303)


def _metric_list(platform: Platform) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "title": d.title,
            "dataset": d.dataset,
            "description": d.description,
            "url": f"/metrics/{d.id}",
        }
        for d in platform.metric_definitions()
    ]


@router.get("/metrics.json")
def metrics_json(platform: PlatformDep, actor: ActorDep) -> JSONResponse:
    return JSONResponse({"metrics": _metric_list(platform)})


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request, platform: PlatformDep, renderer: RendererDep, actor: ActorDep
) -> HTMLResponse:
    return renderer.page(
        request, "metrics.html", {"metrics": _metric_list(platform), "actor": actor}
    )


def metric_document(view: MetricView) -> dict[str, Any]:
    """The JSON twin: everything the page shows, as data."""
    definition = view.definition
    return {
        "metric": {
            "id": definition.id,
            "title": definition.title,
            "description": definition.description,
            "dataset": definition.dataset,
            "improvement_direction": definition.improvement_direction,
            "target": definition.target,
            "target_source": definition.target_source,
            "source": definition.source,
        },
        "run": {
            "id": view.run_id,
            "computed_at": view.computed_at.isoformat(),
            "definition_sha256": view.definition_sha256,
        },
        "disclosure_control": (
            "counts of 1-7 redacted, others rounded to the nearest 5; "
            "values hidden where the denominator is redacted"
        ),
        "series": [
            {"facet": facet, "points": [dataclasses.asdict(p) for p in points]}
            for facet, points in view.facets.items()
        ],
        "provisional_periods": list(view.provisional_periods),
        "provenance": [
            {**dataclasses.asdict(s), "received_at": s.received_at.isoformat()}
            for s in view.sources
        ],
    }


@router.get("/metrics/{metric_id}.json")
def metric_json(metric_id: str, platform: PlatformDep, actor: ActorDep) -> JSONResponse:
    return JSONResponse(metric_document(platform.metric_view(actor, metric_id)))


@router.get("/metrics/{metric_id}", response_class=HTMLResponse)
def metric_page(
    metric_id: str, request: Request, platform: PlatformDep, renderer: RendererDep, actor: ActorDep
) -> HTMLResponse:
    view = platform.metric_view(actor, metric_id)
    charts = [
        {
            "facet": facet,
            "svg": render_svg(
                spc_spec(
                    f"Site {facet}",
                    points,
                    view.definition.target,
                    view.definition.improvement_direction,
                )
            ),
            "points": points,
            "latest": points[-1] if points else None,
        }
        for facet, points in view.facets.items()
    ]
    context = {
        "view": view,
        "charts": charts,
        "labels": POINT_LABELS,
        "json_url": f"/metrics/{metric_id}.json",
    }
    return renderer.page(request, "metric.html", context)
