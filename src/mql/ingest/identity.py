"""Who a row is about: normalised emails, registered domains, free-mail domains."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import tldextract
from email_validator import EmailNotValidError, validate_email

#: Consumer mailbox providers: their domains say nothing about an employer, so a
#: lead's email at one of them does not make an account. Drawn from the providers'
#: own published domain lists (Google, Microsoft, Yahoo, Apple, AOL, GMX/web.de,
#: Proton, Zoho, Yandex, Mail.ru, Fastmail, Tuta, HEY) and the largest regional
#: ones; compared on the registered domain.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.co.in",
        "ymail.com",
        "rocketmail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "fastmail.com",
        "tutanota.com",
        "tuta.io",
        "hey.com",
        "qq.com",
        "163.com",
        "naver.com",
        "rediffmail.com",
        "libero.it",
        "orange.fr",
        "t-online.de",
        "btinternet.com",
        "comcast.net",
    }
)


class EmailError(ValueError):
    """An email address that is not valid; the row goes to quarantine."""


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # The suffix list bundled with tldextract; no download, no cache on disk.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def normalise_email(value: str) -> str:
    """The address trimmed and lower-cased, checked for syntax (not deliverability).

    >>> normalise_email("  Ada.Lovelace@Example.COM ")
    'ada.lovelace@example.com'
    """
    text = value.strip()
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise EmailError(f"{text!r} is not a valid email address: {exc}") from None
    return checked.normalized.lower()


def registered_domain(host_or_url: str) -> str | None:
    """The registered domain (``example.co.uk``) of a host, URL or email address.

    >>> registered_domain("https://www.audit.example.co.uk/contact")
    'example.co.uk'
    >>> registered_domain("partner@mail.example.com")
    'example.com'
    """
    text = host_or_url.strip().lower()
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    if "://" in text:
        text = urlsplit(text).hostname or ""
    parts = _extractor()(text)
    if not parts.domain or not parts.suffix:
        return None
    return f"{parts.domain}.{parts.suffix}"


def account_domain(email: str) -> str | None:
    """The domain an email's account is matched on, or None for free mail."""
    domain = registered_domain(email)
    if domain is None or domain in FREE_MAIL_DOMAINS:
        return None
    return domain
