"""The Storage Protocol: what every storage engine promises the rest of newsloom.

Contract (holds for every method unless its docstring says otherwise):

Thread safety
    One ``Storage`` may be shared by all threads of a process. Each call takes a pooled connection for its
    own duration, so calls from different threads run concurrently (on SQLite, writers take turns; readers
    never wait thanks to WAL). ``transaction()`` is per thread: it binds a connection to the calling thread,
    and the calls that thread makes inside it join that transaction. An in-memory SQLite database
    (``sqlite://``) shares one connection and is meant for single-threaded use.

Time
    Every datetime given to or returned by storage is aware and in UTC. Aware datetimes in other zones are
    converted; naive datetimes are refused (``StorageError``), because guessing their zone shifts times.
    Storage never reads the clock: methods that stamp a time take ``now``.

Transactions
    Each call is atomic on its own. ``with storage.transaction():`` groups calls into one transaction that
    commits when the block ends and rolls back if it raises (any exception, which then propagates).
    Nested ``transaction()`` blocks join the outermost one. Let errors raised inside a block propagate out
    of it: after a database error PostgreSQL refuses further statements in that transaction. On SQLite a
    block holds the write lock from its start (``BEGIN IMMEDIATE``); keep blocks short.

Errors
    ``NotFoundError`` for an id that does not exist (a source, article or story); ``StorageError`` for
    everything the database or driver raises (connection refused, disk full, constraint violated, storage
    closed), with the driver's exception as ``__cause__``. Nothing else escapes but programming errors
    (``TypeError`` for an unknown field name).

Idempotence
    Adding what is already stored changes nothing and reports ``created=False``: ``add_source`` on the URL,
    ``add_article`` on the canonical URL or the content hash (then only the new source's link is added).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from newsloom.stories.originality import OriginalityKind, OriginalityLabel
from newsloom.types import Article, NewArticle, Source, Story


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A story's page data as ``newsloom.story_pages`` built it for ``story_version`` of the story."""

    story_version: int
    payload: str  # JSON, owned by newsloom.story_pages
    built_at: datetime


@dataclass(frozen=True, slots=True)
class StoryWithPage:
    """A story, its current version, and its stored page (None when never built)."""

    story: Story
    version: int
    page: StoredPage | None

    @property
    def fresh(self) -> bool:
        """True when the stored page was built from this very version of the story."""
        return self.page is not None and self.page.story_version == self.version


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: what a result list shows, without the article's full text and HTML."""

    id: int
    title: str | None
    url: str | None
    publisher: str | None
    published_at: datetime | None
    fetched_at: datetime | None
    dated_at: datetime
    story_id: str | None
    original_id: int | None
    snippet: str
    source_ids: tuple[int, ...] = ()


class Storage(Protocol):
    """Sources and their fetch state, articles, stories and full-text search. See the module docstring."""

    def close(self) -> None:
        """Release every connection. Later calls raise ``StorageError``; closing twice is harmless."""

    def transaction(self) -> AbstractContextManager[None]:
        """Group the calls made by this thread inside the block into one transaction (nested blocks join it)."""

    # -- sources ---------------------------------------------------------------------------------------------

    def add_source(
        self,
        url: str,
        *,
        kind: str = "feed",
        title: str | None = None,
        site_url: str | None = None,
        category: str | None = None,
        now: datetime,
    ) -> tuple[Source, bool]:
        """Subscribe to ``url``; ``(source, created)``. An existing URL is returned unchanged with False."""

    def get_source(self, source_id: int) -> Source:
        """The source with this id; ``NotFoundError`` when there is none."""

    def find_source(self, url: str) -> Source | None:
        """The source subscribed at exactly this URL, or None."""

    def list_sources(self) -> list[Source]:
        """Every source, oldest first (by id)."""

    def remove_source(self, source_id: int) -> None:
        """Unsubscribe. Its articles stay; their link to this source goes. ``NotFoundError`` if unknown."""

    def update_source(self, source_id: int, **changes: object) -> Source:
        """Change any ``Source`` field but ``id`` (fetch state, title ...); returns the updated source.

        ``TypeError`` for an unknown field or ``id``; ``NotFoundError`` for an unknown source; changing the URL
        to one another source has raises ``StorageError``.
        """

    def due_sources(self, now: datetime, *, limit: int | None = None) -> list[Source]:
        """Sources to poll: ``next_poll_at`` unset or not after ``now``; never-polled first, then most overdue."""

    # -- articles --------------------------------------------------------------------------------------------

    def add_article(
        self, article: NewArticle, *, source_id: int | None = None, guid: str | None = None, now: datetime
    ) -> tuple[Article, bool]:
        """Store an article delivered by ``source_id`` (item ``guid``); ``(article, created)``.

        An article with the same canonical URL, or else the same content hash, is already stored: nothing of
        it changes, only the link to ``source_id`` is added (if new), and it is returned with False.
        ``NotFoundError`` if ``source_id`` does not exist.
        """

    def link_source(self, article_id: int, source_id: int, *, guid: str | None = None, now: datetime) -> bool:
        """Record that ``source_id`` delivered the stored article too; True if that link is new.

        For items whose canonical URL is already known, so the page is not fetched again. ``NotFoundError``
        if the article or the source is missing.
        """

    def get_article(self, article_id: int) -> Article:
        """The article with this id, with ``source_ids`` and ``story_id``; ``NotFoundError`` when missing."""

    def find_article(self, *, canonical_url: str | None = None, content_hash: str | None = None) -> Article | None:
        """The article with this canonical URL, else with this content hash (oldest first), or None.

        ``TypeError`` when neither is given.
        """

    def known_urls(self, canonical_urls: Iterable[str]) -> set[str]:
        """Which of these canonical URLs are stored (lets the pipeline skip fetching pages again)."""

    def set_original(self, article_id: int, original_id: int | None) -> None:
        """Mark ``article_id`` as a syndicated copy of ``original_id`` (None: an original again).

        ``NotFoundError`` if either article is missing; ``InputError`` if they are the same article.
        """

    def set_story(self, article_ids: Iterable[int], story_id: str) -> None:
        """Assign the articles to ``story_id`` (the story row itself is saved with ``save_story``).

        ``NotFoundError`` if any article is missing; then none is changed.
        """

    def list_articles(
        self,
        *,
        source_id: int | None = None,
        since: datetime | None = None,
        story_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Article]:
        """Articles newest first, optionally only those from one source, dated at or after ``since``, or in one story.

        An article's date is its publication time, else its fetch time, else when it was stored; never later
        than when it was stored (feeds with clocks in the future do not pin items to the top).
        """

    def iter_articles_since(self, since: datetime) -> Iterator[Article]:
        """Every article dated at or after ``since``, in arrival (id) order, for rebuilding in-memory indexes.

        Arrival order, not date order: the story engine's state depends on the order it saw articles in, so a
        rebuild must replay them as they came.

        Reads in batches, each its own short transaction, so a long iteration never blocks writers.
        """

    def count_articles(self) -> int:
        """How many articles are stored."""

    def latest_article_id(self) -> int:
        """The highest article id (0 when there is none): it changes whenever an article is stored.

        One look-up at the end of the primary key, however many articles there are: caches of results that
        new articles could change (searches) use it as part of their key.
        """

    def unassigned_article_ids(self, limit: int) -> list[int]:
        """Ids of up to ``limit`` articles stored without a story, lowest (earliest stored) first.

        For the queue assigner's catch-up and the scheduler's sweep: an indexed lookup, however many articles
        the story window holds.
        """

    def article_sources(self, article_id: int) -> list[Source]:
        """The sources that delivered this article, first delivery first; ``NotFoundError`` when missing."""

    # -- stories ---------------------------------------------------------------------------------------------

    def save_story(self, story: Story, *, now: datetime) -> None:
        """Insert or replace the story row (``updated_at`` becomes ``now``). Articles are assigned with ``set_story``."""

    def get_story(self, story_id: str) -> Story:
        """The story, following redirects left by merges; ``NotFoundError`` when neither exists."""

    def merge_stories(self, old_id: str, into_id: str) -> None:
        """Move ``old_id``'s articles into ``into_id``, redirect ``old_id`` (and ids that led to it) there, delete it.

        ``into_id`` need not be saved yet: the caller saves it with its new counts right after, with
        ``save_story``. ``NotFoundError`` if ``old_id`` is missing; merging a story into itself does nothing.
        """

    def list_stories(self, *, since: datetime | None = None, limit: int = 50, offset: int = 0) -> list[Story]:
        """Stories most recently seen first, optionally only those last seen at or after ``since``."""

    def count_stories(self) -> int:
        """How many stories are stored (redirects not counted)."""

    # -- story pages -----------------------------------------------------------------------------------------

    def story_with_page(self, story_id: str, *, with_payload: bool = True) -> StoryWithPage:
        """The story (following redirects, as ``get_story``), its version and its stored page, in one read.

        ``with_payload=False`` leaves the page's ``payload`` empty (a cheaper read, for callers that hold the
        page already and only check its version and ``built_at``).

        The version changes with every write that changes what the story's page shows: ``save_story``,
        ``set_story`` (for the story and the stories the articles left), ``set_original``, a new source link
        (``add_article`` of a known article, ``link_source``), ``merge_stories`` and ``touch_story``.
        ``NotFoundError`` as ``get_story``.
        """

    def save_story_page(self, story_id: str, story_version: int, payload: str, *, now: datetime) -> datetime:
        """Store the page built from ``story_version``; returns its ``built_at``.

        ``built_at`` is ``now`` rounded up to a whole second, and always at least one second after the story's
        previous page: it only increases, so an HTTP ``Last-Modified`` taken from it changes with each page.
        """

    def touch_story(self, story_id: str) -> None:
        """Bump the story's version (something its page shows changed elsewhere: an editor pick). Unknown: no-op."""

    # -- search ----------------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        source_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[Article]:
        """Full-text search of titles and text, best match first; dated in [``since``, ``until``) if given.

        The query is web-search style (words, ``"phrases"``, ``OR``, ``-word``). No query ever raises a syntax
        error: one with nothing searchable in it (empty, only punctuation) returns no articles.
        """

    def search_hits(
        self,
        query: str,
        *,
        source_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[SearchHit]:
        """``search``, as result-list records with the stored snippet instead of whole articles (same order)."""
    # -- originality -----------------------------------------------------------------------------------------

    def set_originality(self, labels: Mapping[int, OriginalityLabel]) -> None:
        """Store each article's originality label (replacing an earlier one), all at once.

        ``NotFoundError`` if any article is missing; then none is stored. ``ValueError`` for an unknown kind.
        """

    def get_originality(self, article_ids: Iterable[int]) -> dict[int, OriginalityLabel]:
        """The labels of those of these articles that have one (unknown ids are left out)."""

    def originality_by_source(
        self, *, since: datetime, until: datetime | None = None
    ) -> dict[int, list[tuple[OriginalityKind, str | None, int]]]:
        """Per source id, ``(kind, wire, count)`` of the labelled articles it delivered dated in [since, until).

        An article delivered by two sources counts for each. Sources with no labelled article are left out.
        """
