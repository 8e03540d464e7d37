"""The HTTP API for scripts, authenticated by API token (``Authorization: Bearer chub_…``).

Tokens carry no cookies, so these routes need no CSRF token; everything else (who may do what)
is the platform's, exactly as for the web pages and the CLI.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from carehub.errors import AuthenticationRequired
from carehub.platform import Actor, CountsResult, JobInfo, Level, Platform, Purpose, Receipt, Scope
from carehub.web.pages import PlatformDep, metric_document

API_PREFIX = "/api/v1"
router = APIRouter(prefix=API_PREFIX, tags=["API v1"])


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired(
            "this API needs a token",
            hint="send 'Authorization: Bearer <token>'; make one with `carehub tokens create`",
        )
    return token.strip()


def submitter(request: Request, platform: PlatformDep) -> Actor:
    return platform.authenticate_token(_bearer(request), Scope.SUBMIT)


def reader(request: Request, platform: PlatformDep) -> Actor:
    return platform.authenticate_token(_bearer(request), Scope.READ)


SubmitterDep = Annotated[Actor, Depends(submitter)]
ReaderDep = Annotated[Actor, Depends(reader)]


def _jsonable(value: Any) -> Any:
    data = dataclasses.asdict(value)
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


IN_PROGRESS = ("received", "validating")


def has_verdict(receipt: Receipt, job: JobInfo | None) -> bool:
    """The submission is published or rejected and its job has let go of it (the verdict is
    written a moment before the job ends: until then a follower keeps polling)."""
    return receipt.state not in IN_PROGRESS and (job is None or job.finished)


def finished(receipt: Receipt, job: JobInfo | None) -> bool:
    """Nothing more will happen without someone acting: a verdict, or a job that failed (it
    waits for a steward's retry; the document carries the job's error)."""
    return has_verdict(receipt, job) or (job is not None and job.state == "failed")


def submission_document(receipt: Receipt, job: JobInfo | None) -> dict[str, Any]:
    return {
        **_jsonable(receipt),
        "finished": finished(receipt, job),
        "job": _jsonable(job) if job else None,
        "links": {
            "self": f"{API_PREFIX}/submissions/{receipt.submission_id}",
            "page": f"/submissions/{receipt.submission_id}",
        },
    }


def _document(platform: Platform, actor: Actor, receipt: Receipt) -> dict[str, Any]:
    job = platform.job(actor, receipt.job_id) if receipt.job_id else None
    return submission_document(receipt, job)


@router.post("/submissions", status_code=202)
def create_submission(
    platform: PlatformDep,
    actor: SubmitterDep,
    file: UploadFile,
    dataset: Annotated[str, Form(max_length=64)],
    period: Annotated[str | None, Form(max_length=7)] = None,
    org: Annotated[str | None, Form(max_length=6)] = None,
) -> JSONResponse:
    """Send a file (multipart form: `file`, `dataset`, optional `period` and `org`).

    Answers at once with 202 and the submission's receipt; follow `links.self` until `finished`.
    The same bytes sent again answer 200 with the first submission.
    """
    receipt = platform.receive_upload(
        actor, org or actor.org_code, dataset, file.file, file.filename or "upload", period
    )
    url = f"{API_PREFIX}/submissions/{receipt.submission_id}"
    return JSONResponse(
        _document(platform, actor, receipt),
        status_code=200 if receipt.duplicate else 202,
        headers={"Location": url},
    )


@router.get("/submissions")
def list_submissions(
    platform: PlatformDep, actor: SubmitterDep, dataset: str | None = None
) -> dict[str, Any]:
    """Your organisation's submissions (stewards and admins: everyone's)."""
    rows = platform.visible_submissions(actor, dataset)
    return {"submissions": [_jsonable(r) for r in rows]}


@router.get("/submissions/{submission_id}")
def get_submission(
    submission_id: int, platform: PlatformDep, actor: SubmitterDep
) -> dict[str, Any]:
    """A submission's receipt and the progress of its job."""
    return _document(platform, actor, platform.submission(actor, submission_id))


@router.get("/jobs/{job_id}")
def get_job(job_id: int, platform: PlatformDep, actor: SubmitterDep) -> dict[str, Any]:
    return {"job": _jsonable(platform.job(actor, job_id))}


@router.get("/metrics/{metric_id}")
def get_metric(metric_id: str, platform: PlatformDep, actor: ReaderDep) -> dict[str, Any]:
    """A KPI series with its SPC limits, under the same disclosure control as its page."""
    return metric_document(platform.metric_view(actor, metric_id))


def _fields(text: str | None) -> tuple[str, ...] | None:
    return tuple(f.strip() for f in text.split(",") if f.strip()) if text else None


@router.get("/datasets/{dataset}/rows")
def get_rows(
    dataset: str,
    platform: PlatformDep,
    actor: ReaderDep,
    purpose: Purpose,
    level: Level = Level.PSEUDONYMISED,
    fields: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Rows your agreements allow for ``purpose`` (only their organisations' rows and fields;
    people who opted out are left out of every secondary use). Page with ``limit``/``offset``."""
    result = platform.read_rows(
        actor, purpose, dataset, level=level, fields=_fields(fields), limit=limit, offset=offset
    )
    return {
        "dataset": dataset,
        "purpose": purpose,
        "level": level,
        "agreements": list(result.decision.agreements),
        "organisations": sorted(result.decision.orgs),
        "columns": list(result.columns),
        "rows": [list(row) for row in result.rows],
        "more": result.more,
    }


@router.get("/datasets/{dataset}/counts")
def get_counts(
    dataset: str, platform: PlatformDep, actor: ReaderDep, purpose: Purpose, by: str
) -> dict[str, Any]:
    """Counts by one or two fields (``by=org_code,period``) after disclosure control: a
    suppressed count is null."""
    result = platform.read_counts(actor, purpose, dataset, _fields(by) or ())
    return counts_document(result)


def counts_document(result: CountsResult) -> dict[str, Any]:
    table = result.table
    return {
        "by": list(result.dimensions),
        "agreements": list(result.decision.agreements),
        "disclosure": result.decision.disclosure.model_dump()
        if result.decision.disclosure
        else None,
        "rows": list(table.rows),
        "columns": list(table.columns),
        "cells": [list(line) for line in table.cells],
        "row_totals": list(table.row_totals),
        "column_totals": list(table.column_totals),
        "total": table.grand_total,
    }
