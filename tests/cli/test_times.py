"""``--at``: ISO dates mean 00:00 UTC, naive timestamps are UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mql.cli.times import now, parse_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-31", datetime(2024, 3, 31, tzinfo=UTC)),
        ("2024-03-31T17:30", datetime(2024, 3, 31, 17, 30, tzinfo=UTC)),
        ("2024-03-31 17:30:05", datetime(2024, 3, 31, 17, 30, 5, tzinfo=UTC)),
        ("2024-03-31T17:30+02:00", datetime(2024, 3, 31, 15, 30, tzinfo=UTC)),
        ("2024-03-31T17:30:00Z", datetime(2024, 3, 31, 17, 30, tzinfo=UTC)),
        ("2099-12-31", datetime(2099, 12, 31, tzinfo=UTC)),
        (" 1999-01-01 ", datetime(1999, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "31/03/2024", ""])
def test_parse_instant_refuses_other_text(text: str) -> None:
    with pytest.raises(
        ValueError, match=r"is not an ISO date or timestamp; use e\.g\."
    ):
        parse_instant(text)


def test_now_is_aware() -> None:
    assert now().tzinfo is UTC
