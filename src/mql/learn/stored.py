"""Leads with a known outcome read from the store, for learning and evaluation.

A lead's outcome is the store's ``converted`` column (leads where it is unknown
are left out); its attributes are what the scoring engine reads: the lead's own,
its sources and its account's under ``account.``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from mql.errors import InputError
from mql.learn.data import LeadData, from_records
from mql.settings import mask_url
from mql.store import Store, leads
from mql.store.reads import load_leads

#: The key the outcome travels under; a dot keeps it apart from attribute names.
OUTCOME_KEY = "outcome.converted"


def from_store(
    store: Store,
    *,
    features: Sequence[str] = (),
    exclude: Sequence[str] = (),
    post_contact: Sequence[str] = (),
) -> LeadData:
    """Every stored lead whose outcome is known, with its attributes."""
    source = f"store {mask_url(store.url)}"
    with store.begin() as conn:
        known = conn.execute(
            sa.select(leads.c.id, leads.c.converted)
            .where(leads.c.converted.is_not(None))
            .order_by(leads.c.id)
        ).all()
        inputs = load_leads(conn, [row.id for row in known])
    if not known:
        raise InputError(
            f"{source}: no lead has a known outcome; import leads with a converted "
            "column (see docs/import.md) before learning"
        )
    records = [
        {**inputs[row.id].attributes, OUTCOME_KEY: int(bool(row.converted))}
        for row in known
    ]
    return from_records(
        records,
        OUTCOME_KEY,
        source=source,
        features=features,
        exclude=exclude,
        post_contact=post_contact,
    )
