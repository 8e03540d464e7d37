"""Access: what the signed-in user may read and under which agreement; for a steward or an
admin, why any user may or may not read each dataset; requests for access, and the steward's
decision on them. The platform decides who may see and decide what."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from carehub.errors import NotFound, PolicyDenied, UserError
from carehub.platform import AccessLine, Actor, Platform, RequestInfo, Role, State
from carehub.web.forms import error_context, parse_level, parse_purpose
from carehub.web.labels import (
    LEVEL_TITLES,
    PURPOSE_TITLES,
    REQUEST_TAGS,
    REQUEST_TITLES,
    choice_items,
    level_items,
    purpose_items,
)
from carehub.web.pages import ActorDep, PlatformDep, RendererDep, require_csrf
from carehub.web.rendering import Renderer

router = APIRouter()
STEWARDS = (Role.STEWARD, Role.ADMIN)  # who may see anyone's access and decide on requests
ENDED = (State.TERMINATED, State.EXPIRED)
DONE = {
    "requested": "Your request is sent. A steward of the organisation that provides the data "
    "decides on it; the decision and its reason will show here.",
    "approved": "The request is approved: the requester's organisation is added to the agreement "
    "and may read once it has signed.",
    "refused": "The request is refused. The requester sees your reason.",
}


def line_document(line: AccessLine) -> dict[str, Any]:
    d = line.decision
    return {
        "dataset": line.dataset,
        "purpose": line.purpose.value,
        "purpose_title": PURPOSE_TITLES[line.purpose],
        "level": line.level.value,
        "level_title": LEVEL_TITLES[line.level],
        "allowed": d.allowed,
        "reason": d.reason,
        "agreements": list(d.agreements),
        "orgs": sorted(d.orgs),
        "fields": list(d.fields),
        "needed": d.needed,
    }


def request_document(info: RequestInfo) -> dict[str, Any]:
    return {
        **dataclasses.asdict(info),
        "fields": list(info.fields) if info.fields is not None else None,
        "created_at": info.created_at.isoformat(),
        "state_title": REQUEST_TITLES.get(info.state, info.state),
        "tag": REQUEST_TAGS.get(info.state, "grey"),
        "url": f"/access/requests/{info.id}",
    }


def _grouped(lines: list[AccessLine], titles: dict[str, str]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        groups.setdefault(line.dataset, []).append(line_document(line))
    return [{"dataset": n, "title": titles[n], "lines": ls} for n, ls in groups.items()]


def access_document(
    platform: Platform, actor: Actor, user: str | None, dataset: str | None
) -> dict[str, Any]:
    """Your own access (allowed lines only), or with ``user`` every decision for that user,
    refusals and their reasons included (yourself, or anyone for a steward or an admin)."""
    explaining = bool(user)
    subject = user or actor.username
    lines = platform.explain_access(actor, subject, dataset or None)
    shown = lines if explaining else [line for line in lines if line.decision.allowed]
    requests = [request_document(r) for r in platform.access_requests(actor)]
    mine = [r for r in requests if r["requested_by"] == actor.username]
    others = [r for r in requests if r["requested_by"] != actor.username]
    return {
        "username": subject,
        "explaining": explaining,
        "dataset": dataset or None,
        "datasets": _grouped(shown, dict(platform.dataset_choices())),
        "requests": {
            "mine": mine,
            "to_decide": [r for r in others if r["state"] == "requested"],
            "decided": [r for r in others if r["state"] != "requested"],
        },
    }


@router.get("/access.json")
def access_json(
    platform: PlatformDep, actor: ActorDep, user: str | None = None, dataset: str | None = None
) -> JSONResponse:
    return JSONResponse(access_document(platform, actor, user, dataset))


@router.get("/access", response_class=HTMLResponse)
def access_page(
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    user: str | None = None,
    dataset: str | None = None,
) -> HTMLResponse:
    query = request.url.query
    context = {
        **access_document(platform, actor, user, dataset),
        "actor": actor,
        "steward": actor.role in STEWARDS,
        "dataset_items": choice_items(platform.dataset_choices(), dataset, "Every dataset"),
        "json_url": "/access.json" + (f"?{query}" if query else ""),
    }
    return renderer.page(request, "access.html", context)


# --- requests ---------------------------------------------------------------------------------


def _form_context(
    platform: Platform, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    orgs = [(code, name) for code, name, _ in platform.organisations()]
    return {
        "values": values,
        "errors": errors,
        "error_list": [
            {"text": text, "href": f"#{field}"} if field != "form" else {"text": text}
            for field, text in errors.items()
        ],
        "dataset_items": choice_items(platform.dataset_choices(), values.get("dataset"), "Choose"),
        "provider_items": choice_items(orgs, values.get("provider"), "Choose"),
        "purpose_items": purpose_items(values.get("purpose"), "Choose"),
        "level_items": level_items(values.get("level") or "aggregate"),
    }


@router.get("/access/requests/new", response_class=HTMLResponse)
def new_request_page(
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    dataset: str = "",
    provider: str = "",
    purpose: str = "",
    level: str = "",
) -> HTMLResponse:
    values = {"dataset": dataset, "provider": provider, "purpose": purpose, "level": level}
    context = _form_context(platform, values, {})
    return renderer.page(request, "access_request_new.html", context)


REQUIRED = {
    "dataset": "Choose the dataset you need",
    "provider": "Choose the organisation whose data it is",
    "purpose": "Choose what you need it for",
    "level": "Choose how much you need",
    "justification": "Say why you need it",
}


@router.post("/access/requests/new", response_model=None)
def new_request(
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: Annotated[str, Form()],
    dataset: Annotated[str, Form(max_length=64)] = "",
    provider: Annotated[str, Form(max_length=6)] = "",
    purpose: Annotated[str, Form(max_length=40)] = "",
    level: Annotated[str, Form(max_length=20)] = "",
    justification: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    require_csrf(request, csrf_token)
    values = {
        "dataset": dataset,
        "provider": provider,
        "purpose": purpose,
        "level": level,
        "justification": justification,
    }
    errors = {field: text for field, text in REQUIRED.items() if not values[field].strip()}
    if not errors:
        try:
            info = platform.request_access(
                actor, dataset, provider, parse_purpose(purpose), parse_level(level), justification
            )
        except (UserError, PolicyDenied) as error:
            errors["form"] = error_context(error)["error_list"][0]["text"]
            status = error.http_status
        else:
            return RedirectResponse(f"{info_url(info.id)}?done=requested", status_code=303)
    else:
        status = 400
    context = _form_context(platform, values, errors)
    return renderer.page(request, "access_request_new.html", context, status_code=status)


def info_url(request_id: int) -> str:
    return f"/access/requests/{request_id}"


def _request(platform: Platform, actor: Actor, request_id: int) -> RequestInfo:
    found = [r for r in platform.access_requests(actor) if r.id == request_id]
    if not found:
        raise NotFound(f"there is no access request {request_id} for you to see")
    return found[0]


def _request_context(platform: Platform, actor: Actor, request_id: int) -> dict[str, Any]:
    info = _request(platform, actor, request_id)
    deciding = (
        actor.role in STEWARDS and info.state == "requested" and info.requested_by != actor.username
    )
    candidates = [
        {
            "value": a.spec.id,
            "text": f"{a.spec.id}: {a.spec.title} ({PURPOSE_TITLES[a.spec.purpose]}, "
            f"{LEVEL_TITLES[a.spec.level].lower()})",
        }
        for a in (platform.agreements_for_dataset(info.dataset) if deciding else [])
        if info.provider in a.spec.providers and a.state not in ENDED
    ]
    names = {code: name for code, name, _ in platform.organisations()}
    return {
        "info": request_document(info),
        "names": names,
        "deciding": deciding,
        "agreement_items": [{"value": "", "text": "Choose an agreement"}, *candidates],
        "json_url": f"{info_url(request_id)}.json",
        **error_context(None),
    }


@router.get("/access/requests/{request_id}.json")
def request_json(request_id: int, platform: PlatformDep, actor: ActorDep) -> JSONResponse:
    return JSONResponse(request_document(_request(platform, actor, request_id)))


@router.get("/access/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request_id: int,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    done: str | None = None,
) -> HTMLResponse:
    context = {**_request_context(platform, actor, request_id), "done": DONE.get(done or "")}
    return renderer.page(request, "access_request.html", context)


def _decide(
    request: Request,
    platform: Platform,
    renderer: Renderer,
    actor: Actor,
    request_id: int,
    *,
    approve: bool,
    note: str,
    agreement_id: str | None = None,
) -> Response:
    try:
        platform.decide_access_request(
            actor, request_id, approve=approve, note=note, agreement_id=agreement_id
        )
    except (UserError, PolicyDenied) as error:
        field = None
        if approve and not agreement_id:
            field = "agreement_id"
        elif not note.strip():
            field = "approve-note" if approve else "refuse-note"
        context = {
            **_request_context(platform, actor, request_id),
            **error_context(error, field),
            "done": None,
        }
        return renderer.page(request, "access_request.html", context, status_code=error.http_status)
    done = "approved" if approve else "refused"
    return RedirectResponse(f"{info_url(request_id)}?done={done}", status_code=303)


@router.post("/access/requests/{request_id}/approve", response_model=None)
def approve_request(
    request_id: int,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: Annotated[str, Form()],
    agreement_id: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    require_csrf(request, csrf_token)
    chosen = agreement_id or None
    return _decide(
        request, platform, renderer, actor, request_id, approve=True, note=note, agreement_id=chosen
    )


@router.post("/access/requests/{request_id}/refuse", response_model=None)
def refuse_request(
    request_id: int,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    require_csrf(request, csrf_token)
    return _decide(request, platform, renderer, actor, request_id, approve=False, note=note)
