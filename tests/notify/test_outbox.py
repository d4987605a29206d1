"""The outbox: story changes store notifications for followers in the same transaction (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from newsloom.errors import InputError, NotFoundError
from newsloom.ingest.intake import Intake
from newsloom.settings import Settings
from newsloom.storage.accounts_store import SqlAccountStore
from newsloom.storage.base import Storage
from newsloom.storage.notify_base import NewEvent
from newsloom.storage.notify_store import SqlNotifyStore
from tests.notify.newsfixtures import NOW, first_report, other_story, second_outlet


@pytest.fixture
def intake(storage: Storage, tmp_path: Path) -> Intake:
    return Intake(storage, Settings(data_dir=str(tmp_path)), now=NOW)


def test_store_round_trip_and_idempotent_events(storage: Storage) -> None:
    accounts = SqlAccountStore.for_storage(storage)
    store = SqlNotifyStore.for_storage(storage)
    user = accounts.add_user("ann", "h", now=NOW)
    assert store.get_notify_settings(user.id).digest == "off"
    settings = store.update_notify_settings(user.id, email="ann@example.org", digest="daily")
    assert settings.email == "ann@example.org" and settings.digest == "daily"
    assert [s.user_id for s in store.digest_readers()] == [user.id]
    with pytest.raises(TypeError):
        store.update_notify_settings(user.id, user_id=3)
    with pytest.raises(NotFoundError):
        store.update_notify_settings(9999, email="x@example.org")
    event = NewEvent("new_outlet:s1:x", "new_outlet", "s1", "X covers it", "body", "{}")
    first = store.record_event(user.id, event, [("email", "ann@example.org"), ("webhook", "https://h.example/")], now=NOW)
    assert first is not None
    assert store.record_event(user.id, event, [("email", "ann@example.org")], now=NOW) is None  # written once
    assert store.count_unread(user.id) == 1
    pending = store.pending_deliveries(now=NOW)
    assert sorted(d.channel for d in pending) == ["email", "webhook"]
    assert len({d.idempotency_key for d in pending}) == 2
    claimed = store.claim_deliveries(now=NOW, lease_until=NOW + timedelta(minutes=1), limit=10)
    assert len(claimed) == 2
    assert store.claim_deliveries(now=NOW, lease_until=NOW + timedelta(minutes=1), limit=10) == []  # leased
    again = store.claim_deliveries(now=NOW + timedelta(minutes=2), lease_until=NOW + timedelta(minutes=3), limit=10)
    assert len(again) == 2  # a lease that ran out (a killed worker) lets another take it
    store.delivery_sent(again[0].id, now=NOW)
    store.delivery_failed(again[1].id, "HTTP 500", retry_at=NOW + timedelta(minutes=5))
    assert [d.id for d in store.pending_deliveries(now=NOW + timedelta(minutes=6))] == [again[1].id]
    store.delivery_failed(again[1].id, "gave up", retry_at=None)
    assert {d.status for d in store.list_deliveries(user.id)} == {"sent", "failed"}
    assert store.list_deliveries(user.id, status="failed")[0].last_error == "gave up"
    assert store.mark_notifications_read(user.id, now=NOW) == 1 and store.count_unread(user.id) == 0


def test_follow_channels(storage: Storage) -> None:
    accounts = SqlAccountStore.for_storage(storage)
    user = accounts.add_user("bea", "h", now=NOW)
    assert accounts.follow(user.id, "story", "s1", now=NOW, channel="webhook")
    assert accounts.list_follows(user.id)[0].channel == "webhook"
    assert accounts.set_follow_channel(user.id, "story", "s1", "email")
    assert accounts.list_follows(user.id)[0].channel == "email"
    assert not accounts.set_follow_channel(user.id, "story", "s2", "email")
    with pytest.raises(InputError):
        accounts.set_follow_channel(user.id, "story", "s1", "pigeon")
    store = SqlNotifyStore.for_storage(storage)
    accounts.follow(user.id, "entity", "Corvane Industries", now=NOW)
    assert store.followers("entity", ["corvane industries"]) == [(user.id, "Corvane Industries", "in_app")]
    assert store.followed_values("entity") == ["corvane industries"]
    accounts.update_user(user.id, disabled=True)
    assert store.followers("story", ["s1"]) == []  # disabled readers are told nothing


def test_followed_story_events_are_stored_once_with_the_change(storage: Storage, intake: Intake) -> None:
    accounts = SqlAccountStore.for_storage(storage)
    store = SqlNotifyStore.for_storage(storage)
    reader = accounts.add_user("cat", "h", now=NOW)
    store.update_notify_settings(reader.id, webhook_url="https://hooks.example/in")
    first = intake.accept(first_report(), now=NOW)
    assert first.story_id is not None
    accounts.follow(reader.id, "story", first.story_id, now=NOW, channel="webhook")
    assert store.list_notifications(reader.id) == []
    second = intake.accept(second_outlet(), now=NOW)
    assert second.story_id == first.story_id, "the fixture's two reports must form one story"
    kinds = sorted(n.kind for n in store.list_notifications(reader.id))
    assert kinds == ["figure_differs", "new_claim", "new_outlet"]
    by_kind = {n.kind: n for n in store.list_notifications(reader.id)}
    figure = json.loads(by_kind["figure_differs"].payload)
    assert (figure["earlier"], figure["now"]) == ("six hours", "nine hours")
    assert "production would stop" in json.loads(by_kind["new_claim"].payload)["sentence"]
    assert "Coast Herald" in by_kind["new_outlet"].title
    deliveries = store.pending_deliveries(now=NOW)
    assert len(deliveries) == 3 and {d.channel for d in deliveries} == {"webhook"}
    # the same change seen again (a retried batch) stores nothing new
    from newsloom.notify.hook import StoryChange, record_story_notifications

    story = storage.get_story(first.story_id)
    assert second.article is not None
    with storage.transaction():
        again = record_story_notifications(storage, [StoryChange(story, [second.article])], now=NOW)
    assert again == 0 and len(store.list_notifications(reader.id)) == 3


def test_new_story_matching_a_followed_entity_or_topic(storage: Storage, intake: Intake) -> None:
    accounts = SqlAccountStore.for_storage(storage)
    store = SqlNotifyStore.for_storage(storage)
    fan = accounts.add_user("dan", "h", now=NOW)
    transit = accounts.add_user("eve", "h", now=NOW)
    accounts.follow(fan.id, "entity", "Corvane Industries", now=NOW)
    accounts.follow(fan.id, "topic", "chemical plant", now=NOW)  # the same story twice: told once
    accounts.follow(transit.id, "topic", "tram", now=NOW, channel="email")
    store.update_notify_settings(transit.id, email="eve@example.org")
    intake.accept(first_report(), now=NOW)
    intake.accept(other_story(), now=NOW)
    fan_notes = store.list_notifications(fan.id)
    assert [n.kind for n in fan_notes] == ["new_story"] and "Harbourside" in fan_notes[0].title
    transit_notes = store.list_notifications(transit.id)
    assert [n.kind for n in transit_notes] == ["new_story"] and "tram" in transit_notes[0].title
    assert [(d.channel, d.destination) for d in store.pending_deliveries(now=NOW)] == [("email", "eve@example.org")]


def test_a_failed_batch_stores_no_notification(storage: Storage, intake: Intake) -> None:
    accounts = SqlAccountStore.for_storage(storage)
    store = SqlNotifyStore.for_storage(storage)
    reader = accounts.add_user("fay", "h", now=NOW)
    accounts.follow(reader.id, "topic", "tram", now=NOW)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), storage.transaction():
        intake.accept(other_story(), now=NOW)
        assert len(store.list_notifications(reader.id)) == 1  # visible inside the transaction ...
        raise Boom
    assert store.list_notifications(reader.id) == []  # ... and gone with it


def test_follows_of_a_merged_story_move_to_where_it_went(storage: Storage) -> None:
    from newsloom.notify.hook import StoryChange, record_story_notifications
    from newsloom.types import Story

    accounts = SqlAccountStore.for_storage(storage)
    one = accounts.add_user("gus", "h", now=NOW)
    both = accounts.add_user("hal", "h", now=NOW)
    accounts.follow(one.id, "story", "s-old", now=NOW, channel="email")
    accounts.follow(both.id, "story", "s-old", now=NOW)
    accounts.follow(both.id, "story", "s-new", now=NOW)
    story = Story(id="s-new", headline="H", summary="S", first_seen=NOW, last_seen=NOW, article_count=0,
                  outlet_count=0, original_count=0, syndicated_count=0)  # fmt: skip
    with storage.transaction():
        record_story_notifications(storage, [StoryChange(story, [], merged_from=["s-old"])], now=NOW)
    assert [(f.kind, f.value, f.channel) for f in accounts.list_follows(one.id)] == [("story", "s-new", "email")]
    assert [(f.kind, f.value) for f in accounts.list_follows(both.id)] == [("story", "s-new")]
