"""The named formats a ``pattern`` check may use and the reference lists a ``reference`` check
may name: fixed lists, so a check pack never carries a free regular expression or a file path.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class NamedPattern(StrEnum):
    """The formats a ``pattern`` rule may name: a fixed list, never a free regular expression."""

    UK_POSTCODE = "uk_postcode"
    ODS_ORGANISATION = "ods_organisation"
    ODS_SITE = "ods_site"
    GP_PRACTICE = "gp_practice"
    SNOMED_CT_ID = "snomed_ct_id"
    ICD10_CODE = "icd10_code"


# Royal Mail postcode format (NHS_ANALYTICS_REFERENCE §7.2), written without the optional space:
# values are upper-cased and their spaces removed first. The NHS pseudo-postcodes (ZZ99 3VZ no
# fixed abode, ZZ99 3WZ not known …; NHS Data Dictionary POSTCODE) are valid too.
_POSTCODE = (
    "GIR0AA"
    "|[A-PR-UWYZ][0-9][0-9]?[0-9][ABD-HJLNP-UW-Z]{2}"
    "|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?[0-9][ABD-HJLNP-UW-Z]{2}"
    "|[A-PR-UWYZ][0-9][A-HJKPSTUW][0-9][ABD-HJLNP-UW-Z]{2}"
    "|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY][0-9][ABD-HJLNP-UW-Z]{2}"
    "|ZZ99[0-9][A-Z0-9]Z"
)


class PatternSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    regex: str  # matched against the whole value
    compact: bool  # upper-case the value and remove its spaces before matching
    description: str


PATTERNS: dict[NamedPattern, PatternSpec] = {
    NamedPattern.UK_POSTCODE: PatternSpec(
        regex=_POSTCODE,
        compact=True,
        description="a UK postcode (Royal Mail format) or an NHS pseudo-postcode (ZZ99 …), "
        "in any case and spacing",
    ),
    NamedPattern.ODS_ORGANISATION: PatternSpec(
        regex="[A-Z0-9]{3,6}",
        compact=False,
        description="an ODS organisation code: 3 to 6 capital letters or digits",
    ),
    NamedPattern.ODS_SITE: PatternSpec(
        regex="[A-Z0-9]{5}",
        compact=False,
        description="an ODS site code: 5 capital letters or digits (e.g. R0A07)",
    ),
    NamedPattern.GP_PRACTICE: PatternSpec(
        regex="[A-Z][0-9]{5}",
        compact=False,
        description="a GP practice ODS code: a letter and 5 digits (e.g. A81001)",
    ),
    NamedPattern.SNOMED_CT_ID: PatternSpec(
        regex="[1-9][0-9]{5,17}",
        compact=False,
        description="a SNOMED CT identifier: 6 to 18 digits, no leading zero",
    ),
    NamedPattern.ICD10_CODE: PatternSpec(
        regex="[A-Z][0-9]{2}(\\.?[0-9A-Z]{1,4})?",
        compact=False,
        description="an ICD-10 code: a letter, two digits, and optionally a point and up to "
        "four more characters (e.g. J44, J44.1)",
    ),
}


class ReferenceList(StrEnum):
    """The reference lists a ``reference`` rule may name (files of the shared reference data;
    ``quality/reference.py`` says where each is read from)."""

    ODS_GP_PRACTICES = "ods_gp_practices"
    ODS_TRUSTS = "ods_trusts"
    POSTCODES = "postcodes"
    LTC_SNOMED_CODES = "ltc_snomed_codes"


REFERENCE_DESCRIPTIONS: dict[ReferenceList, str] = {
    ReferenceList.ODS_GP_PRACTICES: "GP practices and other prescribing cost centres in the ODS "
    "extract epraccur (open or closed)",
    ReferenceList.ODS_TRUSTS: "NHS trusts in the ODS extract etr",
    ReferenceList.POSTCODES: "UK postcodes in the ONS postcode to LSOA lookup, live or "
    "terminated (compared upper-cased, without spaces)",
    ReferenceList.LTC_SNOMED_CODES: "SNOMED CT codes of the long-term condition codelists "
    "(OpenCodelists) the registers are built from",
}
