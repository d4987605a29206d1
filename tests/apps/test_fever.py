"""The Fever API against the request and response shapes of the published Fever API document (version 3), on
SQLite and PostgreSQL. Requests are form POSTs to ``/fever/?api&...`` with ``api_key`` = md5("user:password")."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from newsloom.apps_service import AppService
from newsloom.reader_service import ReaderService
from newsloom.storage.accounts_base import User
from tests.apps.conftest import API_PASSWORD, FEED_A, FEED_B

KEY = hashlib.md5(f"alice:{API_PASSWORD}".encode()).hexdigest()
FEED_FIELDS = {"id", "favicon_id", "title", "url", "site_url", "is_spark", "last_updated_on_time"}
ITEM_FIELDS = {"id", "feed_id", "title", "author", "html", "url", "is_saved", "is_read", "created_on_time"}
LINK_FIELDS = {"id", "feed_id", "item_id", "temperature", "is_item", "is_local", "is_saved", "title", "url", "item_ids"}


def fever(client: TestClient, query: str, key: str = KEY, status: int = 200, **form: object) -> dict[str, Any]:
    response = client.post(f"/fever/?api&{query}" if query else "/fever/?api", data={"api_key": key, **form})
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["api_version"] == 3
    return body


def ids(text: str) -> list[int]:
    return [int(i) for i in text.split(",")] if text else []


def test_auth(client: TestClient, alice: User) -> None:
    assert fever(client, "", key="0" * 32, status=401) == {"api_version": 3, "auth": 0}
    assert fever(client, "", key="not a key", status=401) == {"api_version": 3, "auth": 0}
    assert client.post("/fever/?api").status_code == 401
    body = fever(client, "")
    assert body["auth"] == 1 and isinstance(body["last_refreshed_on_time"], int)
    assert client.post("/fever?api", data={"api_key": KEY}).json()["auth"] == 1  # without the slash too, no redirect


def test_groups_feeds_and_favicons(client: TestClient, alice: User) -> None:
    body = fever(client, "groups")
    assert [g["title"] for g in body["groups"]] == ["News"] and set(body["groups"][0]) == {"id", "title"}
    feeds = fever(client, "feeds")
    assert [(f["title"], f["url"]) for f in feeds["feeds"]] == [("Alpha News", FEED_A), ("Beta Times", FEED_B)]
    assert all(set(f) == FEED_FIELDS for f in feeds["feeds"])
    alpha = feeds["feeds"][0]["id"]
    assert body["feeds_groups"] == feeds["feeds_groups"] == [{"group_id": body["groups"][0]["id"], "feed_ids": str(alpha)}]
    favicons = fever(client, "favicons")["favicons"]
    assert favicons[0]["id"] == feeds["feeds"][0]["favicon_id"] and favicons[0]["data"].startswith("image/gif;base64,")


def test_items_since_max_and_with_ids(client: TestClient, alice: User) -> None:
    body = fever(client, "items")
    assert body["total_items"] == 3 and all(set(i) == ITEM_FIELDS for i in body["items"])
    all_ids = sorted(i["id"] for i in body["items"])
    first = fever(client, "items", since_id=0)["items"]
    assert [i["id"] for i in first] == all_ids  # since_id: ascending from there
    assert [i["id"] for i in fever(client, "items", since_id=all_ids[0])["items"]] == all_ids[1:]
    assert [i["id"] for i in fever(client, "items", max_id=all_ids[-1])["items"]] == all_ids[-2::-1]  # descending below
    picked = fever(client, "items", with_ids=f"{all_ids[2]},{all_ids[0]},999999")["items"]
    assert [i["id"] for i in picked] == [all_ids[0], all_ids[2]]
    bridge = next(i for i in first if i["title"] == "Bridge opens")
    assert bridge["is_read"] == 0 and "Coverage (3)" in bridge["html"]


def test_unread_saved_and_marking_items(client: TestClient, app_reader: ReaderService, alice: User) -> None:
    unread = ids(fever(client, "unread_item_ids")["unread_item_ids"])
    assert len(unread) == 3 and fever(client, "saved_item_ids")["saved_item_ids"] == ""
    bridge = next(i for i in fever(client, "items")["items"] if i["title"] == "Bridge opens")["id"]
    marked = fever(client, "", mark="item", **{"as": "read"}, id=bridge)
    assert bridge not in ids(marked["unread_item_ids"]) and len(ids(marked["unread_item_ids"])) == 2
    story = {a.id for a in app_reader.service.story_articles("s-one")}
    all_ids = [a.id for a in app_reader.service.storage.list_articles(limit=50)]
    assert app_reader.accounts.read_ids(alice.id, all_ids) == story  # the web reader's read state
    fever(client, "", mark="item", **{"as": "unread"}, id=bridge)
    assert app_reader.accounts.read_ids(alice.id, all_ids) == set()
    saved = fever(client, "", mark="item", **{"as": "saved"}, id=bridge)
    assert ids(saved["saved_item_ids"]) == [bridge] and [s.article.id for s in app_reader.saved(alice)] == [bridge]
    fever(client, "", mark="item", **{"as": "unsaved"}, id=bridge)
    assert app_reader.saved(alice) == []


def test_marking_feeds_and_groups_with_before(client: TestClient, app_reader: ReaderService, alice: User) -> None:
    feeds = {f["title"]: f["id"] for f in fever(client, "feeds")["feeds"]}
    group = fever(client, "groups")["groups"][0]["id"]
    items = {i["title"]: i for i in fever(client, "items")["items"]}
    council = items["Council votes"]["created_on_time"]
    fever(client, "", mark="group", **{"as": "read"}, id=group, before=council)  # older than Council votes only
    unread = ids(fever(client, "unread_item_ids")["unread_item_ids"])
    assert items["Council votes"]["id"] in unread and items["Lone report (Beta)"]["id"] in unread
    fever(client, "", mark="feed", **{"as": "read"}, id=feeds["Beta Times"], before=council + 10_000)
    unread = ids(fever(client, "unread_item_ids")["unread_item_ids"])
    assert unread == [items["Council votes"]["id"]]
    fever(client, "", mark="group", **{"as": "read"}, id=0)  # group 0: every feed (the document's Kindling)
    assert fever(client, "unread_item_ids")["unread_item_ids"] == ""


def test_links_are_top_stories(client: TestClient, alice: User) -> None:
    links = fever(client, "links")["links"]
    assert {link["title"] for link in links} == {"Bridge opens", "Council votes"}
    assert all(set(link) == LINK_FIELDS for link in links)
    assert links[0]["temperature"] >= links[-1]["temperature"]


def test_articles_mode(client: TestClient, apps: AppService, alice: User) -> None:
    apps.set_item_mode(alice, "articles")
    titles = sorted(i["title"] for i in fever(client, "items")["items"])
    assert titles == ["Bridge opens (Alpha)", "Bridge opens (Beta)", "Council votes (Alpha)", "Lone report (Beta)"]
