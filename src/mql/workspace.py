"""The library layer the CLI and service call: open, import, score, explain.

Imports bring every touched lead's stored scoring state up to date (when a model
is given); scores at any instant come from the stored state where it is exact
(the instant is at or after the state's last read) and from a replay of the
stored events otherwise.

>>> from mql.model import parse_model
>>> store = open_workspace("sqlite://")
>>> model = parse_model("name: t\\nthreshold: 50\\n")
>>> mqls(store, model)
[]
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from mql.errors import InputError, LateEventError
from mql.ingest import importer
from mql.ingest.identity import normalise_email, registered_domain
from mql.ingest.importer import ImportReport, ProgressCallback
from mql.ingest.mapping import Mapping
from mql.ingest.quarantine import QuarantineRow, clear_quarantine, list_quarantine
from mql.model.schema import Model
from mql.scoring import (
    Event,
    Explanation,
    LeadState,
    Score,
    apply_event,
    explain,
    read,
    replay,
    score,
    with_attributes,
)
from mql.store import reads
from mql.store.reads import ACCOUNT_PREFIX, EventRow, LeadInput
from mql.store.store import Store, open_store

logger = logging.getLogger(__name__)

__all__ = [
    "ImportReport",
    "LeadExplanation",
    "LeadScoreRow",
    "MissingAttribute",
    "MissingEventRead",
    "QuarantineRow",
    "clear_quarantine",
    "explain_lead",
    "import_events",
    "import_leads",
    "list_quarantine",
    "missing_attributes",
    "missing_event_reads",
    "model_fingerprint",
    "mqls",
    "open_workspace",
    "refresh_scores",
    "rescore",
    "scores",
]

#: The stored read of a lead without activity: its score does not move with time,
#: so a read at any instant holds for every instant.
NO_ACTIVITY_AS_OF = datetime(1970, 1, 1, tzinfo=UTC)
#: Prefix of an explicit internal lead id in a lead reference ("id:42").
INTERNAL_ID_PREFIX = "id:"


@dataclass(frozen=True)
class LeadScoreRow:
    """One lead's score at an instant, with the stable JSON field names."""

    lead: int
    email: str | None
    external_id: str | None
    account: str | None
    score: float
    fit: float
    intent: float
    grade: str
    mql: bool
    mql_until: datetime | None
    disqualified_reason: str | None
    last_activity: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON types (instants as ISO 8601 text)."""
        return {
            "lead": self.lead,
            "email": self.email,
            "external_id": self.external_id,
            "account": self.account,
            "score": self.score,
            "fit": self.fit,
            "intent": self.intent,
            "grade": self.grade,
            "mql": self.mql,
            "mql_until": _iso(self.mql_until),
            "disqualified_reason": self.disqualified_reason,
            "last_activity": _iso(self.last_activity),
        }


@dataclass(frozen=True)
class LeadExplanation:
    """A lead's score row and every contribution to it."""

    lead: LeadScoreRow
    explanation: Explanation

    def to_dict(self) -> dict[str, Any]:
        """The explanation as plain JSON types."""
        return {"lead": self.lead.to_dict(), **self.explanation.to_dict()}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def model_fingerprint(model: Model) -> str:
    """A hash of everything in the model, so stored states of another model are
    recognised as stale."""
    body = json.dumps(
        model.model_dump(mode="json", by_alias=True),
        sort_keys=True,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def open_workspace(url: str | None = None) -> Store:
    """Open the store at ``url`` (default: settings), migrated to the newest
    revision."""
    return open_store(url)


# -- import then score ---------------------------------------------------------------


def import_leads(
    store: Store,
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
    model: Model | None = None,
) -> ImportReport:
    """Import a leads file; with a model, the touched leads are rescored."""
    report = importer.import_leads(store, path, mapping, strict, progress)
    _after_import(store, report, model, run_id=None)
    return report


def import_events(
    store: Store,
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
    model: Model | None = None,
) -> ImportReport:
    """Import an events file; with a model, the touched leads are rescored."""
    report = importer.import_events(store, path, mapping, strict, progress)
    _after_import(store, report, model, run_id=report.run_id)
    return report


def _after_import(
    store: Store, report: ImportReport, model: Model | None, run_id: int | None
) -> None:
    if not report.touched_leads:
        return
    if model is None:
        # Without a model the stored states of these leads are out of date:
        # drop them so that the next read replays the leads' events.
        with store.begin() as conn:
            reads.forget_scores(conn, report.touched_leads)
        return
    refresh_scores(store, model, report.touched_leads, run_id=run_id)


def refresh_scores(
    store: Store,
    model: Model,
    lead_ids: Collection[int],
    run_id: int | None = None,
) -> int:
    """Bring these leads' stored states up to date; returns how many were written.

    A lead whose state was computed with this model takes the new events of import
    run ``run_id`` incrementally (``apply_event``); a late event, another model or
    no state at all means a replay of the lead's stored events.
    """
    started = time.perf_counter()
    fingerprint = model_fingerprint(model)
    with store.begin() as conn:
        inputs = _load_leads(conn, lead_ids)
        stored = reads.load_scores(conn, fingerprint, lead_ids)
        fresh = reads.load_events(conn, lead_ids, run_id=run_id) if run_id else {}
        states: dict[int, LeadState] = {}
        for lead_id, lead in inputs.items():
            state = _advance(model, stored.get(lead_id), lead, fresh.get(lead_id, []))
            if state is not None:
                states[lead_id] = state
        missing = [i for i in inputs if i not in states]
        history = reads.load_events(conn, missing) if missing else {}
        for lead_id in missing:
            states[lead_id] = _replay(model, inputs[lead_id], history.get(lead_id, []))
        rows = [_score_row(model, fingerprint, i, s) for i, s in states.items()]
        reads.save_scores(conn, rows)
    logger.debug(
        "refreshed %d lead scores in %.2fs", len(rows), time.perf_counter() - started
    )
    return len(rows)


def _advance(
    model: Model,
    stored: reads.StoredScore | None,
    lead: LeadInput,
    new_events: list[EventRow],
) -> LeadState | None:
    """The stored state moved forward by new events, or None if a replay is due."""
    if stored is None:
        return None
    state = with_attributes(model, LeadState.from_json(stored.state), lead.attributes)
    try:
        for row in new_events:
            state = apply_event(model, state, _event(row))
    except LateEventError:
        return None
    return state


def _replay(model: Model, lead: LeadInput, history: list[EventRow]) -> LeadState:
    return replay(model, lead.attributes, [_event(row) for row in history])


def _event(row: EventRow) -> Event:
    return Event(row.key, row.type, row.at, row.properties)


def _score_row(
    model: Model, fingerprint: str, lead_id: int, state: LeadState
) -> dict[str, Any]:
    """The lead_scores row: the state read at its last activity, its highest point
    until the next event, so that "MQL at T" for any T after it is a range query
    on (mql, mql_until)."""
    last = state.last_activity
    as_of = last if last is not None else NO_ACTIVITY_AS_OF
    result = read(model, state, as_of)
    return {
        "lead_id": lead_id,
        "fit": result.fit,
        "grade": result.grade,
        "group_values": dict(result.groups),
        "last_activity": last,
        "score": result.score,
        "as_of": as_of,
        "mql": result.mql,
        "mql_until": result.mql_until,
        "disqualified_reason": result.disqualified_reason,
        "state": state.to_json(),
        "model_fingerprint": fingerprint,
        "updated_at": datetime.now(UTC),
    }


def rescore(store: Store, model: Model, at: datetime | None = None) -> int:
    """Replay every lead from its stored events and store its state (the per-lead
    reference path); returns the number of leads scored.

    A stored state holds the lead's whole history and is read at its last
    activity, so it serves every later instant: ``at`` (checked to be aware) does
    not change what is stored.
    """
    started = time.perf_counter()
    _aware(at)
    fingerprint = model_fingerprint(model)
    with store.begin() as conn:
        inputs = _load_leads(conn)
        history = reads.load_events(conn)
        rows = [
            _score_row(
                model,
                fingerprint,
                lead_id,
                _replay(model, lead, history.get(lead_id, [])),
            )
            for lead_id, lead in inputs.items()
        ]
        reads.save_scores(conn, rows, replace_all=True)
    logger.info(
        "rescored %d leads with model %s in %.2fs",
        len(rows),
        model.name,
        time.perf_counter() - started,
    )
    return len(rows)


# -- reading scores -------------------------------------------------------------------


def scores(
    store: Store, model: Model, at: datetime | None = None
) -> list[LeadScoreRow]:
    """Every lead's score at ``at`` (default now), best first."""
    instant = _aware(at)
    fingerprint = model_fingerprint(model)
    with store.engine.connect() as conn:
        inputs = _load_leads(conn)
        readable = reads.current_ids(conn, fingerprint, instant)
        rows = _read_stored(conn, model, fingerprint, inputs, readable, instant)
        others = [i for i in inputs if i not in readable]
        rows += _read_replayed(conn, model, inputs, others, instant)
    return _ranked(rows)


def mqls(
    store: Store, model: Model, at: datetime | None = None, limit: int | None = None
) -> list[LeadScoreRow]:
    """The leads that are MQLs at ``at`` (default now), best first.

    Leads whose stored state was read at or before ``at`` come from the index on
    (mql, mql_until); the others are replayed from their events up to ``at``.
    """
    instant = _aware(at)
    fingerprint = model_fingerprint(model)
    with store.engine.connect() as conn:
        readable = reads.current_ids(conn, fingerprint, instant)
        candidates = reads.mql_candidates(conn, fingerprint, instant)
        others = set(reads.lead_ids(conn)) - readable
        inputs = _load_leads(conn, [*candidates, *others])
        rows = _read_stored(conn, model, fingerprint, inputs, candidates, instant)
        rows += _read_replayed(conn, model, inputs, sorted(others), instant)
    ranked = _ranked([row for row in rows if row.mql])
    return ranked[:limit] if limit is not None else ranked


def _read_stored(
    conn: Any,
    model: Model,
    fingerprint: str,
    inputs: dict[int, LeadInput],
    ids: Collection[int],
    at: datetime,
) -> list[LeadScoreRow]:
    stored = reads.load_scores(conn, fingerprint, ids)
    return [
        _row(inputs[i], read(model, LeadState.from_json(s.state), at))
        for i, s in stored.items()
        if i in inputs
    ]


def _read_replayed(
    conn: Any,
    model: Model,
    inputs: dict[int, LeadInput],
    ids: list[int],
    at: datetime,
) -> list[LeadScoreRow]:
    if not ids:
        return []
    history = reads.load_events(conn, ids, until=at)
    return [
        _row(
            inputs[i],
            score(model, inputs[i].attributes, map(_event, history.get(i, [])), at),
        )
        for i in ids
    ]


def _row(lead: LeadInput, result: Score) -> LeadScoreRow:
    return LeadScoreRow(
        lead=lead.id,
        email=lead.email,
        external_id=lead.external_id,
        account=lead.account,
        score=result.score,
        fit=result.fit,
        intent=result.intent,
        grade=result.grade,
        mql=result.mql,
        mql_until=result.mql_until,
        disqualified_reason=result.disqualified_reason,
        last_activity=result.last_activity,
    )


#: Scores are ranked at this many decimals, so that leads tied at a cap do not
#: swap places on float rounding between the stored and the replayed path.
RANK_DECIMALS = 9


def _ranked(rows: list[LeadScoreRow]) -> list[LeadScoreRow]:
    return sorted(rows, key=lambda r: (-round(r.score, RANK_DECIMALS), r.lead))


def explain_lead(
    store: Store, model: Model, lead_ref: str, at: datetime | None = None
) -> LeadExplanation:
    """Why a lead (email, external id, or ``id:N``) has its score at ``at``."""
    instant = _aware(at)
    with store.engine.connect() as conn:
        lead_id = _find_lead(conn, lead_ref)
        lead = _load_leads(conn, [lead_id])[lead_id]
        history = reads.load_events(conn, [lead_id], until=instant).get(lead_id, [])
    explained = explain(model, lead.attributes, map(_event, history), instant)
    return LeadExplanation(lead=_row(lead, explained.score), explanation=explained)


def _find_lead(conn: Any, ref: str) -> int:
    """The internal id of the lead an email, external id or ``id:N`` names."""
    import sqlalchemy as sa

    from mql.store.tables import leads

    text = ref.strip()
    if "@" in text:
        try:
            query = sa.select(leads.c.id).where(leads.c.email == normalise_email(text))
        except ValueError:
            query = sa.select(leads.c.id).where(leads.c.external_id == text)
    elif text.startswith(INTERNAL_ID_PREFIX) and text[3:].isdigit():
        query = sa.select(leads.c.id).where(leads.c.id == int(text[3:]))
    else:
        query = sa.select(leads.c.id).where(leads.c.external_id == text)
    found = conn.execute(query).scalar()
    if found is None and text.isdigit():
        found = conn.execute(
            sa.select(leads.c.id).where(leads.c.id == int(text))
        ).scalar()
    if found is None:
        raise InputError(
            f"no lead {ref!r}: give an email, an external id, or id:N for the "
            "internal number (see `mql score`)"
        )
    return int(found)


def _aware(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        raise InputError(
            f"the instant {at.isoformat()} has no time zone; give one, e.g. "
            "2025-03-31T09:00+00:00"
        )
    return at


def _load_leads(conn: Any, ids: Collection[int] | None = None) -> dict[int, LeadInput]:
    return reads.load_leads(conn, ids, email_domain=registered_domain)


# -- attributes the model reads but no lead has ------------------------------------

#: Near matches named per missing attribute.
MAX_NEAR_MATCHES = 3
#: The least rapidfuzz similarity (0-100) for a stored name to be a near match.
NEAR_MATCH_SCORE = 80.0


@dataclass(frozen=True)
class MissingAttribute:
    """An attribute that fit rules or disqualifiers read but that no lead has."""

    name: str
    rules: tuple[str, ...]
    near: tuple[str, ...]

    @property
    def message(self) -> str:
        """One line saying what is missing and which mapping line would fix it."""
        rules = ", ".join(self.rules)
        text = (
            f"the model reads attribute {self.name!r} (rules: {rules}) but no "
            "stored lead has it, so these rules never hold"
        )
        if not self.near:
            return f"{text}; check the name, or map a column to it under extra:"
        near = ", ".join(repr(n) for n in self.near)
        column = self.near[0].removeprefix(ACCOUNT_PREFIX)
        return (
            f"{text}; the leads have {near}: to read it, add `{self.name}: {column}` "
            "under extra: in the leads mapping and import the file again (or rename "
            "the attribute in the model)"
        )


def missing_attributes(store: Store, model: Model) -> list[MissingAttribute]:
    """Attributes the model's fit rules and disqualifiers read that no stored lead
    has, with near matches among the stored names (empty when there are no leads)."""
    wanted = _attributes_read(model)
    if not wanted:
        return []
    with store.engine.connect() as conn:
        stored = _stored_attribute_names(conn)
    if stored is None:
        return []
    return [
        MissingAttribute(name, tuple(rules), _near(name, stored))
        for name, rules in sorted(wanted.items())
        if name not in stored
    ]


def _attributes_read(model: Model) -> dict[str, list[str]]:
    """Each attribute the fit rules and disqualifiers read, with their rule ids."""
    read_by: dict[str, list[str]] = {}
    for rule in (*model.fit, *model.disqualifiers):
        for name in rule.when:
            read_by.setdefault(name, []).append(rule.id)
    return read_by


def _stored_attribute_names(conn: Any) -> set[str] | None:
    """Every attribute name some stored lead has, or None when there are none."""
    import sqlalchemy as sa

    from mql.store.tables import accounts, leads

    query = sa.select(
        leads.c.email,
        leads.c.attributes,
        leads.c.first_source,
        leads.c.referral_source,
        accounts.c.domain.label("account_domain"),
        accounts.c.name.label("account_name"),
        accounts.c.attributes.label("account_attributes"),
    ).select_from(leads.outerjoin(accounts, leads.c.account_id == accounts.c.id))
    names: set[str] = set()
    any_lead = False
    for row in conn.execute(query):
        any_lead = True
        names.update(reads.flat_attributes(row))
        if row.email:
            names.add("email_domain")
    return names if any_lead else None


def _near(name: str, stored: set[str]) -> tuple[str, ...]:
    """Stored names equal to ``name`` but for case and punctuation, then the most
    similar ones by rapidfuzz."""
    from rapidfuzz import distance, fuzz, process, utils

    def folded(text: str) -> str:
        return "".join(c for c in text.lower() if c.isalnum())

    same = sorted(n for n in stored if folded(n) == folded(name))
    # One typo away (a letter wrong, missing, extra, or two swapped): short names
    # such as "ulr" for "url" fall below the ratio cutoff.
    typo = sorted(
        n
        for n in stored - set(same)
        if len(folded(name)) >= 3
        and distance.OSA.distance(folded(n), folded(name)) <= 1
    )

    def compared(text: str) -> str:
        # Without the shared "account." prefix, which alone made account.name look
        # like account.state.
        return str(utils.default_process(text.removeprefix(ACCOUNT_PREFIX)))

    similar = process.extract(
        name,
        sorted(stored - set(same) - set(typo)),
        scorer=fuzz.ratio,
        processor=compared,
        score_cutoff=NEAR_MATCH_SCORE,
        limit=MAX_NEAR_MATCHES,
    )
    near = [*same, *typo, *(match for match, _, _ in similar)]
    return tuple(near[:MAX_NEAR_MATCHES])


# -- event types and properties the model reads but no event has ---------------------

#: Events of the types concerned decoded in Python to find near matches for a
#: missing property (only when one is missing).
PROPERTY_SAMPLE = 1000


@dataclass(frozen=True)
class MissingEventRead:
    """An event type intent rules list that no stored event has (``kind`` "type"),
    or an event property they read, in ``where`` or as a ``once_per`` key, that no
    stored event of their types has (``kind`` "property"; ``types`` are those
    types)."""

    kind: Literal["type", "property"]
    name: str
    rules: tuple[str, ...]
    near: tuple[str, ...]
    types: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """One line saying what is missing and where to look."""
        rules = ", ".join(self.rules)
        near = ", ".join(repr(n) for n in self.near)
        if self.kind == "type":
            text = (
                f"the model reads event type {self.name!r} (rules: {rules}) but no "
                "stored event has it, so these rules never match"
            )
            have = f"the events have {near}: " if self.near else ""
        else:
            plural = "s" if len(self.types) > 1 else ""
            types = ", ".join(repr(t) for t in self.types)
            text = (
                f"the model reads event property {self.name!r} (rules: {rules}) but "
                f"no stored event of type{plural} {types} has it, so these rules "
                "never give points"
            )
            have = f"those events have {near}: " if self.near else ""
        return f"{text}; {have}check the name in the model or the import mapping"


def missing_event_reads(store: Store, model: Model) -> list[MissingEventRead]:
    """Event types the intent rules list that no stored event has, then event
    properties they read that no stored event of their types has, each with near
    matches among the stored names (empty when there are no events).

    Cheap on large stores: one ``SELECT DISTINCT type``, then for each property
    and set of types one query that stops at the first event having the key; the
    events are decoded in Python only, from a bounded sample, to name near matches
    for a missing property. A ``where`` condition ``present: false`` is not a read
    here: it holds on events without the property.
    """
    if not model.intent:
        return []
    with store.engine.connect() as conn:
        stored = _stored_event_types(conn)
        if not stored:
            return []
        findings = _missing_types(model, stored)
        findings += _missing_properties(conn, model, stored)
    return findings


def _stored_event_types(conn: Any) -> set[str]:
    import sqlalchemy as sa

    from mql.store.tables import events

    return set(conn.execute(sa.select(events.c.type).distinct()).scalars())


def _missing_types(model: Model, stored: set[str]) -> list[MissingEventRead]:
    read_by: dict[str, list[str]] = {}
    for rule in model.intent:
        for event_type in rule.event:
            if event_type not in stored:
                read_by.setdefault(event_type, []).append(rule.id)
    return [
        MissingEventRead("type", name, tuple(rules), _near(name, stored))
        for name, rules in sorted(read_by.items())
    ]


def _properties_read(
    model: Model, stored: set[str]
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(property, rule id, the rule's stored event types) for each property an
    intent rule reads; rules none of whose types is stored are left out (their
    types are reported)."""
    found: list[tuple[str, str, tuple[str, ...]]] = []
    for rule in model.intent:
        types = tuple(sorted(t for t in rule.event if t in stored))
        if not types:
            continue
        names = [n for n, c in rule.where.items() if c.present is not False]
        if rule.repeat.key and rule.repeat.key not in names:
            names.append(rule.repeat.key)
        found += [(name, rule.id, types) for name in names]
    return found


def _missing_properties(
    conn: Any, model: Model, stored: set[str]
) -> list[MissingEventRead]:
    present: dict[tuple[str, tuple[str, ...]], bool] = {}
    rules: dict[str, list[str]] = {}
    types: dict[str, set[str]] = {}
    for name, rule_id, rule_types in _properties_read(model, stored):
        key = (name, rule_types)
        if key not in present:
            present[key] = _some_event_has(conn, name, rule_types)
        if not present[key]:
            rules.setdefault(name, []).append(rule_id)
            types.setdefault(name, set()).update(rule_types)
    return [
        MissingEventRead(
            "property",
            name,
            tuple(rules[name]),
            _near(name, _sampled_property_names(conn, types[name])),
            tuple(sorted(types[name])),
        )
        for name in sorted(rules)
    ]


def _some_event_has(conn: Any, name: str, types: Collection[str]) -> bool:
    """Whether any stored event of these types has the property, asked of the
    database (stops at the first such event)."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    from mql.store.tables import events

    if conn.dialect.name == "postgresql":
        has = sa.type_coerce(events.c.properties, postgresql.JSONB).has_key(name)
    elif '"' in name:
        # A JSON path cannot quote this name: compare the object's keys instead.
        keys = sa.func.json_each(events.c.properties).table_valued("key")
        has = sa.exists(sa.select(1).select_from(keys).where(keys.c.key == name))
    else:
        path = f'$."{name}"'
        has = sa.func.json_type(events.c.properties, path).is_not(None)
    query = sa.select(sa.literal(1)).where(events.c.type.in_(sorted(types)), has)
    return conn.execute(query.limit(1)).first() is not None


def _sampled_property_names(conn: Any, types: Collection[str]) -> set[str]:
    """The property names on a bounded sample of events of these types."""
    import sqlalchemy as sa

    from mql.store.tables import events

    query = (
        sa.select(events.c.properties)
        .where(events.c.type.in_(sorted(types)))
        .limit(PROPERTY_SAMPLE)
    )
    names: set[str] = set()
    for properties in conn.execute(query).scalars():
        if isinstance(properties, str):
            properties = json.loads(properties)
        if isinstance(properties, dict):
            names.update(properties)
    return names
