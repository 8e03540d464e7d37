"""The coverage page: for each partner's scheduled feeds, which months came on time, late or not
at all. It shows dates of receipt and counts of files, never rows."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from carehub.errors import UserError
from carehub.platform import FeedCoverage, MonthState
from carehub.web.pages import ActorDep, PlatformDep, RendererDep

router = APIRouter()
STATE_TAGS = {  # NHS tag colours
    MonthState.ON_TIME: "green",
    MonthState.LATE: "orange",
    MonthState.MISSING: "red",
    MonthState.AWAITED: "grey",
}


def _as_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not a date", hint="write it as yyyy-mm-dd") from None


def _row(feed: FeedCoverage) -> dict[str, Any]:
    return {
        "org_code": feed.org_code,
        "dataset": feed.dataset,
        "due_days": feed.due_days,
        "expected": feed.expected,
        **{state.name.lower(): feed.count(state) for state in MonthState},
        "months": [
            {
                **dataclasses.asdict(m),
                "state": str(m.state),
                "due": m.due.isoformat(),
                "received_on": m.received_on.isoformat() if m.received_on else None,
                "tag": STATE_TAGS[m.state],
            }
            for m in feed.months
        ],
    }


def _document(feeds: list[FeedCoverage], as_of: date) -> dict[str, Any]:
    return {"as_of": as_of.isoformat(), "feeds": [_row(f) for f in feeds]}


@router.get("/coverage.json")
def coverage_json(platform: PlatformDep, actor: ActorDep, as_of: str | None = None) -> JSONResponse:
    day = _as_of(as_of) or date.today()
    document = _document(platform.coverage(actor, day), day)
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


@router.get("/coverage", response_class=HTMLResponse)
def coverage_page(
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ActorDep,
    as_of: str | None = None,
) -> HTMLResponse:
    day = _as_of(as_of) or date.today()
    document = _document(platform.coverage(actor, day), day)
    problems = [
        {**m, "org_code": f["org_code"], "dataset": f["dataset"]}
        for f in document["feeds"]
        for m in f["months"]
        if m["state"] in (MonthState.LATE, MonthState.MISSING)
    ]
    context = {"document": document, "problems": problems, "json_url": "/coverage.json"}
    return renderer.page(request, "coverage.html", context)
