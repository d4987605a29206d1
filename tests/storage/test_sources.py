"""Storage contract: sources and their fetch state (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from newsloom.errors import NotFoundError, StorageError
from newsloom.storage import Storage
from tests.storage.helpers import T0, article, at


def test_add_source_returns_it_created_and_fills_defaults(storage: Storage) -> None:
    source, created = storage.add_source(
        "https://a.example/feed.xml", title="A", site_url="https://a.example/", category="World", now=T0
    )
    assert created
    assert source.id > 0
    assert (source.url, source.kind, source.title, source.site_url, source.category) == (
        "https://a.example/feed.xml", "feed", "A", "https://a.example/", "World",
    )
    assert (source.error_count, source.poll_interval_s, source.next_poll_at) == (0, 3600, None)
    assert source.created_at == T0
    assert storage.get_source(source.id) == source


def test_add_source_twice_changes_nothing(storage: Storage) -> None:
    first, _ = storage.add_source("https://a.example/feed.xml", title="A", now=T0)
    again, created = storage.add_source("https://a.example/feed.xml", title="Other title", kind="page", now=at(5))
    assert not created
    assert again == first
    assert len(storage.list_sources()) == 1


def test_find_and_list_sources(storage: Storage) -> None:
    a, _ = storage.add_source("https://a.example/feed", now=T0)
    b, _ = storage.add_source("https://b.example/page", kind="page", now=T0)
    assert storage.find_source("https://b.example/page") == b
    assert storage.find_source("https://nowhere.example/") is None
    assert storage.list_sources() == [a, b]


def test_update_source_changes_fetch_state(storage: Storage) -> None:
    source, _ = storage.add_source("https://a.example/feed", now=T0)
    updated = storage.update_source(
        source.id,
        etag='W/"abc"',
        last_modified="Fri, 01 Mar 2024 12:00:00 GMT",
        last_polled_at=at(1),
        last_success_at=at(1),
        last_error="HTTP 503",
        error_count=2,
        next_poll_at=at(3),
        poll_interval_s=900,
        title="Renamed",
    )
    assert updated.etag == 'W/"abc"'
    assert (updated.last_polled_at, updated.next_poll_at) == (at(1), at(3))
    assert (updated.error_count, updated.poll_interval_s, updated.title) == (2, 900, "Renamed")
    assert storage.get_source(source.id) == updated
    assert storage.update_source(source.id) == updated  # no changes is fine


def test_update_source_refuses_unknown_fields_and_ids(storage: Storage) -> None:
    source, _ = storage.add_source("https://a.example/feed", now=T0)
    with pytest.raises(TypeError):
        storage.update_source(source.id, colour="red")
    with pytest.raises(TypeError):
        storage.update_source(source.id, id=99)
    with pytest.raises(NotFoundError):
        storage.update_source(source.id + 100, title="x")


def test_update_source_to_a_taken_url_is_a_storage_error(storage: Storage) -> None:
    storage.add_source("https://a.example/feed", now=T0)
    b, _ = storage.add_source("https://b.example/feed", now=T0)
    with pytest.raises(StorageError):
        storage.update_source(b.id, url="https://a.example/feed")
    assert storage.get_source(b.id).url == "https://b.example/feed"


def test_due_sources_never_polled_first_then_most_overdue(storage: Storage) -> None:
    later, _ = storage.add_source("https://later.example/", now=T0)
    overdue, _ = storage.add_source("https://overdue.example/", now=T0)
    fresh, _ = storage.add_source("https://fresh.example/", now=T0)
    exactly, _ = storage.add_source("https://exactly.example/", now=T0)
    storage.update_source(later.id, next_poll_at=at(10))
    storage.update_source(overdue.id, next_poll_at=at(-5))
    storage.update_source(exactly.id, next_poll_at=at(0))
    assert [s.id for s in storage.due_sources(T0)] == [fresh.id, overdue.id, exactly.id]
    assert [s.id for s in storage.due_sources(T0, limit=2)] == [fresh.id, overdue.id]
    assert len(storage.due_sources(at(10))) == 4


def test_remove_source_keeps_articles_and_drops_links(storage: Storage) -> None:
    a, _ = storage.add_source("https://a.example/feed", now=T0)
    b, _ = storage.add_source("https://b.example/feed", now=T0)
    stored, _ = storage.add_article(article(1), source_id=a.id, now=T0)
    storage.add_article(article(1), source_id=b.id, now=T0)
    storage.remove_source(a.id)
    with pytest.raises(NotFoundError):
        storage.get_source(a.id)
    assert storage.get_article(stored.id).source_ids == (b.id,)
    assert storage.list_articles(source_id=a.id) == []
    with pytest.raises(NotFoundError):
        storage.remove_source(a.id)


def test_missing_source_ids_raise_not_found(storage: Storage) -> None:
    with pytest.raises(NotFoundError):
        storage.get_source(12345)
    with pytest.raises(NotFoundError):
        storage.add_article(article(1), source_id=12345, now=T0)
    assert storage.count_articles() == 0
