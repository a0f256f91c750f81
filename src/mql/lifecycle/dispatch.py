"""Delivering outbox messages to webhooks: signed, retried with backoff, once each.

Each (message, webhook) pair has a delivery row. A dispatcher claims a due row
with a lease (a conditional update, so two dispatchers never send the same row at
once), POSTs the JSON body signed with HMAC-SHA256 (see :mod:`signing`), and marks
it delivered on a 2xx answer. Otherwise it waits ``backoff`` and tries again, up to
``max_attempts``; then the row stays ``failed`` with its last error, for people to
see (``mql lifecycle outbox``) and retry (``mql lifecycle retry``).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.errors import LifecycleError
from mql.lifecycle.config import LifecycleConfig, Webhook
from mql.lifecycle.signing import (
    ID_HEADER,
    KIND_HEADER,
    SIGNATURE_HEADER,
    backoff_seconds,
    sign,
)
from mql.lifecycle.transitions import insert_ignore
from mql.store import Store
from mql.store.lifecycle_tables import outbox_deliveries, outbox_messages

logger = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
#: Every status a delivery row can have.
DELIVERY_STATUSES = (PENDING, DELIVERED, FAILED)
#: Due deliveries read per webhook at a time.
ROUND_SIZE = 100
#: ``mql lifecycle dispatch`` stops after this many attempts unless told otherwise.
DEFAULT_MAX_DELIVERIES = 10_000
#: Longest error text kept on a delivery row.
MAX_ERROR_LENGTH = 500
#: HTTP answers that count as delivered.
SUCCESS = range(200, 300)


@dataclass
class DispatchReport:
    """What one dispatch run did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    #: Whether :meth:`Dispatcher.run` stopped at its maximum with more still due.
    stopped_at_max: bool = False

    @property
    def attempts(self) -> int:
        """Deliveries tried, whatever their outcome."""
        return self.delivered + self.retrying + self.failed

    def add(self, other: DispatchReport) -> None:
        """Add the counts of another run."""
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed


Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Sends due outbox messages to the configured webhooks."""

    def __init__(
        self, store: Store, config: LifecycleConfig, clock: Clock = _now
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def run(self, max_deliveries: int = DEFAULT_MAX_DELIVERIES) -> DispatchReport:
        """Deliver in rounds until nothing is due or ``max_deliveries`` were tried."""
        total = DispatchReport()
        while total.attempts < max_deliveries:
            budget = min(ROUND_SIZE, max_deliveries - total.attempts)
            report = self.run_once(limit=budget, total_limit=budget)
            total.add(report)
            if report.attempts == 0:
                return total
        total.stopped_at_max = self._any_due()
        return total

    def _any_due(self) -> bool:
        return any(self._due(hook, 1) for hook in self.config.webhooks)

    def run_once(
        self, limit: int = ROUND_SIZE, total_limit: int | None = None
    ) -> DispatchReport:
        """Deliver up to ``limit`` due messages per webhook (``total_limit`` in all)."""
        report = DispatchReport()
        for hook in self.config.webhooks:
            self._plan(hook)
            for message_id in self._due(hook, limit):
                if total_limit is not None and report.attempts >= total_limit:
                    break
                if self._claim(hook, message_id):
                    self._deliver(hook, message_id, report)
        logger.info(
            "dispatch: %d delivered, %d to retry, %d failed",
            report.delivered,
            report.retrying,
            report.failed,
        )
        return report

    def _plan(self, hook: Webhook) -> None:
        """Give every message this webhook wants a delivery row."""
        with self.store.begin() as conn:
            missing = (
                sa.select(
                    outbox_messages.c.id,
                    outbox_messages.c.kind,
                    outbox_messages.c.created_at,
                )
                .where(
                    ~sa.select(outbox_deliveries.c.message_id)
                    .where(outbox_deliveries.c.message_id == outbox_messages.c.id)
                    .where(outbox_deliveries.c.webhook == hook.name)
                    .exists()
                )
                .order_by(outbox_messages.c.created_at)
            )
            for row in conn.execute(missing).all():
                if not hook.wants(row.kind):
                    continue
                insert_ignore(
                    conn,
                    outbox_deliveries,
                    {
                        "message_id": row.id,
                        "webhook": hook.name,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": row.created_at,
                    },
                )

    def _due(self, hook: Webhook, limit: int) -> list[str]:
        now = self.clock()
        d = outbox_deliveries.c
        query = (
            sa.select(d.message_id)
            .join(outbox_messages, outbox_messages.c.id == d.message_id)
            .where(d.webhook == hook.name, d.status == PENDING)
            .where(d.next_attempt_at <= now)
            .where(sa.or_(d.lease_until.is_(None), d.lease_until < now))
            .order_by(outbox_messages.c.created_at, d.message_id)
            .limit(limit)
        )
        with self.store.begin() as conn:
            return [row.message_id for row in conn.execute(query)]

    def _claim(self, hook: Webhook, message_id: str) -> bool:
        """Take the delivery for one lease; False if another dispatcher has it."""
        now = self.clock()
        d = outbox_deliveries.c
        lease = now + timedelta(seconds=self.config.dispatch.lease_seconds)
        with self.store.begin() as conn:
            result = conn.execute(
                sa.update(outbox_deliveries)
                .where(d.message_id == message_id, d.webhook == hook.name)
                .where(d.status == PENDING)
                .where(sa.or_(d.lease_until.is_(None), d.lease_until < now))
                .values(lease_until=lease)
            )
            return result.rowcount == 1

    def _deliver(self, hook: Webhook, message_id: str, report: DispatchReport) -> None:
        with self.store.begin() as conn:
            row = (
                conn.execute(
                    sa.select(outbox_messages).where(outbox_messages.c.id == message_id)
                )
                .mappings()
                .one()
            )
        body = json.dumps(row["payload"], sort_keys=True, separators=(",", ":"))
        status, error = self._post(hook, message_id, row["kind"], body.encode())
        with self.store.begin() as conn:
            self._record(conn, hook, message_id, status, error, report)

    def _post(
        self, hook: Webhook, message_id: str, kind: str, body: bytes
    ) -> tuple[int | None, str | None]:
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: message_id,
            KIND_HEADER: kind,
            SIGNATURE_HEADER: sign(hook.secret_bytes(), body, timestamp),
        }
        request = urllib.request.Request(
            hook.url, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(
                request, timeout=self.config.dispatch.timeout_seconds
            ) as response:
                return int(response.status), None
        except urllib.error.HTTPError as exc:
            return exc.code, f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError) as exc:
            return None, f"{exc.__class__.__name__}: {exc}"

    def _record(
        self,
        conn: Connection,
        hook: Webhook,
        message_id: str,
        status: int | None,
        error: str | None,
        report: DispatchReport,
    ) -> None:
        d = outbox_deliveries.c
        attempts = (
            conn.execute(
                sa.select(d.attempts).where(
                    d.message_id == message_id, d.webhook == hook.name
                )
            ).scalar_one()
            + 1
        )
        now = self.clock()
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status": status,
            "lease_until": None,
        }
        if status in SUCCESS:
            values.update(status=DELIVERED, delivered_at=now, last_error=None)
            report.delivered += 1
        else:
            values["last_error"] = (error or f"HTTP {status}")[:MAX_ERROR_LENGTH]
            policy = self.config.dispatch
            if attempts >= policy.max_attempts:
                values["status"] = FAILED
                report.failed += 1
                logger.warning(
                    "webhook %s: message %s failed after %d attempts: %s",
                    hook.name,
                    message_id,
                    attempts,
                    values["last_error"],
                )
            else:
                wait = backoff_seconds(
                    attempts, policy.backoff_base_seconds, policy.backoff_max_seconds
                )
                values["next_attempt_at"] = now + timedelta(seconds=wait)
                report.retrying += 1
        conn.execute(
            sa.update(outbox_deliveries)
            .where(d.message_id == message_id, d.webhook == hook.name)
            .values(**values)
        )

    def retry_failed(self, webhook: str | None = None) -> int:
        """Put failed deliveries back in the queue (attempts start again)."""
        d = outbox_deliveries.c
        query = sa.update(outbox_deliveries).where(d.status == FAILED)
        if webhook is not None:
            query = query.where(d.webhook == webhook)
        with self.store.begin() as conn:
            result = conn.execute(
                query.values(status=PENDING, attempts=0, next_attempt_at=self.clock())
            )
            return int(result.rowcount)

    def run_until_idle(self, max_seconds: float, poll_seconds: float = 0.2) -> None:
        """Dispatch repeatedly until nothing is pending or ``max_seconds`` pass."""
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            self.run_once()
            if not self.pending():
                return
            time.sleep(poll_seconds)

    def pending(self) -> int:
        """How many deliveries still wait to be sent."""
        with self.store.begin() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox_deliveries)
                    .where(outbox_deliveries.c.status == PENDING)
                ).scalar_one()
            )


def deliveries(store: Store, status: str | None = None) -> list[dict[str, Any]]:
    """Delivery rows with their message kind, newest message first."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise LifecycleError(
            f"status: {status!r} is not a delivery status; use one of "
            f"{', '.join(DELIVERY_STATUSES)}"
        )
    d = outbox_deliveries.c
    query = (
        sa.select(outbox_deliveries, outbox_messages.c.kind, outbox_messages.c.lead_id)
        .join(outbox_messages, outbox_messages.c.id == d.message_id)
        .order_by(outbox_messages.c.created_at.desc())
    )
    if status is not None:
        query = query.where(d.status == status)
    with store.begin() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
