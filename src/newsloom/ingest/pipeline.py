"""Due sources -> fetch -> parse -> extract -> intake (store, dedupe, story) -> fetch state, as a pipeline.

Three kinds of work overlap, each where it runs best:

* network: every source's fetch (and its pages') is in flight at once on the event loop, under the
  fetcher's per-host politeness and global limits;
* CPU: parsing feeds, deciding which items carry their full text, building articles from feed items and
  extracting pages run on a process pool sized to the cores for large polls (workpool.py), in this process for
  small ones; items that carry their full text are never fetched or extracted again;
* storage: one thread owns the storage for the poll (storewriter.py) and writes whatever has queued up in one
  transaction: the articles of several sources, their stories assigned in one ``assign_many`` (each touched
  story saved once per batch), and their fetch states. A 304 is one request and one row update in a shared
  commit.

A failure of one source is recorded in that source's fetch state and never stops the others; a source's fetch
state is written only after its items were stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from newsloom.errors import FeedParseError, FetchError, InputError, NewsloomError
from newsloom.ingest.collector import collector_paused_for_old_objects
from newsloom.ingest.fetch import Fetcher
from newsloom.ingest.httpheaders import FEED_ACCEPT, PAGE_ACCEPT
from newsloom.ingest.intake import Intake, IntakeResult
from newsloom.ingest.items import item_to_article, merge_page_with_item
from newsloom.ingest.schedule import adaptive_interval, backoff_delay, next_poll_at
from newsloom.ingest.storewriter import StoreWriter
from newsloom.ingest.subscriber import Subscriber
from newsloom.ingest.urls import canonical_url
from newsloom.ingest.workpool import WorkPool, extract_page_job, parse_feed_job, pool_size, prepare_items_job
from newsloom.settings import Settings
from newsloom.storage.base import Storage
from newsloom.stories.features import ArticleFeatures, features_job
from newsloom.types import Article, ExtractedArticle, FeedItem, FetchResult, ParsedFeed, Source

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class PollOutcome:
    """What one poll of one source did; the CLI prints these and the scheduler logs them."""

    source: Source
    status: str = "ok"  # ok | not-modified | error
    error: str | None = None
    items: int = 0
    new_articles: int = 0
    skipped: list[str] = field(default_factory=list)


ProgressCallback = Callable[[PollOutcome], None]


@dataclass
class PreparedItems:
    """A pushed feed's items, ready to be stored (``Poller.accept_prepared``)."""

    outcome: PollOutcome
    items: list[tuple[FeedItem, ExtractedArticle]]


class AcceptItem(Protocol):
    """Where an extracted feed item goes: ``Intake.accept`` in-process; store and queue in queue mode."""

    def __call__(
        self, extracted: ExtractedArticle, *, source_id: int | None, guid: str | None, now: datetime
    ) -> IntakeResult: ...

#: Most story pages a poll builds when it ends (each touched story's once, after its last write); a poll that
#: changed more stories leaves them all to their next view (``Intake.take_pages_due_if_few``). A page costs
#: ~90 ms of CPU on the polling bench's stories (24 articles each, the comparison of up to 16 originals:
#: 56 pages 5.0 s, load 13), so this caps the tail of a poll at ~2 s, while the polls of a running service,
#: a few new items each, keep their pages built at ingest. A first poll of 100 feeds touches ~50 stories.
POLL_PAGES_AT_END_MAX = 24

#: How much of an unexpected exception's message is kept in a source's ``last_error`` (a one-line reason
#: in the UI; the message of a parser bug can hold a whole input).
UNEXPECTED_ERROR_MESSAGE_CHARS = 200


def unexpected_error_reason(exc: BaseException) -> str:
    """A readable one-line ``last_error`` for an exception that is not a NewsloomError (a bug)."""
    message = " ".join(str(exc).split())[:UNEXPECTED_ERROR_MESSAGE_CHARS]
    name = type(exc).__name__
    return f"internal error while processing this feed ({name}: {message})" if message else f"internal error while processing this feed ({name})"


class Poller:
    """Polls sources with one shared fetcher and hands what they deliver to one ``Intake``."""

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        intake: Intake,
        fetcher: Fetcher,
        *,
        accept: AcceptItem | None = None,
        intake_lock: AbstractContextManager[object] | None = None,
    ) -> None:
        """``accept`` replaces the in-process store-then-assign-per-batch (queue mode stores and queues).
        ``intake_lock`` guards ``intake`` when other threads use it too (held around each write transaction)."""
        self.storage = storage
        self.settings = settings
        self.intake = intake
        self.fetcher = fetcher
        self.accept: AcceptItem | None = accept
        self.intake_lock = intake_lock
        self.subscriber = Subscriber(storage, settings, fetcher)
        self.work = WorkPool(1)
        self.writer: StoreWriter | None = None
        self._to_assign: list[Article] = []  # stored in the open transaction, assigned at its end
        self._features: dict[int, ArticleFeatures] = {}  # of those articles, by id, computed in the pool
        self._assigning = False
        self._pushing: frozenset[int] = frozenset()  # sources pushed by their hub when this poll began

    async def poll(self, sources: Sequence[Source], progress: ProgressCallback | None = None) -> list[PollOutcome]:
        with collector_paused_for_old_objects():  # before the pool forks: see collector.py
            return await self._poll(sources, progress)

    async def _poll(self, sources: Sequence[Source], progress: ProgressCallback | None) -> list[PollOutcome]:
        self.work = WorkPool(pool_size(self.settings.parse_processes, len(sources)))
        # Read once for the whole poll: a lease that lapses during it is seen by the next poll, seconds later,
        # and a subscription a hub verifies meanwhile only lengthens the interval from the next poll on.
        self._pushing = self.subscriber.pushing_sources(datetime.now(UTC))
        self.writer = StoreWriter(
            self.storage,
            on_begin=self._begin_batch,
            before_commit=self._assign_stored,
            on_rollback=self._after_rollback,
            lock=self.intake_lock,
        )
        outcomes: list[PollOutcome] = []
        tasks = [asyncio.ensure_future(self._poll_source(source)) for source in sources]
        try:
            for next_done in asyncio.as_completed(tasks):
                outcome = await next_done
                outcomes.append(outcome)
                if progress is not None:
                    progress(outcome)
        finally:
            for task in tasks:
                task.cancel()
            await self.writer.aclose()
        # after the storage thread is done: this thread used the storage before the poll, and does again
        with self.intake_lock or contextlib.nullcontext():
            due = self.intake.take_pages_due_if_few(POLL_PAGES_AT_END_MAX)
        self.intake.build_story_pages(due, now=datetime.now(UTC))
        return outcomes

    # -- storage-thread work (inside the writer's transactions) ------------------------------------------------

    def _begin_batch(self) -> None:
        self._to_assign = []
        self._features = {}

    def _assign_stored(self) -> None:
        """End of a write transaction: the stories of every article it stored, in one batch."""
        stored, self._to_assign = self._to_assign, []
        features, self._features = self._features, {}
        if stored:
            self._assigning = True
            self.intake.assign_many(stored, now=datetime.now(UTC), features=features)
            self._assigning = False

    def _after_rollback(self) -> None:
        """A transaction was rolled back. If its articles had met the story indexes, those no longer match
        the database: rebuild them (a failure before assignment leaves them untouched)."""
        self._to_assign = []
        self._features = {}
        if self._assigning:
            self._assigning = False
            self.intake.reset(now=datetime.now(UTC))

    def _store_items(
        self,
        source: Source,
        linked: list[tuple[str, str | None]],
        prepared: list[tuple[FeedItem, ExtractedArticle]],
        now: datetime,
        features: Sequence[ArticleFeatures] | None = None,
    ) -> tuple[int, list[str]]:
        """Link the known items, store the new ones (assigned at commit); returns (new articles, skipped).

        ``features``: the story features of each prepared article, in order, when the pool computed them."""
        for canonical, guid in linked:
            existing = self.storage.find_article(canonical_url=canonical)
            if existing is not None:
                self.storage.link_source(existing.id, source.id, guid=guid, now=now)
        new = 0
        skipped: list[str] = []
        for position, (item, extracted) in enumerate(prepared):
            if self.accept is not None:
                result = self.accept(extracted, source_id=source.id, guid=item.guid, now=now)
            else:
                ready = features[position] if features is not None else None
                result = self.intake.store(extracted, source_id=source.id, guid=item.guid, now=now, features=ready)
                if result.created and result.article is not None:
                    self._to_assign.append(result.article)
                    if ready is not None:
                        self._features[result.article.id] = ready
            if result.created:
                new += 1
            elif result.skipped_reason:
                skipped.append(f"{item.url}: {result.skipped_reason}")
        return new, skipped

    # -- one source ----------------------------------------------------------------------------------------------

    async def _write(self, job: Callable[[], object]) -> None:
        assert self.writer is not None
        await self.writer.write(job)

    async def _poll_source(self, source: Source) -> PollOutcome:
        outcome = PollOutcome(source)
        now = datetime.now(UTC)
        try:
            result = await self.fetcher.fetch(
                source.url, etag=source.etag, last_modified=source.last_modified, accept=FEED_ACCEPT
            )
            now = datetime.now(UTC)
            digest = None if result.not_modified else hashlib.sha256(result.content).hexdigest()
            # A 304, or the very body parsed last time. With WebSub on, a body is parsed again unless the feed
            # is pushed already: the poll is where its hub is found (again, after a lapsed lease).
            unchanged = digest == source.feed_digest and (
                not self.subscriber.enabled or source.id in self._pushing
            )
            if result.not_modified or unchanged:
                outcome.status = "not-modified"
                interval = source.poll_interval_s
                if source.id in self._pushing:
                    interval = max(interval, self.settings.websub_safety_poll_s)
                await self._write(lambda: self._record_success(source, now, result, interval_s=interval))
                return outcome
            feed = await self.work.run(parse_feed_job, result.content, result.final_url, result.content_type)
            outcome.items = len(feed.items)
            await self._ingest_items(source, feed, outcome, now)
            interval = adaptive_interval(
                [t for i in feed.items if (t := i.published or i.updated) is not None],
                now=now,
                min_s=self.settings.min_poll_interval_s,
                max_s=self.settings.max_poll_interval_s,
                default_s=self.settings.default_poll_interval_s,
            )
            if await self._after_poll(source, feed, result, outcome, now):
                interval = max(interval, self.settings.websub_safety_poll_s)  # pushed: a daily safety poll
            await self._write(
                lambda: self._record_success(source, now, result, interval_s=interval, feed=feed, digest=digest)
            )
        except (FetchError, FeedParseError) as exc:
            outcome.status = "error"
            outcome.error = exc.reason if isinstance(exc, FetchError) else str(exc)
            await self._fail(source, now, outcome.error, exc)
        except NewsloomError as exc:  # storage and extraction failures are recorded the same way
            outcome.status = "error"
            outcome.error = str(exc)
            await self._fail(source, now, outcome.error, exc)
        except Exception as exc:  # a bug on one source's data must not abort the whole update
            # Every expected failure is a NewsloomError; anything else is a bug in our code triggered by this
            # source's bytes. Recording it on the source (and backing off) keeps the other sources polling and
            # shows the user which feed hits it, instead of one hostile feed stopping every update.
            log.exception("unexpected error while processing source %s (%s)", source.id, source.url)
            outcome.status = "error"
            outcome.error = unexpected_error_reason(exc)
            await self._fail(source, now, outcome.error, exc)
        return outcome

    async def _fail(self, source: Source, now: datetime, reason: str, exc: Exception) -> None:
        await self._write(lambda: self._record_failure(source, now, reason, exc))

    async def _after_poll(
        self, source: Source, feed: ParsedFeed, result: FetchResult, outcome: PollOutcome, now: datetime
    ) -> bool:
        """WebSub: subscribe when the feed names a hub; True when its items arrive by push (never raises)."""
        try:
            return await self.subscriber.after_poll(source, feed, result, new_articles=outcome.new_articles, now=now)
        except NewsloomError as exc:  # the hub's trouble never fails the poll; the feed is simply polled
            log.warning("source %s: WebSub subscription step failed: %s", source.id, exc)
            return False

    async def prepare_pushed(self, source: Source, feed: ParsedFeed) -> PreparedItems:
        """Items a hub pushed, made ready as a poll's are (known links linked, pages fetched for teasers);
        ``accept_prepared`` then stores them. Two steps, so that a batch of pushes is stored in one short
        transaction without holding it over the network."""
        outcome = PollOutcome(source, items=len(feed.items))
        return PreparedItems(outcome, await self._prepare_items(source, feed, outcome, datetime.now(UTC)))

    def accept_prepared(self, prepared: PreparedItems) -> PollOutcome:
        now = datetime.now(UTC)
        accept = self.accept or self.intake.accept
        for item, extracted in prepared.items:
            result = accept(extracted, source_id=prepared.outcome.source.id, guid=item.guid, now=now)
            if result.created:
                prepared.outcome.new_articles += 1
            elif result.skipped_reason:
                prepared.outcome.skipped.append(f"{item.url}: {result.skipped_reason}")
        return prepared.outcome

    async def _ingest_items(self, source: Source, feed: ParsedFeed, outcome: PollOutcome, now: datetime) -> None:
        assert self.writer is not None
        linked: list[tuple[str, str | None]] = []
        prepared = await self._prepare_items(source, feed, outcome, now, linked=linked)
        if not prepared and not linked:
            return
        features = None
        if prepared and self.accept is None and self.work.size > 1:
            # the story stage's per-article work that needs no index, here in the pool rather than on the
            # one storage thread, which bounds a first poll (stories/features.py)
            features = await self.work.run(
                features_job, self.intake.engine.config, [(a.title, a.text, a.published) for _, a in prepared]
            )
        new, skipped = await self.writer.write(lambda: self._store_items(source, linked, prepared, now, features))
        outcome.new_articles += new
        outcome.skipped.extend(skipped)

    async def _prepare_items(
        self,
        source: Source,
        feed: ParsedFeed,
        outcome: PollOutcome,
        now: datetime,
        *,
        linked: list[tuple[str, str | None]] | None = None,
    ) -> list[tuple[FeedItem, ExtractedArticle]]:
        """The feed's new items as articles to store. Items already stored are linked to the source: listed in
        ``linked`` (canonical URL, guid) for the caller's write when given, else linked here."""
        urls: dict[str, str] = {}
        for item in feed.items:
            if item.url:
                try:
                    urls[item.url] = canonical_url(item.url)
                except InputError:  # a relative or javascript: link: the item is skipped below, not the feed
                    outcome.skipped.append(f"{item.title or item.guid or '?'}: unusable link {item.url[:80]!r}")
        known = await self._read(self.storage.known_urls, list(urls.values())) if urls else set()
        pending: list[FeedItem] = []
        for item in feed.items:
            if item.url and item.url not in urls:
                continue
            if item.url and urls[item.url] in known:
                if linked is not None:
                    linked.append((urls[item.url], item.guid))
                else:
                    existing = self.storage.find_article(canonical_url=urls[item.url])
                    if existing is not None:
                        self.storage.link_source(existing.id, source.id, guid=item.guid, now=now)
                continue
            pending.append(item)
        if not pending:
            return []

        # The feed's own articles (None where the page must be fetched), then the pages, all at once.
        from_feed = await self.work.run(prepare_items_job, pending, feed, self.settings.fetch_article_pages)
        pages = await asyncio.gather(
            *(self._page_for(item) for item, article in zip(pending, from_feed, strict=True) if article is None)
        )
        page_of = iter(pages)
        prepared: list[tuple[FeedItem, ExtractedArticle]] = []
        for item, article in zip(pending, from_feed, strict=True):
            if article is None:
                page = next(page_of)
                article = merge_page_with_item(page, item, feed) if page is not None else item_to_article(item, feed)
            if not article.url and not article.text.strip():
                continue
            if article.url is None:  # feeds without item links: the guid or the feed URL identify the item
                article = replace(article, url=item.guid if (item.guid or "").startswith("http") else None)
            if article.url is None:
                outcome.skipped.append(f"{item.title or item.guid or '?'}: item has no link")
                continue
            prepared.append((item, article))
        return prepared

    async def _read(self, fn: Callable[..., T], *args: object) -> T:
        """A storage query: on the poll's storage thread during a poll, directly otherwise (pushed items)."""
        if self.writer is not None:
            return await self.writer.read(fn, *args)
        return fn(*args)

    async def _page_for(self, item: FeedItem) -> ExtractedArticle | None:
        """Fetch and extract the item's page; None keeps the feed's text (the page failed or said nothing)."""
        assert item.url is not None  # prepare_items_job asks for pages of linked items only
        try:
            page = await self.fetcher.fetch(item.url, accept=PAGE_ACCEPT, robots=self.settings.respect_robots)
        except NewsloomError:
            return None  # the feed's own summary still makes a (short) article
        return await self.work.run(extract_page_job, page.content, page.final_url, page.encoding)

    def _record_success(
        self,
        source: Source,
        now: datetime,
        result: FetchResult,
        *,
        interval_s: int,
        feed: ParsedFeed | None = None,
        digest: str | None = None,
    ) -> None:
        changes: dict[str, object] = {
            "etag": result.etag or source.etag,
            "last_modified": result.last_modified or source.last_modified,
            "last_polled_at": now,
            "last_success_at": now,
            "last_error": None,
            "error_count": 0,
            "poll_interval_s": interval_s,
            "next_poll_at": next_poll_at(now, interval_s),
        }
        if digest is not None:
            changes["feed_digest"] = digest
        if feed is not None:
            if not source.title and feed.title:
                changes["title"] = feed.title
            if not source.site_url and feed.site_url:
                changes["site_url"] = feed.site_url
        self.storage.update_source(source.id, **changes)

    def _record_failure(self, source: Source, now: datetime, reason: str, exc: Exception) -> None:
        errors = source.error_count + 1
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        delay = backoff_delay(
            errors,
            retry_after_s=retry_after,
            base_s=self.settings.min_poll_interval_s,
            max_s=self.settings.max_backoff_s,
        )
        self.storage.update_source(
            source.id,
            last_polled_at=now,
            last_error=reason,
            error_count=errors,
            next_poll_at=next_poll_at(now, delay),
        )
