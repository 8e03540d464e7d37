"""How well a partner's column name matches a field of the common data model.

Names are split into words (``DTADateTime`` → DTA, Date, Time; ``Patient NHS No`` → patient,
NHS, number), abbreviations common in NHS extracts are expanded, words are reduced to a stem
(admission and admitted both become "admit") and the word sets are compared. A small table of
names NHS files often use for a field (``SYNONYMS``) catches what word overlap cannot ("Seen",
"Left", "Gender").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from carehub.model.datasets import FieldSpec

SAME_NAME = 1.0  # the column is the field's name, spelt differently (NHSNumber, nhs_number)
SYNONYM = 0.95  # the column is a name NHS files commonly use for the field
PREFIX = 0.8  # the field's name starts with the column's (HbA1c, hba1c_mmol_mol)
DATA_DICTIONARY_WEIGHT = 0.95  # words of the NHS Data Dictionary element name
DESCRIPTION_WEIGHT = 0.5  # words of the field's description: weak evidence
MIN_PREFIX_CHARS = 4
GENERIC_WEIGHT = 0.5  # words such as "date" or "code" say little on their own

GENERIC_WORDS = frozenset({"date", "time", "code", "id", "number", "type", "name", "value"})
STOP_WORDS = frozenset(
    {"a", "an", "and", "at", "by", "for", "in", "is", "of", "on", "or", "per", "the", "to", "with"}
)
# Abbreviations and other spellings seen in NHS extracts -> the words they stand for.
WORD_EQUIVALENTS: dict[str, tuple[str, ...]] = {
    "no": ("number",),
    "num": ("number",),
    "nbr": ("number",),
    "nr": ("number",),
    "ref": ("id",),
    "reference": ("id",),
    "identifier": ("id",),
    "dept": ("department",),
    "dest": ("destination",),
    "dt": ("date", "time"),
    "datetime": ("date", "time"),
    "timestamp": ("date", "time"),
    "dttm": ("date", "time"),
    "dte": ("date",),
    "tm": ("time",),
    "ga": ("general", "acute"),
    "cc": ("critical", "care"),
    "dta": ("decision", "admit"),
    "dob": ("date", "birth"),
    "gender": ("sex",),
    "hosp": ("hospital",),
    "org": ("organisation",),
    "organization": ("organisation",),
    "pt": ("patient",),
    "yrs": ("year",),
    "yr": ("year",),
    "cat": ("category",),
    "amb": ("ambulance",),
    "inc": ("incident",),
    "diag": ("diagnosis",),
    "dx": ("diagnosis",),
    "disch": ("discharge",),
    "adm": ("admit",),
    "sct": ("snomed",),
    "wk": ("week",),
}
# Word forms the suffix rule below would not bring together.
STEMS = {
    "admission": "admit",
    "admissions": "admit",
    "admitted": "admit",
    "registration": "register",
    "registered": "register",
    "response": "respond",
    "responded": "respond",
    "arrived": "arrive",
    "arrival": "arrive",
    "departure": "depart",
    "departed": "depart",
}
SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ures", "ure", "ed", "es", "s", "e")
# Names NHS files commonly give a field (by field name, in any dataset that has the field).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "nhs_number": ("nhs no", "nhs num", "patient nhs number", "new nhs number", "nhsno"),
    "attendance_id": ("attendance ref", "attendance number", "ref", "ae attendance number"),
    "arrival_at": ("arrival", "arrival date time", "arrival time", "time of arrival", "arrived"),
    "initial_assessment_at": ("seen", "time seen", "triage time", "assessment time"),
    "departed_at": ("left", "departure", "time left", "departure time", "left department"),
    "department_type": ("dept type", "ae type", "ae department type"),
    "arrival_mode": ("mode of arrival", "arrival method", "conveyance"),
    "chief_complaint": ("presenting complaint", "complaint", "reason for attendance"),
    "decision_to_admit_at": ("dta", "dta time", "decision to admit", "decision to admit time"),
    "acuity": ("triage category", "triage", "priority"),
    "age_years": ("age", "age at arrival", "age on admission", "age at call", "age in years"),
    "sex": ("gender", "stated gender", "person stated gender"),
    "discharge_destination": ("outcome", "disposal", "discharge dest", "destination"),
    "site_code": ("site", "hospital", "hospital site", "provider site", "site of treatment"),
    "birth_date": ("dob", "date of birth", "birthdate"),
    "postcode": ("post code", "patient postcode"),
    "practice_code": ("practice", "gp practice", "registered practice", "gp code"),
    "registered_on": ("registration date", "date registered", "date of registration"),
    "spell_id": ("spell number", "spell ref", "spell", "provider spell number"),
    "admission_method": ("method of admission", "admimeth"),
    "admitted_at": ("admission date", "admission date time", "date of admission", "admitted"),
    "discharged_at": ("discharge date", "discharge date time", "date of discharge", "discharged"),
    "primary_diagnosis": ("diagnosis", "main diagnosis", "primary diagnosis code", "diag 01"),
    "incident_id": ("incident ref", "incident number", "incident", "cad ref", "cad number"),
    "call_at": ("call connect", "call connected", "call date time", "call time", "clock start"),
    "called_at": ("call date time", "call time", "call answered", "call start"),
    "category": ("arp category", "response category", "call category"),
    "responded_at": ("response", "arrived at scene", "at scene", "first arrival"),
    "hospital_arrival_at": ("arrived at hospital", "at hospital", "hospital arrival"),
    "handover_at": ("handover", "handover time", "patient handover"),
    "week_ending": ("week end", "week end date", "w e"),
    "reported_on": ("date", "report date", "reporting date", "sitrep date"),
    "event_on": ("date", "event date"),
    "call_id": ("call ref", "call number"),
    "clinical_input": ("clinician involved", "clinical contact"),
}


@dataclass(frozen=True)
class NameMatch:
    score: float
    evidence: str  # says which evidence, never a value


def words(name: str) -> list[str]:
    """The lower-case words of a name: split at case changes, digits glued to their word."""
    name = re.sub(r"(?i)\bA\s*&\s*E\b", "AE", name)  # A&E is one word
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z0-9]+", name)
    return [p.lower() for p in parts]


def stem(word: str) -> str:
    if word in STEMS:
        return STEMS[word]
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_PREFIX_CHARS:
            return word[: -len(suffix)]
    return word


@cache
def tokens(name: str) -> frozenset[str]:
    """The stems of a name's words, abbreviations expanded and stop words left out."""
    expanded = [e for w in words(name) for e in WORD_EQUIVALENTS.get(w, (w,))]
    return frozenset(stem(w) for w in expanded if w not in STOP_WORDS)


def field_tokens(field_name: str) -> frozenset[str]:
    """A field name's words; the suffixes ``_at`` and ``_on`` mean a date and time, and a date."""
    base, _, suffix = field_name.rpartition("_")
    if base and suffix == "at":
        return tokens(base) | {"date", "time"}
    if base and suffix == "on":
        return tokens(base) | {"date"}
    return tokens(field_name)


def compact(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _weight(word: str) -> float:
    return GENERIC_WEIGHT if word in GENERIC_WORDS else 1.0


def dice(left: frozenset[str], right: frozenset[str]) -> float:
    """Weighted Dice overlap of two word sets, 0 to 1."""
    total = sum(map(_weight, left)) + sum(map(_weight, right))
    return 2 * sum(map(_weight, left & right)) / total if total else 0.0


def _description_overlap(column: frozenset[str], description: str) -> float:
    specific = {w for w in column if w not in GENERIC_WORDS}
    if not specific:
        return 0.0
    described = tokens(description)
    return len(specific & described) / len(specific)


def name_match(column: str, field: FieldSpec) -> NameMatch:
    """The best evidence that ``column`` names ``field``, 0 when there is none."""
    column_compact, field_compact = compact(column), compact(field.name)
    if column_compact and column_compact == field_compact:
        return NameMatch(SAME_NAME, "same name as the field")
    column_words = tokens(column)
    if column_words and column_words in {tokens(s) for s in SYNONYMS.get(field.name, ())}:
        return NameMatch(SYNONYM, "a name NHS files commonly use for this field")
    matches = [NameMatch(dice(column_words, field_tokens(field.name)), "words of the field name")]
    if field.data_dictionary_name:
        overlap = dice(column_words, tokens(field.data_dictionary_name))
        matches.append(
            NameMatch(
                DATA_DICTIONARY_WEIGHT * overlap,
                f"words of the NHS Data Dictionary name {field.data_dictionary_name}",
            )
        )
    # the field's name adds a qualifier the column leaves out (HbA1c, hba1c_mmol_mol)
    if len(column_compact) >= MIN_PREFIX_CHARS and field_compact.startswith(column_compact):
        matches.append(NameMatch(PREFIX, "the field's name starts with the column's"))
    matches.append(
        NameMatch(
            DESCRIPTION_WEIGHT * _description_overlap(column_words, field.description),
            "words of the field's description",
        )
    )
    return max(matches, key=lambda m: m.score)
