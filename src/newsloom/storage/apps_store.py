"""``AppStorage`` over the same SQLAlchemy engine as ``SqlStorage`` (SQLite or PostgreSQL), one code path.

Build it with ``SqlAppStore.for_storage(storage)``; it follows the contract of ``apps_base.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from newsloom.errors import InputError, NotFoundError
from newsloom.storage.accounts_base import User
from newsloom.storage.accounts_schema import api_tokens, reads, saved_items, story_comparisons, users
from newsloom.storage.accounts_store import IN_CHUNK, _chunks, _user
from newsloom.storage.apps_base import (
    ITEM_MODES,
    AppAccount,
    ItemArticle,
    ItemMode,
    StreamQuery,
    StreamRow,
    Subscription,
    UnreadCount,
)
from newsloom.storage.apps_schema import app_accounts, app_subscriptions
from newsloom.storage.base import StoredPage, StoryWithPage
from newsloom.storage.engine_store import SqlEngineStore
from newsloom.storage.rows import story_from_row
from newsloom.storage.schema import article_sources, articles, sources, stories, story_pages
from newsloom.types import Story

SUBSCRIPTION_CHANGES = frozenset({"title", "folder"})
_heads = articles.alias("heads")

# An item's id in stories mode: the smallest article id of its story (the article's own id without a story).
# The correlated MIN uses the index on articles.story_id: one short range scan per story.
HEAD_ID = sa.case(
    (articles.c.story_id.is_(None), articles.c.id),
    else_=sa.select(sa.func.min(_heads.c.id)).where(_heads.c.story_id == articles.c.story_id).scalar_subquery(),
)
# The story walk reads matching articles in batches of this many per wanted item (stories average 2-5
# articles; a second batch is rare) and at least WALK_BATCH_MIN rows.
WALK_BATCH_FACTOR = 4
# Most items a stream in id order (Fever's pages) is walked for; longer ones are grouped (see ``stream``).
ID_WALK_MAX = 1000
WALK_BATCH_MIN = 200
STORY_KEY = sa.func.coalesce(articles.c.story_id, sa.cast(articles.c.id, sa.String))


class SqlAppStore(SqlEngineStore):
    """``AppStorage`` on a SQLAlchemy engine. Thread-safe: each call takes a pooled connection."""

    needs = "app storage"

    def _require_user(self, connection: sa.Connection, user_id: int) -> None:
        if connection.execute(sa.select(users.c.id).where(users.c.id == user_id)).first() is None:
            raise NotFoundError(f"no user with id {user_id}")

    def _upsert_account(self, connection: sa.Connection, user_id: int, now: datetime, **values: Any) -> None:
        self._require_user(connection, user_id)
        statement = self._insert(app_accounts).values(user_id=user_id, updated_at=now, **values)
        connection.execute(
            statement.on_conflict_do_update(index_elements=[app_accounts.c.user_id], set_={"updated_at": now, **values})
        )

    # -- API password and app settings -----------------------------------------------------------------------

    def app_account(self, user_id: int) -> AppAccount | None:
        with self._connect("reading app settings") as connection:
            row = connection.execute(sa.select(app_accounts).where(app_accounts.c.user_id == user_id)).mappings().first()
        if row is None:
            return None
        return AppAccount(
            user_id=row["user_id"], password_hash=row["password_hash"], item_mode=row["item_mode"],
            subscriptions_seeded=bool(row["subscriptions_seeded"]), updated_at=row["updated_at"],
        )  # fmt: skip

    def set_api_password(self, user_id: int, password_hash: str, fever_key_hash: str, *, now: datetime) -> None:
        with self._connect("setting an API password", write=True) as connection:
            self._upsert_account(connection, user_id, now, password_hash=password_hash, fever_key_hash=fever_key_hash)

    def fever_user(self, fever_key_hash: str) -> User | None:
        statement = (
            sa.select(users)
            .join(app_accounts, app_accounts.c.user_id == users.c.id)
            .where(app_accounts.c.fever_key_hash == fever_key_hash)
        )
        with self._connect("reading a Fever key") as connection:
            row = connection.execute(statement).mappings().first()
        if row is None:
            return None
        user = _user(row)
        return None if user.disabled else user

    def set_item_mode(self, user_id: int, mode: ItemMode, *, now: datetime) -> None:
        if mode not in ITEM_MODES:
            raise InputError(f"apps show either {' or '.join(ITEM_MODES)}, not {mode!r}")
        with self._connect("changing the app item mode", write=True) as connection:
            self._upsert_account(connection, user_id, now, item_mode=mode)

    def revoke_app_tokens(self, user_id: int, name_prefix: str) -> int:
        statement = sa.delete(api_tokens).where(
            api_tokens.c.user_id == user_id, sa.func.substr(api_tokens.c.name, 1, len(name_prefix)) == name_prefix
        )
        with self._connect("revoking app tokens", write=True) as connection:
            return int(connection.execute(statement).rowcount)

    # -- subscriptions ---------------------------------------------------------------------------------------

    def seed_subscriptions(self, user_id: int, *, now: datetime) -> bool:
        with self._connect("seeding subscriptions", write=True) as connection:
            seeded = connection.execute(
                sa.select(app_accounts.c.subscriptions_seeded).where(app_accounts.c.user_id == user_id)
            ).scalar()
            if seeded:
                return False
            rows = connection.execute(sa.select(sources.c.id, sources.c.category)).all()
            if rows:
                connection.execute(
                    self._insert(app_subscriptions).on_conflict_do_nothing(),
                    [{"user_id": user_id, "source_id": r.id, "title": None, "folder": (r.category or None) and r.category[:200],
                      "created_at": now} for r in rows],
                )  # fmt: skip
            self._upsert_account(connection, user_id, now, subscriptions_seeded=True)
        return True

    def subscriptions(self, user_id: int) -> list[Subscription]:
        statement = (
            sa.select(app_subscriptions, sources.c.url, sources.c.site_url, sources.c.title.label("source_title"))
            .join(sources, sources.c.id == app_subscriptions.c.source_id)
            .where(app_subscriptions.c.user_id == user_id)
        )
        with self._connect("listing subscriptions") as connection:
            rows = connection.execute(statement).mappings().all()
        subs = [
            Subscription(
                source_id=r["source_id"], url=r["url"], title=r["title"] or r["source_title"] or r["url"],
                site_url=r["site_url"], folder=r["folder"], created_at=r["created_at"],
            )
            for r in rows
        ]
        return sorted(subs, key=lambda s: (s.title.lower(), s.source_id))

    def subscribe(self, user_id: int, source_id: int, *, title: str | None, folder: str | None, now: datetime) -> bool:
        with self._connect("subscribing", write=True) as connection:
            self._require_user(connection, user_id)
            if connection.execute(sa.select(sources.c.id).where(sources.c.id == source_id)).first() is None:
                raise NotFoundError(f"no source with id {source_id}")
            where = (app_subscriptions.c.user_id == user_id, app_subscriptions.c.source_id == source_id)
            existing = connection.execute(sa.select(app_subscriptions.c.source_id).where(*where)).first()
            if existing is None:
                connection.execute(
                    sa.insert(app_subscriptions).values(user_id=user_id, source_id=source_id, title=title, folder=folder,
                                                        created_at=now)
                )  # fmt: skip
                return True
            changes = {k: v for k, v in (("title", title), ("folder", folder)) if v is not None}
            if changes:
                connection.execute(sa.update(app_subscriptions).where(*where).values(**changes))
            return False

    def unsubscribe(self, user_id: int, source_id: int) -> bool:
        statement = sa.delete(app_subscriptions).where(
            app_subscriptions.c.user_id == user_id, app_subscriptions.c.source_id == source_id
        )
        with self._connect("unsubscribing", write=True) as connection:
            return bool(connection.execute(statement).rowcount)

    def edit_subscription(self, user_id: int, source_id: int, **changes: str | None) -> bool:
        unknown = set(changes) - SUBSCRIPTION_CHANGES
        if unknown:
            raise TypeError(f"edit_subscription: cannot change {', '.join(sorted(unknown))}")
        where = (app_subscriptions.c.user_id == user_id, app_subscriptions.c.source_id == source_id)
        with self._connect("editing a subscription", write=True) as connection:
            if connection.execute(sa.select(app_subscriptions.c.source_id).where(*where)).first() is None:
                return False
            if changes:
                connection.execute(sa.update(app_subscriptions).where(*where).values(**changes))
            return True

    def rename_folder(self, user_id: int, old: str, new: str) -> int:
        statement = (
            sa.update(app_subscriptions)
            .where(app_subscriptions.c.user_id == user_id, app_subscriptions.c.folder == old)
            .values(folder=new)
        )
        with self._connect("renaming a folder", write=True) as connection:
            return int(connection.execute(statement).rowcount)

    def clear_folder(self, user_id: int, folder: str) -> int:
        statement = (
            sa.update(app_subscriptions)
            .where(app_subscriptions.c.user_id == user_id, app_subscriptions.c.folder == folder)
            .values(folder=None)
        )
        with self._connect("removing a folder", write=True) as connection:
            return int(connection.execute(statement).rowcount)

    # -- streams ---------------------------------------------------------------------------------------------

    def _conditions(self, user_id: int, q: StreamQuery, table: Any = articles) -> list[sa.ColumnElement[bool]]:
        """Row filters on ``articles`` (or an alias of it: ``table``), before grouping into stories."""
        subscribed = (
            sa.select(article_sources.c.article_id)
            .join(app_subscriptions, app_subscriptions.c.source_id == article_sources.c.source_id)
            .where(article_sources.c.article_id == table.c.id, app_subscriptions.c.user_id == user_id)
        )
        if q.source_ids is not None:
            subscribed = subscribed.where(article_sources.c.source_id.in_(q.source_ids))
        conditions: list[sa.ColumnElement[bool]] = [subscribed.exists()]
        if q.mode == "articles":
            # Not ``original_id IS NULL``: SQLite would then scan that index (nearly every row matches) and sort,
            # where walking the dated_at index newest first stops after ``limit`` rows.
            conditions.append(sa.func.coalesce(table.c.original_id, 0) == 0)
        if q.story_ids is not None:
            conditions.append(table.c.story_id.in_(q.story_ids))
        for state, wanted in ((reads, q.read), (saved_items, q.starred)):
            if wanted is not None:
                mine = (
                    sa.select(state.c.article_id)
                    .where(state.c.user_id == user_id, state.c.article_id == table.c.id)
                    .exists()
                )
                conditions.append(mine if wanted else ~mine)
        if q.since is not None:
            conditions.append(table.c.dated_at >= q.since)
        if q.until is not None:
            conditions.append(table.c.dated_at < q.until)
        return conditions

    def _item_bounds(self, key: Any, q: StreamQuery) -> list[sa.ColumnElement[bool]]:
        bounds: list[sa.ColumnElement[bool]] = []
        if q.item_ids is not None:
            bounds.append(key.in_(q.item_ids))
        if q.min_id is not None:
            bounds.append(key > q.min_id)
        if q.max_id is not None:
            bounds.append(key < q.max_id)
        return bounds

    def _stream_select(self, user_id: int, q: StreamQuery) -> sa.Select[Any]:
        conditions = self._conditions(user_id, q)
        if q.mode == "articles":
            key: Any = articles.c.id
            when: Any = articles.c.dated_at
            statement = sa.select(key.label("item_id"), when.label("dated_at")).where(*conditions, *self._item_bounds(key, q))
            having: list[sa.ColumnElement[bool]] = []
        else:
            key = HEAD_ID
            when = sa.func.max(articles.c.dated_at)
            statement = sa.select(key.label("item_id"), when.label("dated_at")).where(*conditions).group_by(key)
            having = self._item_bounds(key, q)
        if q.after is not None and q.order in ("newest", "oldest"):
            at, last = q.after
            if q.order == "newest":
                having.append(sa.or_(when < at, sa.and_(when == at, key < last)))
            else:
                having.append(sa.or_(when > at, sa.and_(when == at, key > last)))
        if having:
            statement = statement.having(*having) if q.mode == "stories" else statement.where(*having)
        order = {
            "newest": (when.desc(), key.desc()),
            "oldest": (when.asc(), key.asc()),
            "id_asc": (key.asc(),),
            "id_desc": (key.desc(),),
        }[q.order]
        return statement.order_by(*order)

    def stream(self, user_id: int, query: StreamQuery) -> list[StreamRow]:
        q = query
        if q.mode == "stories" and q.order == "newest" and q.item_ids is None and q.min_id is None and q.max_id is None:
            return self._walk_stories(user_id, q)
        # The id-order walk pays off for a page (it stops after ``limit`` items); sparse filters (starred, read)
        # and whole-list reads (Fever's unread_item_ids) visit most rows, where the GROUP BY is ~2x faster.
        dense = q.starred is None and q.read is not True and q.limit <= ID_WALK_MAX
        if q.mode == "stories" and q.order in ("id_asc", "id_desc") and q.item_ids is None and q.after is None and dense:
            return self._stories_in_id_order(user_id, q)
        statement = self._stream_select(user_id, query).limit(max(0, query.limit))
        with self._connect("reading a stream") as connection:
            rows = connection.execute(statement).all()
        return [StreamRow(item_id=int(r.item_id), dated_at=_aware(r.dated_at)) for r in rows]

    def _stories_in_id_order(self, user_id: int, q: StreamQuery) -> list[StreamRow]:
        """Stories in item id order (Fever's since_id/max_id pages) without grouping the whole stream.

        An item id is its story's head (smallest article id), so walking articles in id order and keeping the
        heads whose story has a matching article (and matching lone articles) gives the ``GROUP BY`` of
        ``_stream_select`` in the same order, and stops after ``limit`` items instead of reading every row.
        """
        members = articles.alias("members")
        head = sa.select(sa.func.min(_heads.c.id)).where(_heads.c.story_id == articles.c.story_id).scalar_subquery()
        matched = sa.select(members.c.id).where(members.c.story_id == articles.c.story_id,
                                                *self._conditions(user_id, q, members))  # fmt: skip
        newest = sa.select(sa.func.max(members.c.dated_at)).where(
            members.c.story_id == articles.c.story_id, *self._conditions(user_id, q, members)
        )
        when = sa.case((articles.c.story_id.is_(None), articles.c.dated_at), else_=newest.scalar_subquery())
        statement = sa.select(articles.c.id.label("item_id"), when.label("dated_at")).where(
            sa.or_(
                sa.and_(articles.c.story_id.is_(None), *self._conditions(user_id, q)),
                sa.and_(articles.c.story_id.is_not(None), articles.c.id == head, matched.exists()),
            ),
            *self._item_bounds(articles.c.id, q),
        )
        order = articles.c.id.asc() if q.order == "id_asc" else articles.c.id.desc()
        with self._connect("reading a stream") as connection:
            rows = connection.execute(statement.order_by(order).limit(max(0, q.limit))).all()
        return [StreamRow(item_id=int(r.item_id), dated_at=_aware(r.dated_at)) for r in rows]

    def _walk_stories(self, user_id: int, q: StreamQuery) -> list[StreamRow]:
        """Newest stories first without grouping the whole stream: walk matching articles newest first (the
        dated_at index) and keep each story at its newest article, until ``limit`` stories are found.

        Same result as the GROUP BY of ``_stream_select`` (a story is ordered by its newest matching article),
        at the cost of the rows walked instead of every row of the stream: ~25x faster on 100k articles.
        """
        if q.limit <= 0:
            return []
        conditions = self._conditions(user_id, q)
        rows_select = sa.select(articles.c.id, articles.c.story_id, articles.c.dated_at).where(*conditions)
        batch = max(WALK_BATCH_MIN, WALK_BATCH_FACTOR * q.limit)
        found: dict[str, tuple[datetime, int | None]] = {}  # story key -> (newest matching date, own id if no story)
        position: tuple[datetime, int] | None = None
        with self._connect("reading a stream") as connection:
            while len(found) < q.limit:
                statement = rows_select
                if q.after is not None:
                    statement = statement.where(articles.c.dated_at <= q.after[0])
                if position is not None:
                    at, last = position
                    statement = statement.where(
                        sa.or_(articles.c.dated_at < at, sa.and_(articles.c.dated_at == at, articles.c.id < last))
                    )
                rows = connection.execute(
                    statement.order_by(articles.c.dated_at.desc(), articles.c.id.desc()).limit(batch)
                ).all()
                fresh: dict[str, tuple[datetime, int | None]] = {}
                for r in rows:
                    key = r.story_id if r.story_id is not None else f"#{r.id}"
                    if key not in found and key not in fresh:
                        fresh[key] = (r.dated_at, None if r.story_id is not None else r.id)
                if q.after is not None:
                    fresh = self._not_on_earlier_pages(connection, conditions, fresh, q.after)
                found.update(fresh)
                if len(rows) < batch:
                    break
                position = (rows[-1].dated_at, rows[-1].id)
            heads = self._heads(connection, [k for k, (_, own) in found.items() if own is None])
        items = [StreamRow(item_id=own if own is not None else heads[key], dated_at=when)
                 for key, (when, own) in found.items() if own is not None or key in heads]  # fmt: skip
        items.sort(key=lambda r: (r.dated_at, r.item_id), reverse=True)
        if q.after is not None:
            at, last = q.after
            items = [r for r in items if (r.dated_at, r.item_id) < (at, last)]
        return items[: q.limit]

    def _not_on_earlier_pages(self, connection: sa.Connection, conditions: list[sa.ColumnElement[bool]],
                              fresh: dict[str, tuple[datetime, int | None]], after: tuple[datetime, int]
                              ) -> dict[str, tuple[datetime, int | None]]:  # fmt: skip
        """Drop stories whose newest matching article is newer than the continuation point (listed before)."""
        stories_seen = [k for k, (_, own) in fresh.items() if own is None]
        newer: set[str] = set()
        for chunk in _chunks(stories_seen, IN_CHUNK):
            newer.update(connection.execute(
                sa.select(articles.c.story_id).distinct()
                .where(*conditions, articles.c.story_id.in_(chunk), articles.c.dated_at > after[0])
            ).scalars())  # fmt: skip
        return {k: v for k, v in fresh.items() if k not in newer}

    def _heads(self, connection: sa.Connection, story_ids: list[str]) -> dict[str, int]:
        heads: dict[str, int] = {}
        for chunk in _chunks(story_ids, IN_CHUNK):
            rows = connection.execute(
                sa.select(articles.c.story_id, sa.func.min(articles.c.id))
                .where(articles.c.story_id.in_(chunk))
                .group_by(articles.c.story_id)
            )
            heads.update({story_id: int(head) for story_id, head in rows})
        return heads

    def count_items(self, user_id: int, query: StreamQuery) -> int:
        inner = self._stream_select(user_id, StreamQuery(**{**_fields(query), "after": None})).order_by(None).subquery()
        with self._connect("counting a stream") as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())

    def unread_counts(self, user_id: int, mode: ItemMode) -> list[UnreadCount]:
        unread = ~sa.select(reads.c.article_id).where(reads.c.user_id == user_id, reads.c.article_id == articles.c.id).exists()
        counted = sa.func.count(sa.distinct(STORY_KEY)) if mode == "stories" else sa.func.count()
        statement = (
            sa.select(article_sources.c.source_id, counted.label("n"), sa.func.max(articles.c.dated_at).label("newest"))
            .select_from(articles)
            .join(article_sources, article_sources.c.article_id == articles.c.id)
            .join(app_subscriptions, app_subscriptions.c.source_id == article_sources.c.source_id)
            .where(app_subscriptions.c.user_id == user_id, unread)
            .group_by(article_sources.c.source_id)
        )
        if mode == "articles":
            statement = statement.where(articles.c.original_id.is_(None))
        with self._connect("counting unread items") as connection:
            rows = connection.execute(statement).all()
        return [UnreadCount(source_id=r.source_id, count=int(r.n), newest=_aware(r.newest)) for r in rows]

    def item_articles(self, item_ids: Sequence[int], *, story_bodies: bool = True) -> dict[int, ItemArticle]:
        found: dict[int, ItemArticle] = {}
        html: sa.ColumnElement[Any] = articles.c.html
        text: sa.ColumnElement[Any] = articles.c.text
        if not story_bodies:
            storied = articles.c.story_id.is_not(None)
            html = sa.case((storied, ""), else_=articles.c.html).label("html")
            text = sa.case((storied, ""), else_=articles.c.text).label("text")
        columns = (
            articles.c.id, articles.c.title, articles.c.url, articles.c.author, articles.c.publisher,
            articles.c.published_at, articles.c.dated_at, articles.c.added_at, html, text,
            articles.c.story_id, articles.c.original_id,
        )  # fmt: skip
        with self._connect("reading items") as connection:
            for chunk in _chunks(list(dict.fromkeys(item_ids)), IN_CHUNK):
                links: dict[int, list[int]] = {}
                for article_id, source_id in connection.execute(
                    sa.select(article_sources.c.article_id, article_sources.c.source_id)
                    .where(article_sources.c.article_id.in_(chunk))
                    .order_by(article_sources.c.first_seen_at, article_sources.c.source_id)
                ):
                    links.setdefault(article_id, []).append(source_id)
                for r in connection.execute(sa.select(*columns).where(articles.c.id.in_(chunk))).mappings():
                    found[r["id"]] = ItemArticle(**dict(r), source_ids=tuple(links.get(r["id"], ())))
        return found

    def expand_items(self, item_ids: Sequence[int], mode: ItemMode) -> dict[int, list[int]]:
        ids = list(dict.fromkeys(item_ids))
        out: dict[int, list[int]] = {}
        with self._connect("reading items") as connection:
            for chunk in _chunks(ids, IN_CHUNK):
                rows = connection.execute(sa.select(articles.c.id, articles.c.story_id).where(articles.c.id.in_(chunk))).all()
                if mode == "stories":
                    by_story = {r.story_id: r.id for r in rows if r.story_id is not None}
                    for r in rows:
                        out[r.id] = [r.id]
                    if by_story:
                        members = connection.execute(
                            sa.select(articles.c.id, articles.c.story_id).where(articles.c.story_id.in_(list(by_story)))
                        ).all()
                        for m in members:
                            item = by_story[m.story_id]
                            if m.id != item:
                                out[item].append(m.id)
                else:
                    for r in rows:
                        out[r.id] = [r.id]
                    copies = connection.execute(
                        sa.select(articles.c.id, articles.c.original_id).where(articles.c.original_id.in_([r.id for r in rows]))
                    ).all()
                    for c in copies:
                        out[c.original_id].append(c.id)
        return {item: sorted(members) for item, members in out.items()}

    def stories_by_id(self, story_ids: Sequence[str]) -> dict[str, Story]:
        found: dict[str, Story] = {}
        with self._connect("reading stories") as connection:
            for chunk in _chunks(list(dict.fromkeys(story_ids)), IN_CHUNK):
                for r in connection.execute(sa.select(stories).where(stories.c.id.in_(chunk))).mappings():
                    found[r["id"]] = story_from_row(r)
        return found

    def cached_comparisons(self, story_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        table = story_comparisons
        with self._connect("reading cached comparisons") as connection:
            for chunk in _chunks(list(dict.fromkeys(story_ids)), IN_CHUNK):
                rows = connection.execute(
                    sa.select(table.c.story_id, table.c.fingerprint, table.c.payload).where(table.c.story_id.in_(chunk))
                )
                for r in rows:
                    found[r.story_id] = (r.fingerprint, r.payload)
        return found

    def item_state(self, user_id: int, article_ids: Sequence[int]) -> tuple[set[int], set[int]]:
        # The ids go as one array parameter (json_each on SQLite, ANY on PostgreSQL): a 1,000-story page has
        # ~10k member articles, and SQLAlchemy's expanding IN costs more than the lookups themselves.
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return set(), set()
        if self._dialect == "sqlite":
            wanted = "article_id IN (SELECT value FROM json_each(:ids))"
            value: object = json.dumps(ids)
        else:
            wanted = "article_id = ANY(CAST(:ids AS integer[]))"
            value = ids
        found: list[set[int]] = []
        with self._connect("reading read and starred state") as connection:
            for table in (reads, saved_items):
                statement = sa.text(f"SELECT article_id FROM {table.name} WHERE user_id = :user_id AND {wanted}")
                found.append({int(i) for i in connection.execute(statement, {"user_id": user_id, "ids": value}).scalars()})
        return found[0], found[1]

    def story_page_versions(self, story_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
        found: dict[str, tuple[int, int | None]] = {}
        joined = stories.outerjoin(story_pages, story_pages.c.story_id == stories.c.id)
        with self._connect("reading story versions") as connection:
            for chunk in _chunks(list(dict.fromkeys(story_ids)), IN_CHUNK):
                rows = connection.execute(
                    sa.select(stories.c.id, stories.c.version, story_pages.c.story_version)
                    .select_from(joined).where(stories.c.id.in_(chunk))
                )  # fmt: skip
                for r in rows:
                    found[r.id] = (int(r.version), r.story_version)
        return found

    def stories_with_pages(self, story_ids: Sequence[str]) -> dict[str, StoryWithPage]:
        found: dict[str, StoryWithPage] = {}
        joined = stories.outerjoin(story_pages, story_pages.c.story_id == stories.c.id)
        columns = (stories, story_pages.c.story_version, story_pages.c.payload, story_pages.c.built_at)
        with self._connect("reading story pages") as connection:
            for chunk in _chunks(list(dict.fromkeys(story_ids)), IN_CHUNK):
                statement = sa.select(*columns).select_from(joined).where(stories.c.id.in_(chunk))
                for r in connection.execute(statement).mappings():
                    built = r["story_version"] is not None
                    page = StoredPage(r["story_version"], r["payload"], r["built_at"]) if built else None
                    found[r["id"]] = StoryWithPage(story_from_row(r), int(r["version"]), page)
        return found

    def _set_flag(self, table: sa.Table, time_columns: tuple[str, ...], user_id: int, ids: Sequence[int], on: bool,
                  now: datetime, action: str) -> int:  # fmt: skip
        changed = 0
        with self._connect(action, write=True) as connection:
            for chunk in _chunks(list(dict.fromkeys(ids)), IN_CHUNK):
                if on:
                    source = sa.select(
                        sa.literal(user_id, sa.Integer), articles.c.id, *[sa.literal(now, table.c[c].type) for c in time_columns]
                    ).where(articles.c.id.in_(chunk))
                    # RETURNING counts the inserted rows: rowcount of INSERT ... SELECT ... ON CONFLICT is 0 on psycopg.
                    statement = (
                        self._insert(table)
                        .from_select(["user_id", "article_id", *time_columns], source)
                        .on_conflict_do_nothing()
                        .returning(table.c.article_id)
                    )
                else:
                    statement = (
                        sa.delete(table)
                        .where(table.c.user_id == user_id, table.c.article_id.in_(chunk))
                        .returning(table.c.article_id)
                    )
                changed += len(connection.execute(statement).all())
        return changed

    def set_read(self, user_id: int, article_ids: Sequence[int], read: bool, *, now: datetime) -> int:
        return self._set_flag(reads, ("first_read_at", "last_read_at"), user_id, article_ids, read, now, "marking read")

    def set_starred(self, user_id: int, article_ids: Sequence[int], starred: bool, *, now: datetime) -> int:
        return self._set_flag(saved_items, ("saved_at",), user_id, article_ids, starred, now, "starring")

    def mark_stream_read(self, user_id: int, query: StreamQuery, *, now: datetime) -> int:
        # Every article of the stream, copies included: marking a feed read leaves none of it unread.
        q = StreamQuery(**{**_fields(query), "mode": "stories", "read": False})
        source = sa.select(
            sa.literal(user_id, sa.Integer), articles.c.id, sa.literal(now, reads.c.first_read_at.type),
            sa.literal(now, reads.c.last_read_at.type),
        ).where(*self._conditions(user_id, q), *self._item_bounds(articles.c.id, q))  # fmt: skip
        statement = (
            self._insert(reads)
            .from_select(["user_id", "article_id", "first_read_at", "last_read_at"], source)
            .on_conflict_do_nothing()
            .returning(reads.c.article_id)
        )
        with self._connect("marking a stream read", write=True) as connection:
            return len(connection.execute(statement).all())


def _fields(query: StreamQuery) -> dict[str, Any]:
    return {name: getattr(query, name) for name in StreamQuery.__slots__}


def _aware(value: Any) -> datetime:
    """Aggregates (MAX) bypass the column type on SQLite and come back as ISO text; make them aware UTC."""
    when: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
