"""Identity: normalised emails, registered domains, free mail, no network."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from mql.ingest import identity
from mql.ingest.identity import (
    FREE_MAIL_DOMAINS,
    EmailError,
    account_domain,
    normalise_email,
    registered_domain,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ana@lopez-cpa.co.uk", "ana@lopez-cpa.co.uk"),
        ("  Ana@Lopez-CPA.co.uk\t", "ana@lopez-cpa.co.uk"),
        ("ANA@LOPEZ-CPA.CO.UK", "ana@lopez-cpa.co.uk"),
    ],
)
def test_emails_are_trimmed_and_compared_without_case(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["not-an-email", "bad@@x.com", "a@", "a@b.test"])
def test_invalid_emails_say_why(raw: str) -> None:
    with pytest.raises(EmailError, match=r"is not a valid email address"):
        normalise_email(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("partner@mail.lopez-cpa.co.uk", "lopez-cpa.co.uk"),
        ("https://www.harbor-law.com/contact", "harbor-law.com"),
        ("harbor-law.com", "harbor-law.com"),
        ("localhost", None),
    ],
)
def test_registered_domain(value: str, expected: str | None) -> None:
    assert registered_domain(value) == expected


@pytest.mark.parametrize(
    "email", ["x@gmail.com", "x@outlook.com", "x@yahoo.co.uk", "x@proton.me"]
)
def test_free_mail_makes_no_account(email: str) -> None:
    assert account_domain(email) is None


def test_the_free_mail_list_holds_registered_domains() -> None:
    assert all(registered_domain(d) == d for d in FREE_MAIL_DOMAINS)


def test_no_network_is_attempted(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    identity._extractor.cache_clear()
    try:
        assert registered_domain("a@b.audit.example.co.uk") == "example.co.uk"
        extractor = identity._extractor()
    finally:
        identity._extractor.cache_clear()
    assert attempts == []
    assert tuple(extractor.suffix_list_urls) == ()
