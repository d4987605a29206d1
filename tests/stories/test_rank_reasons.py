"""The why line is built from the counts the story reports (the API's), with times from its articles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsloom.stories.outlets import outlet_key
from newsloom.stories.rank import CoverageItem, coverage_stats, story_stats, top_stories, why_line
from newsloom.types import Story

NOW = datetime(2025, 3, 21, 12, 0, tzinfo=UTC)


def _story(articles: int, outlets: int, copies: int = 0) -> Story:
    return Story(id="s1", headline="h", summary="", first_seen=NOW - timedelta(hours=2), last_seen=NOW,
                 article_count=articles, outlet_count=outlets, original_count=articles - copies,
                 syndicated_count=copies)  # fmt: skip


def test_files_of_no_outlet_are_articles_not_outlets() -> None:
    items = [CoverageItem(1, outlet_key(None, (), "file:///a.txt"), NOW - timedelta(minutes=1)),
             CoverageItem(2, outlet_key(None, (), None), NOW)]  # fmt: skip
    assert coverage_stats(items, NOW).outlets == 0
    line = why_line(story_stats(_story(2, 0), items, NOW), NOW)
    assert line.startswith("2 articles in 1 minute, no outlet named"), line


def test_counts_come_from_the_story_even_when_items_disagree() -> None:
    items = [CoverageItem(1, "Euronews", NOW - timedelta(hours=5)), CoverageItem(2, "host:other.example", NOW)]
    stats = story_stats(_story(2, 1), items, NOW)
    assert (stats.outlets, stats.articles) == (1, 2)
    assert why_line(stats, NOW).startswith("2 articles from 1 outlet in 5 hours")


def test_several_outlets_and_copies() -> None:
    items = [CoverageItem(i, f"outlet{i}", NOW - timedelta(hours=i), original_id=(1 if i == 3 else None)) for i in range(4)]
    ranked = top_stories([_story(4, 4, copies=1)], {"s1": items}, NOW)
    assert ranked[0].why == "4 outlets in 3 hours, 2 in the last hour, 1 syndicated copy counted once"
    assert ranked[0].stats.outlets == 4


def test_outlet_key_prefers_publisher_then_source_then_host() -> None:
    assert outlet_key(" Euronews ", (3,), "https://www.euronews.com/x") == "Euronews"
    assert outlet_key(None, (3, 4), "https://www.euronews.com/x") == "source:3"
    assert outlet_key(None, (), "https://www.euronews.com/x") == "host:euronews.com"
    assert outlet_key("", (), "file:///tmp/a.txt") is None
