"""The Storage implementation for SQLite and PostgreSQL: one code path, SQLAlchemy Core.

Engine differences are confined to ``engine.py`` (connection set-up), ``search.py`` (full text) and
``engine.dialect_insert`` (both dialects spell INSERT ... ON CONFLICT the same way in SQLAlchemy).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from newsloom.errors import InputError, NotFoundError, StorageError
from newsloom.storage import changes, originality_sql, search
from newsloom.storage.base import SearchHit, StoredPage, StoryWithPage
from newsloom.storage.engine import SQLITE_BEGIN_OPTION, dialect_insert, wrap_errors
from newsloom.storage.rows import (
    article_from_row,
    article_values,
    source_from_row,
    source_values,
    story_from_row,
    story_values,
    without_nul,
)
from newsloom.storage.schema import article_sources, articles, sources, stories, story_pages, story_redirects
from newsloom.stories.originality import OriginalityKind, OriginalityLabel
from newsloom.types import Article, NewArticle, Source, Story

# Ids per IN (...) list: far below SQLite's 32766 bound parameters and PostgreSQL's 65535.
IN_CHUNK = 500

# Articles per read in iter_articles_since: big enough that round trips don't dominate, small enough that a
# batch of full texts (~5 KB each) stays a few MB.
ITER_BATCH = 500

# Redirect hops get_story follows. merge_stories keeps chains flat (one hop), so more means a corrupt cycle.
MAX_REDIRECT_HOPS = 8

_ARTICLE_LISTING = (articles.c.dated_at.desc(), articles.c.id.desc())

# Statements of the ingest path, built once: building a statement costs more Python time than SQLite takes
# to run it (profiled: add_article spent half its time constructing SELECTs and INSERTs).
_ARTICLE_BY_ID = sa.select(articles).where(articles.c.id == sa.bindparam("article_id"))
_SOURCE_BY_ID = sa.select(sources).where(sources.c.id == sa.bindparam("source_id"))
_SOURCE_EXISTS = sa.select(sa.literal(1)).select_from(sources).where(sources.c.id == sa.bindparam("source_id"))
# One look-up for "same canonical URL, else same content hash (the oldest)".
_ARTICLE_BY_URL_OR_HASH = (
    sa.select(articles.c.id)
    .where(sa.or_(articles.c.canonical_url == sa.bindparam("url"), articles.c.content_hash == sa.bindparam("hash")))
    .order_by(sa.case((articles.c.canonical_url == sa.bindparam("url"), 0), else_=1), articles.c.id)
    .limit(1)
)
_BUMP_STORY_OF_ARTICLE = (
    sa.update(stories)
    .where(stories.c.id == sa.select(articles.c.story_id).where(articles.c.id == sa.bindparam("article_id")).scalar_subquery())
    .values(version=stories.c.version + 1)
)
_LATEST_ARTICLE_ID = sa.select(sa.func.coalesce(sa.func.max(articles.c.id), 0))
_STORY_WITH_PAGE = (
    sa.select(stories, story_pages.c.story_version, story_pages.c.payload, story_pages.c.built_at)
    .select_from(stories.outerjoin(story_pages, story_pages.c.story_id == stories.c.id))
    .where(stories.c.id == sa.bindparam("story_id"))
)
_STORY_WITH_PAGE_VERSION = (
    sa.select(stories, story_pages.c.story_version, sa.literal("").label("payload"), story_pages.c.built_at)
    .select_from(stories.outerjoin(story_pages, story_pages.c.story_id == stories.c.id))
    .where(stories.c.id == sa.bindparam("story_id"))
)
_HIT_COLUMNS = (
    articles.c.id, articles.c.title, articles.c.url, articles.c.publisher, articles.c.published_at,
    articles.c.fetched_at, articles.c.dated_at, articles.c.story_id, articles.c.original_id, articles.c.snippet,
)  # fmt: skip


class SqlStorage:
    """``Storage`` over a SQLAlchemy engine (SQLite or PostgreSQL). Build it with ``open_storage``."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._local = threading.local()
        self._closed = False
        self._insert_article = (
            self._insert(articles)
            .on_conflict_do_nothing(index_elements=[articles.c.canonical_url])
            .returning(*articles.c)
        )
        self._insert_link = (
            self._insert(article_sources)
            .on_conflict_do_nothing(index_elements=[article_sources.c.article_id, article_sources.c.source_id])
            .returning(article_sources.c.article_id)  # rowcount of an INSERT is -1 through psycopg 3
        )

    # -- connections and transactions ------------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True
        self._engine.dispose()

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine, for storage extensions in this package (accounts) that share its pool."""
        return self._engine

    @contextmanager
    def connection(self, action: str, *, write: bool = False) -> Iterator[sa.Connection]:
        """A connection in a transaction: the thread's open ``transaction()``, else a new one for this call.

        Driver errors inside become ``StorageError("<action> failed: ...")``. ``write=True`` takes SQLite's
        write lock up front. Storage extensions (accounts) use this to join ``transaction()`` blocks.
        """
        joined: sa.Connection | None = getattr(self._local, "connection", None)
        if joined is not None:
            with wrap_errors(action):
                yield joined
            return
        if self._closed:
            raise StorageError(f"{action} failed: storage is closed")
        try:
            with wrap_errors(action), self._engine.connect() as connection:
                if write and self._dialect == "sqlite":
                    connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
                with connection.begin():
                    yield connection
        finally:
            if write:  # after the commit: a cache that reads the count before its data sees this write
                changes.bump()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._local, "connection", None) is not None:
            yield
            return
        with self.connection("transaction", write=True) as connection:
            self._local.connection = connection
            try:
                yield
            finally:
                self._local.connection = None

    def _insert(self, table: sa.Table) -> Any:
        return dialect_insert(self._dialect, table)

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
        values = {"url": url, "kind": kind, "title": title, "site_url": site_url, "category": category}
        values = {name: without_nul(value) for name, value in values.items()}
        statement = (
            self._insert(sources)
            .values(**values, created_at=now)
            .on_conflict_do_nothing(index_elements=[sources.c.url])
            .returning(*sources.c)
        )
        with self.connection("adding a source", write=True) as connection:
            row = connection.execute(statement).mappings().first()
            if row is not None:
                return source_from_row(row), True
            existing = connection.execute(sa.select(sources).where(sources.c.url == values["url"])).mappings().one()
            return source_from_row(existing), False

    def get_source(self, source_id: int) -> Source:
        with self.connection("reading a source") as connection:
            return self._source(connection, source_id)

    def _source(self, connection: sa.Connection, source_id: int) -> Source:
        row = connection.execute(_SOURCE_BY_ID, {"source_id": source_id}).mappings().first()
        if row is None:
            raise NotFoundError(f"no source with id {source_id}")
        return source_from_row(row)

    def _require_source(self, connection: sa.Connection, source_id: int) -> None:
        """NotFoundError rather than a foreign-key failure; cheaper than reading the row (once per article)."""
        if connection.execute(_SOURCE_EXISTS, {"source_id": source_id}).first() is None:
            raise NotFoundError(f"no source with id {source_id}")

    def find_source(self, url: str) -> Source | None:
        with self.connection("finding a source") as connection:
            row = connection.execute(sa.select(sources).where(sources.c.url == url)).mappings().first()
        return None if row is None else source_from_row(row)

    def list_sources(self) -> list[Source]:
        with self.connection("listing sources") as connection:
            rows = connection.execute(sa.select(sources).order_by(sources.c.id)).mappings().all()
        return [source_from_row(row) for row in rows]

    def remove_source(self, source_id: int) -> None:
        with self.connection("removing a source", write=True) as connection:
            # article_sources rows go with it (ON DELETE CASCADE); articles stay.
            deleted = connection.execute(sa.delete(sources).where(sources.c.id == source_id)).rowcount
        if not deleted:
            raise NotFoundError(f"no source with id {source_id}")

    def update_source(self, source_id: int, **changes: object) -> Source:
        values = source_values(changes)
        with self.connection("updating a source", write=True) as connection:
            if not values:
                return self._source(connection, source_id)
            params = {f"new_{name}": value for name, value in values.items()}
            row = connection.execute(_source_update(frozenset(values)), {"source_id": source_id, **params})
            found = row.mappings().first()
            if found is None:
                raise NotFoundError(f"no source with id {source_id}")
            return source_from_row(found)

    def due_sources(self, now: datetime, *, limit: int | None = None) -> list[Source]:
        statement = (
            sa.select(sources)
            .where(sa.or_(sources.c.next_poll_at.is_(None), sources.c.next_poll_at <= now))
            .order_by(sources.c.next_poll_at.asc().nulls_first(), sources.c.id)
            .limit(limit)
        )
        with self.connection("listing due sources") as connection:
            rows = connection.execute(statement).mappings().all()
        return [source_from_row(row) for row in rows]

    # -- articles --------------------------------------------------------------------------------------------

    def add_article(
        self, article: NewArticle, *, source_id: int | None = None, guid: str | None = None, now: datetime
    ) -> tuple[Article, bool]:
        with self.connection("adding an article", write=True) as connection:
            if source_id is not None:
                self._require_source(connection, source_id)
            existing_id = self._find_article_id(connection, article.canonical_url, article.content_hash)
            if existing_id is None:
                inserted = connection.execute(self._insert_article, article_values(article, now)).mappings().first()
                if inserted is not None:
                    if source_id is not None:  # a new article is in no story yet: no story to bump
                        self._link(connection, inserted["id"], source_id, guid, now, bump_story=False)
                    return article_from_row(inserted, () if source_id is None else (source_id,)), True
                # Another writer stored the same canonical URL since the look-up.
                existing_id = self._find_article_id(connection, article.canonical_url, None)
                assert existing_id is not None
            if source_id is not None:
                self._link(connection, existing_id, source_id, guid, now)
            return self._article(connection, existing_id), False

    def _link(
        self, connection: sa.Connection, article_id: int, source_id: int, guid: str | None, now: datetime,
        *, bump_story: bool = True,
    ) -> bool:
        values = {"article_id": article_id, "source_id": source_id, "guid": without_nul(guid), "first_seen_at": now}
        created = connection.execute(self._insert_link, values).first() is not None
        if created and bump_story:  # one more outlet on the article's story page
            connection.execute(_BUMP_STORY_OF_ARTICLE, {"article_id": article_id})
        return created

    def link_source(self, article_id: int, source_id: int, *, guid: str | None = None, now: datetime) -> bool:
        with self.connection("linking an article to a source", write=True) as connection:
            self._require_articles(connection, [article_id])
            self._require_source(connection, source_id)
            return self._link(connection, article_id, source_id, guid, now)

    def _find_article_id(
        self, connection: sa.Connection, canonical_url: str | None, content_hash: str | None
    ) -> int | None:
        found = connection.execute(_ARTICLE_BY_URL_OR_HASH, {"url": canonical_url, "hash": content_hash}).scalar()
        return None if found is None else int(found)

    def _article(self, connection: sa.Connection, article_id: int) -> Article:
        found = self._records(connection, connection.execute(_ARTICLE_BY_ID, {"article_id": article_id}).mappings().all())
        if not found:
            raise NotFoundError(f"no article with id {article_id}")
        return found[0]

    def _articles(self, connection: sa.Connection, statement: sa.Select[Any]) -> list[Article]:
        """Run a SELECT of article rows and build the records."""
        return self._records(connection, connection.execute(statement).mappings().all())

    def _records(self, connection: sa.Connection, rows: Sequence[sa.RowMapping]) -> list[Article]:
        """Article records for these rows, with the ids of their sources fetched in one more query."""
        links = self._source_ids(connection, [row["id"] for row in rows])
        return [article_from_row(row, tuple(links[row["id"]])) for row in rows]

    def _source_ids(self, connection: sa.Connection, article_ids: Sequence[int]) -> dict[int, list[int]]:
        """The ids of the sources of each article, first delivery first."""
        links: dict[int, list[int]] = {article_id: [] for article_id in article_ids}
        for chunk in _chunks(list(links), IN_CHUNK):
            link_rows = connection.execute(
                sa.select(article_sources.c.article_id, article_sources.c.source_id)
                .where(article_sources.c.article_id.in_(chunk))
                .order_by(article_sources.c.first_seen_at, article_sources.c.source_id)
            )
            for article_id, source_id in link_rows:
                links[article_id].append(source_id)
        return links

    def get_article(self, article_id: int) -> Article:
        with self.connection("reading an article") as connection:
            return self._article(connection, article_id)

    def find_article(self, *, canonical_url: str | None = None, content_hash: str | None = None) -> Article | None:
        if canonical_url is None and content_hash is None:
            raise TypeError("find_article needs canonical_url or content_hash")
        with self.connection("finding an article") as connection:
            found = self._find_article_id(connection, canonical_url, content_hash)
            return None if found is None else self._article(connection, found)

    def known_urls(self, canonical_urls: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(canonical_urls))
        known: set[str] = set()
        with self.connection("checking known URLs") as connection:
            for chunk in _chunks(wanted, IN_CHUNK):
                statement = sa.select(articles.c.canonical_url).where(articles.c.canonical_url.in_(chunk))
                known.update(connection.execute(statement).scalars())
        return known

    def set_original(self, article_id: int, original_id: int | None) -> None:
        if original_id == article_id:
            raise InputError(f"article {article_id} cannot be a copy of itself")
        with self.connection("marking a syndicated copy", write=True) as connection:
            if original_id is not None:
                self._require_articles(connection, [original_id])
            statement = sa.update(articles).where(articles.c.id == article_id).values(original_id=original_id)
            if not connection.execute(statement).rowcount:
                raise NotFoundError(f"no article with id {article_id}")
            connection.execute(_BUMP_STORY_OF_ARTICLE, {"article_id": article_id})

    def _require_articles(self, connection: sa.Connection, article_ids: Sequence[int]) -> None:
        found: set[int] = set()
        for chunk in _chunks(article_ids, IN_CHUNK):
            found.update(connection.execute(sa.select(articles.c.id).where(articles.c.id.in_(chunk))).scalars())
        missing = sorted(set(article_ids) - found)
        if missing:
            raise NotFoundError(f"no article with id {', '.join(map(str, missing))}")

    def set_story(self, article_ids: Iterable[int], story_id: str) -> None:
        wanted = list(dict.fromkeys(article_ids))
        with self.connection("assigning articles to a story", write=True) as connection:
            self._require_articles(connection, wanted)
            for chunk in _chunks(wanted, IN_CHUNK):
                left = sa.select(articles.c.story_id).where(articles.c.id.in_(chunk), articles.c.story_id.is_not(None))
                bump = sa.update(stories).where(sa.or_(stories.c.id == story_id, stories.c.id.in_(left)))
                connection.execute(bump.values(version=stories.c.version + 1))
                connection.execute(sa.update(articles).where(articles.c.id.in_(chunk)).values(story_id=story_id))

    def list_articles(
        self,
        *,
        source_id: int | None = None,
        since: datetime | None = None,
        story_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Article]:
        statement = sa.select(articles).order_by(*_ARTICLE_LISTING).limit(limit).offset(offset)
        statement = _filtered(statement, source_id=source_id, since=since)
        if story_id is not None:
            statement = statement.where(articles.c.story_id == story_id)
        with self.connection("listing articles") as connection:
            return self._articles(connection, statement)

    def iter_articles_since(self, since: datetime) -> Iterator[Article]:
        # Keyset pagination on id (arrival order, which is what rebuilt indexes must replay): each batch is a
        # short transaction, and rows added meanwhile are still reached.
        after = 0
        while True:
            statement = (
                sa.select(articles)
                .where(articles.c.dated_at >= since, articles.c.id > after)
                .order_by(articles.c.id)
                .limit(ITER_BATCH)
            )
            with self.connection("reading articles") as connection:
                rows = connection.execute(statement).mappings().all()
                batch = self._records(connection, rows)
            yield from batch
            if len(rows) < ITER_BATCH:
                return
            after = rows[-1]["id"]

    def count_articles(self) -> int:
        with self.connection("counting articles") as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(articles)).scalar_one())

    def latest_article_id(self) -> int:
        with self.connection("reading the newest article id") as connection:
            return int(connection.execute(_LATEST_ARTICLE_ID).scalar_one())

    def unassigned_article_ids(self, limit: int) -> list[int]:
        # story_id is indexed (NULLs included in both engines' B-trees), so this reads only the unassigned rows.
        statement = sa.select(articles.c.id).where(articles.c.story_id.is_(None)).order_by(articles.c.id).limit(limit)
        with self.connection("listing unassigned articles") as connection:
            return [int(article_id) for article_id in connection.execute(statement).scalars()]

    def article_sources(self, article_id: int) -> list[Source]:
        statement = (
            sa.select(sources)
            .join(article_sources, article_sources.c.source_id == sources.c.id)
            .where(article_sources.c.article_id == article_id)
            .order_by(article_sources.c.first_seen_at, sources.c.id)
        )
        with self.connection("reading an article's sources") as connection:
            self._require_articles(connection, [article_id])
            rows = connection.execute(statement).mappings().all()
        return [source_from_row(row) for row in rows]

    # -- stories ---------------------------------------------------------------------------------------------

    def save_story(self, story: Story, *, now: datetime) -> None:
        values = story_values(story, now)
        statement = self._insert(stories).values(**values)
        changes: dict[str, Any] = {name: value for name, value in values.items() if name != "id"}
        changes["version"] = stories.c.version + 1
        statement = statement.on_conflict_do_update(index_elements=[stories.c.id], set_=changes)
        with self.connection("saving a story", write=True) as connection:
            connection.execute(statement)

    def get_story(self, story_id: str) -> Story:
        with self.connection("reading a story") as connection:
            wanted = story_id
            for _ in range(MAX_REDIRECT_HOPS):
                row = connection.execute(sa.select(stories).where(stories.c.id == wanted)).mappings().first()
                if row is not None:
                    return story_from_row(row)
                target = connection.execute(
                    sa.select(story_redirects.c.new_id).where(story_redirects.c.old_id == wanted)
                ).scalar()
                if target is None:
                    break
                wanted = target
        raise NotFoundError(f"no story with id {story_id}")

    def merge_stories(self, old_id: str, into_id: str) -> None:
        if old_id == into_id:
            return
        with self.connection("merging stories", write=True) as connection:
            if connection.execute(sa.select(stories.c.id).where(stories.c.id == old_id)).first() is None:
                raise NotFoundError(f"no story with id {old_id}")
            connection.execute(sa.update(articles).where(articles.c.story_id == old_id).values(story_id=into_id))
            # Keep redirect chains one hop long: ids that led to old_id now lead straight to into_id.
            connection.execute(
                sa.update(story_redirects).where(story_redirects.c.new_id == old_id).values(new_id=into_id)
            )
            redirect = self._insert(story_redirects).values(old_id=old_id, new_id=into_id)
            connection.execute(
                redirect.on_conflict_do_update(index_elements=[story_redirects.c.old_id], set_={"new_id": into_id})
            )
            # A story id that comes back to life must not stay redirected away from itself.
            connection.execute(sa.delete(story_redirects).where(story_redirects.c.old_id == into_id))
            connection.execute(sa.delete(stories).where(stories.c.id == old_id))
            connection.execute(sa.delete(story_pages).where(story_pages.c.story_id == old_id))
            bump = sa.update(stories).where(stories.c.id == into_id).values(version=stories.c.version + 1)
            connection.execute(bump)

    def list_stories(self, *, since: datetime | None = None, limit: int = 50, offset: int = 0) -> list[Story]:
        statement = (
            sa.select(stories)
            .order_by(stories.c.last_seen.desc().nulls_last(), stories.c.id)
            .limit(limit)
            .offset(offset)
        )
        if since is not None:
            statement = statement.where(stories.c.last_seen >= since)
        with self.connection("listing stories") as connection:
            rows = connection.execute(statement).mappings().all()
        return [story_from_row(row) for row in rows]

    def count_stories(self) -> int:
        with self.connection("counting stories") as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(stories)).scalar_one())

    # -- story pages -----------------------------------------------------------------------------------------

    def story_with_page(self, story_id: str, *, with_payload: bool = True) -> StoryWithPage:
        statement = _STORY_WITH_PAGE if with_payload else _STORY_WITH_PAGE_VERSION
        with self.connection("reading a story page") as connection:
            wanted = story_id
            for _ in range(MAX_REDIRECT_HOPS):
                row = connection.execute(statement, {"story_id": wanted}).mappings().first()
                if row is not None:
                    page = None
                    if row["story_version"] is not None:
                        page = StoredPage(row["story_version"], row["payload"], row["built_at"])
                    return StoryWithPage(story_from_row(row), int(row["version"]), page)
                target = connection.execute(
                    sa.select(story_redirects.c.new_id).where(story_redirects.c.old_id == wanted)
                ).scalar()
                if target is None:
                    break
                wanted = target
        raise NotFoundError(f"no story with id {story_id}")

    def save_story_page(self, story_id: str, story_version: int, payload: str, *, now: datetime) -> datetime:
        built_at = now.replace(microsecond=0) + timedelta(seconds=math.ceil(now.microsecond / 1e6))
        with self.connection("saving a story page", write=True) as connection:
            previous = connection.execute(
                sa.select(story_pages.c.built_at).where(story_pages.c.story_id == story_id)
            ).scalar()
            if previous is not None:
                built_at = max(built_at, previous + timedelta(seconds=1))
            values = {"story_id": story_id, "story_version": story_version, "payload": without_nul(payload),
                      "built_at": built_at}  # fmt: skip
            statement = self._insert(story_pages).values(**values)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[story_pages.c.story_id], set_={k: v for k, v in values.items() if k != "story_id"}
                )
            )
        return built_at

    def touch_story(self, story_id: str) -> None:
        bump = sa.update(stories).where(stories.c.id == story_id).values(version=stories.c.version + 1)
        with self.connection("touching a story", write=True) as connection:
            connection.execute(bump)

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
        statement = self._search_statement(query, (articles,), source_id=source_id, since=since, until=until,
                                           limit=limit, offset=offset)  # fmt: skip
        if statement is None:
            return []
        with self.connection("searching articles") as connection:
            return self._articles(connection, statement)

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
        statement = self._search_statement(query, _HIT_COLUMNS, source_id=source_id, since=since, until=until,
                                           limit=limit, offset=offset)  # fmt: skip
        if statement is None:
            return []
        with self.connection("searching articles") as connection:
            rows = connection.execute(statement).mappings().all()
            links = self._source_ids(connection, [row["id"] for row in rows])
        return [
            SearchHit(**{**row, "snippet": row["snippet"] or "", "source_ids": tuple(links[row["id"]])})
            for row in rows
        ]

    def _search_statement(
        self,
        query: str,
        columns: Sequence[Any],
        *,
        source_id: int | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        offset: int,
    ) -> sa.Select[Any] | None:
        def restrict(candidates: sa.Select[Any]) -> sa.Select[Any]:
            return _filtered(candidates, source_id=source_id, since=since, until=until)

        # At least every row of the requested page is ranked, however deep the page.
        cap = max(search.RANKED_CANDIDATES, offset + limit)
        ranked = search.ranked_matches(self._dialect, query, restrict=restrict, cap=cap)
        if ranked is None:
            return None
        return (
            sa.select(*columns)
            .select_from(articles.join(ranked, ranked.c.id == articles.c.id))
            .order_by(ranked.c.score.asc(), articles.c.id.desc())
            .limit(limit)
            .offset(offset)
        )

    # -- originality (SQL in originality_sql.py) -------------------------------------------------------------

    def set_originality(self, labels: Mapping[int, OriginalityLabel]) -> None:
        originality_sql.set_originality(self, labels)

    def get_originality(self, article_ids: Iterable[int]) -> dict[int, OriginalityLabel]:
        return originality_sql.get_originality(self, article_ids)

    def originality_by_source(
        self, *, since: datetime, until: datetime | None = None
    ) -> dict[int, list[tuple[OriginalityKind, str | None, int]]]:
        return originality_sql.originality_by_source(self, since=since, until=until)


def _filtered(
    statement: sa.Select[Any],
    *,
    source_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> sa.Select[Any]:
    if source_id is not None:
        delivered = sa.select(article_sources.c.article_id).where(article_sources.c.source_id == source_id)
        statement = statement.where(articles.c.id.in_(delivered))
    if since is not None:
        statement = statement.where(articles.c.dated_at >= since)
    if until is not None:
        statement = statement.where(articles.c.dated_at < until)
    return statement


@functools.cache
def _source_update(columns: frozenset[str]) -> sa.Update:
    """UPDATE of these source columns, RETURNING the row: one statement, built once per set of columns (a poll
    records the same few columns for every feed; building the statement cost as much as running it)."""
    values = {name: sa.bindparam(f"new_{name}", type_=sources.c[name].type) for name in sorted(columns)}
    return (
        sa.update(sources).where(sources.c.id == sa.bindparam("source_id")).values(values).returning(*sources.c)
    )


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
