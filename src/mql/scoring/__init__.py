"""The per-lead scoring engine: pure Python, no I/O.

Fit from attributes, intent from events with decay, caps and floors, the MQL
decision, when it lapses (``mql_until``) and an explanation that adds up. The
contract is docs/scoring.md; the batch engine implements the same numbers.

>>> from datetime import datetime, timedelta, timezone
>>> from mql.model import parse_model
>>> model = parse_model('''
... name: demo
... threshold: 50
... groups: [{id: web}]
... intent:
...   - {id: pricing, event: page_view, where: {url: {glob: "*/fees*"}},
...      points: 80, group: web, repeat: every}
... ''')
>>> t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
>>> state = apply_event(model, new_state(model, {}), Event("e1", "page_view", t0,
...     {"url": "https://firm.example/fees"}))
>>> read(model, state, t0 + timedelta(days=91.3125)).score
60.0
"""

from mql.errors import LateEventError, ScoringError
from mql.scoring.account import AccountScore, account_rollup
from mql.scoring.compiled import grade_of, read_properties
from mql.scoring.conditions import all_match, as_number, as_text, is_missing, matches
from mql.scoring.decay import (
    decay_factor,
    decay_lambda,
    effective_span,
    grace_seconds,
    period_seconds,
)
from mql.scoring.engine import (
    apply_event,
    is_mql,
    mql_until,
    new_state,
    read,
    replay,
    with_attributes,
)
from mql.scoring.events import Event, history
from mql.scoring.explain import Entry, Explanation, explain, score
from mql.scoring.results import Score
from mql.scoring.rules import fires, matching_rules
from mql.scoring.state import LeadState

__all__ = [
    "AccountScore",
    "Entry",
    "Event",
    "Explanation",
    "LateEventError",
    "LeadState",
    "Score",
    "ScoringError",
    "account_rollup",
    "all_match",
    "apply_event",
    "as_number",
    "as_text",
    "decay_factor",
    "decay_lambda",
    "effective_span",
    "explain",
    "fires",
    "grace_seconds",
    "grade_of",
    "history",
    "is_missing",
    "is_mql",
    "matches",
    "matching_rules",
    "mql_until",
    "new_state",
    "period_seconds",
    "read",
    "read_properties",
    "replay",
    "score",
    "with_attributes",
]
