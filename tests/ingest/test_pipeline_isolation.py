"""One source's unexpected failure (a bug, not a NewsloomError) is recorded on it; the update goes on.

Every failure newsloom expects is a NewsloomError; these tests force the *other* kind, which only a bug
raises. No input is known to trigger one any more (the hostile suite's were fixed), so a fake intake and a
replaced extractor stand in for the bug: that is the only way to reach these branches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsloom import OpmlOutline
from newsloom.ingest import workpool
from newsloom.ingest.fetch import Fetcher
from newsloom.ingest.intake import Intake, IntakeResult
from newsloom.ingest.pipeline import Poller, PollOutcome
from newsloom.service import Service
from newsloom.settings import load_settings
from tests.loopback import LoopbackServer

PARAGRAPH = "The council approved the harbour bridge budget after a long debate on Tuesday evening. " * 15


def rss(base: str, slug: str, body: str | None) -> str:
    description = f"<description><![CDATA[{body}]]></description>" if body else "<description>Teaser.</description>"
    return (
        f"<rss version='2.0'><channel><title>{slug}</title><item><title>{slug} story</title>"
        f"<link>{base}/a/{slug}</link>{description}</item></channel></rss>"
    )


class PoisonedIntake(Intake):
    """A real intake, except that articles from ``/a/poison`` hit a (simulated) bug."""

    def store(self, extracted: Any, **kwargs: Any) -> IntakeResult:  # the poller stores, then assigns in batches
        if "/a/poison" in (extracted.url or ""):
            raise KeyError("simulated bug in the story stage")
        return super().store(extracted, **kwargs)


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    settings = load_settings(
        env={}, data_dir=str(tmp_path), allow_private_networks=True, per_host_delay_s=0.0,
        per_host_concurrency=8, respect_robots=False, fetch_article_pages=True,
    )
    service = Service(settings)
    yield service
    service.close()


def poll(svc: Service, intake: Intake) -> list[PollOutcome]:
    async def run() -> list[PollOutcome]:
        async with Fetcher(svc.settings) as fetcher:
            return await Poller(svc.storage, svc.settings, intake, fetcher).poll(svc.sources())

    return asyncio.run(run())


def test_unexpected_error_is_recorded_on_its_source_and_others_go_on(svc: Service, loopback: LoopbackServer) -> None:
    for slug in ("poison", "good"):
        loopback.add(f"/{slug}.xml", rss(loopback.base_url, slug, f"<p>{PARAGRAPH}</p>"),
                     headers={"Content-Type": "application/rss+xml"})
    svc.subscribe(OpmlOutline(xml_url=loopback.url(f"/{slug}.xml")) for slug in ("poison", "good"))

    outcomes = {o.source.url.rsplit("/", 1)[-1]: o for o in poll(svc, PoisonedIntake(svc.storage, svc.settings, store_only=True))}

    assert outcomes["good.xml"].status == "ok" and outcomes["good.xml"].new_articles == 1
    poisoned = outcomes["poison.xml"]
    assert poisoned.status == "error"
    assert poisoned.error == "internal error while processing this feed (KeyError: 'simulated bug in the story stage')"
    health = {s.url.rsplit("/", 1)[-1]: s for s in svc.sources()}
    assert health["poison.xml"].error_count == 1 and health["poison.xml"].last_error == poisoned.error
    assert health["poison.xml"].next_poll_at is not None
    assert health["good.xml"].error_count == 0 and health["good.xml"].last_error is None


def test_unexpected_extraction_error_keeps_the_feed_text(
    svc: Service, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def extractor_with_a_bug(*args: object, **kwargs: object) -> None:
        raise IndexError("simulated extraction bug")

    # replaced in the polling jobs only (a one-source poll runs them in this process): no real page is known to
    # crash extract_html any more
    monkeypatch.setattr(workpool, "extract_html", extractor_with_a_bug)
    loopback.add("/teaser.xml", rss(loopback.base_url, "teaser", None), headers={"Content-Type": "application/rss+xml"})
    loopback.add("/a/teaser", "<html><body><p>The page.</p></body></html>", headers={"Content-Type": "text/html"})
    svc.subscribe([OpmlOutline(xml_url=loopback.url("/teaser.xml"))])

    [outcome] = svc.update(all_sources=True)

    assert len(loopback.hits("/a/teaser")) == 1  # the page was fetched, then its extraction failed
    assert outcome.status == "ok" and outcome.new_articles == 1
    [article] = svc.articles()
    assert article.title == "teaser story" and "Teaser." in article.text
