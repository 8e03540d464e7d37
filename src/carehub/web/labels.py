"""The words the governance pages use for purposes, access levels, agreement states and
requests: short titles for staff, and plain English for the public transparency page."""

from __future__ import annotations

from datetime import date
from typing import Any

from carehub.platform import Level, Purpose, State

PURPOSE_TITLES = {
    Purpose.DIRECT_CARE: "Direct care",
    Purpose.PERFORMANCE_MONITORING: "Performance monitoring",
    Purpose.SERVICE_PLANNING: "Service planning",
    Purpose.POPULATION_HEALTH: "Population health management",
    Purpose.KPI_COMPUTATION: "KPI computation by the hub",
}
PURPOSE_WORDS = {  # completes "Your information is used …" on the transparency page
    Purpose.DIRECT_CARE: "to care for you directly",
    Purpose.PERFORMANCE_MONITORING: "to check how well local health and care services are doing",
    Purpose.SERVICE_PLANNING: "to plan local health and care services",
    Purpose.POPULATION_HEALTH: (
        "to understand the health of the local population and where care could be fairer"
    ),
    Purpose.KPI_COMPUTATION: "to work out the shared measures of how services are doing, once",
}
LEVEL_TITLES = {
    Level.AGGREGATE: "Aggregate",
    Level.PSEUDONYMISED: "Pseudonymised",
    Level.IDENTIFIABLE: "Identifiable",
}
LEVEL_WORDS = {  # what each access level means for a person, on the transparency page
    Level.AGGREGATE: (
        "Only numbers (counts) are shared, never a record about a person. Small numbers are "
        "hidden so that no one can be picked out."
    ),
    Level.PSEUDONYMISED: (
        "Records are shared with your NHS number replaced by a code, and without details that "
        "identify you such as your date of birth or postcode."
    ),
    Level.IDENTIFIABLE: "Records that identify you are shared, only to care for you directly.",
}
STATE_TITLES = {
    State.DRAFT: "Draft",
    State.AWAITING_SIGNATURE: "Awaiting signature",
    State.ACTIVE: "Active",
    State.UNDER_REVIEW: "Under review",
    State.EXPIRED: "Expired",
    State.TERMINATED: "Terminated",
}
STATE_TAGS = {  # NHS tag colours: in force is green, ended is red or orange
    State.DRAFT: "grey",
    State.AWAITING_SIGNATURE: "yellow",
    State.ACTIVE: "green",
    State.UNDER_REVIEW: "blue",
    State.EXPIRED: "orange",
    State.TERMINATED: "red",
}
ROW_SCOPES = {  # DatasetGrant.rows
    "providers": "The rows of every providing organisation",
    "own_organisation": "Each recipient's own rows only",
}
REQUEST_TAGS = {"requested": "yellow", "approved": "green", "refused": "red"}
REQUEST_TITLES = {"requested": "Awaiting a decision", "approved": "Approved", "refused": "Refused"}


def purpose_items(chosen: str | None, empty: str | None = None) -> list[dict[str, Any]]:
    """The options of a purpose select (nhsuk select macro items)."""
    items = [{"value": "", "text": empty}] if empty else []
    return items + [
        {"value": p.value, "text": PURPOSE_TITLES[p], "selected": p.value == chosen}
        for p in Purpose
    ]


LEVEL_CHOICES = {  # the options of an access request, least first
    Level.AGGREGATE: "Aggregate: counts, with small numbers hidden",
    Level.PSEUDONYMISED: "Pseudonymised: rows, with the NHS number replaced by a pseudonym",
    Level.IDENTIFIABLE: "Identifiable: rows with identifying fields, for direct care only",
}


def level_items(chosen: str | None) -> list[dict[str, Any]]:
    """The options of a level radios (nhsuk radios macro items)."""
    return [
        {"value": level.value, "text": text, "checked": level.value == chosen}
        for level, text in LEVEL_CHOICES.items()
    ]


def choice_items(
    choices: list[tuple[str, str]], chosen: str | None, empty: str
) -> list[dict[str, Any]]:
    """Options from (value, text) pairs, after an empty first option."""
    return [{"value": "", "text": empty}] + [
        {"value": value, "text": f"{text} ({value})", "selected": value == chosen}
        for value, text in choices
    ]


def long_date(day: date) -> str:
    """A date as the NHS writes it: 1 July 2025."""
    return f"{day.day} {day:%B %Y}"


def month_name(period: str) -> str:
    """A reporting month as words: '2025-07' is July 2025."""
    year, month = period.split("-")
    return f"{date(int(year), int(month), 1):%B %Y}"
