"""HMAC signatures with a timestamp, and exponential backoff."""

from __future__ import annotations

import pytest

from mql.lifecycle.signing import backoff_seconds, sign, verify

BODY = b'{"id":"m1"}'


def test_a_signature_verifies_and_binds_body_secret_and_time() -> None:
    header = sign(b"k", BODY, timestamp=1000)
    assert verify(b"k", BODY, header, now=1010)
    assert not verify(b"other", BODY, header, now=1010)
    assert not verify(b"k", BODY + b" ", header, now=1010)
    assert not verify(b"k", BODY, header.replace("t=1000", "t=1001"), now=1010)
    assert not verify(b"k", BODY, header, now=1000 + 301)  # too old: a replay
    assert not verify(b"k", BODY, "garbage", now=1000)


def test_backoff_doubles_up_to_the_ceiling() -> None:
    assert [backoff_seconds(n, 1, 10) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    with pytest.raises(ValueError, match="attempt counts from 1; got 0"):
        backoff_seconds(0, 1, 10)
