"""The data dictionary: every dataset of the common data model, field by field, with its code sets
and the rules that send a row to quarantine. Each page has a JSON twin.

The pages are public, on purpose. They hold reference information from the packaged dataset
specifications, never patient data or anything of the workspace; a data provider mapping a feed
needs them before it has an account, and the transparency the hub promises its partners starts
with saying openly what it collects and what it rejects. So no route here takes an actor.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from carehub.platform import DatasetSpec, Platform, RowRule
from carehub.web.pages import PlatformDep, RendererDep

router = APIRouter()

FIELD_TYPES = {  # the words a data provider would use, as in docs/reference/data-dictionary.md
    "string": "text",
    "code": "code",
    "integer": "whole number",
    "decimal": "number",
    "timestamp": "date and time",
    "nhs_number": "NHS number",
}
# The first sentence: up to a full stop followed by a space and a capital (so "e.g. a" goes on).
FIRST_SENTENCE = re.compile(r"^(.+?[.!?])\s+(?=[A-Z])", re.DOTALL)


def dataset_url(name: str) -> str:
    return f"/dictionary/{name}"


def code_set_anchor(name: str) -> str:
    return f"code-set-{name}"


def first_sentence(text: str) -> str:
    match = FIRST_SENTENCE.match(text)
    return match.group(1) if match else text


def reporting(spec: DatasetSpec) -> str:
    if spec.period_field:
        return f"Monthly: each row belongs to the month of its {spec.period_field}"
    return "Snapshot: the rows belong to the month the file is submitted for"


def freeze(spec: DatasetSpec) -> str:
    if spec.freeze_after_days == 0:
        return "A month's figures are final as soon as the month ends"
    return (
        f"A month's figures are provisional until {spec.freeze_after_days} days after the month "
        "ends, and final from then on"
    )


def value_range(minimum: int | None, maximum: int | None) -> str | None:
    if minimum is not None and maximum is not None:
        return f"{minimum} to {maximum}"
    if minimum is not None:
        return f"at least {minimum}"
    return f"at most {maximum}" if maximum is not None else None


def rule_text(rule: RowRule) -> str:
    """The rule in plain words (the field names are the dataset's)."""
    if rule.kind == "sequence":
        earlier, later = rule.fields
        return f"{earlier} must not be after {later}, when both are given."
    if rule.kind == "count":
        part, whole = rule.fields
        return f"{part} must not be more than {whole}, when both are given."
    labels = " or ".join(rule.labels)
    return (
        f"A row whose {rule.fields[0]} reads {labels} (in any case, spaces around it ignored) is "
        "a total of other rows, not data: it is quarantined with this reason alone."
    )


def dataset_summary(spec: DatasetSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "summary": first_sentence(spec.description),
        "snapshot": spec.period_field is None,
        "period_field": spec.period_field,
        "reporting": reporting(spec),
        "field_count": len(spec.fields),
        "required_field_count": len(spec.required_fields),
        "freeze_after_days": spec.freeze_after_days,
        "freeze": freeze(spec),
        "url": dataset_url(spec.name),
        "json_url": f"{dataset_url(spec.name)}.json",
    }


def dataset_document(platform: Platform, name: str) -> dict[str, Any]:
    """The JSON twin of a dataset's page: the specification as in its YAML file (so it reads
    back as one), plus the facts and rules in words that the page shows."""
    spec = platform.dataset_spec(name)
    rules = [
        {**dataclasses.asdict(rule), "text": rule_text(rule)} for rule in platform.row_rules(name)
    ]
    return {
        **spec.model_dump(mode="json"),
        **dataset_summary(spec),
        "rules": rules,
        "quarantine_reasons_url": "/dictionary#quarantine-reasons",
    }


def list_document(platform: Platform) -> dict[str, Any]:
    """The datasets, the checks on each field (every dataset has them) and the reason codes of
    datasets' own rules, each with the datasets that have it."""
    specs = platform.dataset_specs()
    meanings = platform.quarantine_reasons()
    users: dict[str, list[str]] = {}
    for spec in specs:
        for reason in spec.rule_reasons:
            users.setdefault(reason, []).append(spec.name)
    return {
        "datasets": [dataset_summary(spec) for spec in specs],
        "field_checks": [
            {"code": code, "meaning": meanings.get(code, "")}
            for code in platform.field_check_reasons()
        ],
        "rule_reasons": [
            {"code": code, "meaning": meanings.get(code, ""), "datasets": names}
            for code, names in sorted(users.items())
        ],
    }


def page_context(document: dict[str, Any]) -> dict[str, Any]:
    """What the dataset page needs beyond its JSON twin: rows for its tables and contents."""
    used_by: dict[str, list[str]] = {}
    for field in document["fields"]:
        if field["code_set"]:
            used_by.setdefault(field["code_set"], []).append(field["name"])
    code_sets = [
        {"name": name, "anchor": code_set_anchor(name), "used_by": used_by.get(name, []), **spec}
        for name, spec in document["code_sets"].items()
    ]
    fields = [
        {
            **field,
            "type_text": FIELD_TYPES[field["type"]],
            "range": value_range(field["minimum"], field["maximum"]),
            "code_set_anchor": code_set_anchor(field["code_set"]) if field["code_set"] else None,
        }
        for field in document["fields"]
    ]
    contents = [
        {"href": "#fields", "text": "Fields"},
        {"href": "#row-rules", "text": "Rules across fields"},
        {
            "href": "#code-sets",
            "text": "Code sets",
            "items": [{"href": f"#{c['anchor']}", "text": c["name"]} for c in code_sets],
        },
    ]
    return {"dataset": document, "fields": fields, "code_sets": code_sets, "contents": contents}


@router.get("/dictionary.json")
def dictionary_json(platform: PlatformDep) -> JSONResponse:
    return JSONResponse(list_document(platform))


@router.get("/dictionary", response_class=HTMLResponse)
def dictionary_page(request: Request, platform: PlatformDep, renderer: RendererDep) -> HTMLResponse:
    context = {**list_document(platform), "json_url": "/dictionary.json"}
    return renderer.page(request, "dictionary.html", context)


@router.get("/dictionary/{name}.json")
def dataset_json(name: str, platform: PlatformDep) -> JSONResponse:
    return JSONResponse(dataset_document(platform, name))


@router.get("/dictionary/{name}", response_class=HTMLResponse)
def dataset_page(
    name: str, request: Request, platform: PlatformDep, renderer: RendererDep
) -> HTMLResponse:
    context = page_context(dataset_document(platform, name))
    return renderer.page(request, "dictionary_dataset.html", context)
