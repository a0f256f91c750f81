"""A scorer that explains from the model: the exact score at the moment of a move.

:class:`mql.lifecycle.leads.StoredScores` records what ``lead_scores`` holds; this one
replays the lead's events with the scoring model up to the instant asked about and
records the full explanation (every rule, event, decay factor and cap).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Connection

from mql.lifecycle.records import Snapshot
from mql.model.schema import Model
from mql.scoring.events import Event
from mql.scoring.explain import explain
from mql.store import reads


class ModelScorer:
    """Snapshots computed with ``model`` from the lead's attributes and events."""

    def __init__(
        self,
        model: Model,
        email_domain: Callable[[str], str | None] | None = None,
    ) -> None:
        self.model = model
        self.email_domain = email_domain

    def snapshot(self, conn: Connection, lead_id: int, at: datetime) -> Snapshot:
        """The lead's score at ``at`` with its explanation."""
        found = reads.load_leads(conn, [lead_id], email_domain=self.email_domain)
        lead = found.get(lead_id)
        if lead is None:
            return Snapshot()
        history = reads.load_events(conn, [lead_id], until=at).get(lead_id, [])
        events = [Event(e.key, e.type, e.at, e.properties) for e in history]
        explained = explain(self.model, lead.attributes, events, at)
        score = explained.score
        return Snapshot(
            score=score.score,
            grade=score.grade,
            mql=score.mql,
            mql_until=score.mql_until,
            last_activity=score.last_activity,
            as_of=at,
            explanation={"source": "model", **explained.to_dict()},
        )
