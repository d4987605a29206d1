"""Fixtures for the web reader: a temp SQLite database with a few stories, the app, and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from newsloom.reader_service import ReaderService
from newsloom.service import Service
from newsloom.settings import load_settings
from newsloom.types import NewArticle, Story
from newsloom.web.app import create_app

NOW = datetime(2025, 3, 21, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def make_reader(data_dir: Path, **settings: Any) -> ReaderService:
    svc = Service(load_settings(env={"NEWSLOOM_DATA_DIR": str(data_dir)}, **settings))
    svc.init()
    return ReaderService(svc, secret_key="test-secret", clock=lambda: NOW, top_cache_ttl_s=0)


def add_story(
    reader: ReaderService,
    story_id: str,
    headline: str,
    outlets: list[tuple[str, float]],
    *,
    entities: tuple[str, ...] = (),
    text: str = "",
    html: str = "",
    source_id: int | None = None,
) -> list[int]:
    """Store a story with one article per (publisher, hours before NOW); returns the article ids."""
    storage = reader.service.storage
    ids = []
    for n, (publisher, hours_ago) in enumerate(outlets):
        when = NOW - timedelta(hours=hours_ago)
        body = text or f"{headline}. Reported by {publisher}. " + " ".join(entities)
        article, _ = storage.add_article(
            NewArticle(
                canonical_url=f"https://{publisher.lower().replace(' ', '')}.example/{story_id}/{n}",
                url=f"https://{publisher.lower().replace(' ', '')}.example/{story_id}/{n}",
                title=f"{headline} ({publisher})", text=body, content_hash=f"{story_id}-{n}",
                publisher=publisher, published_at=when, fetched_at=when, html=html,
            ),
            source_id=source_id, now=when,
        )
        ids.append(article.id)
    storage.set_story(ids, story_id)
    times = [NOW - timedelta(hours=h) for _, h in outlets]
    storage.save_story(
        Story(id=story_id, headline=headline, summary=f"Summary of {headline}.", first_seen=min(times),
              last_seen=max(times), article_count=len(ids), outlet_count=len({p for p, _ in outlets}),
              original_count=len(ids), syndicated_count=0, entities=entities),
        now=NOW,
    )
    return ids


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[ReaderService]:
    r = make_reader(tmp_path / "data")
    try:
        yield r
    finally:
        r.service.close()


@pytest.fixture
def stocked(reader: ReaderService) -> ReaderService:
    """Three stories: a big one, a small recent one, and an old one sharing an entity with the big one."""
    add_story(reader, "s-big", "Floods hit Valencia", [("Reuters", 6), ("AP", 5), ("BBC", 3), ("El País", 0.5)],
              entities=("Valencia", "Spain"))
    add_story(reader, "s-small", "Local council votes on budget", [("Gazette", 0.2)], entities=("Springfield",))
    add_story(reader, "s-old", "Valencia rebuilds bridges", [("AP", 72), ("BBC", 70)], entities=("Valencia",))
    return reader


@pytest.fixture
def client(stocked: ReaderService) -> Iterator[TestClient]:
    with TestClient(create_app(stocked)) as c:
        yield c


def csrf(client: TestClient) -> str:
    if "nl_csrf" not in client.cookies:
        client.get("/signin")
    return str(client.cookies["nl_csrf"])


def post(client: TestClient, url: str, data: dict[str, str] | None = None) -> httpx.Response:
    response: httpx.Response = client.post(url, data={"csrf_token": csrf(client), **(data or {})}, follow_redirects=False)
    return response


def sign_up(client: TestClient, username: str, password: str = PASSWORD) -> None:
    response = post(client, "/signup", {"username": username, "password": password})
    assert response.status_code == 303, response.text
    assert "nl_session" in client.cookies


def make_admin(reader: ReaderService, client: TestClient, username: str = "editor") -> None:
    reader.create_admin(username, PASSWORD)
    response = post(client, "/signin", {"username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
