"""CLI output: data to stdout, messages to stderr, `--json` for machines, errors to exit codes."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer

from carehub.errors import CarehubError

P = ParamSpec("P")
R = TypeVar("R")


def message(text: str) -> None:
    typer.echo(text, err=True)


def _default(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, default=_default, indent=2, sort_keys=True))


def handles_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Show a carehub error as a message with its hint and exit with its documented code."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except CarehubError as error:
            message(f"error: {error.message}")
            if error.hint:
                message(f"  hint: {error.hint}")
            raise typer.Exit(error.exit_code) from None

    return wrapper


def one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """An option callback that accepts only ``choices`` and says which they are."""

    def check(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(choices)}")
        return value

    return check


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar on stderr (shown on a terminal only), fed ``(fraction, stage)``."""
    with typer.progressbar(length=100, label=label, file=sys.stderr) as bar:
        shown = 0

        def report(fraction: float, _stage: str) -> None:
            nonlocal shown
            target = round(fraction * 100)
            if target > shown:
                bar.update(target - shown)
                shown = target

        yield report
