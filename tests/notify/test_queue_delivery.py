"""Queue mode: the scheduler enqueues one delivery task while the outbox has due deliveries (and one digest
task while e-mail digests are due), and a real `newsloom worker` (Celery on Redis) delivers them to a loopback
webhook receiver and a loopback SMTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsloom.settings import load_settings
from newsloom.storage import open_storage
from newsloom.storage.accounts_store import SqlAccountStore
from newsloom.storage.notify_base import NewEvent
from newsloom.storage.notify_store import SqlNotifyStore
from newsloom.workers.config import FETCH_QUEUE, queue_name
from newsloom.workers.queue import Producer
from newsloom.workers.runner import scheduler_tick
from tests.notify.receivers import MailSink, WebhookReceiver
from tests.workers.conftest import RedisSpace
from tests.workers.procs import start_worker, stop_group


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


def test_scheduler_enqueues_and_a_worker_delivers(redis_space: RedisSpace, tmp_path: Path, receiver: WebhookReceiver) -> None:
    env = {**redis_space.env(), "NEWSLOOM_DATA_DIR": str(tmp_path), "NEWSLOOM_ALLOW_PRIVATE_NETWORKS": "1"}
    settings = load_settings(env=env)
    storage = open_storage(settings.effective_database_url)
    producer = Producer(settings)
    try:
        now = datetime.now(UTC)
        user = SqlAccountStore.for_storage(storage).add_user("quinn", "h", now=now)
        store = SqlNotifyStore.for_storage(storage)
        store.update_notify_settings(user.id, webhook_url=receiver.url, webhook_secret="secret")
        queue = queue_name(producer.config, FETCH_QUEUE)
        scheduler_tick(storage, producer, now=now)
        assert producer.queue_length(queue) == 0  # nothing pending: no task
        for number in range(3):
            store.record_event(user.id, NewEvent(f"q{number}", "new_outlet", "s1", f"E{number}", "b", "{}"),
                               [("webhook", receiver.url)], now=now)  # fmt: skip
        scheduler_tick(storage, producer, now=now)
        scheduler_tick(storage, producer, now=now)
        assert producer.queue_length(queue) == 1  # one delivery task waits, however many ticks
        worker = start_worker(env, concurrency=1, log_path=tmp_path / "worker.log", queues="fetch")
        try:
            # The receiver sees a request before the worker records it as sent: wait for both, or the
            # worker is stopped between the last answer and its status write.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (
                len(receiver.received) >= 3 and {d.status for d in store.list_deliveries(user.id)} == {"sent"}
            ):
                time.sleep(0.1)
        finally:
            stop_group(worker)
        assert sorted(receiver.ids()) == sorted(d.idempotency_key for d in store.list_deliveries(user.id)), (
            tmp_path / "worker.log"
        ).read_text()[-3000:]
        assert {d.status for d in store.list_deliveries(user.id)} == {"sent"}
    finally:
        producer.close()
        storage.close()


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


def test_scheduler_enqueues_digests_and_a_worker_sends_each_once(
    redis_space: RedisSpace, tmp_path: Path, mail: MailSink, database_url: str
) -> None:
    """On SQLite and PostgreSQL; two workers take the digest tasks."""
    env = {
        **redis_space.env(), "NEWSLOOM_DATA_DIR": str(tmp_path), "NEWSLOOM_DATABASE_URL": database_url, "NEWSLOOM_SMTP_HOST": "127.0.0.1",
        "NEWSLOOM_SMTP_PORT": str(mail.port), "NEWSLOOM_SMTP_TLS": "none", "NEWSLOOM_MAIL_FROM": "news@example.org",
        "NEWSLOOM_PUBLIC_URL": "https://news.example.org",
    }  # fmt: skip
    settings = load_settings(env=env)
    storage = open_storage(settings.effective_database_url)
    producer = Producer(settings)
    try:
        now = datetime.now(UTC)
        accounts = SqlAccountStore.for_storage(storage)
        store = SqlNotifyStore.for_storage(storage)
        queue = queue_name(producer.config, FETCH_QUEUE)
        quiet = accounts.add_user("opal", "h", now=now)
        store.update_notify_settings(quiet.id, email="opal@example.org")  # no digest asked for
        scheduler_tick(storage, producer, now=now)
        assert producer.queue_length(queue) == 0
        readers = [accounts.add_user(name, "h", now=now) for name in ("pia", "ray")]
        for reader in readers:
            store.update_notify_settings(reader.id, email=f"{reader.username}@example.org", digest="daily")
        scheduler_tick(storage, producer, now=now)
        scheduler_tick(storage, producer, now=now)
        assert producer.queue_length(queue) == 1  # one digest task waits, however many ticks
        workers = [start_worker(env, concurrency=1, log_path=tmp_path / f"worker{n}.log", queues="fetch") for n in range(2)]
        try:
            deadline = time.monotonic() + 90
            while len(mail.messages) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            # Another digest task while both workers run: nothing is due any more, so nothing more is sent.
            producer.enqueue_digests()
            deadline = time.monotonic() + 30
            while producer.queue_length(queue) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2)
        finally:
            for worker in workers:
                stop_group(worker)
        logs = "".join((tmp_path / f"worker{n}.log").read_text()[-2000:] for n in range(2))
        assert sorted(m["To"] for m in mail.messages) == ["pia@example.org", "ray@example.org"], logs
        assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in mail.messages)
        assert all(store.get_notify_settings(r.id).last_digest_at is not None for r in readers)
        scheduler_tick(storage, producer, now=datetime.now(UTC))
        assert producer.queue_length(queue) == 0  # sent: not due again today
    finally:
        producer.close()
        storage.close()
