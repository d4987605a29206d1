"""The use-case layer: the one API that the CLI, the web app, workers and tests call.

Nothing outside this module (and the ingest pipeline it drives) reaches storage. Methods take and return
typed records from ``newsloom.types`` and raise ``NewsloomError`` subclasses with readable messages.
Commands that need no database (``extract``, ``cluster``, ``compare``) are plain functions at the bottom.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsloom.errors import FeedParseError, FetchError, InputError, NewsloomError, NotFoundError
from newsloom.ingest.httpheaders import PAGE_ACCEPT
from newsloom.settings import Settings, load_settings
from newsloom.stories.defaults import ORIGINALITY_DAYS as ORIGINALITY_DAYS  # re-exported: web and API use it
from newsloom.types import Article, ExtractedArticle, OpmlOutline, ParsedFeed, Source, Story

# The ingest stages are imported by the methods that use them: opening a Service for `newsloom add` must not
# load trafilatura, the story engine (numpy, the embedder), the polling pipeline or, through the WebSub
# subscriber, the HTTP client (httpx, ~0.1 s; an `add` of a feed already subscribed fetches nothing).
if TYPE_CHECKING:
    from newsloom.ingest.fetch import Fetcher
    from newsloom.ingest.intake import Intake, IntakeResult
    from newsloom.ingest.local import LocalDocument
    from newsloom.ingest.pipeline import PollOutcome, PreparedItems
    from newsloom.ingest.subscriber import Delivery, MaintenanceReport
    from newsloom.ingest.websub import Verification
    from newsloom.storage.base import Storage
    from newsloom.storage.websub_base import Subscription
    from newsloom.stories.originality import OriginalityLabel, OutletShare


@dataclass
class IngestReport:
    """What ``ingest PATH...`` did, file by file."""

    stored: list[IntakeResult] = field(default_factory=list)
    unchanged: list[IntakeResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    queued: int = 0  # files handed to the task queue instead (queue mode)


@dataclass(frozen=True)
class AddResult:
    source: Source | None
    created: bool
    article: IntakeResult | None = None  # when the URL was a single article page


class Service:
    """newsloom's use cases over one database. Open it once per process.

    Its storage may be used by several threads; its intake (the in-memory story indexes) by one at a time,
    under ``intake_lock``: ``newsloom run`` polls in one thread and takes WebSub pushes in another through one
    Service, so that pushed and polled articles meet in one story engine. Polls take the lock around each of
    their write transactions, other callers around the call.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._storage: Storage | None = None
        self._intake: Intake | None = None
        # Re-entrant: a guarded call may fall back to another guarded call (a failed push batch, one by one).
        # Always taken before a database transaction is opened, never inside one, so no thread can hold the
        # database's write lock while waiting for it.
        self.intake_lock = threading.RLock()
        # Pushed deliveries reuse one event loop and fetcher: building a Fetcher loads the CA store (~80 ms,
        # profiled), several times what ingesting a pushed article costs.
        self._push_loop: asyncio.AbstractEventLoop | None = None
        self._push_fetcher: Fetcher | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @property
    def storage(self) -> Storage:
        from newsloom.storage import open_storage

        if self._storage is None:
            Path(self.settings.data_dir).mkdir(parents=True, exist_ok=True)
            self._storage = open_storage(self.settings.effective_database_url)
        return self._storage

    @property
    def intake(self) -> Intake:
        from newsloom.ingest.intake import Intake

        with self.intake_lock:  # two threads asking first must not build two engines
            if self._intake is None:
                if self.settings.queue_url:  # the single assigner of the workers owns the story indexes
                    self._intake = Intake(self.storage, self.settings, store_only=True)
                else:
                    self._intake = Intake(self.storage, self.settings, now=self.now())
                    self._intake.assign_pending(now=self.now())
            return self._intake

    def _accept(
        self,
        extracted: ExtractedArticle,
        *,
        source_id: int | None = None,
        guid: str | None = None,
        now: datetime | None = None,
    ) -> IntakeResult:
        """Store and assign in-process; in queue mode store here and leave assignment to the assigner."""
        now = now or self.now()
        if not self.settings.queue_url:
            return self.intake.accept(extracted, source_id=source_id, guid=guid, now=now)
        from newsloom.workers import require_queue_extra

        require_queue_extra()
        from newsloom.workers.queue import enqueue_assigns

        stored = self.intake.store(extracted, source_id=source_id, guid=guid, now=now)
        if stored.article is not None and stored.article.story_id is None:
            enqueue_assigns(self.settings, [stored.article.id])
        return stored

    def close(self) -> None:
        if self._push_loop is not None:
            if self._push_fetcher is not None:
                self._push_loop.run_until_complete(self._push_fetcher.aclose())
                self._push_fetcher = None
            self._push_loop.close()
            self._push_loop = None
        if self._storage is not None:
            self._storage.close()
            self._storage = None
            self._intake = None

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def init(self) -> str:
        """Create the data directory and database (migrations run on open); returns the database URL."""
        _ = self.storage
        return self.settings.effective_database_url

    # -- sources -----------------------------------------------------------------------------------------------

    def subscribe(self, outlines: Iterable[OpmlOutline]) -> tuple[int, int]:
        """Subscribe to feeds without fetching them; returns (added, already there)."""
        added = existing = 0
        with self.storage.transaction():
            for outline in outlines:
                _, created = self.storage.add_source(
                    outline.xml_url,
                    kind="feed",
                    title=outline.title,
                    site_url=outline.html_url,
                    category=outline.category,
                    now=self.now(),
                )
                added += created
                existing += not created
        return added, existing

    def subscribe_defaults_once(self) -> int:
        """On a new install (no sources ever added), subscribe the bundled default list; returns how many."""
        from newsloom.ingest.opml import default_sources

        marker = Path(self.settings.data_dir) / ".defaults-subscribed"
        if marker.exists() or self.storage.list_sources():
            return 0
        added, _ = self.subscribe(default_sources())
        marker.write_text(self.now().isoformat())
        return added

    def add(self, url: str, *, title: str | None = None, category: str | None = None) -> AddResult:
        """Subscribe to a feed URL; a site's home page is searched for its feed; an article page is ingested."""
        existing = self.storage.find_source(url)
        if existing is not None:
            return AddResult(existing, False)
        from newsloom.ingest.discover import discover_feeds
        from newsloom.ingest.feeds import parse_feed, sniff_format
        from newsloom.ingest.fetch import fetch_sync

        result = fetch_sync(url, self.settings)
        kind = sniff_format(result.content)
        if kind in {"rss", "atom", "rdf", "jsonfeed"}:
            feed = parse_feed(result.content, url=result.final_url, content_type=result.content_type)
            source, created = self.storage.add_source(
                result.final_url,
                kind="feed",
                title=title or feed.title,
                site_url=feed.site_url,
                category=category,
                now=self.now(),
            )
            return AddResult(source, created)
        if kind != "html":
            raise InputError(f"{url}: neither a feed nor a web page (looks like {kind})")
        for candidate in discover_feeds(result.content, result.final_url)[:8]:
            try:
                found = fetch_sync(candidate, self.settings)
                feed = parse_feed(found.content, url=found.final_url, content_type=found.content_type)
            except (FetchError, FeedParseError):
                continue
            source, created = self.storage.add_source(
                found.final_url, kind="feed", title=title or feed.title, site_url=result.final_url,
                category=category, now=self.now(),
            )
            return AddResult(source, created)
        from newsloom.ingest.extract import extract_html

        page = extract_html(result.content, url=result.final_url, encoding=result.encoding)
        if not page.is_article:
            raise InputError(f"{url}: no feed found and the page is not an article ({page.not_article_reason})")
        source, _ = self.storage.add_source(
            result.final_url, kind="page", title=title or page.title, site_url=result.final_url,
            category=category, now=self.now(),
        )
        return AddResult(source, True, self._accept(page, source_id=source.id))

    def resolve_source(self, ref: str) -> Source:
        """A source by id or by URL."""
        if ref.isdigit():
            return self.storage.get_source(int(ref))
        source = self.storage.find_source(ref)
        if source is None:
            raise NotFoundError(f"no source {ref!r}")
        return source

    def remove(self, ref: str) -> Source:
        source = self.resolve_source(ref)
        self.storage.remove_source(source.id)
        return source

    def sources(self) -> list[Source]:
        return self.storage.list_sources()

    def import_opml(self, path: str | Path) -> tuple[int, int]:
        from newsloom.ingest.opml import parse_opml

        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        return self.subscribe(parse_opml(content))

    def export_opml(self) -> bytes:
        from newsloom.ingest.opml import build_opml

        return build_opml(
            OpmlOutline(xml_url=s.url, title=s.title, html_url=s.site_url, category=s.category)
            for s in self.storage.list_sources()
            if s.kind == "feed"
        )

    # -- polling and ingest ------------------------------------------------------------------------------------

    def update(
        self,
        *,
        all_sources: bool = False,
        source_ids: Sequence[int] | None = None,
        on_start: Callable[[int], None] | None = None,
        progress: Callable[[PollOutcome], None] | None = None,
    ) -> list[PollOutcome]:
        """Poll due feeds (or all of them); every failure is recorded in the source, none raises."""
        if source_ids is not None:
            sources = [self.storage.get_source(i) for i in source_ids]
        elif all_sources:
            sources = self.storage.list_sources()
        else:
            sources = self.storage.due_sources(self.now())
        sources = [s for s in sources if s.kind == "feed"]
        if not self.settings.queue_url:  # in queue mode the scheduler keeps the leases
            self.websub_maintain()
        if self.settings.queue_url:
            from newsloom.workers import require_queue_extra

            require_queue_extra()
            from newsloom.workers.queue import enqueue_update

            enqueue_update(self.settings, [s.id for s in sources])
            return []
        if on_start is not None:
            on_start(len(sources))
        if not sources:
            return []
        return asyncio.run(self._poll(sources, progress))

    async def _poll(self, sources: Sequence[Source], progress: Callable[[PollOutcome], None] | None) -> list[PollOutcome]:
        from newsloom.ingest.fetch import Fetcher
        from newsloom.ingest.pipeline import Poller

        async with Fetcher(self.settings) as fetcher:
            poller = Poller(self.storage, self.settings, self.intake, fetcher, intake_lock=self.intake_lock)
            return await poller.poll(sources, progress)

    # -- WebSub (push) ----------------------------------------------------------------------------------------

    def websub_verify(self, subscription_id: int, params: dict[str, str]) -> Verification:
        """A hub's verification of intent for callback ``subscription_id``: accept -> echo the challenge, else 404."""
        from newsloom.ingest.subscriber import Subscriber

        return Subscriber(self.storage, self.settings).verify(subscription_id, params, self.now())

    def websub_deliver(self, subscription_id: int, body: bytes, headers: dict[str, str]) -> Delivery:
        """A hub's content delivery: checked (signature, topic, size), then ingested at once like a poll's items.

        ``headers`` are lower-cased. Never raises for bad input: the ``Delivery`` carries the HTTP status.
        """
        return self.websub_deliver_many([(subscription_id, body, headers)])[0]

    def websub_deliver_many(self, deliveries: Sequence[tuple[int, bytes, dict[str, str]]]) -> list[Delivery]:
        """Several deliveries, each checked on its own, their articles stored in one transaction (a group
        commit: a busy hub's pushes share one commit and one write lock instead of taking turns for them).
        One result per delivery, in order. If storing the batch fails, each is retried alone, so one bad
        delivery cannot keep the others out."""
        from newsloom.ingest.feeds import parse_feed
        from newsloom.ingest.fetch import Fetcher
        from newsloom.ingest.pipeline import Poller
        from newsloom.ingest.subscriber import Delivery, Subscriber

        subscriber = Subscriber(self.storage, self.settings)
        results: list[Delivery] = []
        ready: list[tuple[int, Subscription, Source, ParsedFeed]] = []
        sources: dict[int, Source] = {}
        for subscription_id, body, headers in deliveries:
            check = subscriber.check_delivery(subscription_id, body, headers)
            results.append(check)
            if not check.accepted or check.subscription is None:
                continue
            sub = check.subscription
            try:
                source = sources.get(sub.source_id) or sources.setdefault(sub.source_id, self.storage.get_source(sub.source_id))
                feed = parse_feed(body, url=sub.topic_url, content_type=headers.get("content-type"))
            except (NotFoundError, FeedParseError) as exc:
                results[-1] = subscriber.refused(Delivery(400, f"unusable delivery: {exc}", subscription=sub), subscription_id)
                continue
            ready.append((len(results) - 1, sub, source, feed))
        if not ready:
            return results
        if self._push_loop is None:
            self._push_loop = asyncio.new_event_loop()
        stored: list[Article] = []

        def store(extracted: ExtractedArticle, *, source_id: int | None, guid: str | None, now: datetime) -> IntakeResult:
            result = self.intake.store(extracted, source_id=source_id, guid=guid, now=now)
            if result.created and result.article is not None and result.article.story_id is None:
                stored.append(result.article)
            return result

        if self._push_fetcher is None:
            self._push_fetcher = Fetcher(self.settings)
        poller = Poller(self.storage, self.settings, self.intake, self._push_fetcher, accept=store)

        async def prepare() -> list[PreparedItems]:
            return await asyncio.gather(*(poller.prepare_pushed(source, feed) for _, _, source, feed in ready))

        prepared = self._push_loop.run_until_complete(prepare())
        try:
            with self.storage.transaction():
                outcomes = [poller.accept_prepared(p) for p in prepared]
                # Stories for the whole batch at once: assign_many saves each touched story once, not once
                # per article (in queue mode the assigner does it, in batches too).
                if self.settings.queue_url:
                    from newsloom.workers.queue import enqueue_assigns

                    enqueue_assigns(self.settings, [a.id for a in stored])
                elif stored:
                    self.intake.assign_many(stored, now=self.now())
                for subscription_id, count in Counter(sub.id for _, sub, _, _ in ready).items():
                    subscriber.store.record_delivery(subscription_id, now=self.now(), count=count)
        except NewsloomError:
            if len(deliveries) == 1:
                raise
            return [self.websub_deliver(*delivery) for delivery in deliveries]
        for (position, sub, _, _), outcome in zip(ready, outcomes, strict=True):
            results[position] = Delivery(200, items=outcome.items, new_articles=outcome.new_articles, subscription=sub)
        return results

    def websub_maintain(self, now: datetime | None = None) -> MaintenanceReport:
        """Renew WebSub leases about to end, and send feeds whose lease lapsed or whose hub failed back to polling."""
        from newsloom.ingest.subscriber import maintain_subscriptions

        return asyncio.run(maintain_subscriptions(self.storage, self.settings, now or self.now()))

    def ingest_paths(
        self, paths: Sequence[str], *, progress: Callable[[LocalDocument], None] | None = None
    ) -> IngestReport:
        """Store the articles of local files and folders; bad files are reported, never fatal.

        In queue mode the files are only checked to exist and enqueued (``IngestReport.queued``).
        """
        from newsloom.ingest.intake import IntakeResult, file_url
        from newsloom.ingest.local import expand_paths, read_documents

        report = IngestReport()
        if self.settings.queue_url:
            from newsloom.workers import require_queue_extra

            require_queue_extra()
            from newsloom.workers.queue import enqueue_paths

            report.queued = enqueue_paths(self.settings, [str(p) for p in expand_paths(paths)])
            return report
        files = expand_paths(paths)
        known = self.storage.known_urls(file_url(str(p)) for p in files)
        for doc in read_documents(files, stored=lambda p: file_url(str(p)) in known):
            if progress is not None:
                progress(doc)
            if doc.already_stored:
                article = self.storage.find_article(canonical_url=file_url(str(doc.path)))
                report.unchanged.append(IntakeResult(article, False, story_id=article.story_id if article else None))
                continue
            if doc.article is None:
                report.skipped.append((str(doc.path), doc.error or "no article"))
                continue
            result = self.intake.accept(doc.article, now=self.now())
            if result.skipped_reason:
                report.skipped.append((str(doc.path), result.skipped_reason))
            elif result.created:
                report.stored.append(result)
            else:
                report.unchanged.append(result)
        return report

    def count_files(self, paths: Sequence[str]) -> int:
        from newsloom.ingest.local import expand_paths

        return len(expand_paths(paths))

    def ingest_url(self, url: str) -> IntakeResult:
        """Fetch one article page and store it (no subscription)."""
        from newsloom.ingest.extract import extract_html
        from newsloom.ingest.fetch import fetch_sync

        result = fetch_sync(url, self.settings, accept=PAGE_ACCEPT, robots=self.settings.respect_robots)
        page = extract_html(result.content, url=result.final_url, encoding=result.encoding)
        return self._accept(page)

    # -- reading -----------------------------------------------------------------------------------------------

    def articles(
        self, *, source: str | None = None, since: datetime | None = None, limit: int = 50, offset: int = 0
    ) -> list[Article]:
        source_id = self.resolve_source(source).id if source else None
        return self.storage.list_articles(source_id=source_id, since=since, limit=limit, offset=offset)

    def article(self, article_id: int) -> Article:
        return self.storage.get_article(article_id)

    def article_sources(self, article_id: int) -> list[Source]:
        return self.storage.article_sources(article_id)

    def stories(self, *, limit: int = 50, offset: int = 0, since: datetime | None = None) -> list[Story]:
        return self.storage.list_stories(since=since, limit=limit, offset=offset)

    def story(self, story_id: str) -> Story:
        return self.storage.get_story(story_id)

    def story_articles(self, story_id: str, *, limit: int = 500) -> list[Article]:
        story = self.storage.get_story(story_id)
        return self.storage.list_articles(story_id=story.id, limit=limit)

    def originality(self, *, days: float = ORIGINALITY_DAYS, now: datetime | None = None) -> dict[int, OutletShare]:
        """Per source id: how much of what it delivered in the last ``days`` days was its own, wire copy, rewritten."""
        if not days > 0:
            raise InputError(f"days must be a positive number, not {days}")
        since = (now or self.now()) - timedelta(days=days)
        names = {s.id: s.title or s.url for s in self.storage.list_sources()}
        rows = self.storage.originality_by_source(since=since)
        from newsloom.stories.originality import outlet_share

        return {sid: outlet_share(names.get(sid, f"source {sid}"), found) for sid, found in rows.items()}

    def originality_labels(self, article_ids: Iterable[int]) -> dict[int, OriginalityLabel]:
        return self.storage.get_originality(article_ids)


# -- commands that need no database -------------------------------------------------------------------------------


def extract_target(target: str, settings: Settings) -> Iterator[dict[str, Any]]:
    """``newsloom extract``: one JSON object per file or URL (a folder gives one per file, with its path)."""
    from newsloom.ingest.extract import article_to_json, extract_html
    from newsloom.ingest.fetch import fetch_sync
    from newsloom.ingest.local import read_documents

    if target.startswith(("http://", "https://")):
        result = fetch_sync(target, settings, accept=PAGE_ACCEPT)
        page = extract_html(result.content, url=result.final_url, encoding=result.encoding)
        yield article_to_json(page)
        return
    for doc in read_documents([target]):
        if doc.article is not None:
            data = article_to_json(doc.article)
            data["path"] = str(doc.path)
            yield data
        else:
            yield {"path": str(doc.path), "error": doc.error, "is_article": False}


def _record_problem(record: object) -> str:
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    if "id" not in record:
        return "no 'id'"
    if record.get("text") is None:
        return f"record {record['id']!r} has no text"
    return f"record {record['id']!r}: 'text' is a {type(record['text']).__name__}, not a string"


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """JSON Lines records; a bad line is an InputError naming the line."""
    records: list[dict[str, Any]] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or "id" not in record or not isinstance(record.get("text"), str):
            raise InputError(f"{path}:{number}: {_record_problem(record)}; each line needs an object with 'id' and 'text'")
        records.append(record)
    return records


def load_compare_inputs(targets: Sequence[str], settings: Settings) -> list[ExtractedArticle]:
    """Extract each file, folder or URL given to ``newsloom compare``."""
    from newsloom.ingest.extract import extract_html
    from newsloom.ingest.fetch import fetch_sync
    from newsloom.ingest.local import read_documents

    articles: list[ExtractedArticle] = []
    for target in targets:
        if target.startswith(("http://", "https://")):
            result = fetch_sync(target, settings, accept=PAGE_ACCEPT)
            articles.append(extract_html(result.content, url=result.final_url, encoding=result.encoding))
            continue
        for doc in read_documents([target]):
            if doc.article is None:
                raise InputError(f"{doc.path}: {doc.error}")
            articles.append(doc.article)
    if len(articles) < 1:
        raise InputError("compare needs at least one article")
    return articles


def compare_inputs(articles: Sequence[ExtractedArticle | Article]) -> list[Any]:
    """Extracted or stored articles as the comparison's inputs (syndicated copies point at their original)."""
    from newsloom.stories.compare import CompareInput

    inputs: list[CompareInput] = []
    index_of: dict[int, int] = {}
    for position, a in enumerate(articles):
        if isinstance(a, Article):
            original = index_of.get(a.original_id) if a.original_id is not None else None
            index_of[a.id] = position
            inputs.append(
                CompareInput(
                    text=a.text, title=a.title, publisher=a.publisher, url=a.url, published=a.published_at,
                    captions=a.captions, original_index=original,
                )
            )
        else:
            inputs.append(
                CompareInput(
                    text=a.text, title=a.title, publisher=a.publisher, url=a.url, path=a.path,
                    published=a.published, captions=a.captions, headings=a.headings,
                )
            )
    return inputs


__all__ = [
    "AddResult",
    "IngestReport",
    "NewsloomError",
    "Service",
    "extract_target",
    "load_compare_inputs",
    "read_jsonl",
]
