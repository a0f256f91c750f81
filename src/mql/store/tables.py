"""The tables of the store, on one shared :data:`metadata`.

Other parts (lifecycle, learn, ...) add their tables to the same ``metadata``
in their own modules and their own Alembic revisions on top of this chain.
"""

from __future__ import annotations

import sqlalchemy as sa

from mql.store.types import UTCDateTime, json_type

#: Stable constraint names, so that migrations can refer to them on any database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Longest email address allowed by RFC 3696 errata (64 + 1 + 255).
EMAIL_LENGTH = 320
#: Room for a source's own ids and for ``sha256:`` plus 64 hex digits.
KEY_LENGTH = 255

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("read", sa.Integer, nullable=False, default=0),
    sa.Column("imported", sa.Integer, nullable=False, default=0),
    sa.Column("updated", sa.Integer, nullable=False, default=0),
    sa.Column("duplicates", sa.Integer, nullable=False, default=0),
    sa.Column("quarantined", sa.Integer, nullable=False, default=0),
    sa.Column("notes", json_type(), nullable=False, default=list),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain", sa.String(KEY_LENGTH), unique=True),
    sa.Column("external_id", sa.String(KEY_LENGTH), unique=True),
    sa.Column("name", sa.Text),
    sa.Column("attributes", json_type(), nullable=False, default=dict),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(EMAIL_LENGTH), unique=True),
    sa.Column("external_id", sa.String(KEY_LENGTH), unique=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), index=True),
    sa.Column("attributes", json_type(), nullable=False, default=dict),
    sa.Column("first_source", sa.Text),
    sa.Column("referral_source", sa.Text),
    sa.Column("converted", sa.Boolean),
    sa.Column("converted_at", UTCDateTime),
    sa.Column("do_not_email", sa.Boolean, nullable=False, default=False),
    sa.Column("opted_out", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("import_run_id", sa.Integer, sa.ForeignKey("import_runs.id")),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    ),
    # The source's event id ("id:...") or a content hash ("sha256:...").
    sa.Column("event_key", sa.String(KEY_LENGTH), nullable=False, unique=True),
    sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), nullable=False),
    sa.Column("type", sa.String(KEY_LENGTH), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("properties", json_type(), nullable=False, default=dict),
    sa.Column("import_run_id", sa.Integer, sa.ForeignKey("import_runs.id")),
    sa.Index("ix_events_lead_id_at", "lead_id", "at"),
)

lead_scores = sa.Table(
    "lead_scores",
    metadata,
    sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), primary_key=True),
    sa.Column("fit", sa.Float, nullable=False),
    sa.Column("grade", sa.String(1), nullable=False),
    sa.Column("group_values", json_type(), nullable=False, default=dict),
    sa.Column("last_activity", UTCDateTime),
    # Score and MQL flag at ``as_of`` (the later of last activity and scoring time).
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("as_of", UTCDateTime, nullable=False),
    sa.Column("mql", sa.Boolean, nullable=False),
    sa.Column("mql_until", UTCDateTime),
    sa.Column("disqualified_reason", sa.Text),
    sa.Column("state", json_type(), nullable=False),
    sa.Column("model_fingerprint", sa.String(KEY_LENGTH), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # "Who is an MQL at T": mql and (mql_until > T or mql_until is null).
    sa.Index("ix_lead_scores_mql_mql_until", "mql", "mql_until"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("import_run_id", sa.Integer, sa.ForeignKey("import_runs.id"), index=True),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("line", sa.Integer),
    sa.Column("field", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", json_type(), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
