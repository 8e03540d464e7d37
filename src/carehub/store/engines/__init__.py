"""Query engines: one protocol, one module per engine. Dialect-sensitive SQL lives only here."""

from __future__ import annotations

from pathlib import Path

from carehub.errors import ConfigurationError
from carehub.store.engines.base import Engine, EngineSession, HmacPads
from carehub.store.engines.duckdb import DuckDBEngine

__all__ = ["Engine", "EngineSession", "HmacPads", "make_engine"]


def make_engine(name: str, spill: Path | None = None) -> Engine:
    """The named engine; ``spill`` is a folder for what a large ingest does not keep in memory."""
    if name == "duckdb":
        return DuckDBEngine(spill)
    raise ConfigurationError(f"unknown engine {name!r}", hint="set CAREHUB_ENGINE=duckdb")
