"""A digest is claimed in the database before it is sent, so racing notifiers or workers send it once.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from newsloom.notify.digest import due_before, is_due
from newsloom.storage.accounts_store import SqlAccountStore
from newsloom.storage.base import Storage
from newsloom.storage.notify_store import SqlNotifyStore
from tests.notify.newsfixtures import NOW


def test_is_due_follows_the_period_less_the_slack() -> None:
    assert is_due("daily", None, NOW) and is_due("hourly", NOW - timedelta(minutes=59), NOW)
    assert not is_due("hourly", NOW - timedelta(minutes=50), NOW)
    assert not is_due("daily", NOW - timedelta(hours=20), NOW) and not is_due("off", None, NOW)


def test_one_claim_per_period_and_a_released_claim_can_be_taken_again(storage: Storage) -> None:
    user = SqlAccountStore.for_storage(storage).add_user("dana", "h", now=NOW)
    store = SqlNotifyStore.for_storage(storage)
    store.update_notify_settings(user.id, email="dana@example.org", digest="daily")
    assert store.claim_digest(user.id, now=NOW, due_before=due_before("daily", NOW))
    assert not store.claim_digest(user.id, now=NOW, due_before=due_before("daily", NOW))
    later = NOW + timedelta(hours=3)
    assert not store.claim_digest(user.id, now=later, due_before=due_before("daily", later))  # not due yet
    store.release_digest(user.id, claimed_at=NOW, previous=None)  # the send failed
    assert store.get_notify_settings(user.id).last_digest_at is None
    assert store.claim_digest(user.id, now=later, due_before=due_before("daily", later))
    store.release_digest(user.id, claimed_at=NOW, previous=None)  # a stale release changes nothing
    assert store.get_notify_settings(user.id).last_digest_at == later
    store.update_notify_settings(user.id, digest="off", last_digest_at=None)
    assert not store.claim_digest(user.id, now=later, due_before=due_before("daily", later))


def test_racing_claims_have_one_winner(storage: Storage) -> None:
    user = SqlAccountStore.for_storage(storage).add_user("eli", "h", now=NOW)
    store = SqlNotifyStore.for_storage(storage)
    store.update_notify_settings(user.id, email="eli@example.org", digest="hourly")
    start = threading.Barrier(6)
    wins: list[bool] = []

    def claim() -> None:
        start.wait()
        wins.append(store.claim_digest(user.id, now=NOW, due_before=due_before("hourly", NOW)))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(wins) == [False] * 5 + [True]
