"""What a move must carry: BANT for SQL, value and close date for an opportunity.

>>> from datetime import date
>>> Bant.parse(
...     {"budget": 25000, "authority": "CFO", "need": "tax restructuring",
...      "timeline": "2027-03-31"}, today=date(2026, 12, 4)).timeline
datetime.date(2027, 3, 31)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mql.errors import LifecycleError

#: A decision further out than this is a nurture topic, not a sales timeline.
MAX_TIMELINE_DAYS = 3 * 365
#: Shortest text that can say who decides or what is needed.
MIN_TEXT = 2
CURRENCY_PATTERN = r"^[A-Z]{3}$"


class _Details(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("currency", mode="before", check_fields=False)
    @classmethod
    def _upper_currency(cls, value: Any) -> Any:
        """Currency codes are upper case: ``eur`` is read as ``EUR``."""
        return value.strip().upper() if isinstance(value, str) else value


T = TypeVar("T", bound=_Details)


class Bant(_Details):
    """Budget, authority, need and timeline confirmed in a sales conversation."""

    budget: Decimal = Field(gt=0)
    currency: str = Field(default="USD", pattern=CURRENCY_PATTERN)
    authority: str = Field(min_length=MIN_TEXT)
    need: str = Field(min_length=MIN_TEXT)
    timeline: date

    @classmethod
    def parse(cls, data: dict[str, Any], today: date) -> Bant:
        """Validate BANT; the timeline must lie between ``today`` and three years on."""
        bant = _validate(cls, data, "BANT")
        _check_future(bant.timeline, today, "timeline")
        return bant


class Opportunity(_Details):
    """An opportunity's value and expected close."""

    value: Decimal = Field(gt=0)
    currency: str = Field(default="USD", pattern=CURRENCY_PATTERN)
    expected_close: date

    @classmethod
    def parse(cls, data: dict[str, Any], today: date) -> Opportunity:
        """Validate an opportunity; the expected close must not be in the past."""
        opportunity = _validate(cls, data, "opportunity")
        _check_future(opportunity.expected_close, today, "expected_close")
        return opportunity


def _validate(cls: type[T], data: dict[str, Any], what: str) -> T:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or what}: "
            f"{err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        )
        raise LifecycleError(f"{what} is not valid: {problems}") from None


def _check_future(day: date, today: date, field: str) -> None:
    if day < today:
        raise LifecycleError(
            f"{field} {day.isoformat()} is before today ({today.isoformat()}); "
            "give the date it is expected"
        )
    if (day - today).days > MAX_TIMELINE_DAYS:
        raise LifecycleError(
            f"{field} {day.isoformat()} is more than {MAX_TIMELINE_DAYS} days away; "
            "a decision that far out is nurture, not a sales timeline"
        )
