"""Following, For you with reasons, saved items, read state and history, and what is new since the last visit."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from newsloom.reader_service import ReaderService
from tests.web.conftest import NOW, add_story, post, sign_up, text_of


def test_follow_an_entity_fills_for_you_with_the_reason(client: TestClient) -> None:
    sign_up(client, "alice")
    assert "Follow" in client.get("/for-you").text
    response = post(client, "/follow", {"kind": "entity", "value": "Springfield", "next": "/story/s-small"})
    assert response.status_code == 303 and response.headers["location"] == "/story/s-small"
    assert "Springfield" in client.get("/following").text
    page = text_of(client.get("/for-you").text)
    assert "Local council votes on budget" in page
    assert "Because you follow Springfield" in page
    assert "Floods hit Valencia" not in page
    post(client, "/unfollow", {"kind": "entity", "value": "Springfield"})
    assert "Local council votes" not in client.get("/for-you").text


def test_follow_a_topic_and_a_source(client: TestClient, stocked: ReaderService) -> None:
    source, _ = stocked.service.storage.add_source("https://wire.example/rss", title="The Wire", now=NOW)
    add_story(stocked, "s-wire", "Markets rally", [("Wire", 1)], source_id=source.id)
    sign_up(client, "bob")
    post(client, "/follow", {"kind": "topic", "value": "budget"})
    post(client, "/follow", {"kind": "source", "value": str(source.id)})
    page = text_of(client.get("/for-you").text)
    assert "Because you follow the topic “budget”" in page
    assert "Because you follow The Wire" in page and "Markets rally" in page
    assert "The Wire" in client.get("/following").text


def test_reading_history_feeds_for_you(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "carol")
    article = stocked.service.story_articles("s-old")[0]
    client.get(f"/article/{article.id}")
    page = text_of(client.get("/for-you").text)
    assert "Floods hit Valencia" in page
    assert "you read and saved stories about Valencia" in page


def test_save_and_unsave_without_javascript(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "dave")
    article = stocked.service.story_articles("s-big")[0]
    response = post(client, f"/save/{article.id}", {"next": f"/article/{article.id}"})
    assert response.status_code == 303
    assert article.title is not None and article.title in client.get("/saved").text
    assert "Saved ✓" in client.get(f"/article/{article.id}").text
    post(client, f"/unsave/{article.id}")
    assert article.title not in client.get("/saved").text


def test_read_state_and_history(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "erin")
    article = stocked.service.story_articles("s-big")[0]
    client.get(f"/article/{article.id}")
    assert article.title is not None and article.title in client.get("/history").text
    assert "is-read" in client.get("/story/s-big").text
    post(client, f"/read/{article.id}", {"read": "0"})
    assert article.title not in client.get("/history").text


def test_new_since_last_visit(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "fay")
    first = client.get("/story/s-small").text
    assert "since your last visit" not in first
    assert "Nothing new since your last visit" in client.get("/story/s-small").text
    later = NOW + timedelta(hours=1)
    stocked._clock = lambda: later
    storage = stocked.service.storage
    from newsloom.types import NewArticle

    fresh, _ = storage.add_article(
        NewArticle(canonical_url="https://herald.example/budget", title="Council budget passes", text="It passed.",
                   content_hash="fresh", publisher="Herald", published_at=later),
        now=later,
    )
    storage.set_story([fresh.id], "s-small")
    page = text_of(client.get("/story/s-small").text)
    assert "1 new article since your last visit" in page


def test_entity_page_lists_mentions(client: TestClient) -> None:
    page = client.get("/entity/Valencia").text
    assert "Floods hit Valencia" in page and "Valencia rebuilds bridges" in page
