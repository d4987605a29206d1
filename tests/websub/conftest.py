"""A whole push set-up on loopback: a feed server, the WebSub hub of hub.py, and newsloom's web server.

``push`` runs on SQLite and on PostgreSQL (a fresh schema per test). newsloom polls with a ``Service`` of its
own, as ``newsloom run`` does, while the web server's ``ReaderService`` answers the hub.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsloom.reader_service import ReaderService
from newsloom.service import Service
from newsloom.settings import Settings, load_settings
from newsloom.web.app import create_app
from tests.loopback import LoopbackServer
from tests.storage.conftest import ENGINES, fresh_pg_schema
from tests.websub.hub import Hub

BODY = (
    "The city council approved the new harbour bridge on Monday after a long debate about costs. "
    "Engineers said construction would start next spring and take three years to finish. "
    "Residents of the old quarter asked for a quieter design and more room for bicycles. "
)


def entry(n: int, base: str, *, title: str | None = None) -> str:
    text = f"<p>{escape(title or f'Story number {n}')}.</p><p>{BODY}</p><p>Item {n} detail: {n * 7919} visitors.</p>"
    return (
        f"<entry><id>{base}/articles/{n}</id><title>{escape(title or f'Story number {n}')}</title>"
        f'<link rel="alternate" href="{base}/articles/{n}"/>'
        f"<updated>2026-12-04T00:{n % 60:02d}:00Z</updated>"
        f'<content type="html">{escape(text)}</content></entry>'
    )


def atom(base: str, entries: list[str], *, hub: str | None, self_url: str | None) -> bytes:
    links = ""
    if hub:
        links += f'<link rel="hub" href="{hub}"/>'
    if self_url:
        links += f'<link rel="self" href="{self_url}"/>'
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Harbour Gazette</title><id>{base}/feed</id><updated>2026-12-04T00:00:00Z</updated>"
        f'<link rel="alternate" href="{base}/"/>{links}{"".join(entries)}</feed>'
    ).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Push:
    """The running set-up. ``service`` polls; ``reader`` serves the callback at ``base_url``."""

    settings: Settings
    feeds: LoopbackServer
    hub: Hub
    reader: ReaderService
    service: Service
    base_url: str
    client: httpx.Client

    @property
    def feed_url(self) -> str:
        return self.feeds.url("/feed.xml")

    def serve_feed(self, entries: list[str], *, hub: bool = True, self_link: bool = True,
                   headers: dict[str, str] | None = None) -> str:  # fmt: skip
        body = atom(self.feeds.base_url, entries, hub=self.hub.url if hub else None,
                    self_url=self.feed_url if self_link else None)  # fmt: skip
        return self.feeds.add("/feed.xml", body, headers={"Content-Type": "application/atom+xml", **(headers or {})})

    def subscribe_source(self) -> int:
        source, _ = self.service.storage.add_source(self.feed_url, now=self.service.now())
        return source.id


def start_uvicorn(app: Any, port: int) -> tuple[Any, threading.Thread]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, thread


@contextlib.contextmanager
def running_push(tmp_path: Path, database_url: str, **settings: Any) -> Iterator[Push]:
    """Feed server, hub and newsloom's web server, all on loopback; ``settings`` override newsloom's."""
    port = free_port()
    options: dict[str, Any] = {
        "database_url": database_url, "public_url": f"http://127.0.0.1:{port}", "allow_private_networks": True,
        "per_host_delay_s": 0.0, "fetch_article_pages": False, **settings,
    }  # fmt: skip
    config = load_settings(env={"NEWSLOOM_DATA_DIR": str(tmp_path / "data")}, **options)
    feeds = LoopbackServer().start()
    hub = Hub().start()
    web_service = Service(config)
    web_service.init()
    reader = ReaderService(web_service, secret_key="test-secret", top_cache_ttl_s=0)
    server, thread = start_uvicorn(create_app(reader), port)
    poller = Service(config)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0, trust_env=False)
    try:
        yield Push(config, feeds, hub, reader, poller, f"http://127.0.0.1:{port}", client)
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)
        hub.stop()
        feeds.stop()
        poller.close()
        web_service.close()


@pytest.fixture(params=ENGINES)
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'push.db'}"
        return
    with fresh_pg_schema("newsloom_websub") as url:
        yield url


@pytest.fixture
def push(tmp_path: Path, engine_url: str) -> Iterator[Push]:
    with running_push(tmp_path, engine_url) as running:
        yield running
