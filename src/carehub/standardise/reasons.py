"""Reason codes of quarantined rows. A reason names a rule and a field, never a value."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    MISSING_VALUE = "MISSING_VALUE"
    INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
    NOT_AN_INTEGER = "NOT_AN_INTEGER"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    UNKNOWN_CODE = "UNKNOWN_CODE"
    NHS_NUMBER_INVALID = "NHS_NUMBER_INVALID"
    OUTSIDE_PERIOD = "OUTSIDE_PERIOD"


REASON_HELP: dict[str, str] = {
    Reason.MISSING_VALUE: "a required field is empty: fill it in at source",
    Reason.INVALID_TIMESTAMP: "the date and time does not match the agreed format",
    Reason.NOT_AN_INTEGER: "the value is not a whole number",
    Reason.NOT_A_NUMBER: "the value is not a number (write decimals with a point, no separators)",
    Reason.OUT_OF_RANGE: "the number is outside the plausible range of the field",
    Reason.UNKNOWN_CODE: "the code is not in the field's code set (or the feed's translation)",
    Reason.NHS_NUMBER_INVALID: (
        "the NHS number is not 10 digits ending in a valid Modulus 11 check digit"
    ),
    Reason.OUTSIDE_PERIOD: "the row's date falls outside the period the file was submitted for",
    "DEPARTURE_BEFORE_ARRIVAL": "the departure time is before the arrival time",
    "ASSESSMENT_BEFORE_ARRIVAL": "the initial assessment is before the arrival time",
    "ASSESSMENT_AFTER_DEPARTURE": "the initial assessment is after the departure time",
    "DECISION_BEFORE_ARRIVAL": "the decision to admit is before the arrival time",
    "DECISION_AFTER_DEPARTURE": "the decision to admit is after the departure time",
    "DISCHARGE_BEFORE_ADMISSION": "the discharge is before the admission",
    "REGISTERED_BEFORE_BIRTH": "the registration date is before the date of birth",
    "RESPONSE_BEFORE_CALL": "the response is before the call",
    "ARRIVAL_BEFORE_RESPONSE": "the arrival at hospital is before the response",
    "HANDOVER_BEFORE_ARRIVAL": "the handover is before the arrival at hospital",
    "OVER_4_HOURS_ABOVE_ATTENDANCES": (
        "more attendances over four hours than attendances of the same department type"
    ),
    "BOOKED_OVER_4_HOURS_ABOVE_BOOKED": (
        "more booked appointments over four hours than booked appointments of the same type"
    ),
    "TOTAL_ROW": (
        "the row is a total of other rows (such as England), not one organisation's figures; "
        "the hub sums the rows itself, so totals are never counted twice"
    ),
}


def help_for(reason: str) -> str:
    """The help text of a reason as a receipt names it (``CODE:field``)."""
    return REASON_HELP.get(reason.partition(":")[0], "")
