"""The work of the fetch-side tasks: poll a source, fetch and extract a page, read a local file, store.

Each stage is safe to run twice and to die halfway (at-least-once delivery):

* storing is idempotent (``add_article`` on the canonical URL / content hash);
* whatever is stored without a story gets an assign task, whether it was stored now or by an earlier,
  interrupted run of the same task: the test is "has no story", never "was just created";
* a source's fetch state (ETag, next poll) is written only after its items were stored, so a poll that died
  midway is redone in full, and the items it had stored are only linked again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from newsloom.errors import InputError, NewsloomError, NotFoundError
from newsloom.ingest.extract import extract_file, extract_html, recurring_lines
from newsloom.ingest.feeds import carries_full_text
from newsloom.ingest.httpheaders import PAGE_ACCEPT
from newsloom.ingest.items import item_to_article, merge_page_with_item
from newsloom.ingest.local import PAGE_SUFFIXES, TEXT_SUFFIXES, read_documents
from newsloom.ingest.pipeline import Poller, PollOutcome
from newsloom.ingest.urls import canonical_url
from newsloom.notify.deliver import DeliveryReport, deliver_due
from newsloom.storage.notify_store import SqlNotifyStore
from newsloom.types import ExtractedArticle, FeedItem, ParsedFeed, Source
from newsloom.workers.context import WorkerContext
from newsloom.workers.payload import JsonDict, feed_from_json, feed_to_json, item_from_json, item_to_json

log = logging.getLogger(__name__)


def store_and_route(
    ctx: WorkerContext, extracted: ExtractedArticle, *, source_id: int | None, guid: str | None, now: datetime
) -> bool:
    """Store one article and queue its assignment if it has no story yet; True when it was new."""
    result = ctx.intake.store(extracted, source_id=source_id, guid=guid, now=now)
    if result.article is not None and result.article.story_id is None:
        ctx.producer.enqueue_assign(result.article.id)
    return result.created


class QueuePoller(Poller):
    """The pipeline's poller with one change: items are stored here and page fetches become tasks."""

    def __init__(self, ctx: WorkerContext) -> None:
        super().__init__(ctx.storage, ctx.settings, ctx.intake, ctx.fetcher)
        self.ctx = ctx

    async def _ingest_items(self, source: Source, feed: ParsedFeed, outcome: PollOutcome, now: datetime) -> None:
        feed_json: JsonDict | None = None
        for item in feed.items:
            canonical = None
            if item.url:
                try:
                    canonical = canonical_url(item.url)
                except InputError:
                    outcome.skipped.append(f"{item.title or item.guid or '?'}: unusable link {item.url[:80]!r}")
                    continue
                existing = self.storage.find_article(canonical_url=canonical)
                if existing is not None:
                    self.storage.link_source(existing.id, source.id, guid=item.guid, now=now)
                    if existing.story_id is None:  # stored by a run that died before queueing its assignment
                        self.ctx.producer.enqueue_assign(existing.id)
                    continue
            if self.settings.fetch_article_pages and item.url and not carries_full_text(item):
                feed_json = feed_json or feed_to_json(feed)
                self.ctx.producer.enqueue_page(source.id, item_to_json(item), feed_json)
                continue
            extracted = feed_item_article(item, feed, None)
            if extracted is None:
                outcome.skipped.append(f"{item.title or item.guid or '?'}: item has no link")
                continue
            if store_and_route(self.ctx, extracted, source_id=source.id, guid=item.guid, now=now):
                outcome.new_articles += 1


def feed_item_article(item: FeedItem, feed: ParsedFeed, page: ExtractedArticle | None) -> ExtractedArticle | None:
    """The article of a feed item (its page's text when fetched), or None when it has no address."""
    extracted = merge_page_with_item(page, item, feed) if page is not None else item_to_article(item, feed)
    if not extracted.url and not extracted.text.strip():
        return None
    if extracted.url is None:  # feeds without item links: the guid identifies the item when it is a URL
        extracted = replace(extracted, url=item.guid if (item.guid or "").startswith("http") else None)
    return extracted if extracted.url is not None else None


def poll_source(ctx: WorkerContext, source_id: int) -> PollOutcome | None:
    """Poll one source (None when it was removed meanwhile). Failures are recorded in the source."""
    try:
        source = ctx.storage.get_source(source_id)
    except NotFoundError:
        return None
    outcomes = ctx.run(QueuePoller(ctx).poll([source]))
    return outcomes[0]


def fetch_article(ctx: WorkerContext, source_id: int, item_json: JsonDict, feed_json: JsonDict) -> bool:
    """Fetch and extract one feed item's page and store it; the feed's teaser is kept when the page fails."""
    item, feed = item_from_json(item_json), feed_from_json(feed_json)
    now = datetime.now(UTC)
    if item.url:
        existing = ctx.storage.find_article(canonical_url=canonical_url(item.url))
        if existing is not None:  # stored by an earlier delivery of this task
            ctx.storage.link_source(existing.id, source_id, guid=item.guid, now=now)
            if existing.story_id is None:
                ctx.producer.enqueue_assign(existing.id)
            return False
    page: ExtractedArticle | None = None
    if item.url:
        try:
            result = ctx.run(ctx.fetcher.fetch(item.url, accept=PAGE_ACCEPT, robots=ctx.settings.respect_robots))
            page = extract_html(result.content, url=result.final_url, encoding=result.encoding)
        except NewsloomError as exc:
            log.info("page %s: %s; keeping the feed's text", item.url, exc)
    extracted = feed_item_article(item, feed, page)
    if extracted is None:
        return False
    try:
        return store_and_route(ctx, extracted, source_id=source_id, guid=item.guid, now=now)
    except NotFoundError:
        return False  # the source was removed meanwhile


@lru_cache(maxsize=64)
def _site_lines(folder: str, listing_key: tuple[tuple[str, int], ...]) -> frozenset[str]:
    """Lines that recur across the .txt files of one folder (site chrome), cached per folder listing."""
    texts = []
    for name, _size in listing_key:
        try:
            texts.append((Path(folder) / name).read_bytes().decode("utf-8", errors="replace"))
        except OSError:
            continue
    return recurring_lines(texts)


def _folder_listing(folder: Path) -> tuple[tuple[str, int], ...]:
    return tuple(
        sorted(
            (child.name, child.stat().st_size)
            for child in folder.iterdir()
            if child.is_file() and child.suffix.lower() in TEXT_SUFFIXES and not child.name.startswith(".")
        )
    )


def ingest_file(ctx: WorkerContext, path: str) -> int:
    """Store the articles of one local file; returns how many were new. A bad file is logged and skipped.

    A .txt file's site chrome is recognised by what recurs across the .txt files of its folder, as in
    ``ingest`` in-process.
    """
    file = Path(path)
    now = datetime.now(UTC)
    try:
        if file.suffix.lower() in TEXT_SUFFIXES:
            lines = _site_lines(str(file.parent), _folder_listing(file.parent))
            articles = [extract_file(file, site_lines=lines)]
        elif file.suffix.lower() in PAGE_SUFFIXES:
            articles = [extract_file(file)]
        else:
            articles = []
            for doc in read_documents([file]):
                if doc.article is None:
                    log.warning("%s: %s", path, doc.error)
                else:
                    articles.append(doc.article)
    except (OSError, NewsloomError) as exc:
        log.warning("%s: skipped (%s)", path, exc)
        return 0
    return sum(store_and_route(ctx, article, source_id=None, guid=None, now=now) for article in articles)


def deliver_notifications(ctx: WorkerContext) -> DeliveryReport:
    """Queue mode's delivery of the notification outbox (see notify/deliver.py)."""
    return deliver_due(SqlNotifyStore.for_storage(ctx.storage), ctx.settings, now=lambda: datetime.now(UTC))


def send_digests(ctx: WorkerContext) -> DeliveryReport:
    """Queue mode's e-mail digests: each is claimed in the database first, so racing workers send it once."""
    return ctx.notes.send_due_digests()


def build_story_pages(ctx: WorkerContext, story_ids: list[str]) -> int:
    """Build and store the pages of the given stories from what is stored now; returns how many were built.

    Safe to run twice or at once in two workers: each build stores the page of the story version it read, and
    a page older than its story is rebuilt on its next view.
    """
    from newsloom.storage.accounts_store import SqlAccountStore
    from newsloom.story_pages import refresh_story_pages

    return refresh_story_pages(ctx.storage, SqlAccountStore.for_storage(ctx.storage), story_ids, now=datetime.now(UTC))
