from __future__ import annotations

from datetime import date

import pytest

from carehub.errors import UserError
from carehub.model.periods import Period, PeriodStatus


def test_parse_and_format_round_trip() -> None:
    assert str(Period.parse("2025-04")) == "2025-04"
    assert Period.parse("2024-12").next() == Period(2025, 1)


@pytest.mark.parametrize("text", ["2025-13", "2025-4", "April 2025", "", "2025-00"])
def test_bad_periods_are_refused_with_a_hint(text: str) -> None:
    with pytest.raises(UserError, match="not a reporting period") as caught:
        Period.parse(text)
    assert "yyyy-mm" in caught.value.hint


def test_a_period_is_provisional_until_its_freeze_date() -> None:
    period = Period(2025, 1)  # ends 2025-02-01; frozen 45 days later on 2025-03-18
    assert period.freeze_date(45) == date(2025, 3, 18)
    assert period.status(45, date(2025, 3, 17)) is PeriodStatus.PROVISIONAL
    assert period.status(45, date(2025, 3, 18)) is PeriodStatus.FINAL
