"""Storage contract: stories, merges and redirects (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from newsloom.errors import NotFoundError
from newsloom.storage import Storage
from tests.storage.helpers import T0, article, at, story


def test_save_story_round_trips_and_upserts(storage: Storage) -> None:
    saved = story("s1")
    storage.save_story(saved, now=T0)
    assert storage.get_story("s1") == saved
    grown = story("s1", headline="Bigger", last_seen=at(5), article_count=5, entities=("Paris",))
    storage.save_story(grown, now=at(5))
    assert storage.get_story("s1") == grown
    assert storage.count_stories() == 1


def test_story_with_empty_fields(storage: Storage) -> None:
    bare = story("s1", first_seen=None, last_seen=None, entities=(), summary="")
    storage.save_story(bare, now=T0)
    assert storage.get_story("s1") == bare


def test_get_missing_story_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFoundError):
        storage.get_story("nope")


def test_list_stories_most_recent_first(storage: Storage) -> None:
    for n, hours in enumerate([3, 1, 2]):
        storage.save_story(story(f"s{n}", last_seen=at(hours)), now=T0)
    assert [s.id for s in storage.list_stories()] == ["s0", "s2", "s1"]
    assert [s.id for s in storage.list_stories(since=at(2))] == ["s0", "s2"]
    assert [s.id for s in storage.list_stories(limit=1, offset=1)] == ["s2"]
    assert storage.count_stories() == 3


def test_merge_moves_articles_and_redirects(storage: Storage) -> None:
    storage.save_story(story("old"), now=T0)
    storage.save_story(story("new"), now=T0)
    ids = [storage.add_article(article(n), now=at(10))[0].id for n in range(3)]
    storage.set_story(ids[:2], "old")
    storage.set_story(ids[2:], "new")
    storage.merge_stories("old", "new")
    assert storage.get_story("old") == storage.get_story("new")
    assert storage.get_story("old").id == "new"
    assert sorted(a.id for a in storage.list_articles(story_id="new")) == ids
    assert storage.list_articles(story_id="old") == []
    assert storage.count_stories() == 1
    assert [s.id for s in storage.list_stories()] == ["new"]


def test_merge_chains_stay_resolvable(storage: Storage) -> None:
    for story_id in ("a", "b", "c"):
        storage.save_story(story(story_id), now=T0)
    storage.merge_stories("a", "b")
    storage.merge_stories("b", "c")
    assert storage.get_story("a").id == "c"
    assert storage.get_story("b").id == "c"
    # A new story under a redirected id is found as itself, and its redirect is gone after a merge into it.
    storage.save_story(story("a", headline="Back"), now=at(1))
    assert storage.get_story("a").headline == "Back"
    storage.merge_stories("c", "a")
    assert storage.get_story("b").id == "a"
    assert storage.get_story("c").id == "a"
    assert storage.get_story("a").id == "a"


def test_merge_needs_the_old_story_only(storage: Storage) -> None:
    storage.save_story(story("a"), now=T0)
    with pytest.raises(NotFoundError):
        storage.merge_stories("missing", "a")
    storage.merge_stories("a", "a")
    assert storage.get_story("a").id == "a"
    # The story merged into may be saved right after (the clustering stage does so with its new counts).
    storage.merge_stories("a", "fresh")
    with pytest.raises(NotFoundError):
        storage.get_story("a")
    storage.save_story(story("fresh"), now=at(1))
    assert storage.get_story("a").id == "fresh"
