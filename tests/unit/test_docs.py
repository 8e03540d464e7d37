"""The generated reference pages (docs/reference/) match the code, and the code documents itself."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

import carehub.errors
from carehub.cli.main import app
from carehub.errors import ERROR_CLASSES, CarehubError
from carehub.metrics.registry import all_metrics
from carehub.model.datasets import dataset_names, get_dataset
from carehub.settings import Settings
from carehub.standardise.reasons import REASON_HELP, Reason

REPO = Path(__file__).resolve().parents[2]
REGENERATE = "run `make docs` (python tools/gen_docs.py) and commit the result"


def _load_gen_docs() -> ModuleType:
    path = REPO / "tools" / "gen_docs.py"
    spec = importlib.util.spec_from_file_location("carehub_tools_gen_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen_docs = _load_gen_docs()


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    rendered: dict[str, str] = gen_docs.render_all()
    return rendered


def _page(pages: dict[str, str], name: str) -> str:
    return pages[f"docs/reference/{name}"]


def test_the_generated_pages_on_disk_match_the_code(pages: dict[str, str]) -> None:
    expected = {"README.md", "cli.md", "errors.md", "settings.md", "data-dictionary.md", "kpis.md"}
    assert {Path(path).name for path in pages} == expected
    stale = gen_docs.stale_pages(REPO, pages)
    assert not stale, f"out of date: {', '.join(stale)}; {REGENERATE}"


def test_check_mode_lists_out_of_date_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gen_docs.main(["--root", str(tmp_path)]) == 0
    assert gen_docs.main(["--check", "--root", str(tmp_path)]) == 0
    edited = tmp_path / "docs" / "reference" / "kpis.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    capsys.readouterr()
    assert gen_docs.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "docs/reference/kpis.md" in err and "make docs" in err
    assert "cli.md" not in err


def test_every_command_has_help_and_a_section(pages: dict[str, str]) -> None:
    cli = _page(pages, "cli.md")
    commands = list(gen_docs.iter_commands())
    names = {" ".join(path) for path, _ in commands}
    assert {"carehub init", "carehub submit", "carehub demo", "carehub audit verify"} <= names
    for path, command in commands:
        name = " ".join(path)
        assert (command.help or "").strip(), f"`{name}` has no help text (docstring)"
        if len(path) > 1:
            assert f"\n## {name}\n" in cli, f"`{name}` is missing from cli.md; {REGENERATE}"


def test_every_argument_and_option_is_in_the_cli_page(pages: dict[str, str]) -> None:
    cli = _page(pages, "cli.md")
    for path, command in gen_docs.iter_commands():
        start = cli.index(f"\n## {' '.join(path)}\n") if len(path) > 1 else 0
        section = cli[start : cli.find("\n## ", start + 1)]
        documented = gen_docs.params(command)
        assert len(documented) == len(command.params), f"{path}: a parameter is not documented"
        for param in documented:
            assert f"| {gen_docs.param_name(param)} |" in section, (" ".join(path), param.name)


def test_exit_codes_named_in_help_texts_exist() -> None:
    codes = {cls.exit_code for cls in ERROR_CLASSES}
    for path, command in gen_docs.iter_commands():
        for named in re.findall(r"\bexit (\d+)", command.help or ""):
            assert int(named) in codes, f"`{' '.join(path)}` names exit code {named}"


def test_every_setting_has_a_description(pages: dict[str, str]) -> None:
    settings = _page(pages, "settings.md")
    assert Settings.model_fields
    for name, field in Settings.model_fields.items():
        assert (field.description or "").strip(), f"Settings.{name} has no description"
        assert f"| `CAREHUB_{name.upper()}` |" in settings


def test_every_dataset_field_code_and_rule_is_in_the_data_dictionary(
    pages: dict[str, str],
) -> None:
    dictionary = _page(pages, "data-dictionary.md")
    assert dataset_names()
    for name in dataset_names():
        spec = get_dataset(name)
        assert f"\n## {spec.title} ({spec.name})\n" in dictionary
        for field in spec.fields:
            assert f"| `{field.name}` |" in dictionary, f"{name}.{field.name}"
            assert field.description.strip(), f"{name}.{field.name} has no description"
        for code_set_name, code_set in spec.code_sets.items():
            assert f"\n#### {code_set_name}\n" in dictionary
            for code, meaning in code_set.codes.items():
                assert f"| `{code}` | {meaning} |" in dictionary, f"{code_set_name} {code}"
        for reason in spec.rule_reasons:
            assert f"| `{reason}` |" in dictionary, f"{name}: {reason}"


def test_every_quarantine_reason_has_help() -> None:
    reasons = {str(reason) for reason in Reason}
    reasons |= {reason for n in dataset_names() for reason in get_dataset(n).rule_reasons}
    missing = sorted(reasons - set(REASON_HELP))
    assert not missing, f"reason codes without help text in REASON_HELP: {missing}"


def test_every_kpi_is_in_the_catalogue(pages: dict[str, str]) -> None:
    catalogue = _page(pages, "kpis.md")
    metrics = all_metrics()
    assert metrics
    for metric in metrics:
        assert f"\n## {metric.id}\n" in catalogue
        assert f"**{metric.title}**" in catalogue
        assert metric.description.strip() and metric.source.strip(), metric.id


def test_every_error_class_is_listed_and_has_a_docstring(pages: dict[str, str]) -> None:
    errors = _page(pages, "errors.md")
    defined = {
        value
        for value in vars(carehub.errors).values()
        if isinstance(value, type) and issubclass(value, CarehubError)
    }
    assert defined == set(ERROR_CLASSES), "ERROR_CLASSES must list every error class"
    for cls in ERROR_CLASSES:
        assert (cls.__dict__.get("__doc__") or "").strip(), f"{cls.__name__} has no docstring"
        assert f"| {cls.exit_code} | `{cls.__name__}` |" in errors
        assert 100 <= cls.http_status <= 599, cls.__name__


def test_exit_codes_are_distinct_except_where_documented(pages: dict[str, str]) -> None:
    errors = _page(pages, "errors.md")
    users: dict[int, list[str]] = defaultdict(list)
    users[gen_docs.SUCCESS_EXIT_CODE].append("success")
    users[gen_docs.CLICK_USAGE_EXIT_CODE].append("Click usage error")
    for cls in ERROR_CLASSES:
        users[cls.exit_code].append(cls.__name__)
    shared = {code: names for code, names in users.items() if len(names) > 1}
    assert set(shared) == set(gen_docs.SHARED_EXIT_CODES), f"undocumented shared codes: {shared}"
    for code, heading in gen_docs.SHARED_EXIT_CODES.items():
        assert f"\n## {heading}\n" in errors, f"errors.md does not explain exit code {code}"


def test_a_usage_error_exits_with_the_documented_code() -> None:
    result = CliRunner().invoke(app, ["submit", "--no-such-option"])
    assert result.exit_code == gen_docs.CLICK_USAGE_EXIT_CODE
