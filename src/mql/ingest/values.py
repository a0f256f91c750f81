"""Reading one cell: empty markers, numbers, booleans and timestamps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mql.ingest.mapping import Column, Mapping, ValueType

#: Day 0 of Excel's (1900, Windows) serial dates; 1899-12-30 absorbs Excel's
#: fictitious 29 February 1900, so serials from March 1900 on are exact.
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_FORMAT = "excel"

#: Day-first patterns tried when the mapping says ``day_first: true``.
DAY_FIRST_FORMATS = tuple(
    f"%d{sep}%m{sep}{year}{time}"
    for sep in ("/", ".", "-")
    for year in ("%Y", "%y")
    for time in ("", " %H:%M", " %H:%M:%S", " %H.%M")
)

_THOUSANDS = {
    ".": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"),
    ",": re.compile(r"^[+-]?\d{1,3}([. \u00a0\u202f]\d{3})+(,\d+)?$"),
}


class CellError(ValueError):
    """A cell that cannot be read as its field's type; the row goes to quarantine."""


class NaiveTimeError(ValueError):
    """A timestamp without a zone while the mapping declares none."""


@dataclass(frozen=True)
class Reader:
    """Reads cells as a mapping says (empty markers, decimal mark, dates, zone)."""

    mapping: Mapping
    #: Exports repeat the same timestamps (batch sends); each text is parsed once.
    _times: dict[tuple[str, Any], datetime] = field(default_factory=dict, repr=False)

    def is_empty(self, value: Any, column: Column | None = None) -> bool:
        """Whether a cell means "no value" (blank, or a declared empty marker)."""
        if value is None:
            return True
        if not isinstance(value, str):
            return False
        text = value.strip()
        if not text:
            return True
        markers = self.mapping.empty_values + (column.empty_values if column else ())
        return text in markers

    def read(self, value: Any, kind: ValueType, column: Column | None = None) -> Any:
        """The cell as ``kind``, or None when empty; raises CellError if unreadable."""
        if self.is_empty(value, column):
            return None
        if kind == "text":
            return value.strip() if isinstance(value, str) else _plain(value)
        if kind in ("number", "integer"):
            return self.number(value, integer=kind == "integer")
        if kind == "boolean":
            return self.boolean(value)
        fmt = column.format if column and column.format else self.mapping.date_format
        return self.timestamp(value, fmt)

    def number(self, value: Any, integer: bool = False) -> float | int:
        """A number, with the declared decimal mark; thousands separators dropped."""
        if isinstance(value, bool):
            raise CellError(f"expected a number, got {value!r}")
        if isinstance(value, int | float):
            number: float | int = value
        else:
            number = self._parse_number(str(value).strip())
        if integer:
            if float(number) != int(number):
                raise CellError(f"expected a whole number, got {value!r}")
            return int(number)
        return float(number)

    def _parse_number(self, text: str) -> float:
        mark = self.mapping.decimal
        if _THOUSANDS[mark].match(text):
            text = re.sub(
                r"[,. \u00a0\u202f]", lambda m: m[0] if m[0] == mark else "", text
            )
        if mark == ",":
            if "." in text:
                raise CellError(
                    f"expected a number with a decimal comma, got {text!r}; "
                    "set decimal: '.' in the mapping if this file uses points"
                )
            text = text.replace(",", ".")
        try:
            return float(text)
        except ValueError:
            hint = (
                "; set decimal: ',' in the mapping if this file uses decimal commas"
                if mark == "." and "," in text
                else ""
            )
            raise CellError(f"expected a number, got {text!r}{hint}") from None

    def boolean(self, value: Any) -> bool:
        """True or False from the mapping's true_values and false_values."""
        if isinstance(value, bool):
            return value
        text = str(_plain(value)).strip().lower()
        if text in (v.lower() for v in self.mapping.true_values):
            return True
        if text in (v.lower() for v in self.mapping.false_values):
            return False
        raise CellError(
            f"expected yes/no, got {value!r}; add it to true_values or "
            "false_values in the mapping"
        )

    def timestamp(self, value: Any, fmt: str | tuple[str, ...] | None) -> datetime:
        """An aware instant; naive times are read in the mapping's time zone."""
        if isinstance(value, datetime):
            return self._zoned(value, value)
        key = (str(value), fmt)
        cached = self._times.get(key)
        if cached is None:
            cached = self._zoned(self._parse_time(value, fmt), value)
            self._times[key] = cached
        return cached

    def _zoned(self, parsed: datetime, value: Any) -> datetime:
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        if self.mapping.timezone is None:
            raise NaiveTimeError(str(value))
        return parsed.replace(tzinfo=ZoneInfo(self.mapping.timezone)).astimezone(UTC)

    def _parse_time(self, value: Any, fmt: str | tuple[str, ...] | None) -> datetime:
        formats = (fmt,) if isinstance(fmt, str) else fmt
        if formats and EXCEL_FORMAT in formats:
            return _excel(value)
        text = str(value).strip()
        if formats:
            return _strptime(text, formats)
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        if self.mapping.day_first:
            return _strptime(text, DAY_FIRST_FORMATS)
        raise CellError(
            f"cannot read {text!r} as a date and time; ISO 8601 is read as is, "
            "otherwise declare date_format (e.g. '%d/%m/%Y %H:%M'), day_first: true "
            "or date_format: excel in the mapping"
        )


def _strptime(text: str, formats: tuple[str, ...]) -> datetime:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    shown = ", ".join(repr(f) for f in formats[:3])
    more = f" (and {len(formats) - 3} more)" if len(formats) > 3 else ""
    raise CellError(f"{text!r} matches none of the date formats {shown}{more}")


def _excel(value: Any) -> datetime:
    try:
        serial = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise CellError(
            f"expected an Excel serial date (a number), got {value!r}"
        ) from None
    if serial < 1:
        raise CellError(f"Excel serial date {value!r} is before 1900")
    return EXCEL_EPOCH + timedelta(days=serial)


def _plain(value: Any) -> Any:
    """Numpy/pyarrow scalars and the like as plain Python values."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value
