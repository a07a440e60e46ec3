from datetime import timedelta

import pytest

from chalicelib.domain.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT5H", timedelta(hours=5)),
        ("PT20S", timedelta(seconds=20)),
        ("P1D", timedelta(days=1)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("P2W", timedelta(weeks=2)),
    ],
)
def test_parses_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5h", "PT", "P", "P1Y", "P1M", "PT0S", "", "PT-5H", "T5H"])
def test_refuses_what_is_not_a_fixed_positive_duration(text):
    with pytest.raises(ValueError):
        parse_duration(text)
