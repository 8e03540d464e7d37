"""Properties worth Hypothesis (STYLE.md): pseudonyms and disclosure control."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from carehub.governance.disclosure import SMALL_NUMBER_THRESHOLD, release_count
from carehub.model.nhs_number import is_valid, normalise
from carehub.store.engines import HmacPads, make_engine

ENGINE = make_engine("duckdb")


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=1, max_size=100), message=st.text(alphabet="0123456789 -", max_size=14)
)
def test_sql_hmac_equals_python_hmac_and_never_returns_its_input(key: bytes, message: str) -> None:
    query = exp.select(ENGINE.hmac_sha256(exp.Literal.string(message), HmacPads.from_key(key)))
    with ENGINE.session() as session:
        digest = bytes(session.rows(query)[0][0])
    assert digest == hmac.new(key, message.encode(), hashlib.sha256).digest()
    assert digest != message.encode() and len(digest) == 32


@given(st.integers(min_value=0, max_value=10**9))
def test_no_released_count_is_between_one_and_the_threshold(count: int) -> None:
    released = release_count(count)
    assert released is None or released == 0 or released > SMALL_NUMBER_THRESHOLD
    assert released is None or released % 5 == 0


@given(st.text(max_size=16))
def test_normalise_returns_ten_digits_or_nothing(text: str) -> None:
    digits = normalise(text)
    assert digits == "" or (len(digits) == 10 and digits.isdigit())
    assert not is_valid(text) or digits
