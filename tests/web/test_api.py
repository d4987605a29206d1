"""The JSON API under /api/v1: OpenAPI, pagination, public reads, personal tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from newsloom.reader_service import ReaderService
from tests.web.conftest import post, sign_up


def test_openapi_document_and_docs(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "newsloom API"
    assert "/stories" in spec["paths"] and "/me/saved" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/api/v1/docs").status_code == 200


def test_stories_are_paginated(client: TestClient) -> None:
    first = client.get("/api/v1/stories", params={"limit": 2}).json()
    assert [s["id"] for s in first["items"]] == ["s-big", "s-small"]
    assert first["next_offset"] == 2 and first["items"][0]["why"].startswith("4 outlets")
    second = client.get("/api/v1/stories", params={"limit": 2, "offset": 2}).json()
    assert [s["id"] for s in second["items"]] == ["s-old"] and second["next_offset"] is None
    assert client.get("/api/v1/stories", params={"limit": 1000}).status_code == 422


def test_story_articles_comparison_and_search(client: TestClient) -> None:
    story = client.get("/api/v1/stories/s-big").json()
    assert story["outlet_count"] == 4 and story["entities"] == ["Valencia", "Spain"]
    articles = client.get("/api/v1/stories/s-big/articles").json()["items"]
    assert {a["publisher"] for a in articles} == {"Reuters", "AP", "BBC", "El País"}
    comparison = client.get("/api/v1/stories/s-big/comparison").json()
    assert set(comparison) >= {"agree", "only_here", "differs", "comparison"}
    article = client.get(f"/api/v1/articles/{articles[0]['id']}").json()
    assert article["text"]
    found = client.get("/api/v1/search", params={"q": "floods", "limit": 2}).json()
    assert len(found["articles"]) == 2 and found["next_offset"] == 2
    assert [s["id"] for s in found["stories"]] == ["s-big"]
    assert client.get("/api/v1/stories/nope").status_code == 404


def test_personal_endpoints_need_a_token(client: TestClient, stocked: ReaderService) -> None:
    assert client.get("/api/v1/me").status_code == 401
    sign_up(client, "alice")
    # The session cookie is not enough: the API takes personal tokens only.
    assert client.get("/api/v1/me").status_code == 401
    page = post(client, "/account/tokens", {"name": "script"}).text
    token = page.split('<code class="token">')[1].split("<")[0]
    assert token.startswith("nl_")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=auth).json()["username"] == "alice"
    article_id = stocked.service.story_articles("s-big")[0].id
    assert client.put(f"/api/v1/me/saved/{article_id}", headers=auth).json() == {"changed": True}
    saved = client.get("/api/v1/me/saved", headers=auth).json()
    assert [i["article"]["id"] for i in saved["items"]] == [article_id]
    assert client.put("/api/v1/me/follows/entity/Springfield", headers=auth).json() == {"changed": True}
    for_you = client.get("/api/v1/me/for-you", headers=auth).json()
    assert for_you[0]["id"] == "s-small" and for_you[0]["reason"] == "you follow Springfield"
    assert client.put("/api/v1/me/follows/planet/Mars", headers=auth).status_code == 400
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nl_wrong"}).status_code == 401


def test_revoked_token_stops_working(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "bob")
    user = stocked.accounts.find_user("bob")
    assert user is not None
    record, token = stocked.create_api_token(user, "temp")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    post(client, f"/account/tokens/{record.id}/revoke")
    assert client.get("/api/v1/me", headers=auth).status_code == 401
