"""The lifecycle's tables, on the store's shared ``metadata``.

- ``lifecycle_states``: one row per lead, its current stage (locked for each move).
- ``lifecycle_transitions``: every move, append-only, with the score at that moment.
- ``handoffs``: one per MQL episode; at most one open per lead (partial unique index).
- ``handoff_log``: approvals, routing, escalations and reassignments of handoffs.
- ``outbox_messages`` / ``outbox_deliveries``: what each move tells the outside world,
  written in the move's transaction, and its delivery to each webhook.
"""

from __future__ import annotations

import sqlalchemy as sa

from mql.store.tables import metadata
from mql.store.types import UTCDateTime, json_type

STAGE_LENGTH = 16
ACTOR_LENGTH = 255
#: A UUID in hex with dashes.
MESSAGE_ID_LENGTH = 36

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

lifecycle_states = sa.Table(
    "lifecycle_states",
    metadata,
    sa.Column("lead_id", sa.ForeignKey("leads.id"), primary_key=True),
    sa.Column("stage", sa.String(STAGE_LENGTH), nullable=False),
    sa.Column("since", UTCDateTime, nullable=False),
    sa.Column("episodes", sa.Integer, nullable=False, default=0),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_lifecycle_states_stage", "stage"),
)

lifecycle_transitions = sa.Table(
    "lifecycle_transitions",
    metadata,
    sa.Column("id", _BIG_ID, primary_key=True),
    sa.Column("lead_id", sa.ForeignKey("leads.id"), nullable=False),
    sa.Column("from_stage", sa.String(STAGE_LENGTH), nullable=False),
    sa.Column("to_stage", sa.String(STAGE_LENGTH), nullable=False),
    sa.Column("kind", sa.String(STAGE_LENGTH), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(ACTOR_LENGTH), nullable=False),
    sa.Column("actor_kind", sa.String(STAGE_LENGTH), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("score", sa.Float),
    sa.Column("grade", sa.String(1)),
    sa.Column("explanation", json_type()),
    sa.Column("details", json_type(), nullable=False, default=dict),
    sa.Column("handoff_id", sa.Integer),
    sa.Index("ix_lifecycle_transitions_lead_id_at", "lead_id", "at"),
    sa.Index("ix_lifecycle_transitions_to_stage_at", "to_stage", "at"),
)

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lead_id", sa.ForeignKey("leads.id"), nullable=False),
    sa.Column("episode", sa.Integer, nullable=False),
    sa.Column("status", sa.String(STAGE_LENGTH), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("grade", sa.String(1)),
    sa.Column("mql_until", UTCDateTime),
    sa.Column("explanation", json_type()),
    sa.Column("decided_at", UTCDateTime),
    sa.Column("decided_by", sa.String(ACTOR_LENGTH)),
    sa.Column("decision_kind", sa.String(STAGE_LENGTH)),
    sa.Column("decision_reason", sa.Text),
    sa.Column("owner", sa.String(ACTOR_LENGTH)),
    sa.Column("routed_at", UTCDateTime),
    sa.Column("routed_via", sa.String(STAGE_LENGTH)),
    sa.Column("due_at", UTCDateTime),
    sa.Column("reassignments", sa.Integer, nullable=False, default=0),
    sa.Column("escalated_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("close_reason", sa.Text),
    sa.UniqueConstraint("lead_id", "episode"),
    # One open handoff per lead, enforced by the database on SQLite and PostgreSQL.
    sa.Index(
        "uq_handoffs_open_lead",
        "lead_id",
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
    sa.Index("ix_handoffs_status", "status"),
    sa.Index("ix_handoffs_owner", "owner"),
)

handoff_log = sa.Table(
    "handoff_log",
    metadata,
    sa.Column("id", _BIG_ID, primary_key=True),
    sa.Column("handoff_id", sa.ForeignKey("handoffs.id"), nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("action", sa.String(STAGE_LENGTH), nullable=False),
    sa.Column("actor", sa.String(ACTOR_LENGTH), nullable=False),
    sa.Column("detail", json_type(), nullable=False, default=dict),
)

outbox_messages = sa.Table(
    "outbox_messages",
    metadata,
    sa.Column("id", sa.String(MESSAGE_ID_LENGTH), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("lead_id", sa.Integer),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Index("ix_outbox_messages_created_at", "created_at"),
)

outbox_deliveries = sa.Table(
    "outbox_deliveries",
    metadata,
    sa.Column("message_id", sa.ForeignKey("outbox_messages.id"), primary_key=True),
    sa.Column("webhook", sa.String(ACTOR_LENGTH), primary_key=True),
    sa.Column("status", sa.String(STAGE_LENGTH), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", UTCDateTime),
    sa.Index("ix_outbox_deliveries_status_next", "status", "next_attempt_at"),
)
