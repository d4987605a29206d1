"""`newsloom run` clusters pushed and polled articles with one story engine.

The real command runs as a subprocess beside a loopback feed server and the WebSub hub of hub.py. One feed
names the hub and is pushed; another is polled. A pushed report of an event and, later, a polled report of the
same event end up in one story. Before, the poller thread and the web process kept one engine each (built
from the database when they started), so the polled report never met the pushed one and opened a story of
its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import httpx
import pytest

from newsloom.service import Service
from newsloom.settings import load_settings
from newsloom.storage.websub_store import SqlWebSubStore
from tests.loopback import LoopbackServer
from tests.websub.conftest import free_port
from tests.websub.hub import Hub

PUSHED = (
    "Kalomer council approves the harbour bridge",
    "The Kalomer city council approved the new harbour bridge on Monday after a long debate about costs. Mayor "
    "Ines Vidal said construction would start next spring and take three years. Engineers put the price at 48 "
    "million euros. Residents of the old quarter asked for a quieter design and more room for bicycles.",
)
POLLED = (
    "Harbour bridge wins Kalomer council vote",
    "Kalomer's councillors voted on Monday for the harbour bridge, ending months of argument over its cost of 48 "
    "million euros. Mayor Ines Vidal told reporters that work begins next spring and lasts three years. People "
    "in the old quarter had asked for a quieter bridge with space for bicycles.",
)
ELSEWHERE = (
    "Football club signs a new goalkeeper",
    "The city's football club signed a goalkeeper from the south on a three-year contract. The coach said the "
    "squad needed experience before the cup matches of the winter. Fans welcomed the news at the training ground.",
)
RUN_START_TIMEOUT_S = 60.0
WAIT_S = 30.0


def feed(base: str, title: str, entries: list[tuple[int, tuple[str, str]]], *, hub: str | None, self_url: str) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = "".join(
        f"<entry><id>{base}/a/{n}</id><title>{escape(head)}</title><link rel=\"alternate\" href=\"{base}/a/{n}\"/>"
        f"<updated>{now}</updated><content type=\"html\">{escape('<p>' + text + '</p>')}</content></entry>"
        for n, (head, text) in entries
    )
    hub_link = f'<link rel="hub" href="{hub}"/>' if hub else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>'
        f'<id>{self_url}</id><updated>{now}</updated>{hub_link}<link rel="self" href="{self_url}"/>{items}</feed>'
    ).encode()


def wait_for(predicate: Callable[[], object], what: str, timeout: float = WAIT_S) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def loopback_pair() -> Iterator[tuple[LoopbackServer, Hub]]:
    server, hub = LoopbackServer().start(), Hub().start()
    try:
        yield server, hub
    finally:
        hub.stop()
        server.stop()


def test_a_pushed_and_a_polled_report_of_one_event_share_a_story_in_run(
    tmp_path: Path, loopback_pair: tuple[LoopbackServer, Hub]
) -> None:
    server, hub = loopback_pair
    port = free_port()
    env = {
        "NEWSLOOM_DATA_DIR": str(tmp_path / "data"),
        "NEWSLOOM_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "NEWSLOOM_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "NEWSLOOM_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSLOOM_PER_HOST_DELAY_S": "0",
        "NEWSLOOM_FETCH_ARTICLE_PAGES": "0",
        "NEWSLOOM_RESPECT_ROBOTS": "0",
        # the polled feed is polled every second, so its second poll comes soon after the push
        "NEWSLOOM_MIN_POLL_INTERVAL_S": "1",
        "NEWSLOOM_DEFAULT_POLL_INTERVAL_S": "1",
        "NEWSLOOM_MAX_POLL_INTERVAL_S": "1",
    }
    pushed_url, polled_url = server.url("/gazette.xml"), server.url("/herald.xml")
    base = server.base_url
    server.add("/gazette.xml", feed(base + "/g", "Gazette", [(1, ELSEWHERE)], hub=hub.url, self_url=pushed_url),
               headers={"Content-Type": "application/atom+xml"})
    server.add("/herald.xml", feed(base + "/h", "Herald", [], hub=None, self_url=polled_url),
               headers={"Content-Type": "application/atom+xml"})
    settings = load_settings(env=env)
    with Service(settings) as svc:
        svc.init()
        pushed_source, _ = svc.storage.add_source(pushed_url, now=svc.now())
        svc.storage.add_source(polled_url, now=svc.now())

    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen([sys.executable, "-m", "newsloom.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
                           env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        with Service(settings) as svc:
            websub = SqlWebSubStore.for_storage(svc.storage)

            def active() -> bool:
                sub = websub.subscription_for_source(pushed_source.id)
                return sub is not None and sub.state == "active"

            wait_for(active, "the pushed feed's subscription", RUN_START_TIMEOUT_S)
            # newsloom marks it active while it answers the hub's challenge; the hub records it once the answer
            # is back, a moment later: a publish in between would reach no one.
            wait_for(lambda: hub.subscription(pushed_url), "the hub's record of the subscription")
            pushed_body = feed(base + "/g", "Gazette", [(2, PUSHED), (1, ELSEWHERE)], hub=hub.url, self_url=pushed_url)
            assert hub.publish(pushed_url, pushed_body) == [200]
            pushed = svc.storage.find_article(canonical_url=f"{base}/g/a/2")
            assert pushed is not None and pushed.story_id is not None

            # The polled feed now carries the same event, in other words, from another outlet.
            server.add("/herald.xml", feed(base + "/h", "Herald", [(1, POLLED)], hub=None, self_url=polled_url),
                       headers={"Content-Type": "application/atom+xml"})
            polled = wait_for(lambda: svc.storage.find_article(canonical_url=f"{base}/h/a/1"), "the polled report")
            assigned = wait_for(lambda: svc.storage.get_article(polled.id).story_id, "the polled report's story")  # type: ignore[attr-defined]
            assert assigned == pushed.story_id, (tmp_path / "run.log").read_text(errors="replace")[-3000:]
            assert svc.storage.get_story(pushed.story_id).article_count == 2
            assert httpx.get(f"http://127.0.0.1:{port}/story/{pushed.story_id}", trust_env=False).status_code == 200
    finally:
        run.terminate()
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
        log.close()
