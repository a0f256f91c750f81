"""The funnel: leads per stage, conversion between stages, median days in each.

A lead *reached* a stage when it entered it or any later funnel stage (a skip
passes through the stages it skips). Conversion from a stage to the next is the
share of leads that reached the first and went on to reach the next. Recycled and
disqualified lie outside the funnel: a lead reached them if it was ever in them.
Days in a stage are measured over completed stays (entered and left), in calendar
days.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.lifecycle.stages import DEFAULT_STAGE, FUNNEL, Stage
from mql.store.lifecycle_tables import lifecycle_states, lifecycle_transitions
from mql.store.tables import leads

SECONDS_PER_DAY = 86_400.0

Move = tuple[int, str, str, datetime]


@dataclass(frozen=True)
class StageFigures:
    """One stage's line of the funnel."""

    stage: Stage
    current: int
    reached: int
    conversion_to_next: float | None
    median_days: float | None
    stays: int


def funnel(conn: Connection) -> list[StageFigures]:
    """The funnel over every lead in the store, one line per stage."""
    current = _current_counts(conn)
    rows = conn.execute(
        sa.select(
            lifecycle_transitions.c.lead_id,
            lifecycle_transitions.c.from_stage,
            lifecycle_transitions.c.to_stage,
            lifecycle_transitions.c.at,
        ).order_by(
            lifecycle_transitions.c.lead_id,
            lifecycle_transitions.c.at,
            lifecycle_transitions.c.id,
        )
    ).all()
    moves: list[Move] = [(r.lead_id, r.from_stage, r.to_stage, r.at) for r in rows]
    deepest = _deepest_reached(conn, moves)
    entered = _entered_outside(conn, moves)
    stays = _stays(moves)
    lines = []
    for stage in Stage:
        reached = _reached(deepest, stage) if stage in FUNNEL else entered.get(stage, 0)
        lines.append(
            StageFigures(
                stage=stage,
                current=current.get(stage, 0),
                reached=reached,
                conversion_to_next=_conversion(deepest, stage),
                median_days=statistics.median(stays[stage]) if stays[stage] else None,
                stays=len(stays[stage]),
            )
        )
    return lines


def _current_counts(conn: Connection) -> dict[Stage, int]:
    stage = sa.func.coalesce(lifecycle_states.c.stage, DEFAULT_STAGE.value)
    query = (
        sa.select(stage.label("stage"), sa.func.count().label("n"))
        .select_from(
            leads.outerjoin(lifecycle_states, lifecycle_states.c.lead_id == leads.c.id)
        )
        .group_by(stage)
    )
    return {Stage(row.stage): int(row.n) for row in conn.execute(query)}


def _deepest_reached(conn: Connection, moves: Iterable[Move]) -> dict[int, int]:
    """Per lead, the index in FUNNEL of the furthest stage it ever was in."""
    deepest: dict[int, int] = {}
    stage = sa.func.coalesce(lifecycle_states.c.stage, DEFAULT_STAGE.value)
    every_lead = sa.select(leads.c.id, stage.label("stage")).select_from(
        leads.outerjoin(lifecycle_states, lifecycle_states.c.lead_id == leads.c.id)
    )
    for row in conn.execute(every_lead):
        _note(deepest, row.id, Stage(row.stage))
    for lead_id, source, target, _ in moves:
        _note(deepest, lead_id, Stage(source))
        _note(deepest, lead_id, Stage(target))
    return deepest


def _note(deepest: dict[int, int], lead_id: int, stage: Stage) -> None:
    if stage in FUNNEL:
        deepest[lead_id] = max(deepest.get(lead_id, -1), FUNNEL.index(stage))


def _entered_outside(conn: Connection, moves: Iterable[Move]) -> dict[Stage, int]:
    """Per stage outside the funnel, how many leads were ever in it (now or before)."""
    entered: dict[Stage, set[int]] = defaultdict(set)
    for lead_id, source, target, _ in moves:
        for stage in (Stage(source), Stage(target)):
            if stage not in FUNNEL:
                entered[stage].add(lead_id)
    outside = [s.value for s in Stage if s not in FUNNEL]
    now_in = sa.select(lifecycle_states.c.lead_id, lifecycle_states.c.stage).where(
        lifecycle_states.c.stage.in_(outside)
    )
    for row in conn.execute(now_in):
        entered[Stage(row.stage)].add(row.lead_id)
    return {stage: len(ids) for stage, ids in entered.items()}


def _reached(deepest: dict[int, int], stage: Stage) -> int:
    if stage not in FUNNEL:
        return 0
    index = FUNNEL.index(stage)
    return sum(1 for d in deepest.values() if d >= index)


def _conversion(deepest: dict[int, int], stage: Stage) -> float | None:
    if stage not in FUNNEL or stage == FUNNEL[-1]:
        return None
    base = _reached(deepest, stage)
    if base == 0:
        return None
    return _reached(deepest, FUNNEL[FUNNEL.index(stage) + 1]) / base


def _stays(
    moves: Iterable[Move],
) -> dict[Stage, list[float]]:
    """Completed stays per stage, in days: from entering a stage to leaving it."""
    stays: dict[Stage, list[float]] = defaultdict(list)
    entered: dict[int, tuple[Stage, datetime]] = {}
    for lead_id, source, target, at in moves:
        previous = entered.get(lead_id)
        if previous is not None and previous[0] == Stage(source):
            stays[previous[0]].append(
                (at - previous[1]).total_seconds() / SECONDS_PER_DAY
            )
        entered[lead_id] = (Stage(target), at)
    return stays
