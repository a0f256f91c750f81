"""Lifecycle configuration: owners, routing rules, SLA, approval, webhooks.

Validated in one place (pydantic) from YAML, with errors that name the file and line:

>>> parse_config("owners:\\n  - id: ana\\n    capacity: 0\\n", source="x.yaml")
Traceback (most recent call last):
...
mql.errors.LifecycleError: x.yaml:3: owners.0.capacity: Input should be ...
"""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from mql.errors import LifecycleError
from mql.lifecycle.calendar import BusinessCalendar
from mql.model.schema import Condition
from mql.yamlfile import line_of, located, read_file, read_yaml

#: Day names accepted in ``sla.days``, Monday first as in ``date.weekday()``.
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: One working day is a sensible first-response SLA for a professional firm.
DEFAULT_SLA_HOURS = 8.0
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_BASE_SECONDS = 30.0
#: Retries stop growing at one hour apart.
DEFAULT_BACKOFF_MAX_SECONDS = 3600.0
DEFAULT_TIMEOUT_SECONDS = 10.0
#: A claimed delivery is retried by another dispatcher after this long.
DEFAULT_LEASE_SECONDS = 60.0

Path_ = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(_Strict):
    """A person who takes handoffs, with the open handoffs they can hold at once."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.@-]+$")
    name: str | None = None
    email: str | None = None
    capacity: int = Field(default=10, ge=1)
    active: bool = True


class RoutingRule(_Strict):
    """Owners for leads whose attributes match every condition in ``when``.

    Fields are lead attributes (``service_line``, ``country``) or account ones
    (``account.industry``); conditions are those of the scoring model.
    """

    name: str = Field(min_length=1)
    when: dict[str, Condition] = Field(min_length=1)
    owners: tuple[str, ...] = Field(min_length=1)


class Routing(_Strict):
    """Where approved handoffs go."""

    #: The account attribute naming the partner who owns the relationship.
    relationship_owner_field: str = "relationship_owner"
    rules: tuple[RoutingRule, ...] = ()


class Sla(_Strict):
    """How long an owner has to accept or reject, in business hours."""

    hours: float = Field(default=DEFAULT_SLA_HOURS, gt=0)
    timezone: str = "UTC"
    start: time = time(9, 0)
    end: time = time(17, 0)
    days: tuple[str, ...] = DAY_NAMES[:5]
    holidays: tuple[date, ...] = ()
    on_overdue: Literal["reassign", "escalate"] = "reassign"
    escalate_to: str | None = None
    max_reassignments: int = Field(default=2, ge=0)

    @field_validator("days")
    @classmethod
    def _known_days(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [d for d in days if d.lower() not in DAY_NAMES]
        if unknown:
            raise ValueError(f"unknown day names {unknown}; use {', '.join(DAY_NAMES)}")
        return tuple(d.lower() for d in days)

    @model_validator(mode="after")
    def _valid_calendar(self) -> Sla:
        try:
            self.calendar()
        except LifecycleError as exc:
            raise ValueError(str(exc)) from None
        return self

    def calendar(self) -> BusinessCalendar:
        """The business calendar this SLA counts in."""
        return BusinessCalendar(
            timezone=self.timezone,
            start=self.start,
            end=self.end,
            days=frozenset(DAY_NAMES.index(d) for d in self.days),
            holidays=frozenset(self.holidays),
        )


class Approval(_Strict):
    """When a handoff may be approved without a person: off unless ``auto``."""

    auto: bool = False
    min_grade: Literal["A", "B", "C", "D"] = "A"
    min_score: float = 0.0


class Webhook(_Strict):
    """A receiver of outbound messages, signed with HMAC-SHA256."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr | None = None
    secret_env: str | None = None
    kinds: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_secret(self) -> Webhook:
        if (self.secret is None) == (self.secret_env is None):
            raise ValueError(
                "give exactly one of secret or secret_env (the name of an "
                "environment variable holding the secret)"
            )
        return self

    def secret_bytes(self) -> bytes:
        """The signing secret; read from the environment when ``secret_env``."""
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        value = os.environ.get(self.secret_env or "", "")
        if not value:
            raise LifecycleError(
                f"webhook {self.name}: environment variable {self.secret_env} "
                "is not set; export the signing secret before dispatching"
            )
        return value.encode()

    def wants(self, kind: str) -> bool:
        """Whether this receiver takes messages of ``kind`` (all when none listed)."""
        return not self.kinds or kind in self.kinds


class Dispatch(_Strict):
    """Delivery retries: exponential backoff from ``backoff_base_seconds``."""

    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1)
    backoff_base_seconds: float = Field(default=DEFAULT_BACKOFF_BASE_SECONDS, gt=0)
    backoff_max_seconds: float = Field(default=DEFAULT_BACKOFF_MAX_SECONDS, gt=0)
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0)
    lease_seconds: float = Field(default=DEFAULT_LEASE_SECONDS, gt=0)


class LifecycleConfig(_Strict):
    """Everything the lifecycle needs to know about the firm."""

    owners: tuple[Owner, ...] = ()
    routing: Routing = Field(default_factory=Routing)
    sla: Sla = Field(default_factory=Sla)
    approval: Approval = Field(default_factory=Approval)
    webhooks: tuple[Webhook, ...] = ()
    dispatch: Dispatch = Field(default_factory=Dispatch)

    @model_validator(mode="after")
    def _references(self) -> LifecycleConfig:
        problems = reference_problems(self)
        if problems:
            raise ValueError(problems[0][1])
        return self

    def owner(self, owner_id: str) -> Owner | None:
        """The declared owner with this id, if any."""
        return next((o for o in self.owners if o.id == owner_id), None)


def reference_problems(config: LifecycleConfig) -> list[tuple[Path_, str]]:
    """Names that point at nothing (or twice at one thing), each with its path."""
    problems: list[tuple[Path_, str]] = []
    ids = [o.id for o in config.owners]
    problems += [
        (("owners", index, "id"), f"owner id {owner_id!r} is declared twice; keep one")
        for index, owner_id in _repeated(ids)
    ]
    for r, rule in enumerate(config.routing.rules):
        for o, owner_id in enumerate(rule.owners):
            if owner_id not in ids:
                problems.append(
                    (
                        ("routing", "rules", r, "owners", o),
                        f"routing rule {rule.name!r} names unknown owner "
                        f"{owner_id!r}; declare it under owners: (known: {ids})",
                    )
                )
    esc = config.sla.escalate_to
    if esc is not None and esc not in ids:
        problems.append(
            (
                ("sla", "escalate_to"),
                f"{esc!r} is not a declared owner (known: {ids})",
            )
        )
    names = [w.name for w in config.webhooks]
    problems += [
        (
            ("webhooks", index, "name"),
            f"webhook name {name!r} is used twice; names must differ",
        )
        for index, name in _repeated(names)
    ]
    return problems


def _repeated(values: list[str]) -> list[tuple[int, str]]:
    """Each value already given earlier in ``values``, with its index."""
    return [(i, value) for i, value in enumerate(values) if value in values[:i]]


def load_config(path: str | Path) -> LifecycleConfig:
    """Read and validate a lifecycle configuration file."""
    path = Path(path)
    text = read_file(
        path,
        lambda why: LifecycleError(
            f"{path}: cannot read the lifecycle configuration ({why}); check the path"
        ),
    )
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "<string>") -> LifecycleConfig:
    """Validate a lifecycle configuration given as YAML text."""
    document = read_yaml(text, located(LifecycleError, source))
    if document.data is None:
        return LifecycleConfig()
    data, lines = document.data, document.lines
    if not isinstance(data, dict):
        raise LifecycleError(
            f"{source}:{document.root_line}: the configuration must be a "
            "mapping with owners, routing, sla, approval, webhooks, dispatch"
        )
    try:
        return LifecycleConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, lines, source, data) from None


def _reference_path(data: Any) -> Path_ | None:
    """The path of the first broken reference, read again without checking them."""
    try:
        unchecked = LifecycleConfig.model_construct(
            **{
                name: _section(name, value)
                for name, value in data.items()
                if name in LifecycleConfig.model_fields
            }
        )
        problems = reference_problems(unchecked)
    except (ValidationError, TypeError, AttributeError):
        return None
    return problems[0][0] if problems else None


def _section(name: str, value: Any) -> Any:
    """One section of the configuration, validated on its own."""
    annotation = LifecycleConfig.model_fields[name].annotation
    if annotation is None:
        return value
    return TypeAdapter(annotation).validate_python(value)


def _config_error(
    exc: ValidationError, lines: dict[Path_, int], source: str, data: Any
) -> LifecycleError:
    """The first validation problem, at the deepest line known for its path."""
    first = exc.errors()[0]
    loc = tuple("in" if part == "in_" else part for part in first["loc"])
    if not loc:  # a reference between sections: find where it is written
        loc = _reference_path(data) or loc
    line = line_of(lines, loc)
    field = ".".join(str(p) for p in loc) or "configuration"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key; check the spelling against docs/lifecycle.md"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    where = f"{source}:{line}" if line is not None else source
    return LifecycleError(f"{where}: {field}: {message}{suffix}")
