"""Every date format a draft may propose is read by each engine exactly as the drafter read it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sqlglot import exp

from carehub.standardise.draft_values import CANDIDATE_FORMATS, guess_format
from carehub.store.engines import Engine

MOMENTS = [
    datetime(2025, 1, 2, 3, 4, 5),
    datetime(2024, 12, 31, 23, 59, 59),
    datetime(1999, 7, 9, 0, 0, 0),
    datetime(2025, 4, 13, 12, 30, 0),
]


@pytest.mark.parametrize("fmt", [None, *CANDIDATE_FORMATS], ids=str)
def test_the_engine_reads_a_proposed_format_as_the_drafter_did(
    engine: Engine, fmt: str | None
) -> None:
    texts = [m.isoformat(sep=" ") if fmt is None else m.strftime(fmt) for m in MOMENTS]
    if fmt is not None and "/%m/%Y" in fmt:
        texts.append(MOMENTS[0].strftime(fmt).lstrip("0"))  # 2/01/2025: no leading zero
    guess = guess_format(Counter(texts))
    assert guess.share == 1.0
    assert guess.format == fmt or guess.ambiguous_with == fmt or fmt is None
    expected = [
        datetime.fromisoformat(t) if fmt is None else datetime.strptime(t, fmt) for t in texts
    ]
    query = exp.select(*(engine.try_timestamp(exp.Literal.string(t), guess.format) for t in texts))
    with engine.session() as session:
        assert list(session.rows(query)[0]) == expected
