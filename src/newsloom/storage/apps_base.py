"""The AppStorage Protocol: what the apps' APIs (Google Reader API, Fever API) need stored and queried.

The contract of ``storage/base.py`` and ``accounts_base.py`` holds: thread-safe, aware UTC datetimes in and out,
storage never reads the clock (``now`` is passed in), each call atomic, ``StorageError`` for driver failures.
Every per-reader method takes the ``user_id`` and touches only that reader's rows.

Read and starred state is the web reader's own (tables ``reads`` and ``saved_items``): an app and the web
reader always agree.

Items. In ``articles`` mode an item is an original article (syndicated copies are left out; marking the
original marks its copies too). In ``stories`` mode an item is a story, named by its *head*: the smallest
article id of the story (an article without a story is its own head), so an item keeps its id as the story
grows and whatever stream lists it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from newsloom.storage.accounts_base import User
from newsloom.storage.base import StoryWithPage
from newsloom.types import Story

ItemMode = Literal["stories", "articles"]
ITEM_MODES: tuple[ItemMode, ...] = ("stories", "articles")
StreamOrder = Literal["newest", "oldest", "id_asc", "id_desc"]


@dataclass(frozen=True, slots=True)
class AppAccount:
    user_id: int
    password_hash: str | None
    item_mode: ItemMode
    subscriptions_seeded: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    """A source in one reader's app subscription list, with that reader's title and folder."""

    source_id: int
    url: str
    title: str
    site_url: str | None
    folder: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StreamQuery:
    """Which items a stream holds, in which order, from where.

    ``source_ids`` None means every subscription of the reader; ``read``/``starred`` None means either.
    ``since``/``until`` bound the item date (``until`` exclusive); ``min_id``/``max_id`` bound the item id
    (exclusive). ``after`` is a continuation: the (date, id) of the last item of the previous page, for the
    ``newest``/``oldest`` orders; the id orders page with ``min_id``/``max_id``.
    """

    mode: ItemMode = "stories"
    source_ids: tuple[int, ...] | None = None
    story_ids: tuple[str, ...] | None = None
    item_ids: tuple[int, ...] | None = None
    read: bool | None = None
    starred: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_id: int | None = None
    max_id: int | None = None
    after: tuple[datetime, int] | None = None
    order: StreamOrder = "newest"
    limit: int = 20


@dataclass(frozen=True, slots=True)
class StreamRow:
    item_id: int
    dated_at: datetime


@dataclass(frozen=True, slots=True)
class ItemArticle:
    """An article as an app item shows it (one query for a whole page)."""

    id: int
    title: str | None
    url: str | None
    author: str | None
    publisher: str | None
    published_at: datetime | None
    dated_at: datetime
    added_at: datetime
    html: str
    text: str
    story_id: str | None
    original_id: int | None
    source_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UnreadCount:
    source_id: int
    count: int
    newest: datetime | None


class AppStorage(Protocol):
    """Apps' accounts, subscriptions and streams. See the module docstring for the contract."""

    # -- API password and app settings -----------------------------------------------------------------------

    def app_account(self, user_id: int) -> AppAccount | None:
        """This reader's app settings, or None when never set."""

    def set_api_password(self, user_id: int, password_hash: str, fever_key_hash: str, *, now: datetime) -> None:
        """Set (or replace) the API password hash and Fever key hash. ``NotFoundError`` for an unknown user."""

    def fever_user(self, fever_key_hash: str) -> User | None:
        """The enabled user whose Fever key has this hash, or None."""

    def set_item_mode(self, user_id: int, mode: ItemMode, *, now: datetime) -> None:
        """How apps see this reader's news. ``InputError`` for an unknown mode."""

    def revoke_app_tokens(self, user_id: int, name_prefix: str) -> int:
        """Delete this reader's API tokens whose name starts with ``name_prefix``; returns how many."""

    # -- subscriptions ---------------------------------------------------------------------------------------

    def seed_subscriptions(self, user_id: int, *, now: datetime) -> bool:
        """On a reader's first use, subscribe them to every source (folder = the source's category).

        True when it seeded now; False when already seeded (then nothing changes, even if they unsubscribed
        from everything since).
        """

    def subscriptions(self, user_id: int) -> list[Subscription]:
        """This reader's subscriptions, by title."""

    def subscribe(self, user_id: int, source_id: int, *, title: str | None, folder: str | None, now: datetime) -> bool:
        """Subscribe (True if new; an existing subscription keeps its title and folder unless given)."""

    def unsubscribe(self, user_id: int, source_id: int) -> bool:
        """Unsubscribe; True if there was such a subscription."""

    def edit_subscription(self, user_id: int, source_id: int, **changes: str | None) -> bool:
        """Change ``title`` and/or ``folder`` (None clears); False when not subscribed. ``TypeError`` otherwise."""

    def rename_folder(self, user_id: int, old: str, new: str) -> int:
        """Move every subscription of folder ``old`` to ``new``; returns how many moved."""

    def clear_folder(self, user_id: int, folder: str) -> int:
        """Take every subscription out of ``folder`` (the subscriptions stay); returns how many."""

    # -- streams ---------------------------------------------------------------------------------------------

    def stream(self, user_id: int, query: StreamQuery) -> list[StreamRow]:
        """The items of a stream, at most ``query.limit``."""

    def count_items(self, user_id: int, query: StreamQuery) -> int:
        """How many items the stream holds (``limit`` and ``after`` ignored)."""

    def unread_counts(self, user_id: int, mode: ItemMode) -> list[UnreadCount]:
        """Unread items per subscribed source."""

    def item_articles(self, item_ids: Sequence[int], *, story_bodies: bool = True) -> dict[int, ItemArticle]:
        """The articles with these ids (missing ids absent).

        ``story_bodies=False`` leaves ``html`` and ``text`` empty for articles of a story (a story item shows
        its stored page, not its head article's body: a 1,000-item page then reads no article bodies).
        """

    def expand_items(self, item_ids: Sequence[int], mode: ItemMode) -> dict[int, list[int]]:
        """The article ids behind each item: its story's articles (stories mode) or itself and its copies."""

    def stories_by_id(self, story_ids: Sequence[str]) -> dict[str, Story]:
        """The stories with these ids (missing ids absent)."""

    def cached_comparisons(self, story_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The stored comparison of each story as (fingerprint, payload); stories without one are absent."""

    def item_state(self, user_id: int, article_ids: Sequence[int]) -> tuple[set[int], set[int]]:
        """Which of these articles the reader has read, and which saved (starred): one read for a whole page."""

    def story_page_versions(self, story_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
        """Each story's version and the version its stored page was built from (None: no page); missing absent."""

    def stories_with_pages(self, story_ids: Sequence[str]) -> dict[str, StoryWithPage]:
        """The stories with these ids and their stored pages (as ``Storage.story_with_page``, without redirects)."""

    def set_read(self, user_id: int, article_ids: Sequence[int], read: bool, *, now: datetime) -> int:
        """Mark existing articles read or unread; returns how many changed. Unknown ids are ignored."""

    def set_starred(self, user_id: int, article_ids: Sequence[int], starred: bool, *, now: datetime) -> int:
        """Save (star) or unsave existing articles; returns how many changed. Unknown ids are ignored."""

    def mark_stream_read(self, user_id: int, query: StreamQuery, *, now: datetime) -> int:
        """Mark every unread article of a stream read (``limit``, ``after`` and ``order`` ignored)."""
