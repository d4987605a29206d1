"""WebSubStorage contract, on SQLite and PostgreSQL: one subscription per source, kept id, cascade, UTC times."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from newsloom.errors import NotFoundError, StorageError
from newsloom.storage import Storage
from newsloom.storage.websub_store import SqlWebSubStore
from tests.storage.helpers import T0, at


def test_a_subscription_is_created_pending_and_replaced_in_place(storage: Storage) -> None:
    store = SqlWebSubStore.for_storage(storage)
    source, _ = storage.add_source("https://news.example/feed", now=T0)
    sub = store.put_subscription(source.id, hub_url="https://hub.example/", topic_url=source.url, secret="s1", now=T0)
    assert (sub.state, sub.requested_at, sub.created_at, sub.deliveries) == ("pending", T0, T0, 0)
    assert store.subscription_for_source(source.id) == sub == store.get_subscription(sub.id)
    active = store.update_subscription(sub.id, state="active", requested_at=None, lease_expires_at=at(5))
    store.record_delivery(sub.id, now=at(1))
    store.record_delivery(sub.id, now=at(2))
    again = store.put_subscription(source.id, hub_url="https://hub2.example/", topic_url="https://t.example/",
                                   secret="s2", now=at(3))  # fmt: skip
    assert again.id == sub.id and again.created_at == T0
    assert (again.hub_url, again.topic_url, again.secret, again.state, again.requested_at) == (
        "https://hub2.example/", "https://t.example/", "s2", "pending", at(3))  # fmt: skip
    assert again.deliveries == 2 and again.last_delivery_at == at(2)
    assert active.lease_expires_at == at(5) and active.lease_expires_at.tzinfo is not None
    assert [s.id for s in store.list_subscriptions(states=("pending",))] == [sub.id]
    assert store.list_subscriptions(states=("active", "failed")) == []


def test_errors_and_the_cascade(storage: Storage) -> None:
    store = SqlWebSubStore.for_storage(storage)
    with pytest.raises(NotFoundError):
        store.put_subscription(12345, hub_url="https://h/", topic_url="https://t/", secret="s", now=T0)
    with pytest.raises(NotFoundError):
        store.get_subscription(12345)
    with pytest.raises(NotFoundError):
        store.update_subscription(12345, state="failed")
    source, _ = storage.add_source("https://news.example/feed", now=T0)
    sub = store.put_subscription(source.id, hub_url="https://h/", topic_url="https://t/", secret="s", now=T0)
    with pytest.raises(TypeError):
        store.update_subscription(sub.id, source_id=99)
    with pytest.raises(StorageError):
        store.update_subscription(sub.id, retry_at=T0.replace(tzinfo=None))  # naive times are refused
    other_zone = store.update_subscription(sub.id, retry_at=T0.astimezone(timezone(timedelta(hours=5))))
    assert other_zone.retry_at == T0
    storage.remove_source(source.id)
    assert store.subscription_for_source(source.id) is None
    with pytest.raises(NotFoundError):
        store.get_subscription(sub.id)


def test_calls_join_an_open_transaction(storage: Storage) -> None:
    store = SqlWebSubStore.for_storage(storage)
    source, _ = storage.add_source("https://news.example/feed", now=T0)
    with pytest.raises(RuntimeError), storage.transaction():
        store.put_subscription(source.id, hub_url="https://h/", topic_url="https://t/", secret="s", now=T0)
        storage.update_source(source.id, poll_interval_s=86400)
        raise RuntimeError("roll back")
    assert store.subscription_for_source(source.id) is None
    assert storage.get_source(source.id).poll_interval_s != 86400
