"""Lifecycle tables: stages, transitions, handoffs, handoff log, outbox.

Revision ID: 0002_lifecycle
Revises: 0001_core
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_lifecycle"
down_revision = "0001_core"
branch_labels = None
depends_on = None

STAGE_LENGTH = 16
ACTOR_LENGTH = 255
MESSAGE_ID_LENGTH = 36


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _lead_fk() -> sa.ForeignKey:
    return sa.ForeignKey("leads.id")


def upgrade() -> None:
    """Create the lifecycle tables."""
    _states_and_transitions()
    _handoffs()
    _outbox()


def _states_and_transitions() -> None:
    op.create_table(
        "lifecycle_states",
        sa.Column("lead_id", sa.Integer, _lead_fk(), primary_key=True),
        sa.Column("stage", sa.String(STAGE_LENGTH), nullable=False),
        sa.Column("since", _when(), nullable=False),
        sa.Column("episodes", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
    )
    op.create_index("ix_lifecycle_states_stage", "lifecycle_states", ["stage"])
    op.create_table(
        "lifecycle_transitions",
        sa.Column("id", _big_id(), primary_key=True),
        sa.Column("lead_id", sa.Integer, _lead_fk(), nullable=False),
        sa.Column("from_stage", sa.String(STAGE_LENGTH), nullable=False),
        sa.Column("to_stage", sa.String(STAGE_LENGTH), nullable=False),
        sa.Column("kind", sa.String(STAGE_LENGTH), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("recorded_at", _when(), nullable=False),
        sa.Column("actor", sa.String(ACTOR_LENGTH), nullable=False),
        sa.Column("actor_kind", sa.String(STAGE_LENGTH), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("score", sa.Float),
        sa.Column("grade", sa.String(1)),
        sa.Column("explanation", _json()),
        sa.Column("details", _json(), nullable=False),
        sa.Column("handoff_id", sa.Integer),
    )
    op.create_index(
        "ix_lifecycle_transitions_lead_id_at",
        "lifecycle_transitions",
        ["lead_id", "at"],
    )
    op.create_index(
        "ix_lifecycle_transitions_to_stage_at",
        "lifecycle_transitions",
        ["to_stage", "at"],
    )


def _handoffs() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("lead_id", sa.Integer, _lead_fk(), nullable=False),
        sa.Column("episode", sa.Integer, nullable=False),
        sa.Column("status", sa.String(STAGE_LENGTH), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("grade", sa.String(1)),
        sa.Column("mql_until", _when()),
        sa.Column("explanation", _json()),
        sa.Column("decided_at", _when()),
        sa.Column("decided_by", sa.String(ACTOR_LENGTH)),
        sa.Column("decision_kind", sa.String(STAGE_LENGTH)),
        sa.Column("decision_reason", sa.Text),
        sa.Column("owner", sa.String(ACTOR_LENGTH)),
        sa.Column("routed_at", _when()),
        sa.Column("routed_via", sa.String(STAGE_LENGTH)),
        sa.Column("due_at", _when()),
        sa.Column("reassignments", sa.Integer, nullable=False),
        sa.Column("escalated_at", _when()),
        sa.Column("closed_at", _when()),
        sa.Column("close_reason", sa.Text),
        sa.UniqueConstraint("lead_id", "episode", name="uq_handoffs_lead_id_episode"),
    )
    # At most one open handoff (MQL episode) per lead, on both databases.
    op.create_index(
        "uq_handoffs_open_lead",
        "handoffs",
        ["lead_id"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("ix_handoffs_status", "handoffs", ["status"])
    op.create_index("ix_handoffs_owner", "handoffs", ["owner"])
    op.create_table(
        "handoff_log",
        sa.Column("id", _big_id(), primary_key=True),
        sa.Column(
            "handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), nullable=False
        ),
        sa.Column("at", _when(), nullable=False),
        sa.Column("action", sa.String(STAGE_LENGTH), nullable=False),
        sa.Column("actor", sa.String(ACTOR_LENGTH), nullable=False),
        sa.Column("detail", _json(), nullable=False),
    )
    op.create_index("ix_handoff_log_handoff_id", "handoff_log", ["handoff_id"])


def _outbox() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.String(MESSAGE_ID_LENGTH), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("lead_id", sa.Integer),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
    )
    op.create_index("ix_outbox_messages_created_at", "outbox_messages", ["created_at"])
    op.create_table(
        "outbox_deliveries",
        sa.Column(
            "message_id",
            sa.String(MESSAGE_ID_LENGTH),
            sa.ForeignKey("outbox_messages.id"),
            primary_key=True,
        ),
        sa.Column("webhook", sa.String(ACTOR_LENGTH), primary_key=True),
        sa.Column("status", sa.String(STAGE_LENGTH), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _when(), nullable=False),
        sa.Column("lease_until", _when()),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", _when()),
    )
    op.create_index(
        "ix_outbox_deliveries_status_next",
        "outbox_deliveries",
        ["status", "next_attempt_at"],
    )


def downgrade() -> None:
    """Drop the lifecycle tables."""
    for table in (
        "outbox_deliveries",
        "outbox_messages",
        "handoff_log",
        "handoffs",
        "lifecycle_transitions",
        "lifecycle_states",
    ):
        op.drop_table(table)
