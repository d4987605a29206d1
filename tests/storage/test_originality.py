"""Storage contract: originality labels and per-source shares (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from newsloom.errors import NotFoundError
from newsloom.storage import Storage
from newsloom.stories.originality import OriginalityLabel
from tests.storage.helpers import T0, article, at


def test_labels_round_trip_and_replace(storage: Storage) -> None:
    a, _ = storage.add_article(article(1), now=T0)
    b, _ = storage.add_article(article(2), now=T0)
    storage.set_originality({a.id: OriginalityLabel("own"), b.id: OriginalityLabel("wire", "AP", a.id)})
    assert storage.get_originality([a.id, b.id, 999]) == {
        a.id: OriginalityLabel("own"), b.id: OriginalityLabel("wire", "AP", a.id),
    }  # fmt: skip
    storage.set_originality({b.id: OriginalityLabel("rewrite", None, a.id)})
    assert storage.get_originality([b.id]) == {b.id: OriginalityLabel("rewrite", None, a.id)}
    storage.set_originality({})


def test_missing_article_stores_nothing(storage: Storage) -> None:
    a, _ = storage.add_article(article(1), now=T0)
    with pytest.raises(NotFoundError):
        storage.set_originality({a.id: OriginalityLabel("own"), 12345: OriginalityLabel("own")})
    assert storage.get_originality([a.id]) == {}
    with pytest.raises(ValueError):
        storage.set_originality({a.id: OriginalityLabel("stolen")})  # type: ignore[arg-type]


def test_shares_by_source_over_a_window(storage: Storage) -> None:
    local, _ = storage.add_source("https://local.example/feed", now=T0)
    other, _ = storage.add_source("https://other.example/feed", now=T0)
    ids = [storage.add_article(article(n), source_id=local.id, now=at(10))[0].id for n in range(1, 6)]
    shared = storage.add_article(article(6), source_id=other.id, now=T0)[0].id
    storage.link_source(shared, local.id, now=T0)
    storage.set_originality({
        ids[0]: OriginalityLabel("own"), ids[1]: OriginalityLabel("wire", "AP"), ids[2]: OriginalityLabel("wire", "AP"),
        ids[3]: OriginalityLabel("wire", "Reuters"), ids[4]: OriginalityLabel("rewrite", None, ids[0]),
        shared: OriginalityLabel("own"),
    })  # fmt: skip
    by_source = storage.originality_by_source(since=T0)
    assert sorted(by_source[local.id]) == sorted(
        [("own", None, 2), ("wire", "AP", 2), ("wire", "Reuters", 1), ("rewrite", None, 1)]
    )
    assert by_source[other.id] == [("own", None, 1)]
    # articles are dated by publication (stored later): article(n) is published at T0 + n hours
    assert storage.originality_by_source(since=at(4), until=at(6)) == {local.id: [("rewrite", None, 1), ("wire", "Reuters", 1)]}


def test_labels_go_with_their_article(storage: Storage) -> None:
    a, _ = storage.add_article(article(1), now=T0)
    source, _ = storage.add_source("https://local.example/feed", now=T0)
    storage.link_source(a.id, source.id, now=T0)
    storage.set_originality({a.id: OriginalityLabel("own")})
    storage.remove_source(source.id)
    assert storage.originality_by_source(since=T0) == {}
    assert storage.get_originality([a.id]) == {a.id: OriginalityLabel("own")}
