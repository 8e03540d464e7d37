"""Where each named reference list of ``reference`` checks is read from: files of the shared
reference data folder (``Settings.shared_data``, by default ../shared/data), scanned by the engine
in the query itself, so a list of 2.7 million postcodes is never held in Python.

A list whose files are missing cannot be checked against: the check is recorded as ``error`` with
the path, and the other checks still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlglot import exp

from carehub.model.check_formats import ReferenceList
from carehub.quality.compile import CODE, CheckCannotRun
from carehub.store.engines import Engine

ODS_COLUMNS = 27  # the standard ODS extract layout (epraccur, etr): no header, code first
OPENSAFELY_CODE_COLUMN = "code"


@dataclass(frozen=True)
class ReferenceSource:
    files: tuple[str, ...]  # relative to the shared reference data folder
    format: Literal["ods_csv", "codelist_csv", "parquet"]
    column: str = CODE  # the column holding the codes (Parquet and codelists)
    compact: bool = False  # compare upper-cased and without spaces (postcodes)


# The long-term condition codelists the registers are built from (the same OpenCodelists files as
# the synthetic ICS's GP registers).
LTC_CODELISTS = (
    "winter-pressures-phase-II/nhsd-primary-care-domain-refsets-hyp_cod.csv",
    "winter-pressures-phase-II/nhsd-primary-care-domain-refsets-dm_cod.csv",
    "winter-pressures-phase-II/nhsd-primary-care-domain-refsets-ast_cod.csv",
    "winter-pressures-phase-II/nhsd-primary-care-domain-refsets-copd_cod.csv",
    "post-covid-vaccinated/user-elsie_horne-ami_snomed.csv",
    "post-covid-vaccinated/user-elsie_horne-hf_snomed.csv",
    "post-covid-vaccinated/user-elsie_horne-ckd_snomed.csv",
    "post-covid-vaccinated/user-elsie_horne-dementia_snomed.csv",
)

SOURCES: dict[ReferenceList, ReferenceSource] = {
    ReferenceList.ODS_GP_PRACTICES: ReferenceSource(("ods/epraccur.csv",), "ods_csv"),
    ReferenceList.ODS_TRUSTS: ReferenceSource(("ods/etr.csv",), "ods_csv"),
    ReferenceList.POSTCODES: ReferenceSource(
        ("postcode_lsoa/pcd_oa_lsoa_msoa_lad_may22_uk.parquet",), "parquet", "pcds", compact=True
    ),
    ReferenceList.LTC_SNOMED_CODES: ReferenceSource(
        tuple(f"opensafely_codelists/{name}" for name in LTC_CODELISTS),
        "codelist_csv",
        OPENSAFELY_CODE_COLUMN,
    ),
}


class ReferenceData:
    """The reference lists under one shared data folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def relation(self, name: ReferenceList, engine: Engine) -> tuple[exp.Expr, bool]:
        """A relation with one text column ``code``, and whether codes compare compacted.
        CheckCannotRun names the missing file."""
        source = SOURCES[name]
        paths = [self.root / file for file in source.files]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise CheckCannotRun(
                f"reference list {name} is not available: {missing[0]} is missing (set "
                "CAREHUB_SHARED_DATA to the shared reference data folder)"
            )
        parts = [self._scan(source, path, engine) for path in paths]
        relation: exp.Query = parts[0]
        for part in parts[1:]:
            relation = exp.union(relation, part, distinct=False)
        return relation.subquery(f"reference_{name}"), source.compact

    @staticmethod
    def _scan(source: ReferenceSource, path: Path, engine: Engine) -> exp.Select:
        if source.format == "parquet":
            scan = engine.scan_parquet([path])
            column = exp.column(source.column, quoted=True)
        elif source.format == "ods_csv":
            names = [CODE, *(f"column{i}" for i in range(2, ODS_COLUMNS + 1))]
            scan = engine.scan_csv(
                path, delimiter=",", encoding="utf-8", columns=names, header=False
            )
            column = exp.column(CODE, quoted=True)
        else:
            scan = engine.scan_csv(path, delimiter=",", encoding="utf-8")
            column = exp.column(source.column, quoted=True)
        return exp.select(column.as_(CODE, quoted=True)).from_(scan)
