"""How an MQL list compares with the real outcome: share, recall, precision, lift."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Comparison:
    """Counts of contacts, converters and MQLs, and the figures made from them.

    >>> c = compare([(True, True), (True, False), (False, True), (False, False)])
    >>> (c.mql_share, c.caught_share, c.precision, c.lift)
    (0.5, 0.5, 0.5, 1.0)
    """

    contacts: int
    converters: int
    mqls: int
    caught: int

    @property
    def base_rate(self) -> float:
        """Share of all contacts that converted."""
        return _ratio(self.converters, self.contacts)

    @property
    def mql_share(self) -> float:
        """Share of all contacts that were MQLs."""
        return _ratio(self.mqls, self.contacts)

    @property
    def caught_share(self) -> float:
        """Share of the converters that were MQLs (recall)."""
        return _ratio(self.caught, self.converters)

    @property
    def precision(self) -> float:
        """Share of the MQLs that converted."""
        return _ratio(self.caught, self.mqls)

    @property
    def lift(self) -> float:
        """How many times the base rate the MQLs converted at."""
        base = self.base_rate
        return self.precision / base if base else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Counts and figures as plain JSON types."""
        return {
            "contacts": self.contacts,
            "converters": self.converters,
            "mqls": self.mqls,
            "converters_caught": self.caught,
            "base_rate": self.base_rate,
            "mql_share": self.mql_share,
            "caught_share": self.caught_share,
            "precision": self.precision,
            "lift": self.lift,
        }


def compare(pairs: Iterable[tuple[bool, bool]]) -> Comparison:
    """Compare ``(is_mql, converted)`` pairs, one per contact."""
    contacts = converters = mqls = caught = 0
    for is_mql, converted in pairs:
        contacts += 1
        converters += converted
        mqls += is_mql
        caught += is_mql and converted
    return Comparison(contacts, converters, mqls, caught)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
