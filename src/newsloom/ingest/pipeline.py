"""Due sources -> fetch -> parse -> extract -> intake (store, dedupe, story) -> fetch state.

Network work runs concurrently under the fetcher's per-host limits; parsing, extraction and storage run
one source at a time on the calling thread, so SQLite sees a single writer. A failure of one source is
recorded in that source's fetch state and never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from newsloom.errors import FeedParseError, FetchError, InputError, NewsloomError
from newsloom.ingest.extract import extract_html
from newsloom.ingest.feeds import carries_full_text, parse_feed
from newsloom.ingest.fetch import Fetcher
from newsloom.ingest.httpheaders import FEED_ACCEPT, PAGE_ACCEPT
from newsloom.ingest.intake import Intake
from newsloom.ingest.items import item_to_article, merge_page_with_item
from newsloom.ingest.schedule import adaptive_interval, backoff_delay, next_poll_at
from newsloom.ingest.urls import canonical_url
from newsloom.settings import Settings
from newsloom.storage.base import Storage
from newsloom.types import ExtractedArticle, FeedItem, FetchResult, ParsedFeed, Source

log = logging.getLogger(__name__)


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

    def __init__(self, storage: Storage, settings: Settings, intake: Intake, fetcher: Fetcher) -> None:
        self.storage = storage
        self.settings = settings
        self.intake = intake
        self.fetcher = fetcher

    async def poll(self, sources: Sequence[Source], progress: ProgressCallback | None = None) -> list[PollOutcome]:
        tasks = [asyncio.ensure_future(self._fetch_source(source)) for source in sources]
        outcomes: list[PollOutcome] = []
        for next_done in asyncio.as_completed(tasks):
            source, result, error = await next_done
            outcome = await self._process(source, result, error)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
        return outcomes

    async def _fetch_source(self, source: Source) -> tuple[Source, FetchResult | None, FetchError | None]:
        try:
            result = await self.fetcher.fetch(
                source.url, etag=source.etag, last_modified=source.last_modified, accept=FEED_ACCEPT
            )
        except FetchError as exc:
            return source, None, exc
        return source, result, None

    async def _process(self, source: Source, result: FetchResult | None, error: FetchError | None) -> PollOutcome:
        now = datetime.now(UTC)
        outcome = PollOutcome(source)
        try:
            if error is not None:
                raise error
            assert result is not None
            if result.not_modified:
                outcome.status = "not-modified"
                self._record_success(source, now, result, interval_s=source.poll_interval_s)
                return outcome
            feed = parse_feed(result.content, url=result.final_url, content_type=result.content_type)
            outcome.items = len(feed.items)
            await self._ingest_items(source, feed, outcome, now)
            interval = adaptive_interval(
                [t for i in feed.items if (t := i.published or i.updated) is not None],
                now=now,
                min_s=self.settings.min_poll_interval_s,
                max_s=self.settings.max_poll_interval_s,
                default_s=self.settings.default_poll_interval_s,
            )
            self._record_success(source, now, result, interval_s=interval, feed=feed)
        except (FetchError, FeedParseError) as exc:
            outcome.status = "error"
            outcome.error = exc.reason if isinstance(exc, FetchError) else str(exc)
            self._record_failure(source, now, outcome.error, exc)
        except NewsloomError as exc:  # storage and extraction failures are recorded the same way
            outcome.status = "error"
            outcome.error = str(exc)
            self._record_failure(source, now, outcome.error, exc)
        except Exception as exc:  # a bug on one source's data must not abort the whole update
            # Every expected failure is a NewsloomError; anything else is a bug in our code triggered by this
            # source's bytes. Recording it on the source (and backing off) keeps the other sources polling and
            # shows the user which feed hits it, instead of one hostile feed stopping every update.
            log.exception("unexpected error while processing source %s (%s)", source.id, source.url)
            outcome.status = "error"
            outcome.error = unexpected_error_reason(exc)
            self._record_failure(source, now, outcome.error, exc)
        return outcome

    async def _ingest_items(self, source: Source, feed: ParsedFeed, outcome: PollOutcome, now: datetime) -> None:
        urls: dict[str, str] = {}
        for item in feed.items:
            if item.url:
                try:
                    urls[item.url] = canonical_url(item.url)
                except InputError:  # a relative or javascript: link: the item is skipped below, not the feed
                    outcome.skipped.append(f"{item.title or item.guid or '?'}: unusable link {item.url[:80]!r}")
        known = self.storage.known_urls(urls.values())
        pending: list[FeedItem] = []
        for item in feed.items:
            if item.url and item.url not in urls:
                continue
            if item.url and urls[item.url] in known:
                existing = self.storage.find_article(canonical_url=urls[item.url])
                if existing is not None:
                    self.storage.link_source(existing.id, source.id, guid=item.guid, now=now)
                continue
            pending.append(item)

        pages = await asyncio.gather(*(self._page_for(item) for item in pending))
        for item, page in zip(pending, pages, strict=True):
            extracted = merge_page_with_item(page, item, feed) if page is not None else item_to_article(item, feed)
            if not extracted.url and not extracted.text.strip():
                continue
            if extracted.url is None:  # feeds without item links: the guid or the feed URL identify the item
                extracted = replace(extracted, url=item.guid if (item.guid or "").startswith("http") else None)
            if extracted.url is None:
                outcome.skipped.append(f"{item.title or item.guid or '?'}: item has no link")
                continue
            result = self.intake.accept(extracted, source_id=source.id, guid=item.guid, now=now)
            if result.created:
                outcome.new_articles += 1
            elif result.skipped_reason:
                outcome.skipped.append(f"{item.url}: {result.skipped_reason}")

    async def _page_for(self, item: FeedItem) -> ExtractedArticle | None:
        """Fetch and extract the item's page when the feed carries only a teaser; None keeps the feed's text."""
        if not self.settings.fetch_article_pages or not item.url or carries_full_text(item):
            return None
        try:
            page = await self.fetcher.fetch(item.url, accept=PAGE_ACCEPT, robots=self.settings.respect_robots)
        except NewsloomError:
            return None  # the feed's own summary still makes a (short) article
        try:
            return extract_html(page.content, url=page.final_url, encoding=page.encoding)
        except NewsloomError:
            return None
        except Exception:  # one bad page must never crash an update
            # Any other exception is an extraction bug triggered by this page's bytes; the page is optional
            # (the feed's text still makes an article), so it is dropped rather than failing the source.
            log.exception("unexpected error while extracting %s", page.final_url)
            return None

    def _record_success(
        self, source: Source, now: datetime, result: FetchResult, *, interval_s: int, feed: ParsedFeed | None = None
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
