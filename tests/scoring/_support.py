"""Small builders shared by the scoring tests."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

from mql.model import Model, parse_model
from mql.scoring import Event

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
QUARTER_DAYS = 91.3125


def day(n: float) -> datetime:
    """The instant ``n`` days after T0."""
    return T0 + timedelta(days=n)


def ev(event_id: str, event_type: str, n: float, **properties: Any) -> Event:
    """An event ``n`` days after T0."""
    return Event(event_id, event_type, day(n), properties)


def model(text: str) -> Model:
    """A model from indented YAML text."""
    return parse_model(textwrap.dedent(text))


def intent_model(
    rules: str,
    groups: str = "[{id: web}]",
    threshold: float = 50,
    extra: str = "",
) -> Model:
    """A model with the given intent rules (YAML flow list items, one a line)."""
    body = "\n".join(f"  - {line.strip()}" for line in rules.strip().splitlines())
    return parse_model(
        f"name: t\nthreshold: {threshold}\ngroups: {groups}\n{extra}\nintent:\n{body}\n"
    )
