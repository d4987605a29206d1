"""Minimal reproducers of the bugs the hostile suite found, one test each.

A bug still open is marked ``xfail(strict=True)``: the day it is fixed the test passes, strict turns that
into a failure, and whoever fixed it removes the marker here and the matching entry in
``guard.KNOWN_BUGS`` (which lets the fuzz tests keep hunting for *other* bugs meanwhile).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from newsloom.errors import NewsloomError
from newsloom.ingest.extract import extract_html
from newsloom.ingest.feeds import parse_feed
from newsloom.ingest.fetch import MAX_RETRY_AFTER_S, parse_retry_after
from newsloom.ingest.jsonfeed import parse_json_feed
from newsloom.ingest.opml import parse_opml
from newsloom.stories.compare import (
    CompareInput,
    compare_articles,
    comparison_to_dict,
    render_comparison_text,
)


def raises_only_newsloom_errors(call: Callable[[], object]) -> None:
    """Call ``call()``; a NewsloomError is an acceptable answer, anything else propagates (and fails)."""
    with contextlib.suppress(NewsloomError):
        call()


# --- opml.py --------------------------------------------------------------------------------------------------


def test_opml_with_malformed_ipv6_url_skips_that_outline() -> None:
    doc = b'<opml><body><outline xmlUrl="http://[x/"/><outline xmlUrl="https://ok.example/feed"/></body></opml>'
    assert [o.xml_url for o in parse_opml(doc)] == ["https://ok.example/feed"]


def test_deeply_nested_opml_is_parsed_or_refused() -> None:
    depth = 5000
    doc = (
        b"<opml><body>" + b'<outline text="f">' * depth + b'<outline xmlUrl="https://ok.example/feed"/>'
        + b"</outline>" * depth + b"</body></opml>"
    )
    assert [o.xml_url for o in parse_opml(doc)] == ["https://ok.example/feed"]
    assert parse_opml(doc)[0].category == "/".join(["f"] * depth)


# --- jsonfeed.py / feeds.py -------------------------------------------------------------------------------------


def test_json_feed_item_with_malformed_ipv6_url() -> None:
    feed = parse_json_feed(b'{"items": [{"id": "1", "url": "http://[::1"}, {"id": "2", "url": "https://ok.example/2"}]}')
    assert [i.url for i in feed.items] == [None, "https://ok.example/2"]


def test_json_feed_date_at_the_edge_of_the_calendar() -> None:
    feed = parse_json_feed(b'{"items": [{"id": "1", "date_published": "0001-01-01T00:00:00+01:00"}]}')
    assert feed.items[0].published is None


def test_one_malformed_item_link_does_not_lose_the_other_items() -> None:
    rss = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>bad</title><link>http://[x/</link></item>"
        b"<item><title>good</title><link>https://ok.example/good</link></item></channel></rss>"
    )
    feed = parse_feed(rss)
    assert "https://ok.example/good" in [i.url for i in feed.items]


# --- extract.py ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["base64", "hex", "zlib", "rot13", "punycode", "undefined"])
def test_page_declaring_a_non_text_codec(charset: str) -> None:
    page = f"<html><head><meta charset={charset}></head><body><p>Hello world.</p></body></html>".encode()
    raises_only_newsloom_errors(lambda: extract_html(page))


def test_transport_charset_naming_a_non_text_codec() -> None:
    raises_only_newsloom_errors(lambda: extract_html(b"<html><body><p>Hello world.</p></body></html>", encoding="base64"))


def test_page_published_at_the_edge_of_the_calendar() -> None:
    page = b'<html><head><meta property="article:published_time" content="0001-01-01T00:00:00+01:00"></head><body><p>Hi.</p></body></html>'
    raises_only_newsloom_errors(lambda: extract_html(page))


def test_page_with_a_malformed_ipv6_image_url() -> None:
    page = b'<html><head><meta property="og:image" content="http://[x/"></head><body><p>Hello.</p></body></html>'
    raises_only_newsloom_errors(lambda: extract_html(page, url="https://ok.example/a"))


# --- compare.py -----------------------------------------------------------------------------------------------------


def test_compare_with_a_naive_date_at_the_edge_of_the_calendar() -> None:
    raises_only_newsloom_errors(lambda: compare_articles([CompareInput(text="", published=datetime(1, 1, 1))]))


def test_compare_with_an_out_of_range_original_index() -> None:
    def run() -> None:
        comparison = compare_articles([CompareInput(text="", captions=("Jane Doe the.",), original_index=1)])
        comparison_to_dict(comparison)
        render_comparison_text(comparison)

    raises_only_newsloom_errors(run)


@pytest.mark.parametrize("original_index", [-1, 0, 2, 10**9])
def test_compare_ignores_an_original_index_that_names_no_other_article(original_index: int) -> None:
    inputs = [CompareInput(text="A text.", original_index=original_index), CompareInput(text="B text.")]
    comparison = compare_articles(inputs)
    assert comparison.articles[0].original_index is None  # not a copy of anything
    assert comparison_to_dict(comparison)["articles"][0]["original_index"] is None
    assert "copy of" not in render_comparison_text(comparison)


def test_compare_orders_naive_dates_as_utc_next_to_aware_ones() -> None:
    inputs = [
        CompareInput(text="", published=datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        CompareInput(text="", published=datetime(2024, 5, 1, 11, 0)),  # naive: 11:00 UTC, the earlier one
        CompareInput(text=""),
        CompareInput(text="", published=datetime(1, 1, 1)),
    ]
    assert [t.article for t in compare_articles(inputs).timeline] == [3, 1, 0, 2]


# --- fetch.py -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("\xb2", None), ("\u0663", None), ("9" * 400, MAX_RETRY_AFTER_S), ("9" * 5000, MAX_RETRY_AFTER_S),
     ("0007", 7.0), ("120", 120.0), ("Wed, 21 Oct 99999 07:28:00 GMT", None)],
)
def test_unreadable_or_absurd_retry_after_is_none_or_clamped(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds
