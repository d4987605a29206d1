"""Fixtures for the apps' APIs: a reader on SQLite or PostgreSQL with two sources, stories across them, and a
reader account with an API password; a TestClient and a ClientLogin token."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsloom.apps_service import AppService
from newsloom.reader_service import ReaderService
from newsloom.storage.accounts_base import User
from newsloom.types import NewArticle, Story
from newsloom.web.app import create_app
from tests.storage.conftest import (  # noqa: F401  (fixtures the engines' halves use)
    ENGINES,
    _empty_tables,
    migrated_pg_url,
    migrated_sqlite_file,
    pg_cleaner,
)
from tests.web.conftest import NOW, PASSWORD, make_reader

API_PASSWORD = "app password 123"
FEED_A = "https://alpha.example/feed.xml"
FEED_B = "https://beta.example/rss"


def add_articles(reader: ReaderService, story_id: str | None, headline: str, items: list[tuple[int, str, float]],
                 *, copy_of: dict[int, int] | None = None) -> list[int]:  # fmt: skip
    """Articles (source id, publisher, hours before NOW) of one story; ``copy_of`` maps index -> original index."""
    storage = reader.service.storage
    ids: list[int] = []
    for n, (source_id, publisher, hours) in enumerate(items):
        when = NOW - timedelta(hours=hours)
        slug = f"{story_id or headline.replace(' ', '-')}/{n}"
        article, _ = storage.add_article(
            NewArticle(canonical_url=f"https://{publisher.lower()}.example/{slug}", url=f"https://{publisher.lower()}.example/{slug}",
                       title=f"{headline} ({publisher})", text=f"{headline}. Reported by {publisher}.",
                       content_hash=f"h-{slug}", publisher=publisher, published_at=when, fetched_at=when),
            source_id=source_id, now=when,
        )  # fmt: skip
        ids.append(article.id)
    for copy, original in (copy_of or {}).items():
        storage.set_original(ids[copy], ids[original])
    if story_id is not None:
        storage.set_story(ids, story_id)
        times = [NOW - timedelta(hours=h) for _, _, h in items]
        storage.save_story(
            Story(id=story_id, headline=headline, summary=f"Summary of {headline}.", first_seen=min(times),
                  last_seen=max(times), article_count=len(ids), outlet_count=len({p for _, p, _ in items}),
                  original_count=len(ids) - len(copy_of or {}), syndicated_count=len(copy_of or {})),
            now=NOW,
        )  # fmt: skip
    return ids


def add_stock(reader: ReaderService) -> None:
    """Two sources and three stories: one of three articles (one a syndicated copy), one of one, one lone report."""
    storage = reader.service.storage
    a, _ = storage.add_source(FEED_A, title="Alpha News", site_url="https://alpha.example/", category="News", now=NOW)
    b, _ = storage.add_source(FEED_B, title="Beta Times", site_url="https://beta.example/", now=NOW)
    add_articles(reader, "s-one", "Bridge opens", [(a.id, "Alpha", 5), (b.id, "Beta", 4), (b.id, "Wire", 3)], copy_of={2: 0})
    add_articles(reader, "s-two", "Council votes", [(a.id, "Alpha", 2)])
    add_articles(reader, None, "Lone report", [(b.id, "Beta", 1)])


@pytest.fixture(params=ENGINES)
def app_reader(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReaderService]:
    """Sources A (folder News) and B; story s-one (A, B, and a copy of A's in B), story s-two (A), a lone article."""
    # The storage suite's migrated databases (emptied, or copied from a template): migrating per test was slow.
    options = {}
    if request.param == "postgresql":
        options["database_url"] = request.getfixturevalue("migrated_pg_url")
        _empty_tables(request.getfixturevalue("pg_cleaner"))
    else:
        (tmp_path / "data").mkdir()
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), tmp_path / "data" / "newsloom.db")
    reader = make_reader(tmp_path / "data", **options)
    add_stock(reader)
    try:
        yield reader
    finally:
        reader.service.close()


@pytest.fixture
def apps(app_reader: ReaderService) -> AppService:
    return AppService(app_reader)


@pytest.fixture
def alice(app_reader: ReaderService, apps: AppService) -> User:
    user = app_reader.signup("alice", PASSWORD)
    apps.set_api_password(user, API_PASSWORD)
    return user


@pytest.fixture
def client(app_reader: ReaderService) -> Iterator[TestClient]:
    with TestClient(create_app(app_reader)) as c:
        yield c


def login(client: TestClient, username: str = "alice", password: str = API_PASSWORD) -> dict[str, str]:
    response = client.post("/accounts/ClientLogin", data={"Email": username, "Passwd": password})
    assert response.status_code == 200, response.text
    auth = dict(line.split("=", 1) for line in response.text.strip().splitlines())["Auth"]
    return {"Authorization": f"GoogleLogin auth={auth}"}


@pytest.fixture
def auth(client: TestClient, alice: User) -> dict[str, str]:
    return login(client)


def action_token(client: TestClient, auth: dict[str, str]) -> str:
    response = client.get("/reader/api/0/token", headers=auth)
    assert response.status_code == 200
    return response.text.strip()
