"""The funnel on real data: Olist's MQLs of February 2018 and the deals they closed.

Each MQL enters stage mql at its first contact; a closed deal moves it on at its won
date, through an approved and accepted handoff (stage sal stands for "closed"
here: the data has nothing in between). The funnel's
conversion and median days must equal what pandas computes from the CSV files.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from mql.lifecycle import Actor, Lifecycle, funnel, parse_config
from mql.lifecycle.stages import Stage
from mql.store import open_store
from mql.store.tables import leads

MONTH = "2018-02"
SECONDS_PER_DAY = 86_400


@pytest.mark.shared_data
def test_funnel_matches_the_data(shared_data: Path) -> None:
    folder = shared_data / "olist-marketing-funnel"
    mqls = pd.read_csv(
        folder / "olist_marketing_qualified_leads_dataset.csv",
        parse_dates=["first_contact_date"],
    )
    deals = pd.read_csv(
        folder / "olist_closed_deals_dataset.csv", parse_dates=["won_date"]
    )
    month = mqls[mqls.first_contact_date.dt.strftime("%Y-%m") == MONTH]
    joined = month.merge(deals[["mql_id", "won_date"]], on="mql_id", how="left")
    won = joined[joined.won_date.notna()]

    # In memory: a thousand small transactions, none of them waiting on a disk.
    store = open_store("sqlite://")
    sales_desk = "owners: [{id: sales, capacity: 100000}]"
    lifecycle = Lifecycle(store, parse_config(sales_desk, source="sales.yaml"))
    marketing, sales = Actor("olist:marketing"), Actor("olist:sales")
    rows = list(joined.itertuples())
    with store.begin() as conn:
        first = (
            min(r.first_contact_date for r in rows).to_pydatetime().replace(tzinfo=UTC)
        )
        conn.execute(
            sa.insert(leads),
            [
                {
                    "external_id": r.mql_id,
                    "attributes": {"origin": r.origin},
                    "do_not_email": False,
                    "opted_out": False,
                    "created_at": first,
                    "updated_at": first,
                }
                for r in rows
            ],
        )
    for r in rows:
        contact = r.first_contact_date.to_pydatetime().replace(tzinfo=UTC)
        lifecycle.move(r.mql_id, "mql", marketing, at=contact)
        if pd.notna(r.won_date):
            won_at = r.won_date.to_pydatetime().replace(tzinfo=UTC)
            (handoff,) = lifecycle.handoffs("pending", lead=r.mql_id)
            lifecycle.approve(handoff.id, sales, at=won_at)
            lifecycle.accept(r.mql_id, sales, at=won_at)

    with store.begin() as conn:
        lines = {line.stage: line for line in funnel(conn)}
    store.close()

    expected_days = (
        (won.won_date - won.first_contact_date).dt.total_seconds() / SECONDS_PER_DAY
    ).median()
    assert lines[Stage.MQL].reached == len(month) == 1028
    assert lines[Stage.SAL].reached == len(won) == 149
    assert lines[Stage.MQL].conversion_to_next == pytest.approx(len(won) / len(month))
    assert lines[Stage.MQL].median_days == pytest.approx(expected_days)
    assert lines[Stage.MQL].stays == len(won)
    assert lines[Stage.MQL].current == len(month) - len(won)
