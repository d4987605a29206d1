"""Storage contract: a broad query (a word most articles contain) ranks only the newest matches, on both engines.

Ranking every match of a common word was what made search slow at 100k articles (docs/benchmarks/web.md); the
cap (``search.RANKED_CANDIDATES``) is lowered here so that a few dozen rows exercise it quickly.
"""

from __future__ import annotations

import pytest

from newsloom.storage import Storage, search
from newsloom.types import Article
from tests.storage.helpers import T0, article, at

CAP = 20
ROWS = 3 * CAP


@pytest.fixture
def broad(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> Storage:
    """ROWS articles that all mention "minister"; every fifth also has it in the title (a better match)."""
    monkeypatch.setattr(search, "RANKED_CANDIDATES", CAP)
    old, _ = storage.add_source("https://old.example/feed", now=T0)
    new, _ = storage.add_source("https://new.example/feed", now=T0)
    with storage.transaction():
        for n in range(1, ROWS + 1):
            title = f"Minister speaks {n}" if n % 5 == 0 else f"Headline {n}"
            storage.add_article(
                article(n, title=title, text=f"The minister said something about item {n}."),
                source_id=old.id if n <= CAP else new.id,
                now=at(n),
            )
    return storage


def numbers(results: list[Article]) -> list[int]:
    return [int(a.canonical_url.rsplit("/", 1)[1]) for a in results]


def test_broad_query_ranks_the_newest_matches_best_first(broad: Storage) -> None:
    found = numbers(broad.search("minister", limit=10))
    assert len(found) == 10
    newest = set(range(ROWS - CAP + 1, ROWS + 1))
    assert set(found) <= newest  # older matches are outside the ranked set
    title_matches = sorted((n for n in newest if n % 5 == 0), reverse=True)
    assert found[: len(title_matches)] == title_matches  # title matches first, newest first among equals


def test_narrow_query_is_ranked_in_full(broad: Storage) -> None:
    assert numbers(broad.search('"item 3"')) == [3]  # the oldest rows still match


def test_filters_apply_before_the_cap(broad: Storage) -> None:
    old = broad.find_source("https://old.example/feed")
    assert old is not None
    found = numbers(broad.search("minister", source_id=old.id, limit=100))
    assert sorted(found) == list(range(1, CAP + 1))  # all old rows, though none is among the newest CAP
    assert numbers(broad.search("minister", until=at(3), limit=100)) == [2, 1]


def test_deep_pages_are_ranked_too(broad: Storage) -> None:
    page = numbers(broad.search("minister", limit=10, offset=2 * CAP))
    assert len(page) == 10  # the cap grows with offset + limit: a deep page is never empty
