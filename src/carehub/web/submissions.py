"""Pages for sending files and following them: the upload form, the list, and a receipt page
whose status updates itself (htmx polls a fragment) until the file is published or rejected."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from carehub.errors import NotFound
from carehub.platform import Actor, JobInfo, Platform, Receipt
from carehub.web.api import has_verdict, submission_document
from carehub.web.pages import ActorDep, PlatformDep, RendererDep, require_csrf

router = APIRouter()
STATE_TAGS = {  # NHS tag colours: what a sender should notice first
    "received": "grey",
    "validating": "blue",
    "published": "green",
    "superseded": "white",
    "rejected": "red",
}


def _status(platform: Platform, actor: Actor, receipt: Receipt) -> dict[str, Any]:
    job: JobInfo | None = platform.job(actor, receipt.job_id) if receipt.job_id else None
    return {
        "receipt": receipt,
        "job": job,
        "finished": has_verdict(receipt, job),
        "tag": STATE_TAGS.get(receipt.state, "grey"),
        "reasons": platform.explain_reasons(receipt.reasons),
        "percent": round((job.progress if job else 0) * 100),
    }


@router.get("/submissions", response_class=HTMLResponse)
def submissions_page(
    request: Request, platform: PlatformDep, renderer: RendererDep, actor: ActorDep
) -> HTMLResponse:
    rows = platform.visible_submissions(actor)
    context = {"rows": rows, "tags": STATE_TAGS, "actor": actor}
    return renderer.page(request, "submissions.html", context)


@router.get("/submissions.json")
def submissions_json(platform: PlatformDep, actor: ActorDep) -> JSONResponse:
    rows = platform.visible_submissions(actor)
    return JSONResponse({"submissions": [submission_document(r, None) for r in rows]})


def _form_context(
    platform: Platform,
    actor: Actor,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    errors, values = errors or {}, values or {}
    chosen_org = values.get("org") or actor.org_code
    return {
        "dataset_items": [{"value": "", "text": "Choose a dataset"}]
        + [
            {"value": name, "text": f"{title} ({name})", "selected": values.get("dataset") == name}
            for name, title in platform.dataset_choices()
        ],
        "org_items": [
            {"value": code, "text": f"{name} ({code})", "selected": code == chosen_org}
            for code, name in platform.submitting_organisations(actor)
        ],
        "errors": errors,
        "error_list": [{"text": text, "href": f"#{field}"} for field, text in errors.items()],
        "values": values,
    }


@router.get("/submissions/new", response_class=HTMLResponse)
def new_submission_page(
    request: Request, platform: PlatformDep, renderer: RendererDep, actor: ActorDep
) -> HTMLResponse:
    return renderer.page(request, "submission_new.html", _form_context(platform, actor))


@router.post("/submissions/new", response_model=None)
def new_submission(
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    csrf_token: Annotated[str, Form()],
    dataset: Annotated[str, Form(max_length=64)] = "",
    org: Annotated[str, Form(max_length=6)] = "",
    period: Annotated[str, Form(max_length=7)] = "",
    file: UploadFile | None = None,
) -> HTMLResponse | RedirectResponse:
    require_csrf(request, csrf_token)
    values = {"dataset": dataset, "org": org, "period": period}
    errors = {}
    if not dataset:
        errors["dataset"] = "Choose the dataset the file holds"
    if file is None or not file.filename:
        errors["file"] = "Choose a file to send"
    if errors or file is None:
        context = _form_context(platform, actor, errors=errors, values=values)
        return renderer.page(request, "submission_new.html", context, status_code=400)
    receipt = platform.receive_upload(
        actor, org or actor.org_code, dataset, file.file, file.filename or "upload", period or None
    )
    return RedirectResponse(f"/submissions/{receipt.submission_id}", status_code=303)


@router.get("/submissions/{submission_id}.json")
def submission_json(submission_id: int, platform: PlatformDep, actor: ActorDep) -> JSONResponse:
    receipt = platform.submission(actor, submission_id)
    job = platform.job(actor, receipt.job_id) if receipt.job_id else None
    return JSONResponse(submission_document(receipt, job))


@router.get("/submissions/{submission_id}/status", response_class=HTMLResponse)
def submission_status(
    submission_id: int,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
) -> HTMLResponse:
    """The part of the receipt page that changes, for htmx to swap in."""
    receipt = platform.submission(actor, submission_id)
    return renderer.fragment("_submission_status.html", _status(platform, actor, receipt))


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission_page(
    submission_id: int,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
) -> HTMLResponse:
    receipt = platform.submission(actor, submission_id)
    context = {
        **_status(platform, actor, receipt),
        "json_url": f"/submissions/{submission_id}.json",
        "quality_url": _quality_url(platform, actor, submission_id),
    }
    return renderer.page(request, "submission.html", context)


def _quality_url(platform: Platform, actor: Actor, submission_id: int) -> str | None:
    """The feedback report's address, once the submission's checks have run."""
    try:
        platform.check_results(actor, submission_id)
    except NotFound:
        return None
    return f"/submissions/{submission_id}/quality"
