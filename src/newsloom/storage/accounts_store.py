"""``AccountStorage`` over the same SQLAlchemy engine as ``SqlStorage`` (SQLite or PostgreSQL), one code path.

Build it from an open storage with ``SqlAccountStore.for_storage(storage)``; it shares that storage's engine
and connection pool and follows the contract of ``accounts_base.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsloom.errors import InputError, NotFoundError
from newsloom.storage.accounts_base import (
    FOLLOW_CHANNELS,
    FOLLOW_KINDS,
    ApiToken,
    ArticleBrief,
    Follow,
    FollowChannel,
    FollowKind,
    Invite,
    Pick,
    ReadEntry,
    Role,
    SavedItem,
    User,
)
from newsloom.storage.accounts_schema import (
    api_tokens,
    app_settings,
    editor_picks,
    follows,
    invites,
    reads,
    saved_items,
    sessions,
    story_comparisons,
    story_visits,
    users,
)
from newsloom.storage.engine_store import SqlEngineStore
from newsloom.storage.schema import article_sources, articles

# Ids per IN (...) list, as in sql.py: far below SQLite's and PostgreSQL's bound-parameter limits.
IN_CHUNK = 500

USER_CHANGES = frozenset({"password_hash", "role", "disabled", "feed_nonce", "last_login_at"})
BRIEF_COLUMNS = (
    articles.c.id, articles.c.title, articles.c.publisher, articles.c.url, articles.c.dated_at,
    articles.c.story_id, articles.c.original_id, articles.c.added_at,
)  # fmt: skip


def normalize_username(username: str) -> str:
    """Usernames compare case-insensitively; they are stored lower-cased and trimmed."""
    return username.strip().lower()


def _user(row: Mapping[Any, Any]) -> User:
    return User(
        id=row["id"], username=row["username"], password_hash=row["password_hash"], role=row["role"],
        created_at=row["created_at"], last_login_at=row["last_login_at"], disabled=bool(row["disabled"]),
        feed_nonce=int(row["feed_nonce"]),
    )  # fmt: skip


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlAccountStore(SqlEngineStore):
    """``AccountStorage`` on a SQLAlchemy engine. Thread-safe: each call takes a pooled connection."""

    needs = "account storage"

    # -- users -----------------------------------------------------------------------------------------------

    def add_user(self, username: str, password_hash: str, *, role: Role = "reader", now: datetime) -> User:
        name = normalize_username(username)
        statement = (
            self._insert(users)
            .values(username=name, password_hash=password_hash, role=role, created_at=now)
            .on_conflict_do_nothing(index_elements=[users.c.username])
            .returning(*users.c)
        )
        with self._connect("adding a user", write=True) as connection:
            row = connection.execute(statement).mappings().first()
        if row is None:
            raise InputError(f"the username {name!r} is taken")
        return _user(row)

    def get_user(self, user_id: int) -> User:
        with self._connect("reading a user") as connection:
            return self._get_user(connection, user_id)

    def _get_user(self, connection: sa.Connection, user_id: int) -> User:
        row = connection.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no user with id {user_id}")
        return _user(row)

    def find_user(self, username: str) -> User | None:
        statement = sa.select(users).where(users.c.username == normalize_username(username))
        with self._connect("finding a user") as connection:
            row = connection.execute(statement).mappings().first()
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        with self._connect("listing users") as connection:
            rows = connection.execute(sa.select(users).order_by(users.c.id)).mappings().all()
        return [_user(row) for row in rows]

    def count_users(self, *, role: Role | None = None) -> int:
        statement = sa.select(sa.func.count()).select_from(users)
        if role is not None:
            statement = statement.where(users.c.role == role)
        with self._connect("counting users") as connection:
            return int(connection.execute(statement).scalar_one())

    def update_user(self, user_id: int, **changes: object) -> User:
        unknown = set(changes) - USER_CHANGES
        if unknown:
            raise TypeError(f"update_user: cannot change {', '.join(sorted(unknown))}")
        with self._connect("updating a user", write=True) as connection:
            if changes:
                connection.execute(sa.update(users).where(users.c.id == user_id).values(**changes))
            return self._get_user(connection, user_id)

    # -- sessions and API tokens -----------------------------------------------------------------------------

    def add_session(
        self, token_hash: str, user_id: int, *, now: datetime, expires_at: datetime, user_agent: str | None = None
    ) -> None:
        values = {"token_hash": token_hash, "user_id": user_id, "created_at": now, "expires_at": expires_at,
                  "user_agent": (user_agent or "")[:500] or None}  # fmt: skip
        with self._connect("adding a session", write=True) as connection:
            self._get_user(connection, user_id)
            connection.execute(sa.insert(sessions).values(**values))

    def session_user(self, token_hash: str, *, now: datetime) -> User | None:
        statement = (
            sa.select(users, sessions.c.expires_at)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == token_hash)
        )
        with self._connect("reading a session") as connection:
            row = connection.execute(statement).mappings().first()
        if row is None:
            return None
        if row["expires_at"] <= now:
            self.delete_session(token_hash)
            return None
        user = _user(row)
        return None if user.disabled else user

    def delete_session(self, token_hash: str) -> None:
        with self._connect("ending a session", write=True) as connection:
            connection.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash))

    def delete_user_sessions(self, user_id: int) -> int:
        with self._connect("ending sessions", write=True) as connection:
            return int(connection.execute(sa.delete(sessions).where(sessions.c.user_id == user_id)).rowcount)

    def add_api_token(self, user_id: int, name: str, token_hash: str, *, now: datetime) -> ApiToken:
        statement = (
            sa.insert(api_tokens)
            .values(user_id=user_id, name=name, token_hash=token_hash, created_at=now)
            .returning(api_tokens.c.id)
        )
        with self._connect("adding an API token", write=True) as connection:
            self._get_user(connection, user_id)
            token_id = int(connection.execute(statement).scalar_one())
        return ApiToken(id=token_id, user_id=user_id, name=name, created_at=now)

    def token_user(self, token_hash: str, *, now: datetime) -> User | None:
        with self._connect("reading an API token", write=True) as connection:
            user_id = connection.execute(
                sa.select(api_tokens.c.user_id).where(api_tokens.c.token_hash == token_hash)
            ).scalar()
            if user_id is None:
                return None
            connection.execute(
                sa.update(api_tokens).where(api_tokens.c.token_hash == token_hash).values(last_used_at=now)
            )
            user = self._get_user(connection, int(user_id))
        return None if user.disabled else user

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        statement = (
            sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id.desc())
        )
        with self._connect("listing API tokens") as connection:
            rows = connection.execute(statement).mappings().all()
        return [
            ApiToken(
                id=r["id"], user_id=r["user_id"], name=r["name"], created_at=r["created_at"], last_used_at=r["last_used_at"]
            )
            for r in rows
        ]

    def delete_api_token(self, user_id: int, token_id: int) -> bool:
        statement = sa.delete(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
        with self._connect("revoking an API token", write=True) as connection:
            return bool(connection.execute(statement).rowcount)

    # -- follows ---------------------------------------------------------------------------------------------

    def follow(
        self, user_id: int, kind: FollowKind, value: str, *, now: datetime, channel: FollowChannel = "in_app"
    ) -> bool:
        _check_channel(channel)
        if kind not in FOLLOW_KINDS:
            raise InputError(f"cannot follow a {kind!r}: use one of {', '.join(FOLLOW_KINDS)}")
        value = value.strip()
        if not value:
            raise InputError("nothing to follow")
        statement = (
            self._insert(follows)
            .values(user_id=user_id, kind=kind, value=value[:200], created_at=now, channel=channel)
            .on_conflict_do_nothing()
            .returning(follows.c.user_id)  # rowcount of a skipped ON CONFLICT insert differs between drivers
        )
        with self._connect("following", write=True) as connection:
            self._get_user(connection, user_id)
            return connection.execute(statement).first() is not None

    def set_follow_channel(self, user_id: int, kind: FollowKind, value: str, channel: FollowChannel) -> bool:
        _check_channel(channel)
        statement = (
            sa.update(follows)
            .where(follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value == value.strip())
            .values(channel=channel)
        )
        with self._connect("changing a follow", write=True) as connection:
            return bool(connection.execute(statement).rowcount)

    def unfollow(self, user_id: int, kind: FollowKind, value: str) -> bool:
        statement = sa.delete(follows).where(
            follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value == value.strip()
        )
        with self._connect("unfollowing", write=True) as connection:
            return bool(connection.execute(statement).rowcount)

    def list_follows(self, user_id: int) -> list[Follow]:
        statement = sa.select(follows).where(follows.c.user_id == user_id).order_by(follows.c.kind, follows.c.value)
        with self._connect("listing follows") as connection:
            rows = connection.execute(statement).mappings().all()
        return [Follow(kind=r["kind"], value=r["value"], created_at=r["created_at"], channel=r["channel"]) for r in rows]

    # -- saved items and reads -------------------------------------------------------------------------------

    def _require_article(self, connection: sa.Connection, article_id: int) -> None:
        if connection.execute(sa.select(articles.c.id).where(articles.c.id == article_id)).first() is None:
            raise NotFoundError(f"no article with id {article_id}")

    def save_item(self, user_id: int, article_id: int, *, now: datetime) -> bool:
        statement = (
            self._insert(saved_items)
            .values(user_id=user_id, article_id=article_id, saved_at=now)
            .on_conflict_do_nothing()
            .returning(saved_items.c.user_id)
        )
        with self._connect("saving an article", write=True) as connection:
            self._require_article(connection, article_id)
            return connection.execute(statement).first() is not None

    def unsave_item(self, user_id: int, article_id: int) -> bool:
        statement = sa.delete(saved_items).where(saved_items.c.user_id == user_id, saved_items.c.article_id == article_id)
        with self._connect("unsaving an article", write=True) as connection:
            return bool(connection.execute(statement).rowcount)

    def list_saved(self, user_id: int, *, limit: int = 50, offset: int = 0) -> list[SavedItem]:
        statement = (
            sa.select(saved_items.c.article_id, saved_items.c.saved_at)
            .where(saved_items.c.user_id == user_id)
            .order_by(saved_items.c.saved_at.desc(), saved_items.c.article_id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._connect("listing saved articles") as connection:
            rows = connection.execute(statement).all()
            briefs = self._briefs(connection, [r.article_id for r in rows])
        return [SavedItem(article=briefs[r.article_id], saved_at=r.saved_at) for r in rows if r.article_id in briefs]

    def saved_ids(self, user_id: int, article_ids: Iterable[int]) -> set[int]:
        return self._ids_in(saved_items, user_id, article_ids, "reading saved articles")

    def _ids_in(self, table: sa.Table, user_id: int, article_ids: Iterable[int], action: str) -> set[int]:
        wanted = list(dict.fromkeys(article_ids))
        found: set[int] = set()
        with self._connect(action) as connection:
            for chunk in _chunks(wanted, IN_CHUNK):
                statement = sa.select(table.c.article_id).where(table.c.user_id == user_id, table.c.article_id.in_(chunk))
                found.update(connection.execute(statement).scalars())
        return found

    def mark_read(self, user_id: int, article_id: int, *, now: datetime) -> None:
        statement = (
            self._insert(reads)
            .values(user_id=user_id, article_id=article_id, first_read_at=now, last_read_at=now)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[reads.c.user_id, reads.c.article_id], set_={"last_read_at": now}
        )
        with self._connect("marking an article read", write=True) as connection:
            self._require_article(connection, article_id)
            connection.execute(statement)

    def mark_unread(self, user_id: int, article_id: int) -> bool:
        statement = sa.delete(reads).where(reads.c.user_id == user_id, reads.c.article_id == article_id)
        with self._connect("marking an article unread", write=True) as connection:
            return bool(connection.execute(statement).rowcount)

    def read_ids(self, user_id: int, article_ids: Iterable[int]) -> set[int]:
        return self._ids_in(reads, user_id, article_ids, "reading read state")

    def history(self, user_id: int, *, limit: int = 50, offset: int = 0) -> list[ReadEntry]:
        statement = (
            sa.select(reads.c.article_id, reads.c.first_read_at, reads.c.last_read_at)
            .where(reads.c.user_id == user_id)
            .order_by(reads.c.last_read_at.desc(), reads.c.article_id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._connect("reading history") as connection:
            rows = connection.execute(statement).all()
            briefs = self._briefs(connection, [r.article_id for r in rows])
        return [
            ReadEntry(article=briefs[r.article_id], first_read_at=r.first_read_at, last_read_at=r.last_read_at)
            for r in rows
            if r.article_id in briefs
        ]

    def visit_story(self, user_id: int, story_id: str, *, now: datetime) -> datetime | None:
        where = (story_visits.c.user_id == user_id, story_visits.c.story_id == story_id)
        with self._connect("recording a story visit", write=True) as connection:
            previous = connection.execute(sa.select(story_visits.c.last_visit_at).where(*where)).scalar()
            if previous is None:
                connection.execute(sa.insert(story_visits).values(user_id=user_id, story_id=story_id, last_visit_at=now))
            else:
                connection.execute(sa.update(story_visits).where(*where).values(last_visit_at=now))
        result: datetime | None = previous
        return result

    # -- picks, settings, invites ----------------------------------------------------------------------------

    def add_pick(self, story_id: str, *, picked_by: int | None, note: str | None = None, now: datetime) -> None:
        values = {"story_id": story_id, "picked_by": picked_by, "note": note, "picked_at": now}
        statement = self._insert(editor_picks).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[editor_picks.c.story_id], set_={k: v for k, v in values.items() if k != "story_id"}
        )
        with self._connect("picking a story", write=True) as connection:
            connection.execute(statement)

    def remove_pick(self, story_id: str) -> bool:
        with self._connect("unpicking a story", write=True) as connection:
            return bool(connection.execute(sa.delete(editor_picks).where(editor_picks.c.story_id == story_id)).rowcount)

    def list_picks(self, *, limit: int = 50) -> list[Pick]:
        statement = sa.select(editor_picks).order_by(editor_picks.c.picked_at.desc(), editor_picks.c.story_id).limit(limit)
        with self._connect("listing picks") as connection:
            rows = connection.execute(statement).mappings().all()
        return [Pick(story_id=r["story_id"], picked_at=r["picked_at"], picked_by=r["picked_by"], note=r["note"]) for r in rows]

    def is_picked(self, story_id: str) -> bool:
        statement = sa.select(editor_picks.c.story_id).where(editor_picks.c.story_id == story_id)
        with self._connect("reading a pick") as connection:
            return connection.execute(statement).first() is not None

    def get_setting(self, key: str) -> str | None:
        with self._connect("reading a setting") as connection:
            value = connection.execute(sa.select(app_settings.c.value).where(app_settings.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_setting(self, key: str, value: str) -> None:
        statement = self._insert(app_settings).values(key=key, value=value)
        statement = statement.on_conflict_do_update(index_elements=[app_settings.c.key], set_={"value": value})
        with self._connect("changing a setting", write=True) as connection:
            connection.execute(statement)

    def add_invite(self, code_hash: str, *, created_by: int, now: datetime, expires_at: datetime) -> Invite:
        with self._connect("creating an invite", write=True) as connection:
            self._get_user(connection, created_by)
            connection.execute(
                sa.insert(invites).values(code_hash=code_hash, created_by=created_by, created_at=now, expires_at=expires_at)
            )
        return Invite(code_hash=code_hash, created_by=created_by, created_at=now, expires_at=expires_at)

    def _open_invite(self, code_hash: str, now: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(invites.c.code_hash == code_hash, invites.c.used_by.is_(None), invites.c.expires_at > now)

    def use_invite(self, code_hash: str, user_id: int, *, now: datetime) -> bool:
        statement = sa.update(invites).where(self._open_invite(code_hash, now)).values(used_by=user_id, used_at=now)
        with self._connect("using an invite", write=True) as connection:
            return bool(connection.execute(statement).rowcount)

    def valid_invite(self, code_hash: str, *, now: datetime) -> bool:
        with self._connect("checking an invite") as connection:
            return connection.execute(sa.select(invites.c.code_hash).where(self._open_invite(code_hash, now))).first() is not None

    def list_invites(self, *, limit: int = 50) -> list[Invite]:
        statement = sa.select(invites).order_by(invites.c.created_at.desc()).limit(limit)
        with self._connect("listing invites") as connection:
            rows = connection.execute(statement).mappings().all()
        return [Invite(**dict(r)) for r in rows]

    # -- read models -----------------------------------------------------------------------------------------

    def _briefs(self, connection: sa.Connection, article_ids: Sequence[int]) -> dict[int, ArticleBrief]:
        rows: list[Any] = []
        links: dict[int, list[int]] = {}
        for chunk in _chunks(list(dict.fromkeys(article_ids)), IN_CHUNK):
            rows.extend(connection.execute(sa.select(*BRIEF_COLUMNS).where(articles.c.id.in_(chunk))).all())
            link_rows = connection.execute(
                sa.select(article_sources.c.article_id, article_sources.c.source_id)
                .where(article_sources.c.article_id.in_(chunk))
                .order_by(article_sources.c.first_seen_at, article_sources.c.source_id)
            )
            for article_id, source_id in link_rows:
                links.setdefault(article_id, []).append(source_id)
        return {r.id: _brief(r, links.get(r.id, ())) for r in rows}

    def article_briefs(self, article_ids: Sequence[int]) -> dict[int, ArticleBrief]:
        with self._connect("reading articles") as connection:
            return self._briefs(connection, article_ids)

    def coverage(self, story_ids: Sequence[str]) -> dict[str, list[ArticleBrief]]:
        found: dict[str, list[ArticleBrief]] = {}
        with self._connect("reading story coverage") as connection:
            for chunk in _chunks(list(dict.fromkeys(story_ids)), IN_CHUNK):
                rows = connection.execute(
                    sa.select(*BRIEF_COLUMNS)
                    .where(articles.c.story_id.in_(chunk))
                    .order_by(articles.c.dated_at, articles.c.id)
                ).all()
                links: dict[int, list[int]] = {}
                ids = [r.id for r in rows]
                for id_chunk in _chunks(ids, IN_CHUNK):
                    for article_id, source_id in connection.execute(
                        sa.select(article_sources.c.article_id, article_sources.c.source_id)
                        .where(article_sources.c.article_id.in_(id_chunk))
                        .order_by(article_sources.c.first_seen_at, article_sources.c.source_id)
                    ):
                        links.setdefault(article_id, []).append(source_id)
                for r in rows:
                    found.setdefault(r.story_id, []).append(_brief(r, links.get(r.id, ())))
        return found

    def cached_comparison(self, story_id: str, fingerprint: str) -> str | None:
        statement = sa.select(story_comparisons.c.payload).where(
            story_comparisons.c.story_id == story_id, story_comparisons.c.fingerprint == fingerprint
        )
        with self._connect("reading a cached comparison") as connection:
            payload = connection.execute(statement).scalar()
        return None if payload is None else str(payload)

    def store_comparison(self, story_id: str, fingerprint: str, payload: str, *, now: datetime) -> None:
        values = {"story_id": story_id, "fingerprint": fingerprint, "payload": payload.replace("\x00", ""), "computed_at": now}
        statement = self._insert(story_comparisons).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[story_comparisons.c.story_id], set_={k: v for k, v in values.items() if k != "story_id"}
        )
        with self._connect("caching a comparison", write=True) as connection:
            connection.execute(statement)


def _check_channel(channel: str) -> None:
    if channel not in FOLLOW_CHANNELS:
        raise InputError(f"no channel {channel!r}: use one of {', '.join(FOLLOW_CHANNELS)}")


def _brief(row: Any, source_ids: Iterable[int]) -> ArticleBrief:
    return ArticleBrief(
        id=row.id, title=row.title, publisher=row.publisher, url=row.url, dated_at=row.dated_at,
        story_id=row.story_id, original_id=row.original_id, source_ids=tuple(source_ids), added_at=row.added_at,
    )  # fmt: skip
