"""Reading what a form or a query string sent: purposes, levels and dates, with the error a
person can act on, and the error summary of a form that failed."""

from __future__ import annotations

from datetime import date
from typing import Any

from carehub.errors import CarehubError, UserError
from carehub.platform import Level, Purpose

PURPOSES_HINT = "choose one of: " + ", ".join(p.value for p in Purpose)
LEVELS_HINT = "choose one of: " + ", ".join(level.value for level in Level)


def parse_purpose(text: str) -> Purpose:
    try:
        return Purpose(text)
    except ValueError:
        raise UserError(f"{text!r} is not a purpose carehub knows", hint=PURPOSES_HINT) from None


def parse_level(text: str) -> Level:
    try:
        return Level(text)
    except ValueError:
        raise UserError(f"{text!r} is not an access level", hint=LEVELS_HINT) from None


def purpose_or_none(text: str | None) -> Purpose | None:
    return parse_purpose(text) if text else None


def date_from_parts(day: str, month: str, year: str) -> date:
    """A date typed into the three boxes of the NHS date input."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise UserError(
            "the date is not a real date", hint="give the day, month and year as numbers"
        ) from None


def sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter and a full stop."""
    text = text.strip()
    return f"{text[:1].upper()}{text[1:]}" + ("" if text.endswith((".", "?", "!")) else ".")


def error_context(error: CarehubError | None, field: str | None = None) -> dict[str, Any]:
    """The error summary of a page after a refused action: the message, what to do, and a link
    to the form field it is about."""
    if error is None:
        return {"error": None, "error_list": []}
    text = sentence(error.message) + (f" {sentence(error.hint)}" if error.hint else "")
    item = {"text": text, "href": f"#{field}"} if field else {"text": text}
    return {
        "error": {"message": error.message, "hint": error.hint, "field": field},
        "error_list": [item],
    }
