"""The engine on a real event stream: the public Yammer email log (opens, clicks).

Each of a fixed sample of people is a lead; the checks are the invariants of the
property tests, on real timing (bursts, long silences, same-minute events).
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mql.errors import LateEventError
from mql.model import parse_model
from mql.scoring import Event, apply_event, explain, new_state, read, replay

pytestmark = pytest.mark.shared_data

#: The export was re-saved by a spreadsheet: day-month-year and dotted hours.
TIME_FORMAT = "%d-%m-%Y %H.%M"
SAMPLE = 250

MODEL = parse_model(
    """
    name: email
    threshold: 12
    decay: {rate: 0.25, period_days: 30, grace_days: 2}
    groups:
      - {id: opens, cap: 10}
      - {id: clicks}
      - {id: nudges, floor: -3}
    intent:
      - {id: open, event: email_open, points: 1, group: opens, repeat: every}
      - {id: click, event: email_clickthrough, points: 3, group: clicks,
         repeat: every}
      - {id: habit, event: email_clickthrough, points: 5, group: clicks,
         repeat: {min_count: 5}}
      - {id: reengaged, event: sent_reengagement_email, points: -1,
         group: nudges, repeat: every}
    """
)


@pytest.fixture(scope="module")
def histories(shared_data: Path) -> dict[str, list[Event]]:
    path = shared_data / "mode-yammer-email-events" / "email_events.csv"
    by_user: dict[str, list[Event]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            at = datetime.strptime(row["occurred_at"], TIME_FORMAT).replace(tzinfo=UTC)
            by_user[row["user_id"]].append(Event(f"r{n}", row["action"], at))
    chosen = random.Random(7).sample(sorted(by_user), SAMPLE)
    return {user: by_user[user] for user in chosen}


def test_sample_has_activity(histories: dict[str, list[Event]]):
    clicks = sum(e.type == "email_clickthrough" for h in histories.values() for e in h)
    assert clicks > 100


def test_incremental_with_replays_equals_the_full_history(
    histories: dict[str, list[Event]],
):
    rng = random.Random(11)
    for events in histories.values():
        arrived = list(events)
        rng.shuffle(arrived)  # out of order: late events force replays
        state = new_state(MODEL, {})
        seen: list[Event] = []
        for event in arrived:
            seen.append(event)
            try:
                state = apply_event(MODEL, state, event)
            except LateEventError:
                state = replay(MODEL, {}, seen)
        at = max(e.at for e in events) + timedelta(days=10)
        full = explain(MODEL, {}, events, at)
        assert math.fsum(e.value for e in full.entries) == full.score.score
        assert read(MODEL, state, at).score == pytest.approx(
            full.score.score, rel=1e-12, abs=1e-12
        )


def test_mql_until_is_the_first_instant_below(histories: dict[str, list[Event]]):
    """Checked after every event of every lead in the sample."""
    second = timedelta(seconds=1)
    lapses = 0
    for events in histories.values():
        state = new_state(MODEL, {})
        for event in sorted(events, key=lambda e: e.key):
            state = apply_event(MODEL, state, event)
            now = read(MODEL, state, event.at)
            if now.mql_until is None:
                continue
            lapses += 1
            assert read(MODEL, state, max(event.at, now.mql_until - second)).mql
            assert not read(MODEL, state, now.mql_until + second).mql
    assert lapses > 50
