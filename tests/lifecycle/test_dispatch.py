"""Signed webhook delivery to a real HTTP receiver on 127.0.0.1, with retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mql.errors import LifecycleError
from mql.lifecycle import Actor, Dispatcher, Lifecycle, deliveries, parse_config, verify
from mql.lifecycle.signing import ID_HEADER, SIGNATURE_HEADER
from mql.store import Store, open_store

from .conftest import T0, add_lead

SECRET = "whsec-test"


class Receiver:
    """An HTTP server that records what it is sent and can be told to fail."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures_left = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures_left > 0:
                    receiver.failures_left -= 1
                    self.send_response(503)
                else:
                    receiver.received.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    thread.join(timeout=5)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _setup(store: Store, url: str) -> tuple[Dispatcher, Clock]:
    config = parse_config(
        f"webhooks:\n  - {{name: crm, url: '{url}', secret: {SECRET}, "
        "kinds: [lead.stage_changed]}\n"
        "dispatch: {max_attempts: 3, backoff_base_seconds: 10}\n"
    )
    lifecycle = Lifecycle(store, config)
    for i in range(3):
        lead = add_lead(store, f"l{i}@x.example", opted_out=(i == 1))
        lifecycle.move(lead, "mql", Actor("ana"), at=T0)
    clock = Clock(datetime.now(UTC))
    return Dispatcher(store, config, clock=clock), clock


def test_messages_arrive_signed_once_each(store: Store, receiver: Receiver) -> None:
    dispatcher, clock = _setup(store, receiver.url)
    assert dispatcher.run_once().delivered == 3
    assert dispatcher.run_once().delivered == 0  # nothing is sent twice
    ids = [headers[ID_HEADER] for headers, _ in receiver.received]
    assert len(set(ids)) == 3
    for headers, body in receiver.received:
        assert verify(
            SECRET.encode(),
            body,
            headers[SIGNATURE_HEADER],
            now=int(clock.now.timestamp()),
        )
        payload = json.loads(body)
        assert payload["id"] == headers[ID_HEADER]
        assert payload["kind"] == "lead.stage_changed"
    consent = sorted(
        json.loads(b)["lead"]["consent"]["opted_out"] for _, b in receiver.received
    )
    assert consent == [False, False, True]


def test_failures_are_retried_with_backoff_then_kept_visible(
    store: Store, receiver: Receiver
) -> None:
    dispatcher, clock = _setup(store, receiver.url)
    receiver.failures_left = 3
    first = dispatcher.run_once()
    assert (first.delivered, first.retrying) == (0, 3)
    row = deliveries(store)[0]
    assert row["last_error"] == "HTTP 503 Service Unavailable"
    assert row["next_attempt_at"] == clock.now + timedelta(seconds=10)
    assert dispatcher.run_once().delivered == 0  # not due yet
    clock.now += timedelta(seconds=10)
    assert dispatcher.run_once().delivered == 3
    assert len(receiver.received) == 3


def test_a_dead_receiver_ends_failed_and_can_be_retried(
    store: Store, receiver: Receiver
) -> None:
    dispatcher, clock = _setup(store, "http://127.0.0.1:9/unreachable")
    for step in (0, 10, 20):
        clock.now += timedelta(seconds=step)
        dispatcher.run_once()
    failed = deliveries(store, status="failed")
    assert len(failed) == 3
    assert all(r["attempts"] == 3 for r in failed)
    assert (
        "ConnectionRefusedError" in failed[0]["last_error"]
        or "URLError" in failed[0]["last_error"]
    )
    assert dispatcher.retry_failed() == 3
    assert dispatcher.pending() == 3


@pytest.mark.postgres
def test_parallel_dispatchers_deliver_each_message_once(
    postgres_url: str, receiver: Receiver
) -> None:
    setup = open_store(postgres_url)
    config = parse_config(
        f"webhooks:\n  - {{name: crm, url: '{receiver.url}', secret: {SECRET}}}\n"
    )
    lifecycle = Lifecycle(setup, config)
    for i in range(20):
        lifecycle.move(add_lead(setup, f"p{i}@x.example"), "mql", Actor("ana"), at=T0)
    stores = [open_store(postgres_url, migrate=False) for _ in range(4)]
    try:
        threads = [
            threading.Thread(target=Dispatcher(s, config).run_once) for s in stores
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        ids = [headers[ID_HEADER] for headers, _ in receiver.received]
        # Each move to mql writes a stage change and opens a handoff: 40 messages.
        assert len(ids) == 40
        assert len(set(ids)) == 40
        assert Dispatcher(setup, config).pending() == 0
    finally:
        for store in [*stores, setup]:
            store.close()


def _many_messages(store: Store, url: str, count: int) -> Dispatcher:
    config = parse_config(
        f"webhooks:\n  - {{name: crm, url: '{url}', secret: {SECRET}, "
        "kinds: [lead.stage_changed]}\n"
    )
    lifecycle = Lifecycle(store, config)
    for i in range(count):
        lead = add_lead(store, f"m{i}@x.example")
        lifecycle.move(lead, "subscriber", Actor("ana"), reason="newsletter", at=T0)
    return Dispatcher(store, config, clock=Clock(datetime.now(UTC)))


def test_a_dispatch_run_sends_everything_due_not_just_a_hundred(
    store: Store, receiver: Receiver
) -> None:
    dispatcher = _many_messages(store, receiver.url, 130)
    report = dispatcher.run()
    assert (report.delivered, report.stopped_at_max) == (130, False)
    assert len(receiver.received) == 130
    assert dispatcher.pending() == 0


def test_a_dispatch_run_stops_at_its_maximum(store: Store, receiver: Receiver) -> None:
    dispatcher = _many_messages(store, receiver.url, 12)
    first = dispatcher.run(max_deliveries=5)
    assert (first.delivered, first.stopped_at_max) == (5, True)
    rest = dispatcher.run(max_deliveries=100)
    assert (rest.delivered, rest.stopped_at_max) == (7, False)


def test_an_unknown_delivery_status_is_refused(store: Store) -> None:
    with pytest.raises(
        LifecycleError,
        match=r"^status: 'bogus' is not a delivery status; use one of pending, "
        r"delivered, failed$",
    ):
        deliveries(store, "bogus")
