"""A seeded generator of realistic event streams for a professional services firm.

Writes ``leads.parquet`` and ``events.parquet`` in the batch engine's layout
(docs/batch.md): leads with titles and states, and their account's id, size,
industry and revenue; events with a long-tailed count per lead (most leads do
little, a few do a lot), page URLs of a firm's site, e-mail, forms, webinars,
downloads and ad clicks, each with a channel.

    python benchmarks/generate.py --leads 100000 --events 10000000 --out bench-data
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20251204
#: Events are written in chunks of this many rows to keep memory flat.
CHUNK = 2_000_000
#: Histories cover two years before the reference instant.
SPAN_SECONDS = 2 * 365 * 86_400
END = 1_764_806_400.0  # 2025-12-04T00:00:00Z
#: Lognormal sigma of a lead's activity level: a long tail of very active leads.
ACTIVITY_SIGMA = 1.4

TYPES = {
    "page_view": 0.62,
    "email_open": 0.16,
    "email_click": 0.05,
    "download": 0.04,
    "form_submit": 0.025,
    "webinar": 0.02,
    "ad_click": 0.05,
    "event_attended": 0.008,
    "meeting_booked": 0.004,
    "referral": 0.002,
    "unsubscribe": 0.006,
    "email_bounce": 0.003,
    "spam_complaint": 0.001,
    "chat_started": 0.005,
}
PATHS = [
    "/",
    "/about",
    "/contact",
    "/careers",
    "/careers/associate-tax",
    "/pricing",
    "/fees/bookkeeping",
    "/services/tax",
    "/services/tax/individual",
    "/services/audit",
    "/services/advisory",
    "/services/advisory/transactions",
    "/services/outsourced-cfo",
    "/insights/tax-year-end-checklist",
    "/insights/r-and-d-credit",
    "/insights/sales-tax-nexus",
    "/insights/lease-accounting",
    "/insights/estate-planning",
    "/case-studies/manufacturer-audit",
    "/case-studies/healthcare-advisory",
    "/case-studies/nonprofit-990",
    "/team/partners",
    "/events/webinar-tax-update",
    "/locations/new-york",
    "/locations/boston",
]
PATH_WEIGHTS = np.array(
    [30, 6, 3, 2, 1, 4, 2, 6, 2, 4, 3, 1, 2, 8, 4, 4, 3, 3, 1, 1, 1, 2, 2, 2, 1.0]
)
FORMS = ["newsletter", "contact", "proposal", "quote", "fee-estimate", "event-signup"]
FORM_WEIGHTS = np.array([40, 20, 8, 5, 3, 24.0])
ASSETS = [
    "Tax Guide 2025",
    "tax guide 2025 ",
    "Audit Readiness Checklist",
    "R&D Credit Primer",
    "Nonprofit 990 Guide",
    "Succession Planning Workbook",
]
CHANNELS = [
    "organic",
    "paid_search",
    "linkedin",
    "email",
    "referral",
    "direct",
    "events",
]
CHANNEL_WEIGHTS = np.array([30, 15, 12, 20, 5, 15, 3.0])
TITLES = [
    "CFO",
    "Chief Financial Officer",
    "Controller",
    "Owner",
    "Founder & CEO",
    "Finance Director",
    "Office Manager",
    "Bookkeeper",
    "Managing Partner",
    "VP Operations",
    "Student",
    "Accounts Payable Clerk",
    "HR Director",
    "",
]
INDUSTRIES = [
    "manufacturing",
    "construction",
    "healthcare",
    "real estate",
    "technology",
    "nonprofit",
    "retail",
    "accounting",
    "hospitality",
]
STATES = ["NY", "NJ", "CT", "PA", "MA", "CA", "TX", "FL", "IL"]
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]


def _pick(
    rng: np.random.Generator, options: list[str], n: int, weights: Any = None
) -> np.ndarray:
    p = None if weights is None else np.asarray(weights) / np.sum(weights)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, numbers.astype("U12")), pa.string())


def _shared(values: np.ndarray, account: np.ndarray) -> np.ndarray:
    """A value drawn per lead made one per account: every lead of an account gets
    the draw of the account's last lead, as an account's attribute must be."""
    per_account = np.empty(int(account.max()) + 1, dtype=values.dtype)
    per_account[account] = values
    shared: np.ndarray = per_account[account]
    return shared


def leads_table(rng: np.random.Generator, n: int) -> pa.Table:
    """Leads with their accounts' attributes, and a conversion date for some."""
    accounts = max(1, n // 4)
    account = rng.integers(0, accounts, n)
    acct_industry = _pick(rng, INDUSTRIES, accounts)[account]
    acct_employees = np.round(rng.lognormal(4.0, 1.3, accounts)).astype(np.int64)[
        account
    ]
    acct_revenue = np.round(rng.lognormal(15.5, 1.5, accounts), -3)[account]
    domain = np.char.add(np.char.add("acct", account.astype("U9")), ".example")
    free = rng.random(n) < 0.25
    email_domain = np.where(free, _pick(rng, FREE_MAIL, n), domain).astype(object)
    converted = rng.random(n) < 0.04
    conv_at = END - rng.random(n) * SPAN_SECONDS
    return pa.table(
        {
            "lead": _ids("L", np.arange(n)),
            # The account's attributes below are shared by its leads; an import
            # needs its id to store them once, on the account.
            "account_id": _ids("A", account),
            "converted_at": pa.array(
                np.where(converted, conv_at * 1e6, 0).astype("int64"),
                mask=~converted,
            ).cast(pa.timestamp("us", tz="UTC")),
            "title": pa.array(_pick(rng, TITLES, n), pa.string()),
            "employees": pa.array(acct_employees.astype("U9"), pa.string()),
            "account.industry": pa.array(acct_industry, pa.string()),
            "account.revenue": pa.array(acct_revenue.astype("U16"), pa.string()),
            "account.is_client": pa.array(
                _shared(np.where(rng.random(n) < 0.05, "true", "false"), account),
                pa.string(),
            ),
            "country": pa.array(
                _pick(rng, ["US", "USA", "CA", "UK"], n, [80, 5, 10, 5]), pa.string()
            ),
            "state": pa.array(_pick(rng, STATES, n), pa.string()),
            "email_domain": pa.array(email_domain, pa.string()),
        }
    )


def events_per_lead(rng: np.random.Generator, leads: int, events: int) -> np.ndarray:
    """A long-tailed count of events per lead that adds up to ``events``."""
    weight = rng.lognormal(0.0, ACTIVITY_SIGMA, leads)
    return rng.multinomial(events, weight / weight.sum())


def _event_chunk(rng: np.random.Generator, lead: np.ndarray, first_id: int) -> pa.Table:
    n = len(lead)
    kinds = _pick(rng, list(TYPES), n, list(TYPES.values()))
    # More recent activity than old: the firm grows its audience over time.
    ts = END - rng.random(n) ** 1.5 * SPAN_SECONDS
    ts = np.round(ts, 3)
    is_page = (kinds == "page_view") | (kinds == "email_click")
    url = np.where(
        is_page,
        np.char.add(
            "https://firm.example", _pick(rng, PATHS, n, PATH_WEIGHTS).astype(str)
        ),
        "",
    )
    form = np.where(kinds == "form_submit", _pick(rng, FORMS, n, FORM_WEIGHTS), "")
    asset = np.where(kinds == "download", _pick(rng, ASSETS, n), "")
    attended = np.where(
        kinds == "webinar", np.where(rng.random(n) < 0.45, "true", "false"), ""
    )

    def text(values: np.ndarray) -> pa.Array:
        arr = pa.array(values.astype(object), pa.string())
        return pa.compute.if_else(pa.compute.equal(arr, ""), None, arr)

    return pa.table(
        {
            "lead": _ids("L", lead),
            "id": _ids("E", np.arange(first_id, first_id + n)),
            "type": pa.array(kinds, pa.string()),
            "at": pa.array((ts * 1e6).astype("int64")).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "ts": pa.array(ts, pa.float64()),
            "url": text(url),
            "form": text(form),
            "asset": text(asset),
            "attended": text(attended),
            "channel": pa.array(_pick(rng, CHANNELS, n, CHANNEL_WEIGHTS), pa.string()),
        }
    )


def generate(out: Path, leads: int, events: int, seed: int = SEED) -> tuple[Path, Path]:
    """Write leads.parquet and events.parquet under ``out`` (same seed, same files)."""
    import pyarrow.compute  # noqa: F401  (used through pa.compute)

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    leads_path, events_path = out / "leads.parquet", out / "events.parquet"
    pq.write_table(leads_table(rng, leads), leads_path)
    owner = np.repeat(np.arange(leads), events_per_lead(rng, leads, events))
    rng.shuffle(owner)
    writer: pq.ParquetWriter | None = None
    for start in range(0, events, CHUNK):
        chunk = _event_chunk(rng, owner[start : start + CHUNK], start)
        writer = writer or pq.ParquetWriter(events_path, chunk.schema)
        writer.write_table(chunk)
    if writer is not None:
        writer.close()
    return leads_path, events_path


def main() -> None:
    """Command line: sizes and the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    generate(args.out, args.leads, args.events, args.seed)
    print(
        f"wrote {args.leads} leads, {args.events} events to {args.out} "
        f"in {time.perf_counter() - started:.1f}s"
    )


if __name__ == "__main__":
    main()
