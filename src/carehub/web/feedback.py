"""Feedback to the sender: a checked submission's quality report as a page, its JSON twin and an
Excel workbook. Whoever may not see the submission gets 404, so ids do not reveal that another
organisation's submission exists."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from carehub.platform import FeedbackReport
from carehub.web.pages import ActorDep, PlatformDep, RendererDep

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEVERITY_TAGS = {"info": "grey", "warning": "yellow", "error": "orange", "critical": "red"}


def feedback_document(report: FeedbackReport) -> dict[str, Any]:
    document = dataclasses.asdict(report)
    document["new"], document["persisting"] = list(report.new), list(report.persisting)
    return document


@router.get("/submissions/{submission_id}/quality.json")
def feedback_json(submission_id: int, platform: PlatformDep, actor: ActorDep) -> JSONResponse:
    return JSONResponse(feedback_document(platform.feedback_report(actor, submission_id)))


@router.get("/submissions/{submission_id}/quality.xlsx")
def feedback_xlsx(submission_id: int, platform: PlatformDep, actor: ActorDep) -> Response:
    content = platform.feedback_workbook(actor, submission_id)
    filename = f"carehub-submission-{submission_id}-quality.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=XLSX, headers=headers)


@router.get("/submissions/{submission_id}/quality", response_class=HTMLResponse)
def feedback_page(
    submission_id: int,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
) -> HTMLResponse:
    context = {
        "report": platform.feedback_report(actor, submission_id),
        "severity_tags": SEVERITY_TAGS,
        "json_url": f"/submissions/{submission_id}/quality.json",
        "xlsx_url": f"/submissions/{submission_id}/quality.xlsx",
    }
    return renderer.page(request, "submission_quality.html", context)
