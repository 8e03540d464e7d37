"""The transparency page: public, for anyone whose data the partners share. It says in plain
English which agreements are in force, why the data is used and on what legal basis, who shares
it with whom, how much of it (counts or pseudonymised records) and how often it was used each
month. It holds no patient data, so no route here takes an actor, like the data dictionary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from carehub.platform import Platform, TransparencyEntry
from carehub.web.labels import (
    LEVEL_TITLES,
    LEVEL_WORDS,
    PURPOSE_TITLES,
    PURPOSE_WORDS,
    long_date,
    month_name,
)
from carehub.web.pages import PlatformDep, RendererDep

router = APIRouter()
OPT_OUT_URL = "https://www.nhs.uk/your-nhs-data-matters/"  # the national data opt-out service


def _parties(codes: tuple[str, ...], names: dict[str, str]) -> list[dict[str, str]]:
    return [{"code": code, "name": names.get(code, code)} for code in codes]


def entry_document(entry: TransparencyEntry, titles: dict[str, str]) -> dict[str, Any]:
    spec = entry.agreement.spec
    uses = entry.uses_by_month
    return {
        "id": spec.id,
        "title": spec.title,
        "purpose": spec.purpose.value,
        "purpose_title": PURPOSE_TITLES[spec.purpose],
        "purpose_in_words": PURPOSE_WORDS[spec.purpose],
        "purpose_description": spec.purpose_description,
        "legal_basis": spec.legal_basis,
        "providers": _parties(spec.providers, entry.party_names),
        "recipients": _parties(spec.recipients, entry.party_names),
        "datasets": [{"name": g.dataset, "title": titles[g.dataset]} for g in spec.datasets],
        "level": spec.level.value,
        "level_title": LEVEL_TITLES[spec.level],
        "level_in_words": LEVEL_WORDS[spec.level],
        "opt_outs_apply": spec.purpose.secondary_use,
        "starts_on": spec.starts_on.isoformat(),
        "review_on": spec.review_on.isoformat(),
        "ends_on": spec.ends_on.isoformat(),
        "dates_in_words": (
            f"From {long_date(spec.starts_on)} to {long_date(spec.ends_on)}, reviewed by "
            f"{long_date(spec.review_on)}"
        ),
        "uses_by_month": [
            {"month": month, "month_name": month_name(month), "uses": n}
            for month, n in uses.items()
        ],
        "total_uses": sum(uses.values()),
    }


def transparency_document(platform: Platform) -> dict[str, Any]:
    titles = dict(platform.dataset_choices())
    return {
        "today": platform.today().isoformat(),
        "today_in_words": long_date(platform.today()),
        "agreements": [entry_document(e, titles) for e in platform.transparency()],
        "opt_out_url": OPT_OUT_URL,
    }


@router.get("/transparency.json")
def transparency_json(platform: PlatformDep) -> JSONResponse:
    return JSONResponse(transparency_document(platform))


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(
    request: Request, platform: PlatformDep, renderer: RendererDep
) -> HTMLResponse:
    context = {**transparency_document(platform), "json_url": "/transparency.json"}
    return renderer.page(request, "transparency.html", context)
