"""The data explorer: what the signed-in user may do with each dataset and, for a purpose they
choose, a preview of the rows they may read (with a CSV download of them all) and the counts by
organisation and month after disclosure control.

Every read goes through the platform's governed reader, which decides, restricts and audits it;
a refusal says why and which agreement would be needed, on the page and in its JSON twin."""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from carehub.errors import PolicyDenied, UserError
from carehub.platform import AccessLine, Actor, Level, Platform, Purpose, Role, RowsResult
from carehub.web.access import line_document
from carehub.web.api import counts_document
from carehub.web.forms import PURPOSES_HINT, purpose_or_none
from carehub.web.labels import PURPOSE_TITLES, purpose_items
from carehub.web.pages import ActorDep, PlatformDep, RendererDep

router = APIRouter()
PREVIEW_ROWS = 50  # rows shown on the page; the CSV download has them all
COUNT_BY = ("org_code", "period")


def lake_reader(actor: ActorDep) -> Actor:
    """Submitters send files and never read the lake (the policy refuses every read of theirs):
    the explorer is not for them."""
    if actor.role is Role.SUBMITTER:
        raise PolicyDenied(
            "provider submitters send data and see their own submissions; they do not read "
            "the data of the hub",
            hint="an analyst of your organisation can read it under your agreements",
        )
    return actor


ReaderDep = Annotated[Actor, Depends(lake_reader)]


def data_url(dataset: str, purpose: Purpose | str | None = None, suffix: str = "") -> str:
    return f"/data/{dataset}{suffix}" + (f"?purpose={purpose}" if purpose else "")


def purpose_summaries(lines: list[AccessLine]) -> list[dict[str, Any]]:
    """Per purpose, the most the user may do (lines come least level first), or the refusal of
    the least."""
    out = []
    for purpose in Purpose:
        mine = [line for line in lines if line.purpose is purpose]
        allowed = [line for line in mine if line.decision.allowed]
        shown = allowed[-1] if allowed else mine[0]
        out.append(
            {
                **line_document(shown),
                "rows_allowed": any(line.level is not Level.AGGREGATE for line in allowed),
            }
        )
    return out


def rows_document(result: RowsResult, export_url: str) -> dict[str, Any]:
    return {
        "agreements": list(result.decision.agreements),
        "organisations": sorted(result.decision.orgs),
        "columns": list(result.columns),
        "rows": [list(row) for row in result.rows],
        "more": result.more,
        "export_url": export_url,
    }


def explore(
    platform: Platform, actor: Actor, dataset: str, purpose: Purpose | None
) -> tuple[dict[str, Any], int]:
    """The explorer's document for a dataset, and its HTTP status (403 if the read for the
    chosen purpose was refused)."""
    spec = platform.dataset_spec(dataset)
    lines = platform.explain_access(actor, actor.username, dataset)
    summaries = purpose_summaries(lines)
    document: dict[str, Any] = {
        "dataset": {"name": spec.name, "title": spec.title},
        "purpose": purpose.value if purpose else None,
        "purposes": summaries,
        "access": [line_document(line) for line in lines],
        "rows": None,
        "counts": None,
        "refusal": None,
    }
    if purpose is None:
        return document, 200
    chosen = next(s for s in summaries if s["purpose"] == purpose)
    try:
        if chosen["rows_allowed"]:
            result = platform.read_rows(actor, purpose, dataset, limit=PREVIEW_ROWS)
            export_url = data_url(dataset, purpose, "/export.csv")
            document["rows"] = rows_document(result, export_url)
        released = platform.read_counts(actor, purpose, dataset, COUNT_BY)
        grid = [list(line) for line in released.table.grid()]  # "*": suppressed
        document["counts"] = {**counts_document(released), "grid": grid}
    except PolicyDenied as refusal:
        document["refusal"] = {
            "message": refusal.message,
            "hint": refusal.hint,
            "reason": chosen["reason"],
            "needed": chosen["needed"],
            "request_url": f"/access/requests/new?dataset={dataset}&purpose={purpose}",
        }
        return document, refusal.http_status
    return document, 200


def datasets_document(platform: Platform, actor: Actor) -> dict[str, Any]:
    lines = platform.explain_access(actor, actor.username)
    titles = dict(platform.dataset_choices())
    datasets = []
    for name, title in titles.items():
        summaries = purpose_summaries([line for line in lines if line.dataset == name])
        datasets.append(
            {
                "name": name,
                "title": title,
                "url": data_url(name),
                "access": [s for s in summaries if s["allowed"]],
            }
        )
    return {"username": actor.username, "datasets": datasets}


@router.get("/data.json")
def data_json(platform: PlatformDep, actor: ReaderDep) -> JSONResponse:
    return JSONResponse(datasets_document(platform, actor))


@router.get("/data", response_class=HTMLResponse)
def data_page(
    request: Request, platform: PlatformDep, renderer: RendererDep, actor: ReaderDep
) -> HTMLResponse:
    context = {**datasets_document(platform, actor), "json_url": "/data.json"}
    return renderer.page(request, "data.html", context)


@router.get("/data/{dataset}.json")
def dataset_json(
    dataset: str, platform: PlatformDep, actor: ReaderDep, purpose: str | None = None
) -> JSONResponse:
    document, status = explore(platform, actor, dataset, purpose_or_none(purpose))
    return JSONResponse(document, status_code=status)


def csv_text(columns: tuple[str, ...], batches: Iterator[list[tuple[Any, ...]]]) -> Iterator[str]:
    """The export as CSV text, a batch at a time; closing it early still ends (and audits) the
    export with the rows that left."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    try:
        writer.writerow(columns)
        for batch in batches:
            writer.writerows(batch)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
    finally:
        if isinstance(batches, Generator):
            batches.close()


@router.get("/data/{dataset}/export.csv")
def export_csv(
    dataset: str, platform: PlatformDep, actor: ReaderDep, purpose: str | None = None
) -> StreamingResponse:
    chosen = purpose_or_none(purpose)
    if chosen is None:
        raise UserError("say what the export is for", hint=f"add ?purpose=…; {PURPOSES_HINT}")
    name = platform.dataset_spec(dataset).name  # a known name: safe in the header below
    columns, batches = platform.export_rows(actor, chosen, name)
    return StreamingResponse(
        csv_text(columns, batches),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{chosen}.csv"'},
    )


@router.get("/data/{dataset}", response_class=HTMLResponse)
def dataset_page(
    dataset: str,
    request: Request,
    platform: PlatformDep,
    renderer: RendererDep,
    actor: ReaderDep,
    purpose: str | None = None,
) -> HTMLResponse:
    chosen = purpose_or_none(purpose)
    document, status = explore(platform, actor, dataset, chosen)
    counts = document["counts"]
    context = {
        "document": document,
        "purpose_items": purpose_items(purpose, "Choose a purpose"),
        "chosen_title": PURPOSE_TITLES[chosen] if chosen else None,
        # months down the page, organisations across: a month per line reads better
        "counts_grid": [list(line) for line in zip(*counts["grid"], strict=True)] if counts else [],
        "json_url": data_url(dataset, chosen, ".json"),
    }
    return renderer.page(request, "data_dataset.html", context, status_code=status)
