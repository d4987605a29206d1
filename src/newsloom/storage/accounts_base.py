"""The AccountStorage Protocol: what the reader (accounts, follows, saved items, read state, picks) needs stored.

The contract of ``storage/base.py`` holds here too: thread-safe, aware UTC datetimes in and out (naive ones are
refused with ``StorageError``), storage never reads the clock (methods that stamp take ``now``), each call
atomic, ``NotFoundError`` for a missing user / article, ``StorageError`` for driver failures.

Privacy: every per-reader method takes the ``user_id`` and touches only that reader's rows; no method lists
another reader's follows, saved items or history.

Secrets: session, API token and invite *hashes* are passed in (SHA-256 hex, see ``newsloom.accounts``); the
plain tokens never reach storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Role = Literal["admin", "reader"]
FollowKind = Literal["source", "story", "topic", "entity"]
FOLLOW_KINDS: tuple[FollowKind, ...] = ("source", "story", "topic", "entity")
FollowChannel = Literal["in_app", "email", "webhook"]
FOLLOW_CHANNELS: tuple[FollowChannel, ...] = ("in_app", "email", "webhook")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    password_hash: str
    role: Role
    created_at: datetime
    last_login_at: datetime | None = None
    disabled: bool = False
    feed_nonce: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Follow:
    kind: FollowKind
    value: str
    created_at: datetime
    channel: FollowChannel = "in_app"  # how its events reach the reader (in-app always; e-mail, webhook too)


@dataclass(frozen=True, slots=True)
class ArticleBrief:
    """An article without its text: what lists of saved items, history and coverage show."""

    id: int
    title: str | None
    publisher: str | None
    url: str | None
    dated_at: datetime
    story_id: str | None
    original_id: int | None
    source_ids: tuple[int, ...] = ()
    added_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SavedItem:
    article: ArticleBrief
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class ReadEntry:
    article: ArticleBrief
    first_read_at: datetime
    last_read_at: datetime


@dataclass(frozen=True, slots=True)
class Pick:
    story_id: str
    picked_at: datetime
    picked_by: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Invite:
    code_hash: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None


class AccountStorage(Protocol):
    """Accounts and per-reader state. See the module docstring for the contract."""

    # -- users -----------------------------------------------------------------------------------------------

    def add_user(self, username: str, password_hash: str, *, role: Role = "reader", now: datetime) -> User:
        """Create a user; ``InputError`` when the username (compared case-insensitively) is taken."""

    def get_user(self, user_id: int) -> User:
        """The user with this id; ``NotFoundError`` when there is none."""

    def find_user(self, username: str) -> User | None:
        """The user with this username (case-insensitive), or None."""

    def list_users(self) -> list[User]:
        """Every user, oldest first."""

    def count_users(self, *, role: Role | None = None) -> int:
        """How many users (of this role)."""

    def update_user(self, user_id: int, **changes: object) -> User:
        """Change ``password_hash``, ``role``, ``disabled``, ``feed_nonce`` or ``last_login_at``.

        ``TypeError`` for any other field; ``NotFoundError`` for an unknown user.
        """

    # -- sessions and API tokens -----------------------------------------------------------------------------

    def add_session(
        self, token_hash: str, user_id: int, *, now: datetime, expires_at: datetime, user_agent: str | None = None
    ) -> None:
        """Record a signed-in session."""

    def session_user(self, token_hash: str, *, now: datetime) -> User | None:
        """The enabled user of an unexpired session, or None (expired sessions are deleted on the way)."""

    def delete_session(self, token_hash: str) -> None:
        """Sign a session out; unknown hashes are ignored."""

    def delete_user_sessions(self, user_id: int) -> int:
        """Sign a user out everywhere; returns how many sessions ended."""

    def add_api_token(self, user_id: int, name: str, token_hash: str, *, now: datetime) -> ApiToken:
        """Record a personal API token; ``NotFoundError`` for an unknown user."""

    def token_user(self, token_hash: str, *, now: datetime) -> User | None:
        """The enabled user owning this API token (its ``last_used_at`` becomes ``now``), or None."""

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        """This user's tokens, newest first."""

    def delete_api_token(self, user_id: int, token_id: int) -> bool:
        """Revoke one of this user's tokens; False when the user has no such token."""

    # -- follows, saved items, reads, visits -----------------------------------------------------------------

    def follow(
        self, user_id: int, kind: FollowKind, value: str, *, now: datetime, channel: FollowChannel = "in_app"
    ) -> bool:
        """Follow a source (id as text), story (id), topic or entity; True if new. ``InputError`` for an unknown kind.

        Following again keeps the follow and changes nothing (use ``set_follow_channel``).
        """

    def set_follow_channel(self, user_id: int, kind: FollowKind, value: str, channel: FollowChannel) -> bool:
        """Change how a follow's events are delivered; False when there is no such follow. ``InputError``
        for an unknown channel."""

    def unfollow(self, user_id: int, kind: FollowKind, value: str) -> bool:
        """Stop following; True if there was such a follow."""

    def list_follows(self, user_id: int) -> list[Follow]:
        """This user's follows, by kind then value."""

    def save_item(self, user_id: int, article_id: int, *, now: datetime) -> bool:
        """Save an article for later; True if new. ``NotFoundError`` for an unknown article."""

    def unsave_item(self, user_id: int, article_id: int) -> bool:
        """Remove a saved article; True if it was saved."""

    def list_saved(self, user_id: int, *, limit: int = 50, offset: int = 0) -> list[SavedItem]:
        """This user's saved articles, most recently saved first."""

    def saved_ids(self, user_id: int, article_ids: Iterable[int]) -> set[int]:
        """Which of these articles this user saved."""

    def mark_read(self, user_id: int, article_id: int, *, now: datetime) -> None:
        """Record that the user opened the article (first and last read times). ``NotFoundError`` if missing."""

    def mark_unread(self, user_id: int, article_id: int) -> bool:
        """Forget that the user read the article; True if it was read."""

    def read_ids(self, user_id: int, article_ids: Iterable[int]) -> set[int]:
        """Which of these articles this user has read."""

    def history(self, user_id: int, *, limit: int = 50, offset: int = 0) -> list[ReadEntry]:
        """Articles this user read, most recently read first."""

    def visit_story(self, user_id: int, story_id: str, *, now: datetime) -> datetime | None:
        """Record a visit to a story page; returns the previous visit's time (None on a first visit)."""

    # -- editor picks, settings, invites ---------------------------------------------------------------------

    def add_pick(self, story_id: str, *, picked_by: int | None, note: str | None = None, now: datetime) -> None:
        """Pick a story (picking it again updates the note and time)."""

    def remove_pick(self, story_id: str) -> bool:
        """Unpick a story; True if it was picked."""

    def list_picks(self, *, limit: int = 50) -> list[Pick]:
        """Picks, most recent first."""

    def is_picked(self, story_id: str) -> bool:
        """True if the story is an editor pick (one primary-key look-up)."""

    def get_setting(self, key: str) -> str | None:
        """An application setting changed by an admin, or None when never set."""

    def set_setting(self, key: str, value: str) -> None:
        """Set an application setting."""

    def add_invite(self, code_hash: str, *, created_by: int, now: datetime, expires_at: datetime) -> Invite:
        """Record an invite code (its hash)."""

    def use_invite(self, code_hash: str, user_id: int, *, now: datetime) -> bool:
        """Mark an unused, unexpired invite as used by ``user_id``; False when there is no such invite."""

    def valid_invite(self, code_hash: str, *, now: datetime) -> bool:
        """True when this invite exists, is unused and has not expired."""

    def list_invites(self, *, limit: int = 50) -> list[Invite]:
        """Invites, newest first."""

    # -- read models for the reader --------------------------------------------------------------------------

    def coverage(self, story_ids: Sequence[str]) -> dict[str, list[ArticleBrief]]:
        """The articles of each story (without text), oldest first; stories without articles are absent."""

    def article_briefs(self, article_ids: Sequence[int]) -> dict[int, ArticleBrief]:
        """Briefs of these articles, by id (missing ids are absent)."""

    def cached_comparison(self, story_id: str, fingerprint: str) -> str | None:
        """The stored comparison payload of this story if it was computed for the same ``fingerprint``."""

    def store_comparison(self, story_id: str, fingerprint: str, payload: str, *, now: datetime) -> None:
        """Keep a story's comparison payload (replacing an older one)."""
