"""The two real exports import with their shipped mappings, counts pinned."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from mql.ingest import import_events, import_leads, list_quarantine
from mql.store import Store, accounts, events, leads

MAPPINGS = Path(__file__).resolve().parents[2] / "src" / "mql" / "ingest" / "mappings"

pytestmark = pytest.mark.shared_data


def test_x_education_leads(store: Store, shared_data: Path) -> None:
    path = shared_data / "x-education-leads" / "Leads.csv"
    mapping = MAPPINGS / "x_education_leads.yaml"
    report = import_leads(store, path, mapping)
    assert (report.read, report.imported, report.quarantined) == (9240, 9240, 0)
    with store.engine.connect() as conn:
        converted = conn.execute(
            sa.select(sa.func.count()).where(leads.c.converted.is_(True))
        ).scalar()
        no_email = conn.execute(
            sa.select(sa.func.count()).where(leads.c.do_not_email.is_(True))
        ).scalar()
        first = conn.execute(
            sa.select(leads).where(
                leads.c.external_id == "7927b2df-8bba-4d29-b9a2-b6e0beafe620"
            )
        ).one()
        n_accounts = conn.execute(
            sa.select(sa.func.count()).select_from(accounts)
        ).scalar()
    assert converted == 3561  # 38.5 %, as the data set's documentation says
    assert no_email == 734
    assert n_accounts == 0  # no emails, no domains
    assert first.first_source == "Olark Chat"
    # "Select" is the form's default: it means no answer.
    assert "specialization" not in first.attributes
    assert "Tags" not in first.attributes  # filled by sales after contact
    assert first.attributes["lead_number"] == 660737

    again = import_leads(store, path, mapping)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 9240)
    assert list_quarantine(store) == []


@pytest.mark.slow
def test_yammer_email_events(store: Store, shared_data: Path) -> None:
    path = shared_data / "mode-yammer-email-events" / "email_events.csv"
    mapping = MAPPINGS / "yammer_email_events.yaml"
    report = import_events(store, path, mapping)
    assert (report.read, report.imported, report.quarantined) == (90389, 90389, 0)
    assert report.leads_created == 6179
    with store.engine.connect() as conn:
        by_type = dict(
            conn.execute(
                sa.select(events.c.type, sa.func.count()).group_by(events.c.type)
            ).all()
        )
        span = conn.execute(
            sa.select(sa.func.min(events.c.at), sa.func.max(events.c.at))
        ).one()
    assert by_type == {
        "sent_weekly_digest": 57267,
        "email_open": 20459,
        "email_clickthrough": 9010,
        "sent_reengagement_email": 3653,
    }
    assert events.c.at.type.process_result_value(span[0], store.engine.dialect) >= (
        datetime(2014, 5, 1, tzinfo=UTC)
    )
    assert events.c.at.type.process_result_value(span[1], store.engine.dialect) < (
        datetime(2014, 9, 1, tzinfo=UTC)
    )

    again = import_events(store, path, mapping)
    assert (again.imported, again.duplicates, again.leads_created) == (0, 90389, 0)
