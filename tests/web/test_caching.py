"""Stored story pages and HTTP caching: a view reads the stored page, and nothing is ever served stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from newsloom.reader_service import ReaderService
from newsloom.types import ExtractedArticle, NewArticle, Story
from newsloom.web.caching import PRIVATE_CACHE_CONTROL, PUBLIC_CACHE_CONTROL, body_etag
from tests.web.conftest import NOW, add_story, make_admin, post, sign_up

WIRE = (
    "Heavy rain flooded the old town of Valencia on Tuesday, officials said. Firefighters rescued forty people "
    "from cars trapped in the water. The regional government opened three shelters for families.\n\n"
    "Schools will stay closed until Friday, the mayor told reporters at the town hall. Forecasters expect more "
    "rain over the weekend, with up to 120 millimetres in some places."
)


def wire_copy(n: int, publisher: str, extra: str = "") -> ExtractedArticle:
    return ExtractedArticle(
        title="Floods in Valencia", author=None, publisher=publisher, published=NOW - timedelta(hours=1), language="en",
        text=WIRE + extra, url=f"https://{publisher.lower()}.example/floods/{n}",
    )  # fmt: skip


def add_to_story(reader: ReaderService, story_id: str, publisher: str) -> int:
    """A write that bypasses the intake: an article stored and assigned by hand, the story row saved again."""
    storage = reader.service.storage
    article, _ = storage.add_article(
        NewArticle(canonical_url=f"https://{publisher.lower()}.example/late", url=f"https://{publisher.lower()}.example/late",
                   title=f"Late report ({publisher})", text="A late report.", content_hash=f"late-{publisher}",
                   publisher=publisher, published_at=NOW, fetched_at=NOW),
        now=NOW,
    )  # fmt: skip
    storage.set_story([article.id], story_id)
    old = storage.get_story(story_id)
    storage.save_story(Story(**{**{f: getattr(old, f) for f in old.__dataclass_fields__},
                                "article_count": old.article_count + 1}), now=NOW)  # fmt: skip
    return article.id


def test_the_page_is_built_at_ingest_and_a_view_reads_it(stocked: ReaderService) -> None:
    intake = stocked.service.intake
    first = intake.accept(wire_copy(1, "Reuters"), now=NOW)
    assert first.story_id is not None
    stored = stocked.service.storage.story_with_page(first.story_id)
    assert stored.fresh, "the intake built the new story's page after its commit"
    copy = intake.accept(wire_copy(2, "Levante", " A shelter opened in Benimaclet."), now=NOW)
    assert copy.story_id == first.story_id
    stored = stocked.service.storage.story_with_page(first.story_id)
    assert stored.fresh and stored.page is not None and '"Levante"' in stored.page.payload
    with TestClient(create_app_for(stocked)) as client:
        html = client.get(f"/story/{first.story_id}").text
    assert "Levante" in html and "Reuters" in html


def create_app_for(reader: ReaderService):  # type: ignore[no-untyped-def]
    from newsloom.web.app import create_app

    return create_app(reader)


def test_a_new_article_shows_on_the_next_request_and_304_never_hides_it(client: TestClient, stocked: ReaderService) -> None:
    first = client.get("/story/s-big")
    assert first.status_code == 200
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == PUBLIC_CACHE_CONTROL
    assert "Cookie" in first.headers["vary"]
    unchanged = client.get("/story/s-big", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert client.get("/story/s-big", headers={"If-Modified-Since": last_modified}).status_code == 304

    add_to_story(stocked, "s-big", "Levante")  # the clock is fixed: only the story's version tells the change

    fresh = client.get("/story/s-big", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and "Late report (Levante)" in fresh.text
    assert fresh.headers["etag"] != etag
    by_date = client.get("/story/s-big", headers={"If-Modified-Since": last_modified})
    assert by_date.status_code == 200 and "Late report (Levante)" in by_date.text
    assert by_date.headers["last-modified"] != last_modified


def test_a_pick_changes_the_page_and_its_validators(client: TestClient, stocked: ReaderService) -> None:
    anonymous = TestClient(client.app)
    before = anonymous.get("/story/s-small")
    make_admin(stocked, client)
    assert post(client, "/picks", {"story_id": "s-small", "note": "worth it"}).status_code == 303
    after = anonymous.get("/story/s-small", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and "Our pick" in after.text
    by_date = anonymous.get("/story/s-small", headers={"If-Modified-Since": before.headers["last-modified"]})
    assert by_date.status_code == 200


def test_personal_pages_are_private_and_anonymous_ones_carry_no_token(client: TestClient) -> None:
    anonymous = client.get("/")
    assert anonymous.headers["cache-control"] == PUBLIC_CACHE_CONTROL
    assert "csrf" not in anonymous.text.lower() and "set-cookie" not in anonymous.headers
    signin = client.get("/signin")
    assert signin.headers["cache-control"] == PRIVATE_CACHE_CONTROL  # it carries this browser's token
    sign_up(client, "reader1")
    client.get("/story/s-big")  # the first visit: the next view says what is new since it
    mine = client.get("/story/s-big")
    assert mine.headers["cache-control"] == PRIVATE_CACHE_CONTROL and "Cookie" in mine.headers["vary"]
    assert "last-modified" not in mine.headers  # the reader's own parts change without the story
    assert client.get("/story/s-big", headers={"If-None-Match": mine.headers["etag"]}).status_code == 304


def test_api_reads_answer_304_and_change_with_the_story(client: TestClient, stocked: ReaderService) -> None:
    for path in ("/api/v1/stories", "/api/v1/stories/s-big/articles", "/api/v1/search?q=Valencia", "/api/v1/sources"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == PUBLIC_CACHE_CONTROL
        assert client.get(path, headers={"If-None-Match": response.headers["etag"]}).status_code == 304, path
    articles = client.get("/api/v1/stories/s-big/articles")
    add_to_story(stocked, "s-big", "Levante")
    again = client.get("/api/v1/stories/s-big/articles", headers={"If-None-Match": articles.headers["etag"]})
    assert again.status_code == 200
    assert "Late report (Levante)" in {a["title"] for a in again.json()["items"]}
    token = client.get("/api/v1/stories", headers={"Authorization": "Bearer nl_x"})
    assert token.headers["cache-control"] == PRIVATE_CACHE_CONTROL


def test_search_is_paged_with_snippets(client: TestClient, stocked: ReaderService) -> None:
    storage = stocked.service.storage
    for n in range(45):
        storage.add_article(
            NewArticle(canonical_url=f"https://paged.example/{n}", url=f"https://paged.example/{n}",
                       title=f"Minister statement {n}", text=f"The minister said number {n} words here.",
                       content_hash=f"paged-{n}", publisher="Paged", published_at=NOW, fetched_at=NOW),
            now=NOW,
        )  # fmt: skip
    first = client.get("/search", params={"q": "minister"})
    assert "The minister said number" in first.text  # the stored snippet
    assert 'rel="next"' in first.text and "page=2" in first.text
    second = client.get("/search", params={"q": "minister", "page": 2})
    assert second.text.count('class="item article-row') == 15
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text
    front = client.get("/", params={"q": "minister"})
    assert front.status_code == 200 and "Minister statement" in front.text
    api = client.get("/api/v1/search", params={"q": "minister", "limit": 5}).json()
    assert api["articles"][0]["snippet"].startswith("The minister said number")


def test_cached_searches_still_see_every_new_article(stocked: ReaderService) -> None:
    reader = ReaderService(stocked.service, secret_key="k", clock=lambda: NOW, top_cache_ttl_s=3600)
    before = reader.search("late report")
    assert before.articles == [] and reader.search("late report").key == before.key  # answered from memory
    late = add_to_story(stocked, "s-old", "Levante")
    after = reader.search("late report")
    assert [a.id for a in after.articles] == [late]
    assert [s.id for s in after.stories] == ["s-old"]


def rename_as_another_process(reader: ReaderService, story_id: str, headline: str) -> None:
    """A write this process's storage never saw (as a worker's): raw SQL on the same database."""
    with reader.service.storage.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            sa.text("UPDATE stories SET headline = :h, version = version + 1 WHERE id = :id"), {"h": headline, "id": story_id}
        )


def test_a_write_of_another_process_shows_once_the_freshness_bound_passed(
    client: TestClient, stocked: ReaderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsloom.web import pages

    monkeypatch.setattr(pages, "STORY_FRESH_S", 60.0)
    client.get("/story/s-big")  # builds the stored page (a write of this process)
    seen = client.get("/story/s-big")
    assert seen.headers["etag"] == body_etag(seen.content)
    rename_as_another_process(stocked, "s-big", "Valencia floods recede")
    held = client.get("/story/s-big")
    assert held.content == seen.content  # within the bound the page is answered from memory, no database read
    assert client.get("/story/s-big", headers={"If-None-Match": held.headers["etag"]}).status_code == 304
    monkeypatch.setattr(pages, "STORY_FRESH_S", 0.0)  # the bound has passed: the next view reads the version
    fresh = client.get("/story/s-big", headers={"If-None-Match": held.headers["etag"]})
    assert fresh.status_code == 200 and "Valencia floods recede" in fresh.text
    assert fresh.headers["etag"] == body_etag(fresh.content) != held.headers["etag"]


def test_a_write_of_this_process_shows_at_once_whatever_the_bound(
    client: TestClient, stocked: ReaderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsloom.web import pages

    monkeypatch.setattr(pages, "STORY_FRESH_S", 3600.0)
    client.get("/story/s-small")
    before = client.get("/story/s-small")
    stocked.service.storage.touch_story("s-small")  # a version bump alone: the page is rebuilt, one second later
    after = client.get("/story/s-small", headers={"If-Modified-Since": before.headers["last-modified"]})
    assert after.status_code == 200 and after.headers["last-modified"] != before.headers["last-modified"]
    with_query = client.get("/story/s-small?x=1")  # any query string takes the full path, never the held page
    assert with_query.status_code == 200 and with_query.content == after.content


def test_the_api_story_list_is_held_per_ranking(client: TestClient, stocked: ReaderService) -> None:
    stocked._top_ttl = 60.0  # a ranking is reused for a minute, as served
    first = client.get("/api/v1/stories")
    assert first.headers["content-type"] == "application/json"
    ids = [s["id"] for s in first.json()["items"]]
    assert "s-big" in ids and first.json()["next_offset"] is None
    assert client.get("/api/v1/stories").content == first.content
    assert [s["id"] for s in client.get("/api/v1/stories", params={"limit": 1}).json()["items"]] == ids[:1]
    add_story(stocked, "s-new", "Bridge reopens in Valencia", [("Reuters", 0.1), ("AP", 0.1)])
    stocked.invalidate()  # a new ranking is a new key
    again = client.get("/api/v1/stories").json()
    assert "s-new" in [s["id"] for s in again["items"]]
    assert client.get("/api/v1/stories", headers={"If-None-Match": first.headers["etag"]}).status_code == 200


def test_an_anonymous_search_is_held_and_still_sees_a_new_article(
    client: TestClient, stocked: ReaderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsloom.web import pages

    monkeypatch.setattr(pages, "STORY_FRESH_S", 3600.0)
    first = client.get("/", params={"q": "late report"})
    assert first.status_code == 200 and "Late report (Levante)" not in first.text
    held = client.get("/", params={"q": "late report"})
    assert held.content == first.content and held.headers["etag"] == body_etag(held.content)
    assert client.get("/", params={"q": "late report"}, headers={"If-None-Match": held.headers["etag"]}).status_code == 304
    add_to_story(stocked, "s-old", "Levante")  # a write of this process: the held answer is not used again
    after = client.get("/", params={"q": "late report"}, headers={"If-None-Match": held.headers["etag"]})
    assert after.status_code == 200 and "Late report (Levante)" in after.text
    assert client.get("/search", params={"q": "late report"}).text.count("Late report (Levante)") >= 1
    rename_as_another_process(stocked, "s-old", "Renamed elsewhere")  # unseen by this process's write counter
    assert client.get("/", params={"q": "late report"}).content == after.content  # held within the bound


def test_an_anonymous_article_page_is_held_like_a_story_page(
    client: TestClient, stocked: ReaderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsloom.web import pages

    monkeypatch.setattr(pages, "STORY_FRESH_S", 3600.0)
    first = client.get("/article/1")
    assert first.status_code == 200 and first.headers["etag"] == body_etag(first.content)
    with stocked.service.storage.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(sa.text("UPDATE articles SET title = 'Retitled elsewhere' WHERE id = 1"))  # another process
    held = client.get("/article/1")
    assert held.content == first.content  # within the bound: answered from memory
    assert client.get("/article/1", headers={"If-None-Match": held.headers["etag"]}).status_code == 304
    stocked.service.storage.touch_story("s-small")  # any write of this process: the held page is not used again
    after = client.get("/article/1")
    assert after.status_code == 200 and "Retitled elsewhere" in after.text
    signed_in = TestClient(client.app)
    sign_up(signed_in, "reader")
    assert "Retitled elsewhere" in signed_in.get("/article/1").text  # personal pages are never held
