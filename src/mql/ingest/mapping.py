"""Mapping files: which source column feeds which field, and how values are read.

A mapping is YAML, validated here with pydantic; errors name the file and line.
See docs/import.md for every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mql.errors import InputError
from mql.yamlfile import line_of, located, read_file, read_yaml

Kind = Literal["leads", "events"]
ValueType = Literal["text", "number", "integer", "boolean", "datetime"]

#: The fields a leads file can fill, with the type each is read as.
LEAD_FIELDS: dict[str, ValueType] = {
    "email": "text",
    "external_id": "text",
    "first_source": "text",
    "referral_source": "text",
    "converted": "boolean",
    "converted_at": "datetime",
    "created_at": "datetime",
    "do_not_email": "boolean",
    "opted_out": "boolean",
    "account_domain": "text",
    "account_external_id": "text",
    "account_name": "text",
}

#: The fields an events file can fill.
EVENT_FIELDS: dict[str, ValueType] = {
    "email": "text",
    "external_id": "text",
    "event_id": "text",
    "type": "text",
    "at": "datetime",
}

#: Header names recognised without a mapping (compared lower-case, "_" for spaces).
DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "email_address", "e-mail_address"),
    "external_id": ("external_id", "lead_id", "contact_id"),
    "first_source": ("first_source", "source", "lead_source"),
    "referral_source": ("referral_source", "referred_by", "referrer"),
    "converted": ("converted",),
    "converted_at": ("converted_at",),
    "created_at": ("created_at", "created"),
    "do_not_email": ("do_not_email",),
    "opted_out": ("opted_out", "unsubscribed"),
    "account_domain": ("account_domain", "website", "company_domain"),
    "account_external_id": ("account_external_id", "account_id", "company_id"),
    "account_name": ("account_name", "company", "company_name"),
    "event_id": ("event_id",),
    "type": ("type", "event_type", "event"),
    "at": ("at", "timestamp", "occurred_at", "time"),
}

DEFAULT_TRUE = ("true", "yes", "y", "1", "t")
DEFAULT_FALSE = ("false", "no", "n", "0", "f")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    """One source column and how to read it."""

    column: str = Field(min_length=1)
    type: ValueType | None = None
    #: strptime pattern(s) for datetimes, or ``excel`` for Excel serial day numbers.
    format: str | tuple[str, ...] | None = None
    #: Extra values that mean "empty" in this column only.
    empty_values: tuple[str, ...] = ()


def _column(value: Any) -> Any:
    return {"column": value} if isinstance(value, str) else value


class Mapping(_Strict):
    """How one export is read: format, text, values and column mapping."""

    kind: Kind | None = None
    format: Literal["csv", "tsv", "jsonl", "parquet"] | None = None
    encoding: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    timezone: str | None = None
    date_format: str | tuple[str, ...] | None = None
    day_first: bool = False
    decimal: Literal[".", ","] = "."
    empty_values: tuple[str, ...] = ()
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    fields: dict[str, Column] = Field(default_factory=dict)
    extra: dict[str, Column] = Field(default_factory=dict)
    keep_other_columns: bool = True
    #: Events: the source columns whose raw text identifies an event (when the
    #: file has no event id); default: every cell of the row (docs/import.md).
    event_key: tuple[str, ...] | None = Field(default=None, min_length=1)

    @field_validator("fields", "extra", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _column(spec) for key, spec in value.items()}
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as "
                "'UTC', 'Europe/London' or 'America/New_York'"
            ) from None
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"unknown encoding {value!r}; use e.g. utf-8, cp1252, latin-1"
            ) from None
        return value

    def check_fields(self, kind: Kind, source: str) -> None:
        """Refuse field names that ``kind`` files do not have."""
        known = LEAD_FIELDS if kind == "leads" else EVENT_FIELDS
        if self.kind is not None and self.kind != kind:
            raise InputError(
                f"{source}: this mapping is for {self.kind} files but is used to "
                f"import {kind}; use `mql import {self.kind}` or another mapping"
            )
        if kind == "leads" and self.event_key is not None:
            raise InputError(
                f"{source}: event_key: is for events files; remove it from a "
                "mapping used to import leads"
            )
        unknown = sorted(set(self.fields) - set(known))
        if unknown:
            raise InputError(
                f"{source}: unknown field(s) {unknown} under fields: for {kind}; "
                f"known fields are {sorted(known)} (put anything else under extra:)"
            )


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file.

    >>> load_mapping("no/such/mapping.yaml")
    Traceback (most recent call last):
    ...
    mql.errors.InputError: no/such/mapping.yaml: cannot read the mapping file ...
    """
    path = Path(path)
    text = read_file(
        path,
        lambda why: InputError(
            f"{path}: cannot read the mapping file ({why}); check the path"
        ),
    )
    return parse_mapping(text, source=str(path))


def parse_mapping(text: str, source: str = "<string>") -> Mapping:
    """Validate a mapping given as YAML text.

    >>> parse_mapping("timezone: Mars/Base\\n")
    Traceback (most recent call last):
    ...
    mql.errors.InputError: <string>:1: timezone: unknown time zone 'Mars/Base'; ...
    """
    document = read_yaml(text, located(InputError, source))
    if document.data is None:
        return Mapping()
    data, lines = document.data, document.lines
    if not isinstance(data, dict):
        raise InputError(
            f"{source}:{document.root_line}: a mapping file must be a YAML "
            "mapping with keys such as fields:, timezone:, date_format:"
        )
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise _mapping_error(exc, lines, source) from None


def _mapping_error(
    exc: ValidationError, lines: dict[Any, int], source: str
) -> InputError:
    first = exc.errors()[0]
    loc = tuple(first["loc"])
    line = line_of(lines, loc)
    # Union members add their own names to the location; keep the YAML keys only.
    field = (
        ".".join(str(p) for p in loc if str(p) in _yaml_keys(loc, lines)) or "mapping"
    )
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key; see docs/import.md for the keys a mapping may have"
    where = f"{source}:{line}" if line is not None else source
    return InputError(f"{where}: {field}: {message}")


def _yaml_keys(loc: tuple[Any, ...], lines: dict[Any, int]) -> set[str]:
    return {str(loc[i - 1]) for i in range(1, len(loc) + 1) if loc[:i] in lines}
