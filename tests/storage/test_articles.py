"""Storage contract: articles, the sources that delivered them, syndication links (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from newsloom.errors import InputError, NotFoundError
from newsloom.storage import Storage, sql
from tests.storage.helpers import T0, article, at


def test_add_article_round_trips_every_field(storage: Storage) -> None:
    paris = timezone(timedelta(hours=1))
    new = article(
        1,
        author="Ana Ruiz",
        publisher="The Example",
        published_at=at(1).astimezone(paris),
        updated_at=at(2),
        fetched_at=at(3),
        language="en",
        html="<p>Body of article number 1.</p>",
        image_url="https://news.example/1.jpg",
        captions=("A photo.", "Another photo."),
    )
    source, _ = storage.add_source("https://news.example/feed", now=T0)
    stored, created = storage.add_article(new, source_id=source.id, guid="tag:1", now=at(4))
    assert created
    for name in ("canonical_url", "title", "text", "content_hash", "url", "author", "publisher", "updated_at",
                 "fetched_at", "language", "html", "image_url", "captions"):
        assert getattr(stored, name) == getattr(new, name), name
    assert stored.published_at == at(1)
    assert stored.published_at is not None and stored.published_at.utcoffset() == timedelta(0)
    assert (stored.original_id, stored.story_id, stored.source_ids) == (None, None, (source.id,))
    assert storage.get_article(stored.id) == stored


def test_add_article_again_changes_nothing_and_links_the_new_source(storage: Storage) -> None:
    a, _ = storage.add_source("https://a.example/feed", now=T0)
    b, _ = storage.add_source("https://b.example/feed", now=T0)
    first, created = storage.add_article(article(1), source_id=a.id, guid="a-1", now=T0)
    assert created
    same, created = storage.add_article(article(1), source_id=a.id, guid="a-1", now=at(1))
    assert not created and same == first
    by_hash, created = storage.add_article(
        article(1, canonical_url="https://mirror.example/copy", title="Changed"), source_id=b.id, now=at(2)
    )
    assert not created
    assert by_hash.id == first.id and by_hash.title == first.title
    assert by_hash.source_ids == (a.id, b.id)
    assert storage.count_articles() == 1
    assert storage.known_urls(["https://mirror.example/copy"]) == set()
    assert [s.id for s in storage.article_sources(first.id)] == [a.id, b.id]


def test_link_source_adds_a_delivery_once(storage: Storage) -> None:
    a, _ = storage.add_source("https://a.example/feed", now=T0)
    b, _ = storage.add_source("https://b.example/feed", now=T0)
    stored, _ = storage.add_article(article(1), source_id=a.id, now=T0)
    assert storage.link_source(stored.id, b.id, guid="b-1", now=at(1))
    assert not storage.link_source(stored.id, b.id, guid="b-1", now=at(2))
    assert storage.get_article(stored.id).source_ids == (a.id, b.id)
    with pytest.raises(NotFoundError):
        storage.link_source(999, a.id, now=T0)
    with pytest.raises(NotFoundError):
        storage.link_source(stored.id, 999, now=T0)


def test_add_article_without_source(storage: Storage) -> None:
    stored, created = storage.add_article(article(1), now=T0)
    assert created and stored.source_ids == ()
    assert storage.article_sources(stored.id) == []


def test_find_article_by_url_or_hash(storage: Storage) -> None:
    stored, _ = storage.add_article(article(1), now=T0)
    assert storage.find_article(canonical_url="https://news.example/1") == stored
    assert storage.find_article(content_hash="hash-1") == stored
    assert storage.find_article(canonical_url="https://news.example/404") is None
    assert storage.find_article(canonical_url="https://news.example/404", content_hash="hash-1") == stored
    with pytest.raises(TypeError):
        storage.find_article()


def test_known_urls(storage: Storage) -> None:
    for n in range(3):
        storage.add_article(article(n), now=T0)
    wanted = [f"https://news.example/{n}" for n in range(1, 5)] + ["https://news.example/1"]
    assert storage.known_urls(wanted) == {"https://news.example/1", "https://news.example/2"}
    assert storage.known_urls([]) == set()
    many = [f"https://elsewhere.example/{n}" for n in range(1200)] + ["https://news.example/0"]
    assert storage.known_urls(iter(many)) == {"https://news.example/0"}


def test_set_original_and_back(storage: Storage) -> None:
    original, _ = storage.add_article(article(1), now=T0)
    copy, _ = storage.add_article(article(2), now=T0)
    storage.set_original(copy.id, original.id)
    assert storage.get_article(copy.id).original_id == original.id
    storage.set_original(copy.id, None)
    assert storage.get_article(copy.id).original_id is None
    with pytest.raises(NotFoundError):
        storage.set_original(copy.id, 999)
    with pytest.raises(NotFoundError):
        storage.set_original(999, original.id)
    with pytest.raises(InputError):
        storage.set_original(copy.id, copy.id)


def test_set_story_and_list_by_story(storage: Storage) -> None:
    ids = [storage.add_article(article(n), now=at(10))[0].id for n in range(3)]
    storage.set_story(ids[:2], "s1")
    assert [a.id for a in storage.list_articles(story_id="s1")] == [ids[1], ids[0]]
    assert storage.get_article(ids[0]).story_id == "s1"
    assert storage.get_article(ids[2]).story_id is None
    with pytest.raises(NotFoundError):
        storage.set_story([ids[2], 999], "s2")
    assert storage.get_article(ids[2]).story_id is None  # all or nothing


def test_list_articles_newest_first_with_filters_and_paging(storage: Storage) -> None:
    a, _ = storage.add_source("https://a.example/feed", now=T0)
    b, _ = storage.add_source("https://b.example/feed", now=T0)
    for n in range(6):
        storage.add_article(article(n), source_id=a.id if n % 2 else b.id, now=at(100))
    assert [x.canonical_url[-1] for x in storage.list_articles()] == list("543210")
    assert [x.canonical_url[-1] for x in storage.list_articles(limit=2, offset=1)] == list("43")
    assert [x.canonical_url[-1] for x in storage.list_articles(source_id=a.id)] == list("531")
    assert [x.canonical_url[-1] for x in storage.list_articles(since=at(3))] == list("543")
    assert [x.canonical_url[-1] for x in storage.list_articles(since=at(2), source_id=b.id)] == list("42")


def test_article_date_falls_back_to_fetch_time_then_storage_time(storage: Storage) -> None:
    storage.add_article(article(1, published_at=None, fetched_at=at(5)), now=at(50))
    storage.add_article(article(2, published_at=None), now=at(7))
    storage.add_article(article(3, published_at=at(1000)), now=at(6))  # clock in the future: capped at now
    assert [x.canonical_url[-1] for x in storage.list_articles()] == ["2", "3", "1"]


def test_iter_articles_since_in_arrival_order_across_batches(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "ITER_BATCH", 4)  # several batches from a handful of rows
    count = 23
    with storage.transaction():
        for n in range(count):
            # Several share a date, so paging must break ties on id.
            # Dates run backwards against arrival, so arrival (id) order is distinguishable from date order.
            storage.add_article(article(n, published_at=at(100 - n // 5 * 20)), now=at(1000))
    seen = list(storage.iter_articles_since(at(21)))  # the last 3 arrivals are dated 20, before the cut
    assert len(seen) == count - 3
    assert [x.id for x in seen] == sorted(x.id for x in seen)
    assert len({x.id for x in seen}) == len(seen)
    assert list(storage.iter_articles_since(at(2000))) == []


def test_count_articles(storage: Storage) -> None:
    assert storage.count_articles() == 0
    for n in range(3):
        storage.add_article(article(n), now=T0)
    assert storage.count_articles() == 3


def test_missing_articles_raise_not_found(storage: Storage) -> None:
    with pytest.raises(NotFoundError):
        storage.get_article(424242)
    with pytest.raises(NotFoundError):
        storage.article_sources(424242)


def test_nul_characters_are_dropped_on_both_engines(storage: Storage) -> None:
    stored, _ = storage.add_article(article(1, title="Nul\x00title", text="a\x00b"), now=T0)
    assert (stored.title, stored.text) == ("Nultitle", "ab")


def test_very_long_articles_are_stored_and_searchable(storage: Storage) -> None:
    # ~2 MB of distinct words: more than a PostgreSQL tsvector can hold if the whole body were indexed.
    words = " ".join(f"w{n:07x}" for n in range(250_000))
    stored, _ = storage.add_article(article(1, title="Giant report", text="needle " + words), now=T0)
    assert storage.get_article(stored.id).text.startswith("needle w0000000")
    assert [x.id for x in storage.search("needle giant")] == [stored.id]


def test_unassigned_article_ids_lists_articles_without_a_story_in_id_order(storage: Storage) -> None:
    ids = [storage.add_article(article(n), now=at(n))[0].id for n in range(1, 6)]
    assert storage.unassigned_article_ids(10) == ids
    storage.set_story([ids[0], ids[2]], "s1")
    assert storage.unassigned_article_ids(10) == [ids[1], ids[3], ids[4]]
    assert storage.unassigned_article_ids(2) == [ids[1], ids[3]]
    storage.set_story(ids, "s1")
    assert storage.unassigned_article_ids(10) == []
