"""HMAC-SHA256 signatures of webhook bodies, and the retry backoff.

The signed text is ``"{timestamp}.{body}"``; the header carries both, so that a
receiver can refuse old (replayed) messages:

>>> header = sign(b"secret", b'{"a":1}', timestamp=1_700_000_000)
>>> header.startswith("t=1700000000,v1=")
True
>>> verify(b"secret", b'{"a":1}', header, now=1_700_000_100)
True
"""

from __future__ import annotations

import hashlib
import hmac

#: Header names sent with every delivery.
SIGNATURE_HEADER = "X-Mql-Signature"
ID_HEADER = "X-Mql-Message-Id"
KIND_HEADER = "X-Mql-Kind"
#: A receiver should refuse signatures older than this (five minutes, as is usual).
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The signature header value: ``t=<unix seconds>,v1=<hex>``."""
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def verify(
    secret: bytes,
    body: bytes,
    header: str,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Whether ``header`` is a fresh, valid signature of ``body`` under ``secret``."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, body, timestamp), given)


def backoff_seconds(attempt: int, base: float, ceiling: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): doubling.

    >>> [backoff_seconds(n, 30, 3600) for n in (1, 2, 3, 10)]
    [30.0, 60.0, 120.0, 3600.0]
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1; got {attempt}")
    exponent = min(attempt - 1, 62)
    return float(min(ceiling, base * 2**exponent))
