"""Storage contract: story versions, stored story pages and search hits (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsloom.errors import NotFoundError
from newsloom.storage import Storage
from newsloom.storage.rows import SNIPPET_CHARS, snippet_of
from tests.storage.helpers import T0, article, at, story


def version(storage: Storage, story_id: str) -> int:
    return storage.story_with_page(story_id).version


def test_every_write_that_changes_a_page_bumps_the_story_version(storage: Storage) -> None:
    source, _ = storage.add_source("https://feeds.example/a", now=T0)
    other, _ = storage.add_source("https://feeds.example/b", now=T0)
    first, _ = storage.add_article(article(1), source_id=source.id, now=T0)
    second, _ = storage.add_article(article(2), now=T0)
    storage.save_story(story("s1"), now=T0)
    seen = [version(storage, "s1")]

    def bumped() -> bool:
        seen.append(version(storage, "s1"))
        return seen[-1] > seen[-2]

    storage.set_story([first.id], "s1")
    assert bumped(), "set_story"
    storage.save_story(story("s1", headline="Grown"), now=T0)
    assert bumped(), "save_story"
    assert storage.link_source(first.id, other.id, now=T0)
    assert bumped(), "a new source link"
    assert not storage.link_source(first.id, other.id, now=T0)
    assert not bumped(), "a link already there changes nothing"
    storage.add_article(article(1, content_hash="other"), source_id=source.id, now=T0)  # known URL, known link
    assert not bumped()
    storage.set_story([second.id], "s1")
    storage.set_original(second.id, first.id)
    seen.append(version(storage, "s1"))
    assert seen[-1] >= seen[-2] + 2, "set_story and set_original"
    storage.touch_story("s1")
    assert bumped(), "touch_story"
    storage.touch_story("nope")  # unknown: nothing happens


def test_writes_move_the_process_change_count_and_reads_do_not(storage: Storage) -> None:
    """Web caches trust a held page while the count is unchanged (storage.changes): every write must move it."""
    from newsloom.storage import changes

    first, _ = storage.add_article(article(1), now=T0)
    storage.save_story(story("s1"), now=T0)
    count = changes.generation()
    storage.get_story("s1")
    storage.story_with_page("s1", with_payload=False)
    storage.list_stories(limit=5)
    assert changes.generation() == count, "reads"
    for write in (lambda: storage.set_story([first.id], "s1"), lambda: storage.save_story(story("s1", headline="G"), now=T0),
                  lambda: storage.touch_story("s1"), lambda: storage.save_story_page("s1", 3, "{}", now=T0)):  # fmt: skip
        write()
        assert changes.generation() > count
        count = changes.generation()


def test_moving_articles_bumps_the_story_they_left(storage: Storage) -> None:
    a, _ = storage.add_article(article(1), now=T0)
    storage.save_story(story("s1"), now=T0)
    storage.save_story(story("s2"), now=T0)
    storage.set_story([a.id], "s1")
    before = version(storage, "s1")
    storage.set_story([a.id], "s2")
    assert version(storage, "s1") > before


def test_pages_round_trip_and_are_fresh_only_for_their_version(storage: Storage) -> None:
    storage.save_story(story("s1"), now=T0)
    current = storage.story_with_page("s1")
    assert current.page is None and not current.fresh
    assert current.story == story("s1")
    built = storage.save_story_page("s1", current.version, '{"x": 1}', now=T0)
    current = storage.story_with_page("s1")
    assert current.fresh and current.page is not None
    assert current.page.payload == '{"x": 1}' and current.page.built_at == built
    light = storage.story_with_page("s1", with_payload=False)
    assert light.fresh and light.page is not None and light.page.payload == "" and light.page.built_at == built
    storage.touch_story("s1")
    assert not storage.story_with_page("s1").fresh


def test_built_at_is_a_whole_second_that_only_increases(storage: Storage) -> None:
    storage.save_story(story("s1"), now=T0)
    now = T0 + timedelta(microseconds=250_000)
    first = storage.save_story_page("s1", 0, "{}", now=now)
    assert first == T0 + timedelta(seconds=1)  # rounded up: never before the content it stamps
    again = storage.save_story_page("s1", 1, "{}", now=now)  # same clock reading (a fixed clock, a fast rebuild)
    assert again == first + timedelta(seconds=1)
    later = storage.save_story_page("s1", 2, "{}", now=T0 + timedelta(hours=1))
    assert later == T0 + timedelta(hours=1)


def test_pages_follow_merges_and_the_old_page_goes(storage: Storage) -> None:
    a, _ = storage.add_article(article(1), now=T0)
    storage.save_story(story("old"), now=T0)
    storage.save_story(story("new"), now=T0)
    storage.set_story([a.id], "old")
    storage.save_story_page("old", version(storage, "old"), "{}", now=T0)
    new_version = version(storage, "new")
    storage.merge_stories("old", "new")
    merged = storage.story_with_page("old")
    assert merged.story.id == "new" and merged.version > new_version and merged.page is None
    with pytest.raises(NotFoundError):
        storage.story_with_page("missing")


def test_search_hits_carry_the_snippet_in_search_order(storage: Storage) -> None:
    long_text = "Minister " + " ".join(f"word{n}" for n in range(200))
    storage.add_article(article(1, title="Minister resigns", text=long_text), now=T0)
    storage.add_article(article(2, text="The minister spoke briefly."), now=at(1))
    storage.add_article(article(3, text="Nothing relevant here."), now=at(2))
    hits = storage.search_hits("minister")
    assert [h.id for h in hits] == [a.id for a in storage.search("minister")]
    by_id = {h.id: h for h in hits}
    assert len(hits) == 2
    first = next(h for h in hits if h.title == "Minister resigns")
    assert first.snippet == snippet_of(long_text)
    assert len(first.snippet) <= SNIPPET_CHARS + 1 and first.snippet.endswith("…")
    assert any(h.snippet == "The minister spoke briefly." for h in by_id.values())
    assert storage.search_hits("minister", limit=1, offset=1)[0].id == hits[1].id
    assert storage.search_hits("!!!") == []


def test_latest_article_id_moves_with_each_new_article(storage: Storage) -> None:
    assert storage.latest_article_id() == 0
    first, _ = storage.add_article(article(1), now=T0)
    assert storage.latest_article_id() == first.id
    storage.add_article(article(1), now=T0)  # already stored: nothing new
    assert storage.latest_article_id() == first.id
    second, _ = storage.add_article(article(2), now=T0)
    assert storage.latest_article_id() == second.id > first.id
