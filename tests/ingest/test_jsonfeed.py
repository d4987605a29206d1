"""JSON Feed 1.0 and 1.1 through parse_feed (and parse_json_feed directly)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsloom.errors import FeedParseError
from newsloom.ingest.feeds import parse_feed
from newsloom.ingest.jsonfeed import parse_json_feed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"


def test_json_feed_11_maps_fields() -> None:
    feed = parse_feed((FIXTURES / "jsonfeed11.json").read_bytes(), url="https://cdn.example/feed.json")
    assert (feed.format, feed.title, feed.site_url, feed.language) == (
        "jsonfeed",
        "JSON Example",
        "https://json.example/",
        "en-US",
    )
    assert feed.warning == "skipped 1 item(s) that are not JSON objects"
    first, second = feed.items
    assert first.guid == "1"
    assert first.url == "https://json.example/posts/1"  # relative to home_page_url
    assert first.title == "First post"
    assert first.author == "Alice, Bob"
    assert first.published == datetime(2024, 4, 1, 16, 0, tzinfo=UTC)
    assert first.updated == datetime(2024, 4, 2, 12, 0, tzinfo=UTC)
    assert first.categories == ("greetings", "misc")
    assert first.image_url == "https://json.example/img/1.png"
    assert first.summary == "A greeting." and first.content_html == "<p>Hello <b>world</b>.</p>"
    assert second.guid == "2"  # numeric id kept as text
    assert second.author == "Feed Author"  # falls back to the feed's authors
    assert second.published is None  # "not a date"
    assert (
        second.content_html == "<p>Plain text body.</p><p>Second paragraph with &lt;angle&gt; brackets.</p>"
    )


def test_json_feed_10_single_author() -> None:
    feed = parse_feed((FIXTURES / "jsonfeed10.json").read_bytes())
    (item,) = feed.items
    assert item.author == "Solo Writer"
    assert item.published == datetime(2019, 1, 1, tzinfo=UTC)
    assert feed.warning is None


def test_json_feed_sniffed_whatever_the_content_type() -> None:
    content = (FIXTURES / "jsonfeed10.json").read_bytes()
    assert parse_feed(content, content_type="text/html").format == "jsonfeed"
    assert parse_feed(b"\xef\xbb\xbf" + content).format == "jsonfeed"  # UTF-8 BOM


def test_json_feed_dates_without_zone_are_utc_and_z_suffix_works() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {"id": "a", "date_published": "2024-01-02T03:04:05"},
            {"id": "b", "date_published": "2024-01-02T03:04:05.123z"},
        ],
    }
    a, b = parse_json_feed(json.dumps(doc).encode()).items
    assert a.published == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert b.published is not None and b.published.tzinfo is UTC


def test_json_without_version_still_parses_with_a_warning() -> None:
    feed = parse_json_feed(b'{"title": "x", "items": [{"id": "1", "url": "https://x.example/1"}]}')
    assert len(feed.items) == 1 and feed.warning is not None and "version" in feed.warning


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b"[1, 2]",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": "nope"}',
        b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,  # deeper than the json module recurses
        b'{"items": [], "title": "\xff\xfe"}',
    ],
)
def test_bad_json_feeds(content: bytes) -> None:
    try:
        parse_feed(content)
    except FeedParseError as exc:
        assert str(exc)
