"""Leads with a known outcome read from the store, for learning and evaluation.

A lead's outcome is the store's ``converted`` column (leads where it is unknown
are left out); its attributes are what the scoring engine reads: the lead's own,
its sources and its account's under ``account.``. Evaluating a model on the
store scores each lead with its stored events too, at a chosen instant, so that
the model's intent rules count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from mql.errors import InputError
from mql.learn.data import LeadData, from_records
from mql.learn.evaluate import EngineScores, Evaluation, evaluate_scores
from mql.learn.threshold import Goal
from mql.model import Model
from mql.settings import mask_url
from mql.store import Store, leads
from mql.store.reads import load_leads
from mql.workspace import scores as workspace_scores

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


def stored_outcomes(store: Store) -> dict[int, int]:
    """Each stored lead whose outcome is known: its id and 1 (converted) or 0."""
    with store.begin() as conn:
        known = conn.execute(
            sa.select(leads.c.id, leads.c.converted).where(
                leads.c.converted.is_not(None)
            )
        ).all()
    if not known:
        raise InputError(
            f"store {mask_url(store.url)}: no lead has a known outcome; import leads "
            "with a converted column (see docs/import.md) before evaluating"
        )
    return {int(row.id): int(bool(row.converted)) for row in known}


def stored_scores(
    store: Store, model: Model, at: datetime
) -> tuple[np.ndarray[Any, Any], EngineScores]:
    """Outcomes and engine scores at ``at`` (attributes and stored events) of the
    stored leads whose outcome is known, in lead id order."""
    outcomes = stored_outcomes(store)
    rows = sorted(
        (row for row in workspace_scores(store, model, at) if row.lead in outcomes),
        key=lambda row: row.lead,
    )
    y = np.array([outcomes[row.lead] for row in rows], dtype=int)
    if y.min() == y.max():
        raise InputError(
            f"store {mask_url(store.url)}: every lead with a known outcome has the "
            "same one; evaluating needs converted and unconverted leads"
        )
    return y, EngineScores(
        scores=np.array([row.score for row in rows], dtype=float),
        mql=np.array([row.mql for row in rows], dtype=bool),
    )


def evaluate_stored(
    store: Store,
    model: Model,
    at: datetime,
    *,
    goal: Goal | None = None,
    name: str | None = None,
    seed: int = 0,
) -> Evaluation:
    """Every figure of a model on the stored leads whose outcome is known, each
    scored by the engine at ``at`` from its attributes and its stored events."""
    y, result = stored_scores(store, model, at)
    return evaluate_scores(model, y, result, goal=goal, name=name, seed=seed)
