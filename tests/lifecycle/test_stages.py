"""Stages and the moves allowed between them."""

from __future__ import annotations

import pytest

from mql.errors import LifecycleError
from mql.lifecycle.stages import (
    NATURAL_MOVES,
    MoveKind,
    Stage,
    check_move,
    classify_move,
    parse_stage,
)


@pytest.mark.parametrize("name", ["sql", " SQL ", "Opportunity"])
def test_stage_names_are_read_without_case_or_space(name: str) -> None:
    assert parse_stage(name).value == name.strip().lower()


def test_unknown_stage_lists_the_valid_ones() -> None:
    with pytest.raises(
        LifecycleError,
        match=r"import row 3: 'prospect' is not a lifecycle stage; use one of "
        r"subscriber, lead, mql, sal, sql, opportunity, client, recycled, disqualified",
    ):
        parse_stage("prospect", where="import row 3")


@pytest.mark.parametrize(
    ("source", "target", "kind"),
    [
        (Stage.LEAD, Stage.MQL, MoveKind.FORWARD),
        (Stage.LEAD, Stage.SQL, MoveKind.SKIP),
        (Stage.SQL, Stage.MQL, MoveKind.BACK),
        (Stage.MQL, Stage.RECYCLED, MoveKind.RECYCLE),
        (Stage.SAL, Stage.DISQUALIFIED, MoveKind.DISQUALIFY),
        (Stage.RECYCLED, Stage.MQL, MoveKind.REOPEN),
    ],
)
def test_moves_are_classified(source: Stage, target: Stage, kind: MoveKind) -> None:
    assert classify_move(source, target) is kind


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (Stage.LEAD, Stage.SQL),
        (Stage.SQL, Stage.MQL),
        (Stage.MQL, Stage.RECYCLED),
        (Stage.OPPORTUNITY, Stage.CLIENT),
    ],
)
def test_skips_backs_and_exits_need_a_reason(source: Stage, target: Stage) -> None:
    with pytest.raises(LifecycleError, match=r"needs a reason \(--reason TEXT\)"):
        check_move(source, target, None)
    assert check_move(source, target, "agreed on the phone") is not None


def test_every_natural_move_needs_no_reason() -> None:
    for source, targets in NATURAL_MOVES.items():
        for target in targets:
            if target is not Stage.CLIENT:
                check_move(source, target, None)


def test_a_move_to_the_same_stage_is_refused() -> None:
    with pytest.raises(LifecycleError, match="already in stage mql"):
        check_move(Stage.MQL, Stage.MQL, "again")
