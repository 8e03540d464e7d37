"""The agreements register: every data sharing agreement with its state and warnings, filtered
by dataset ("who has this dataset, under what terms") or by organisation ("what do we share, with
whom"), and one page per agreement with every element of the protocol. Stewards and admins get
the lifecycle forms on that page; the platform decides who may act and what the state allows."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from carehub.errors import PolicyDenied, UserError
from carehub.platform import Actor, AgreementState, Platform
from carehub.web.forms import date_from_parts, error_context
from carehub.web.labels import (
    LEVEL_TITLES,
    PURPOSE_TITLES,
    ROW_SCOPES,
    STATE_TAGS,
    STATE_TITLES,
    choice_items,
)
from carehub.web.pages import ActorDep, PlatformDep, RendererDep, require_csrf
from carehub.web.rendering import Renderer

router = APIRouter()
DONE = {  # what the page says after each action succeeded (?done=…)
    "sent": "The agreement was sent to its parties for signature.",
    "signed": "Your organisation's signature is recorded.",
    "review": "The review has started. Access under the agreement continues meanwhile.",
    "reviewed": "The review is complete and the next review date is recorded.",
    "terminated": "The agreement is terminated. Reads under it have stopped.",
}
ERROR_FIELDS = {"sign": "signatory", "complete": "next_review-day", "terminate": "reason"}


def agreement_url(agreement_id: str) -> str:
    return f"/agreements/{agreement_id}"


def agreement_summary(a: AgreementState) -> dict[str, Any]:
    spec = a.spec
    return {
        "id": spec.id,
        "title": spec.title,
        "purpose": spec.purpose.value,
        "purpose_title": PURPOSE_TITLES[spec.purpose],
        "level": spec.level.value,
        "level_title": LEVEL_TITLES[spec.level],
        "state": a.state.value,
        "state_title": STATE_TITLES[a.state],
        "tag": STATE_TAGS[a.state],
        "in_force": a.in_force,
        "warnings": list(a.warnings),
        "url": agreement_url(spec.id),
        "json_url": f"{agreement_url(spec.id)}.json",
    }


def agreement_document(a: AgreementState, names: dict[str, str]) -> dict[str, Any]:
    """The JSON twin of an agreement's page: the agreement as written (so it reads back as
    one), where it stands today, and the names of its parties."""
    return {
        **a.spec.model_dump(mode="json"),
        **agreement_summary(a),
        "version": a.version,
        "state_note": a.state_note,
        "signatures": [
            {
                "org_code": s.org_code,
                "signatory": s.signatory,
                "recorded_by": s.recorded_by,
                "signed_at": s.signed_at.isoformat(),
            }
            for s in a.signatures
        ],
        "signed_by": sorted(a.signed),
        "awaiting": list(a.awaiting),
        "party_names": {code: names.get(code, code) for code in a.spec.parties},
    }


def _names(platform: Platform) -> dict[str, str]:
    return {code: name for code, name, _ in platform.organisations()}


def _listing(
    platform: Platform, dataset: str | None, org: str | None
) -> tuple[list[AgreementState], dict[str, Any]]:
    agreements = platform.agreements()
    filters: dict[str, Any] = {"dataset": dataset or None, "org": org or None}
    if dataset:
        filters["dataset_title"] = platform.dataset_spec(dataset).title  # NotFound if unknown
        agreements = platform.agreements_for_dataset(dataset)
    if org:
        involving = {a.spec.id for a in platform.agreements_for_org(org)}
        filters["org_name"] = _names(platform).get(org, org)
        agreements = [a for a in agreements if a.spec.id in involving]
    return agreements, filters


@router.get("/agreements.json")
def agreements_json(
    platform: PlatformDep, actor: ActorDep, dataset: str | None = None, org: str | None = None
) -> JSONResponse:
    agreements, filters = _listing(platform, dataset, org)
    return JSONResponse(
        {"filters": filters, "agreements": [agreement_summary(a) for a in agreements]}
    )


@router.get("/agreements", response_class=HTMLResponse)
def agreements_page(
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    dataset: str | None = None,
    org: str | None = None,
) -> HTMLResponse:
    agreements, filters = _listing(platform, dataset, org)
    orgs = [(code, name) for code, name, _ in platform.organisations()]
    query = request.url.query
    context = {
        "agreements": [agreement_summary(a) for a in agreements],
        "filters": filters,
        "dataset_items": choice_items(platform.dataset_choices(), dataset, "Any dataset"),
        "org_items": choice_items(orgs, org, "Any organisation"),
        "json_url": "/agreements.json" + (f"?{query}" if query else ""),
    }
    return renderer.page(request, "agreements.html", context)


@router.get("/agreements/{agreement_id}.json")
def agreement_json(agreement_id: str, platform: PlatformDep, actor: ActorDep) -> JSONResponse:
    a = platform.agreement(agreement_id)
    return JSONResponse(agreement_document(a, _names(platform)))


def _detail_context(
    platform: Platform, actor: Actor, agreement_id: str, done: str | None = None
) -> dict[str, Any]:
    a = platform.agreement(agreement_id)
    names = _names(platform)
    titles = dict(platform.dataset_choices())
    datasets = [
        {
            "name": g.dataset,
            "title": titles.get(g.dataset, g.dataset),
            "fields": list(g.fields) if g.fields is not None else None,
            "rows": ROW_SCOPES[g.rows.value],
        }
        for g in a.spec.datasets
    ]
    return {
        "agreement": agreement_document(a, names),
        "datasets": datasets,
        "actions": sorted(a.actions_for(actor)),
        "actor": actor,
        "done": DONE.get(done or ""),
        "json_url": f"{agreement_url(agreement_id)}.json",
        **error_context(None),
    }


@router.get("/agreements/{agreement_id}", response_class=HTMLResponse)
def agreement_page(
    agreement_id: str,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    done: str | None = None,
) -> HTMLResponse:
    context = _detail_context(platform, actor, agreement_id, done)
    return renderer.page(request, "agreement.html", context)


def _act(
    request: Request,
    platform: Platform,
    renderer: Renderer,
    actor: Actor,
    agreement_id: str,
    action: str,
    call: Callable[[], object],
    done: str,
) -> Response:
    """Run one lifecycle action; a refusal comes back on the agreement's page, in its error
    summary, with the HTTP status of the error."""
    try:
        call()
    except (UserError, PolicyDenied) as error:
        context = {
            **_detail_context(platform, actor, agreement_id),
            **error_context(error, ERROR_FIELDS.get(action)),
        }
        return renderer.page(request, "agreement.html", context, status_code=error.http_status)
    return RedirectResponse(f"{agreement_url(agreement_id)}?done={done}", status_code=303)


CsrfField = Annotated[str, Form()]


@router.post("/agreements/{agreement_id}/send", response_model=None)
def send(
    agreement_id: str,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: CsrfField,
) -> Response:
    require_csrf(request, csrf_token)
    call = partial(platform.send_agreement, actor, agreement_id)
    return _act(request, platform, renderer, actor, agreement_id, "send", call, "sent")


@router.post("/agreements/{agreement_id}/sign", response_model=None)
def sign(
    agreement_id: str,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: CsrfField,
    signatory: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Sign for the signed-in steward's own organisation."""
    require_csrf(request, csrf_token)
    call = partial(platform.sign_agreement, actor, agreement_id, actor.org_code, signatory)
    return _act(request, platform, renderer, actor, agreement_id, "sign", call, "signed")


@router.post("/agreements/{agreement_id}/review", response_model=None)
def start_review(
    agreement_id: str,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: CsrfField,
) -> Response:
    require_csrf(request, csrf_token)
    call = partial(platform.review_agreement, actor, agreement_id)
    return _act(request, platform, renderer, actor, agreement_id, "review", call, "review")


@router.post("/agreements/{agreement_id}/review/complete", response_model=None)
def complete_review(
    agreement_id: str,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: CsrfField,
    day: Annotated[str, Form(max_length=4)] = "",
    month: Annotated[str, Form(max_length=4)] = "",
    year: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    require_csrf(request, csrf_token)

    def call() -> None:
        platform.complete_review(actor, agreement_id, date_from_parts(day, month, year))

    return _act(request, platform, renderer, actor, agreement_id, "complete", call, "reviewed")


@router.post("/agreements/{agreement_id}/terminate", response_model=None)
def terminate(
    agreement_id: str,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: CsrfField,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    require_csrf(request, csrf_token)
    call = partial(platform.terminate_agreement, actor, agreement_id, reason)
    return _act(request, platform, renderer, actor, agreement_id, "terminate", call, "terminated")
