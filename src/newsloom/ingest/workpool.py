"""The CPU-bound steps of polling (feed parsing, page extraction, item -> article) on a pool of processes.

Parsing a feed or extracting a page holds the interpreter for milliseconds to tens of milliseconds; done on
the event loop that drives the fetches, every other fetch waits meanwhile, and one core does all the work.
A poll of many sources therefore sends these steps to a process pool sized to the cores, while the loop keeps
the fetches going. Small polls (the tests, a poll of a few due feeds) run them in the polling process: a
pool's start-up would cost more than it saves.

The jobs are plain functions of bytes and records (picklable), so they run the same in either place.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from newsloom.errors import NewsloomError
from newsloom.ingest.extract import extract_html
from newsloom.ingest.feeds import carries_full_text, parse_feed
from newsloom.ingest.items import item_to_article
from newsloom.priority import cpu_count
from newsloom.types import ExtractedArticle, FeedItem, ParsedFeed

log = logging.getLogger(__name__)

T = TypeVar("T")

# A poll of fewer sources than this parses in the polling process when the pool size is automatic: starting
# the pool (a fresh interpreter per core importing lxml, feedparser and trafilatura, ~0.5 s of CPU each)
# pays off only from a few dozen feeds on.
POOL_MIN_SOURCES = 24


def parse_feed_job(content: bytes, url: str, content_type: str | None) -> ParsedFeed:
    return parse_feed(content, url=url, content_type=content_type)


def prepare_items_job(items: Sequence[FeedItem], feed: ParsedFeed, fetch_pages: bool) -> list[ExtractedArticle | None]:
    """Each item's article from the feed's own text, or None where its page must be fetched (a teaser)."""
    return [
        None if fetch_pages and item.url and not carries_full_text(item) else item_to_article(item, feed)
        for item in items
    ]


def extract_page_job(content: bytes, url: str, encoding: str | None) -> ExtractedArticle | None:
    """The page's article, or None when extraction fails: the feed's own text then makes the article."""
    try:
        return extract_html(content, url=url, encoding=encoding)
    except NewsloomError:
        return None
    except Exception:  # one bad page must never crash an update
        # Any other exception is an extraction bug triggered by this page's bytes; the page is optional
        # (the feed's text still makes an article), so it is dropped rather than failing the source.
        log.exception("unexpected error while extracting %s", url)
        return None


def pool_size(configured: int, sources: int) -> int:
    """Processes for a poll of ``sources`` sources: ``configured`` (``parse_processes``), 0 meaning automatic."""
    if configured > 0:
        return configured
    return cpu_count() if sources >= POOL_MIN_SOURCES and cpu_count() > 1 else 1


_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _warm() -> int:
    return os.getpid()


def _shared_pool(size: int) -> ProcessPoolExecutor:
    """One pool per size for the whole process, reused by later polls (``newsloom run`` polls every minutes).

    Workers are forked (they start with this process's modules loaded, and no ``__main__`` guard is needed as
    with spawn or forkserver). A fork copies only the forking thread, so a lock another thread holds at that
    moment stays held in the child: the pool forks all its workers at once, on a first no-op job sent here,
    before the poll starts its storage thread, and the jobs themselves take no lock shared with other threads.
    """
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("fork"))
            pool.submit(_warm).result()
            _pools[size] = pool
        return pool


def _drop_pool(size: int, broken: ProcessPoolExecutor) -> None:
    with _pools_lock:
        if _pools.get(size) is broken:
            del _pools[size]
    broken.shutdown(wait=False, cancel_futures=True)


class WorkPool:
    """Runs the jobs above in a shared process pool of ``size`` processes, or in this process when size is 1."""

    def __init__(self, size: int) -> None:
        self.size = size
        if size > 1:
            _shared_pool(size)  # fork the workers now, before the caller starts other threads

    async def run(self, job: Callable[..., T], *args: Any) -> T:
        if self.size <= 1:
            return job(*args)
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool: Executor = _shared_pool(self.size)
            try:
                return await loop.run_in_executor(pool, job, *args)
            except BrokenProcessPool:
                # A worker died (killed, or a crash in a C library on some input). Every job in flight fails with
                # it; each gets one more try in a new pool, so only the input that kills workers fails twice.
                _drop_pool(self.size, pool)  # type: ignore[arg-type]
                if attempt == 2:
                    raise NewsloomError("the parsing process died while handling this source") from None
        raise AssertionError("unreachable")
