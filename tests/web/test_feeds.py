"""Atom feeds out, read back with feedparser (from bytes) without a bozo flag."""

from __future__ import annotations

import feedparser
from fastapi.testclient import TestClient

from newsloom.reader_service import ReaderService
from tests.web.conftest import add_story, post, sign_up


def parse(content: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_top_stories_feed(client: TestClient) -> None:
    response = client.get("/feeds/top.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = parse(response.content)
    assert feed.version == "atom10"
    assert [e.title for e in feed.entries][:2] == ["Floods hit Valencia", "Local council votes on budget"]
    assert feed.entries[0].link.endswith("/story/s-big")
    assert "4 outlets" in feed.entries[0].summary


def test_story_coverage_feed(client: TestClient) -> None:
    feed = parse(client.get("/feeds/story/s-big.atom").content)
    assert len(feed.entries) == 4
    assert {e.author for e in feed.entries} == {"Reuters", "AP", "BBC", "El País"}


def test_hostile_text_stays_well_formed(client: TestClient, stocked: ReaderService) -> None:
    add_story(stocked, "s-bad", "Bad <b>&amp; \x07control\x0b chars ]]> here", [("Odd", 0.1)],
              text="<script>alert(1)</script> \x00\x1f body")
    feed = parse(client.get("/feeds/story/s-bad.atom").content)
    assert feed.entries[0].title.startswith("Bad <b>&amp; control chars ]]> here")
    parse(client.get("/feeds/top.atom").content)


def test_for_you_feed_at_a_secret_url(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "alice")
    post(client, "/follow", {"kind": "entity", "value": "Springfield"})
    page = client.get("/account").text
    url = page.split("/feeds/for-you/")[1].split('"')[0]
    feed = parse(client.get(f"/feeds/for-you/{url}").content)
    assert [e.title for e in feed.entries] == ["Local council votes on budget"]
    assert "Because you follow Springfield" in feed.entries[0].summary
    # A guessed or reset key is not found.
    user_id = url.split("-")[0]
    assert client.get(f"/feeds/for-you/{user_id}-{'0' * 40}.atom").status_code == 404
    post(client, "/account/feed/reset")
    assert client.get(f"/feeds/for-you/{url}").status_code == 404
