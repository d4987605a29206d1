"""Storage contract: full-text search (SQLite FTS5 and PostgreSQL tsvector behind one method)."""

from __future__ import annotations

import pytest

from newsloom.storage import Storage
from tests.storage.helpers import T0, article, at

DOCUMENTS = {
    1: ("Earthquake shakes Lisbon", "A strong earthquake hit the Portuguese capital on Monday morning."),
    2: ("Markets calm", "Investors shrugged off the earthquake news from Lisbon as stocks rose."),
    3: ("Café culture in Paris", "Parisian cafés adapt to the e-mail era and remote workers."),
    4: ("Climate deal signed", "Delegates in Geneva signed the climate deal after long talks."),
    5: ("東京で地震", "東京 地震 速報"),
    6: ("Deal or no deal", "A climate of uncertainty hangs over the trade deal."),
}


@pytest.fixture
def filled(storage: Storage) -> Storage:
    a, _ = storage.add_source("https://a.example/feed", now=T0)
    b, _ = storage.add_source("https://b.example/feed", now=T0)
    for n, (title, text) in DOCUMENTS.items():
        storage.add_article(article(n, title=title, text=text), source_id=a.id if n % 2 else b.id, now=at(100))
    return storage


def found(storage: Storage, query: str, **filters: object) -> list[int]:
    return [int(x.canonical_url.rsplit("/", 1)[1]) for x in storage.search(query, **filters)]  # type: ignore[arg-type]


def test_words_match_title_and_text_best_first(filled: Storage) -> None:
    assert found(filled, "earthquake lisbon") == [1, 2]  # title matches rank first
    assert found(filled, "EARTHQUAKE") == [1, 2]
    assert found(filled, "investors") == [2]
    assert found(filled, "nothing-like-this") == []


def test_phrases_or_and_exclusion(filled: Storage) -> None:
    assert found(filled, '"climate deal"') == [4]
    assert sorted(found(filled, "climate deal")) == [4, 6]
    assert sorted(found(filled, "geneva OR investors")) == [2, 4]
    assert found(filled, "climate -geneva") == [6]
    assert found(filled, 'deal -"climate deal"') == [6]


def test_results_carry_sources_and_filters_apply(filled: Storage) -> None:
    a = filled.find_source("https://a.example/feed")
    assert a is not None
    results = filled.search("earthquake")
    assert [r.source_ids for r in results] == [(a.id,), (a.id + 1,)]
    assert found(filled, "earthquake", source_id=a.id) == [1]
    assert found(filled, "earthquake", since=at(2)) == [2]
    assert found(filled, "earthquake", until=at(2)) == [1]
    assert found(filled, "earthquake", limit=1) == [1]
    assert found(filled, "earthquake", offset=1) == [2]


def test_unicode_queries(filled: Storage) -> None:
    assert found(filled, "café") == [3]
    assert found(filled, "Café culture") == [3]
    assert found(filled, "東京") == [5]


HOSTILE_QUERIES = [
    "", "   ", '"', '""', '"unterminated phrase', "'", "(", ")", "()", "*", "-", "--", "-earthquake",
    "OR", "AND", "NOT", "NEAR(a b)", "title:earthquake", "^earthquake", "earthquake*", "a AND OR NOT b",
    "e-mail", "l'état", "C++ && || !", "\x00", "earth\x00quake", "%_\\", "😀", "{}[]:;", "NOT earthquake",
    "'; DROP TABLE articles; --", "\u200b\u00a0", "a" * 5000,
]


def test_no_query_raises(filled: Storage) -> None:
    for query in HOSTILE_QUERIES:
        results = filled.search(query)
        assert isinstance(results, list), query
    assert filled.count_articles() == len(DOCUMENTS)


def test_punctuation_inside_queries_still_finds_words(filled: Storage) -> None:
    assert found(filled, "e-mail") == [3]
    assert found(filled, "earthquake!") == [1, 2]
    assert found(filled, '"Lisbon') == [1, 2]
    assert found(filled, "title:earthquake") == []  # no column filters: the words are searched as a phrase


def test_index_follows_new_articles(storage: Storage) -> None:
    assert storage.search("zebra") == []
    stored, _ = storage.add_article(article(1, title="Zebra escapes zoo"), now=T0)
    assert [x.id for x in storage.search("zebra")] == [stored.id]
