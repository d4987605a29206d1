"""kill -9 the delivery worker mid-delivery: every event still arrives, and no event is lost or duplicated
once the receiver drops repeats by Webhook-Id (at most the one in flight at the kill is sent twice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsloom.notify_service import NotifyService
from newsloom.settings import Settings
from newsloom.storage.notify_base import NewEvent
from newsloom.web.app import build_reader
from tests.notify.receivers import WebhookReceiver

EVENTS = 30
WAIT_S = 60


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(delay_s=0.1).start()
    yield server
    server.stop()


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    code = "from newsloom.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "notify", "--watch"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_kill_9_mid_delivery_loses_and_duplicates_nothing(
    database_url: str, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    env = {
        **os.environ, "NEWSLOOM_DATA_DIR": str(tmp_path), "NEWSLOOM_DATABASE_URL": database_url,
        "NEWSLOOM_ALLOW_PRIVATE_NETWORKS": "1", "NEWSLOOM_NOTIFY_INTERVAL_S": "0.2", "NEWSLOOM_NOTIFY_LEASE_S": "1",
        "NEWSLOOM_WEBHOOK_TIMEOUT_S": "5",
    }  # fmt: skip
    settings = Settings(data_dir=str(tmp_path), database_url=database_url, allow_private_networks=True)
    notes = NotifyService(build_reader(settings))
    try:
        user = notes.reader.accounts.add_user("kim", "h", now=datetime.now(UTC))
        notes.update_settings(user, webhook_url=receiver.url)
        now = datetime.now(UTC)
        for number in range(EVENTS):
            event = NewEvent(f"e{number}", "new_outlet", f"s{number}", f"Event {number}", "b", "{}")
            notes.store.record_event(user.id, event, [("webhook", receiver.url)], now=now)
        keys = {d.idempotency_key for d in notes.store.pending_deliveries(now=now, limit=EVENTS * 2)}
        assert len(keys) == EVENTS

        first = start_worker(env)
        wait_for(lambda: len(receiver.received) >= EVENTS // 3, "the first deliveries")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = len(set(receiver.ids()))
        assert at_kill < EVENTS, "the worker must be killed mid-way"

        second = start_worker(env)
        try:
            wait_for(lambda: set(receiver.ids()) == keys, "every event after the restart")
            wait_for(lambda: all(d.status == "sent" for d in notes.store.list_deliveries(user.id, limit=EVENTS * 2)),
                     "every delivery marked sent")  # fmt: skip
            time.sleep(1.5)  # past the lease: a delivery sent but not marked would go out again now
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=10)
        ids = receiver.ids()
        assert set(ids) == keys  # nothing lost
        repeats = len(ids) - len(set(ids))
        assert repeats <= 1, f"{repeats} events sent twice; only the one in flight at the kill may be"
        # the receiver's view after dropping repeats by Webhook-Id: each event exactly once
        assert sorted(dict.fromkeys(ids)) == sorted(keys)
    finally:
        notes.reader.service.close()
