"""The spec suite runs every behaviour on every engine; their results must be identical."""

from __future__ import annotations

import pytest

from carehub.store.engines import Engine, make_engine

ENGINES = ["duckdb"]  # Spark joins when its engine lands (ARCHITECTURE.md §5)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return make_engine(request.param)
