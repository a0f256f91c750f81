"""Lifecycle stages and the moves between them, declared in one place.

A lead walks ``subscriber -> lead -> mql -> sal -> sql -> opportunity -> client``;
``recycled`` (back to nurture) and ``disqualified`` stand beside the funnel.
The moves in :data:`NATURAL_MOVES` need no reason. Any other move between two
different stages is allowed only with an explicit reason and is recorded with
its kind (``skip``, ``back``, ``recycle``, ``disqualify``, ``reopen``).

>>> classify_move(Stage.MQL, Stage.SAL)
<MoveKind.FORWARD: 'forward'>
>>> classify_move(Stage.LEAD, Stage.SQL)
<MoveKind.SKIP: 'skip'>
"""

from __future__ import annotations

from enum import StrEnum

from mql.errors import LifecycleError


class Stage(StrEnum):
    """A lifecycle stage."""

    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "mql"
    SAL = "sal"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CLIENT = "client"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


class MoveKind(StrEnum):
    """How a move relates to the funnel order; every kind but forward needs a reason."""

    FORWARD = "forward"
    SKIP = "skip"
    BACK = "back"
    RECYCLE = "recycle"
    DISQUALIFY = "disqualify"
    REOPEN = "reopen"


#: The funnel in order; recycled and disqualified are outside it.
FUNNEL: tuple[Stage, ...] = (
    Stage.SUBSCRIBER,
    Stage.LEAD,
    Stage.MQL,
    Stage.SAL,
    Stage.SQL,
    Stage.OPPORTUNITY,
    Stage.CLIENT,
)

#: Moves that need no reason: one step forward, and a recycled lead coming back in.
NATURAL_MOVES: dict[Stage, frozenset[Stage]] = {
    Stage.SUBSCRIBER: frozenset({Stage.LEAD}),
    Stage.LEAD: frozenset({Stage.MQL}),
    Stage.MQL: frozenset({Stage.SAL}),
    Stage.SAL: frozenset({Stage.SQL}),
    Stage.SQL: frozenset({Stage.OPPORTUNITY}),
    Stage.OPPORTUNITY: frozenset({Stage.CLIENT}),
    Stage.CLIENT: frozenset(),
    Stage.RECYCLED: frozenset({Stage.LEAD, Stage.MQL}),
    Stage.DISQUALIFIED: frozenset(),
}

#: Target stages whose entry always needs a reason, whatever the source.
REASON_REQUIRED: frozenset[Stage] = frozenset(
    {Stage.RECYCLED, Stage.DISQUALIFIED, Stage.CLIENT}
)

#: The stage a lead is in before anything has been recorded for it.
DEFAULT_STAGE = Stage.LEAD

VALID_NAMES = ", ".join(stage.value for stage in Stage)


def parse_stage(name: str, where: str = "stage") -> Stage:
    """The stage called ``name`` (case and surrounding space ignored).

    >>> parse_stage(" SQL ")
    <Stage.SQL: 'sql'>
    >>> parse_stage("won")
    Traceback (most recent call last):
    ...
    mql.errors.LifecycleError: stage: 'won' is not a lifecycle stage; use one of ...
    """
    cleaned = name.strip().casefold()
    try:
        return Stage(cleaned)
    except ValueError:
        raise LifecycleError(
            f"{where}: {name!r} is not a lifecycle stage; use one of {VALID_NAMES}"
        ) from None


def classify_move(source: Stage, target: Stage) -> MoveKind:
    """The kind of the move from ``source`` to ``target`` (they must differ)."""
    if source == target:
        raise LifecycleError(
            f"the lead is already in stage {target}; a move needs another stage"
        )
    if target == Stage.RECYCLED:
        return MoveKind.RECYCLE
    if target == Stage.DISQUALIFIED:
        return MoveKind.DISQUALIFY
    if source in (Stage.RECYCLED, Stage.DISQUALIFIED):
        return MoveKind.REOPEN
    step = FUNNEL.index(target) - FUNNEL.index(source)
    if step == 1:
        return MoveKind.FORWARD
    return MoveKind.SKIP if step > 1 else MoveKind.BACK


def needs_reason(source: Stage, target: Stage) -> bool:
    """Whether the move from ``source`` to ``target`` needs an explicit reason."""
    if target in REASON_REQUIRED:
        return True
    return target not in NATURAL_MOVES[source]


def check_move(source: Stage, target: Stage, reason: str | None) -> MoveKind:
    """The move's kind, or a LifecycleError saying why it may not happen as asked."""
    kind = classify_move(source, target)
    if needs_reason(source, target) and not (reason and reason.strip()):
        free = NATURAL_MOVES[source] - REASON_REQUIRED
        natural = ", ".join(sorted(free)) or "none"
        raise LifecycleError(
            f"moving {source} -> {target} is a {kind} move and needs a reason "
            f"(--reason TEXT); moves from {source} without a reason: {natural}"
        )
    return kind
