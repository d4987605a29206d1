"""The polling pipeline with its process pool and batched writes: same results as in one process.

Real loopback feeds; ``parse_processes=2`` makes even a small poll parse and extract in worker processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsloom import OpmlOutline
from newsloom.ingest import storewriter
from newsloom.service import Service
from newsloom.settings import load_settings
from newsloom.stories import engine as engine_module
from tests.ingest.test_pipeline import conditional, page, rss
from tests.loopback import LoopbackServer

FULL = "<p>" + ("The harbour authority published the full text of its annual report on shipping. " * 16) + "</p>"
FEEDS = 6


def service(tmp_path: Path, processes: int) -> Service:
    return Service(
        load_settings(
            env={}, data_dir=str(tmp_path / f"p{processes}"), allow_private_networks=True, per_host_delay_s=0.0,
            per_host_concurrency=8, respect_robots=False, parse_processes=processes,
        )
    )


@pytest.fixture
def feeds(loopback: LoopbackServer) -> Iterator[list[str]]:
    base = loopback.base_url
    urls = []
    for f in range(FEEDS):
        items = [
            (f"Report {f}-{i}", f"/f{f}/full{i}", FULL.replace("annual", f"annual {f}-{i}")) for i in range(3)
        ] + [(f"Teaser {f}", f"/f{f}/teaser", None)]
        body = rss(base, items).encode()
        loopback.add_raw(f"/f{f}.xml", conditional(body, "application/rss+xml"))  # type: ignore[arg-type]
        loopback.add(f"/f{f}/teaser", page(f"Teaser {f}", f"The page of teaser {f} says more"),
                     headers={"Content-Type": "text/html"})
        urls.append(loopback.url(f"/f{f}.xml"))
    yield urls


def poll_twice(svc: Service, urls: list[str]) -> tuple[list[object], list[object]]:
    svc.subscribe(OpmlOutline(xml_url=u) for u in urls)
    return svc.update(all_sources=True), svc.update(all_sources=True)  # type: ignore[return-value]


@pytest.mark.parametrize("processes", [1, 2])
def test_pool_and_inline_polls_store_the_same(
    tmp_path: Path, loopback: LoopbackServer, feeds: list[str], processes: int
) -> None:
    with service(tmp_path, processes) as svc:
        first, again = poll_twice(svc, feeds)
        assert [o.status for o in first] == ["ok"] * FEEDS  # type: ignore[attr-defined]
        assert sum(o.new_articles for o in first) == FEEDS * 4  # type: ignore[attr-defined]
        assert [o.status for o in again] == ["not-modified"] * FEEDS  # type: ignore[attr-defined]
        articles = svc.articles(limit=100)
        assert len(articles) == FEEDS * 4
        assert all(a.story_id for a in articles)  # assigned in the batch that stored them
        teasers = {a.title: a for a in articles if (a.title or "").startswith("Teaser")}
        assert all("says more" in a.text for a in teasers.values())  # pages fetched and extracted
        for f in range(FEEDS):
            assert len(loopback.hits(f"/f{f}/teaser")) == 1
            assert loopback.hits(f"/f{f}/full0") == []  # full-text items: never fetched
        assert all(s.etag and s.error_count == 0 for s in svc.sources())


def stories_by_url(svc: Service) -> tuple[object, ...]:
    """Every story (headline, summary, counts) with its articles by URL, and each article's original."""
    articles = svc.articles(limit=100)
    url_of = {a.id: a.canonical_url for a in articles}
    stories = sorted(
        (s.headline, s.summary, s.article_count, s.original_count, s.syndicated_count,
         sorted(a.canonical_url for a in svc.story_articles(s.id)))
        for s in svc.stories(limit=100)
    )  # fmt: skip
    return tuple(stories), tuple(sorted((a.canonical_url, url_of.get(a.original_id or 0)) for a in articles))


def test_story_features_from_the_pool_give_the_stories_of_one_process(
    tmp_path: Path, loopback: LoopbackServer, feeds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    splits: list[str] = []
    original = engine_module.text_parts
    monkeypatch.setattr(engine_module, "text_parts", lambda *a, **k: splits.append("x") or original(*a, **k))
    results = {}
    for processes in (1, 2):
        splits.clear()
        with service(tmp_path, processes) as svc:
            svc.subscribe(OpmlOutline(xml_url=u) for u in feeds)
            for source in svc.sources():  # one at a time: the same arrival order in both runs
                [outcome] = svc.update(source_ids=[source.id])
                assert outcome.status == "ok"
            results[processes] = stories_by_url(svc)
            # in one process the assigner splits each new original itself; with the pool it gets them split
            assert (splits == []) == (processes == 2)
    assert results[2] == results[1]
    assert len(results[1][0]) < FEEDS * 4  # reports and copies were grouped


def test_a_304_poll_is_one_request_and_one_shared_commit(
    tmp_path: Path, loopback: LoopbackServer, feeds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with service(tmp_path, 1) as svc:
        svc.subscribe(OpmlOutline(xml_url=u) for u in feeds)
        svc.update(all_sources=True)
        requests_before = len(loopback.requests)
        batches: list[int] = []
        original = storewriter.StoreWriter._run_batch

        def counting(self: storewriter.StoreWriter, jobs: list[storewriter.Job]) -> object:
            batches.append(len(jobs))
            return original(self, jobs)

        monkeypatch.setattr(storewriter.StoreWriter, "_run_batch", counting)
        again = svc.update(all_sources=True)
        assert [o.status for o in again] == ["not-modified"] * FEEDS
        assert len(loopback.requests) - requests_before == FEEDS  # one request per feed, no page
        assert sum(batches) == FEEDS  # one fetch-state write per feed (the commits they share: below)


def test_writes_queued_together_share_one_transaction(tmp_path: Path) -> None:
    with service(tmp_path, 1) as svc:
        svc.subscribe(OpmlOutline(xml_url=f"https://example.org/{i}.xml") for i in range(10))
        ids = [s.id for s in svc.sources()]
        transactions: list[int] = []
        writer = storewriter.StoreWriter(svc.storage, on_begin=lambda: transactions.append(1))

        async def run() -> list[object]:
            try:
                return await asyncio.gather(
                    *(writer.write(lambda i=i: svc.storage.update_source(i, title=f"t{i}")) for i in ids)
                )
            finally:
                await writer.aclose()

        results = asyncio.run(run())
        assert [r.title for r in results] == [f"t{i}" for i in ids]  # type: ignore[attr-defined]
        assert transactions == [1]  # ten writes queued while none ran: one transaction, one commit


def test_a_failing_write_lands_on_its_source_only(
    tmp_path: Path, loopback: LoopbackServer, feeds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with service(tmp_path, 2) as svc:
        intake = svc.intake
        original = type(intake).store

        def store(self: object, extracted: object, **kwargs: object) -> object:
            if "/f3/" in (getattr(extracted, "url", None) or ""):
                raise KeyError("simulated storage bug")
            return original(self, extracted, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(type(intake), "store", store)
        first, _ = poll_twice(svc, feeds)
        by_url = {o.source.url: o for o in first}  # type: ignore[attr-defined]
        assert by_url[feeds[3]].status == "error" and "simulated storage bug" in (by_url[feeds[3]].error or "")
        assert all(by_url[u].status == "ok" and by_url[u].new_articles == 4 for u in feeds if u != feeds[3])
        articles = svc.articles(limit=100)
        assert len(articles) == (FEEDS - 1) * 4 and all(a.story_id for a in articles)
        # the story indexes were rebuilt after the rolled-back batch: every story row matches its articles
        for story in svc.stories(limit=100):
            assert story.article_count == len(svc.story_articles(story.id))


def test_an_unchanged_body_without_validators_is_not_parsed_again(tmp_path: Path, loopback: LoopbackServer) -> None:
    base = loopback.base_url
    loopback.add("/plain.xml", rss(base, [("Report one", "/one", FULL)]), headers={"Content-Type": "application/rss+xml"})
    with service(tmp_path, 1) as svc:
        svc.subscribe([OpmlOutline(xml_url=loopback.url("/plain.xml"))])
        [first] = svc.update(all_sources=True)
        assert first.status == "ok" and first.new_articles == 1
        assert svc.sources()[0].feed_digest and not svc.sources()[0].etag  # the server sends no validators

        [again] = svc.update(all_sources=True)
        assert again.status == "not-modified" and again.items == 0  # not parsed: same bytes as last time
        assert svc.sources()[0].last_success_at is not None and svc.sources()[0].error_count == 0

        loopback.add("/plain.xml", rss(base, [("Report one", "/one", FULL), ("Report two", "/two", FULL.replace("annual", "second"))]),
                     headers={"Content-Type": "application/rss+xml"})
        [changed] = svc.update(all_sources=True)
        assert changed.status == "ok" and changed.items == 2 and changed.new_articles == 1
        assert len(loopback.hits("/plain.xml")) == 3


@pytest.mark.parametrize("cap", [100, 1])
def test_a_poll_builds_each_changed_page_once_at_its_end_or_leaves_them_to_their_view(
    tmp_path: Path, loopback: LoopbackServer, feeds: list[str], monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    from newsloom import story_pages
    from newsloom.ingest import pipeline

    built: list[str] = []
    original = story_pages.refresh_story_page

    def counting(storage: object, accounts: object, story_id: str, **kwargs: object) -> object:
        built.append(story_id)
        return original(storage, accounts, story_id, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(story_pages, "refresh_story_page", counting)
    monkeypatch.setattr(pipeline, "POLL_PAGES_AT_END_MAX", cap)
    with service(tmp_path, 2) as svc:
        svc.subscribe(OpmlOutline(xml_url=u) for u in feeds)
        svc.update(all_sources=True)
        stories = svc.stories(limit=100)
        assert len(stories) > 1
        fresh = {s.id: svc.storage.story_with_page(s.id).fresh for s in stories}
        if cap >= len(stories):  # every changed story's page built once, after the poll's last write
            assert sorted(built) == sorted(s.id for s in stories) and all(fresh.values())
        else:  # too many for the end of a poll: none built, none left for the next accept to build
            assert built == [] and not any(fresh.values())
        assert svc.intake.refresh_story_pages(now=svc.now()) == 0
