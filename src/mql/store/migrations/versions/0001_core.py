"""Core tables: import runs, accounts, leads, events, lead scores, quarantine.

Revision ID: 0001_core
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

EMAIL_LENGTH = 320
KEY_LENGTH = 255


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the core tables."""
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("started_at", _when(), nullable=False),
        sa.Column("finished_at", _when()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("read", sa.Integer, nullable=False),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("quarantined", sa.Integer, nullable=False),
        sa.Column("notes", _json(), nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("domain", sa.String(KEY_LENGTH), unique=True),
        sa.Column("external_id", sa.String(KEY_LENGTH), unique=True),
        sa.Column("name", sa.Text),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(EMAIL_LENGTH), unique=True),
        sa.Column("external_id", sa.String(KEY_LENGTH), unique=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("first_source", sa.Text),
        sa.Column("referral_source", sa.Text),
        sa.Column("converted", sa.Boolean),
        sa.Column("converted_at", _when()),
        sa.Column("do_not_email", sa.Boolean, nullable=False),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("import_run_id", sa.Integer, sa.ForeignKey("import_runs.id")),
    )
    op.create_index("ix_leads_account_id", "leads", ["account_id"])
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
        ),
        sa.Column("event_key", sa.String(KEY_LENGTH), nullable=False, unique=True),
        sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), nullable=False),
        sa.Column("type", sa.String(KEY_LENGTH), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("properties", _json(), nullable=False),
        sa.Column("import_run_id", sa.Integer, sa.ForeignKey("import_runs.id")),
    )
    op.create_index("ix_events_lead_id_at", "events", ["lead_id", "at"])
    op.create_table(
        "lead_scores",
        sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), primary_key=True),
        sa.Column("fit", sa.Float, nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("group_values", _json(), nullable=False),
        sa.Column("last_activity", _when()),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("as_of", _when(), nullable=False),
        sa.Column("mql", sa.Boolean, nullable=False),
        sa.Column("mql_until", _when()),
        sa.Column("disqualified_reason", sa.Text),
        sa.Column("state", _json(), nullable=False),
        sa.Column("model_fingerprint", sa.String(KEY_LENGTH), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
    )
    op.create_index("ix_lead_scores_mql_mql_until", "lead_scores", ["mql", "mql_until"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_run_id", sa.Integer, sa.ForeignKey("import_runs.id")),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("line", sa.Integer),
        sa.Column("field", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", _json(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
    )
    op.create_index("ix_quarantine_import_run_id", "quarantine", ["import_run_id"])


def downgrade() -> None:
    """Drop the core tables."""
    for table in (
        "quarantine",
        "lead_scores",
        "events",
        "leads",
        "accounts",
        "import_runs",
    ):
        op.drop_table(table)
