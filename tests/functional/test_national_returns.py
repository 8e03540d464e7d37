"""NHS England's monthly A&E returns through the hub: the provider-level CSVs as published for
June 2024 to June 2025, and the long form of April 2016 to March 2019 (NHSRdatasets).

The files are read from ../shared/data as they are; every expectation is worked out from the files
with the csv module, never typed in, so the tests say what the hub must do with whatever NHS
England published.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from workspaces import ADMIN, make_platform

from carehub.errors import DataContractError
from carehub.model.datasets import FieldType, get_dataset
from carehub.model.mappings import FeedMapping
from carehub.model.yaml_loading import load_model
from carehub.platform import Platform, Receipt
from carehub.store.db import now_utc
from carehub.store.versions import current_versions

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "examples" / "mappings"
NHS_ENGLAND = ("X24", "NHS England")  # ODS code of NHS England, the publisher and sender
MONTHLY = "ae_monthly_return"
MONTHLY_MAPPING = MAPPINGS / "X24_ae_monthly_return.yaml"
# Every file of the folder and the month its rows are for: the names alone do not say it
# reliably ("_copy", "-1-1", "-revised").
FILES = {
    "Monthly-AE-June-2024_copy.csv": "2024-06",
    "Monthly-AE-July-2024-revised.csv": "2024-07",
    "Monthly-AE-August-2024.csv": "2024-08",
    "Monthly-AE-September-2024.csv": "2024-09",
    "Monthly-AE-October-2024-revised.csv": "2024-10",
    "Monthly-AE-November-2024-revised.csv": "2024-11",
    "Monthly-AE-December-2024.csv": "2024-12",
    "Monthly-AE-January-2025.csv": "2025-01",
    "Monthly-AE-February-2025-revised.csv": "2025-02",
    "Monthly-AE-March-2025.csv": "2025-03",
    "Monthly-AE-April-2025.csv": "2025-04",
    "Monthly-AE-May-2025.csv": "2025-05",
    "Monthly-AE-June-2025-1-1.csv": "2025-06",
}
TOTAL_REASON = "TOTAL_ROW:provider_code"
MEASURES = tuple(f.name for f in get_dataset(MONTHLY).fields if f.type is FieldType.INTEGER)


@dataclass(frozen=True)
class SourceFile:
    """What a published file says, read with the csv module."""

    providers: dict[str, tuple[int, ...]]  # ODS code -> the measures, in MEASURES order
    total: tuple[int, ...]  # the England total row
    total_label: str  # how the total row spells its provider code
    total_line: int  # the total row's number among the data rows (1 = first after the header)

    def sums(self) -> tuple[int, ...]:
        return tuple(sum(column) for column in zip(*self.providers.values(), strict=True))


def read_source(path: Path) -> SourceFile:
    mapping = load_model(FeedMapping, MONTHLY_MAPPING.read_text(encoding="utf-8"), "mapping")
    columns = {name: mapping.fields[name].column for name in MEASURES}
    providers: dict[str, tuple[int, ...]] = {}
    totals: list[tuple[int, str, tuple[int, ...]]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=1):
            figures = tuple(int(row[columns[name] or ""]) for name in MEASURES)
            code = row[mapping.fields["provider_code"].column or ""]
            if code.strip().upper() == "TOTAL":
                totals.append((line, code, figures))
            else:
                assert code not in providers, f"{path.name}: {code} twice"
                providers[code] = figures
    [(line, label, total)] = totals
    return SourceFile(providers, total, label, line)


def month_folder(shared_data: Path) -> Path:
    return shared_data / "nhse_ae_monthly_2024_25"


def new_hub(home: Path) -> Platform:
    hub = make_platform(home)
    hub.add_organisation(ADMIN, *NHS_ENGLAND, "national")
    hub.install_mapping(ADMIN, MONTHLY_MAPPING)
    return hub


@dataclass(frozen=True)
class Submitted:
    hub: Platform
    receipts: dict[str, Receipt]

    def parquet(self, name: str, zone: str) -> Path:
        [submission] = [
            s for s in self.hub.submissions(MONTHLY) if s.id == self.receipts[name].submission_id
        ]
        relative = submission.standard_path if zone == "standard" else submission.quarantine_path
        assert relative is not None
        return self.hub.lake.resolve(relative)


@pytest.fixture(scope="module")
def submitted(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Submitted:
    """Every published month submitted once, in file-name order, the period left to the hub."""
    hub = new_hub(tmp_path_factory.mktemp("national") / "home")
    folder = month_folder(shared_data)
    receipts = {
        name: hub.submit(ADMIN, NHS_ENGLAND[0], MONTHLY, folder / name) for name in sorted(FILES)
    }
    return Submitted(hub, receipts)


def test_the_folder_holds_the_thirteen_months_and_nothing_else(shared_data: Path) -> None:
    names = {p.name for p in month_folder(shared_data).glob("Monthly-AE-*.csv")}
    assert names == set(FILES)
    assert sorted(FILES.values()) == [f"2024-{m:02d}" for m in range(6, 13)] + [
        f"2025-{m:02d}" for m in range(1, 7)
    ]


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_month_publishes_its_providers_and_quarantines_the_total(
    submitted: Submitted, shared_data: Path, name: str
) -> None:
    source = read_source(month_folder(shared_data) / name)
    receipt = submitted.receipts[name]
    assert (receipt.period, receipt.state, receipt.duplicate) == (FILES[name], "published", False)
    assert receipt.org_code == NHS_ENGLAND[0] and receipt.superseded is None
    assert receipt.rows_read == len(source.providers) + 1
    assert receipt.rows_published == len(source.providers)
    assert receipt.rows_quarantined == 1
    assert receipt.reasons == {TOTAL_REASON: 1}


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_england_total_row_is_the_one_row_in_quarantine(
    submitted: Submitted, shared_data: Path, name: str
) -> None:
    source = read_source(month_folder(shared_data) / name)
    path = submitted.parquet(name, "quarantine")
    rows = duckdb.sql(f"SELECT source_row, reasons FROM '{path}'").fetchall()
    assert rows == [(source.total_line, TOTAL_REASON)]


def test_every_spelling_of_the_total_row_is_met(shared_data: Path) -> None:
    """Reality plants three spellings; the tests above show each is quarantined as a total."""
    labels = {read_source(month_folder(shared_data) / name).total_label for name in FILES}
    assert labels == {"TOTAL", "Total", "Total "}


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_standard_zone_holds_the_files_figures(
    submitted: Submitted, shared_data: Path, name: str
) -> None:
    source = read_source(month_folder(shared_data) / name)
    path = submitted.parquet(name, "standard")
    columns = ", ".join(f'"{m}"' for m in MEASURES)
    rows = duckdb.sql(f"SELECT provider_code, period_start, {columns} FROM '{path}'").fetchall()
    month_start = datetime.strptime(FILES[name], "%Y-%m")
    assert {row[1] for row in rows} == {month_start}
    assert {row[0]: tuple(row[2:]) for row in rows} == source.providers
    sums = ", ".join(f'sum("{m}")' for m in MEASURES)
    published = tuple(int(v) for v in duckdb.sql(f"SELECT {sums} FROM '{path}'").fetchall()[0])
    # The hub's sums are the file's sums over providers, which are NHS England's own totals.
    assert published == source.sums() == source.total
    assert published[MEASURES.index("attendances_type_1")] > 1_000_000


def test_admissions_above_attendances_are_published_as_reported(
    submitted: Submitted, shared_data: Path
) -> None:
    """Every month some providers report admissions via a department type for which they report
    no attendances; that is not on its own an error of the return, so no row is held back."""
    pairs = [
        (MEASURES.index(f"emergency_admissions_{t}"), MEASURES.index(f"attendances_{t}"))
        for t in ("type_1", "type_2", "other")
    ]
    found = 0
    for name in FILES:
        source = read_source(month_folder(shared_data) / name)
        above = {
            code
            for code, figures in source.providers.items()
            if any(figures[admitted] > figures[attended] for admitted, attended in pairs)
        }
        path = submitted.parquet(name, "standard")
        published = {r[0] for r in duckdb.sql(f"SELECT provider_code FROM '{path}'").fetchall()}
        assert above <= published, name
        found += len(above)
    assert found > 13  # several providers every month


def test_only_september_warns_of_its_nameless_columns(submitted: Submitted) -> None:
    warnings = {name: r.warnings for name, r in submitted.receipts.items() if r.warnings}
    assert warnings == {
        "Monthly-AE-September-2024.csv": ("5 column(s) of line 1 have no name and are ignored",)
    }


def test_a_revised_month_supersedes_the_first_publication(
    tmp_path: Path, shared_data: Path
) -> None:
    """The shared folder holds only the revised July 2024; its first publication is rebuilt here
    as NHS England's usual reason to revise: one provider's late return was missing."""
    revised = month_folder(shared_data) / "Monthly-AE-July-2024-revised.csv"
    lines = revised.read_bytes().splitlines(keepends=True)
    late = read_source(revised).providers
    first_file = tmp_path / "Monthly-AE-July-2024.csv"
    first_file.write_bytes(b"".join(lines[:1] + lines[2:]))  # without the first provider row
    hub = new_hub(tmp_path / "home")

    first = hub.submit(ADMIN, NHS_ENGLAND[0], MONTHLY, first_file)
    between = now_utc()
    time.sleep(0.01)  # the revision is published strictly after `between`
    second = hub.submit(ADMIN, NHS_ENGLAND[0], MONTHLY, revised)
    again = hub.submit(ADMIN, NHS_ENGLAND[0], MONTHLY, revised)

    assert (first.period, second.period) == ("2024-07", "2024-07")
    assert first.rows_published == len(late) - 1
    assert second.superseded == first.submission_id and second.rows_published == len(late)
    assert again.duplicate and again.submission_id == second.submission_id
    states = {s.id: s.state for s in hub.submissions(MONTHLY)}
    assert states == {first.submission_id: "superseded", second.submission_id: "published"}
    with hub.database.session() as session:
        now = current_versions(session, MONTHLY)
        then = current_versions(session, MONTHLY, as_of=between)
    assert [v.submission_id for v in now] == [second.submission_id]
    assert [v.submission_id for v in then] == [first.submission_id]
    path = hub.lake.resolve(now[0].standard_path)
    codes = {r[0] for r in duckdb.sql(f"SELECT provider_code FROM '{path}'").fetchall()}
    assert codes == set(late)


LONG = "ae_attendances"
LONG_MAPPING = MAPPINGS / "X24_ae_attendances.yaml"
QUIRK_MONTH = "2018-10"  # NHSRdatasets README: RTX, 2018-10, type 2: admissions 92 > attendances 74


def long_form_file(shared_data: Path) -> Path:
    return shared_data / "nhsrdatasets" / "ae_attendances.csv"


def split_by_month(source: Path, folder: Path, months: list[str]) -> dict[str, Path]:
    """What a steward does before submitting the package's file: one file per month."""
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    paths = {}
    for month in months:
        path = folder / f"ae_attendances_{month}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(r for r in rows if r[header.index("period")].startswith(month))
        paths[month] = path
    return paths


def long_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def long_hub(tmp_path: Path) -> Platform:
    hub = new_hub(tmp_path / "home")
    hub.install_mapping(ADMIN, LONG_MAPPING)
    return hub


def test_a_file_of_36_months_is_refused_and_publishes_nothing(
    long_hub: Platform, shared_data: Path
) -> None:
    with pytest.raises(DataContractError, match=r"rows span 36 months \(2016-04 to 2019-03\)"):
        long_hub.submit(ADMIN, NHS_ENGLAND[0], LONG, long_form_file(shared_data))
    (refused,) = long_hub.submissions()  # kept as sent and recorded, never published
    assert refused.state == "rejected" and "rows span 36 months" in (refused.error or "")
    assert long_hub.lake.raw_path(refused.sha256).is_file()
    assert not list((long_hub.lake.root / "standard").rglob("*.parquet"))


def test_split_by_month_every_row_is_published_as_reported(
    long_hub: Platform, shared_data: Path, tmp_path: Path
) -> None:
    months = ["2018-09", QUIRK_MONTH, "2018-11"]
    files = split_by_month(long_form_file(shared_data), tmp_path, months)
    for month, path in files.items():
        source = long_rows(path)
        receipt = long_hub.submit(ADMIN, NHS_ENGLAND[0], LONG, path)
        assert (receipt.period, receipt.rows_read) == (month, len(source))
        assert (receipt.rows_published, receipt.rows_quarantined) == (len(source), 0)
        [submission] = [s for s in long_hub.submissions(LONG) if s.id == receipt.submission_id]
        assert submission.standard_path is not None
        parquet = long_hub.lake.resolve(submission.standard_path)
        published = duckdb.sql(
            "SELECT provider_code, department_type, attendances, over_4_hours, "
            f"emergency_admissions FROM '{parquet}'"
        ).fetchall()
        expected = [
            (
                r["org_code"],
                r["type"],
                *(int(float(r[c])) for c in ("attendances", "breaches", "admissions")),
            )
            for r in source
        ]
        assert sorted(published) == sorted(expected)
        above = {(r[0], r[1]) for r in published if r[4] > r[2]}
        assert above == ({("RTX", "2")} if month == QUIRK_MONTH else set())
