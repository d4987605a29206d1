"""The apps' use cases: API passwords and app sign-in, subscriptions and folders, streams, read/starred state.

``AppService`` wraps one ``ReaderService`` (itself over the one ``Service``) and is what the Google Reader API
and Fever API routers call; they only parse parameters and shape responses. Read and starred state is the web
reader's own (see ``storage/apps_base.py``), so an app and the web reader always agree.

How an app sees the news is a per-reader setting: ``stories`` (the default) shows one item per story (its
headline, what the outlets agree on and what each adds, links to every outlet's copy; marking it read marks
every article of the story read); ``articles`` shows every original article, syndicated copies left out (and
marked along with their original).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from newsloom import accounts, story_pages
from newsloom.errors import AccessDeniedError, AuthError, InputError, NotFoundError, RateLimitedError
from newsloom.lru import Lru
from newsloom.reader_service import ComparisonView, ReaderService, comparison_view
from newsloom.storage.accounts_base import User
from newsloom.storage.apps_base import (
    ITEM_MODES,
    AppStorage,
    ItemArticle,
    ItemMode,
    StreamQuery,
    StreamRow,
    Subscription,
)
from newsloom.storage.apps_store import SqlAppStore
from newsloom.types import Story

# App sign-ins are personal API tokens with this name prefix: the account page lists and revokes them, and a
# new API password revokes them all.
APP_TOKEN_PREFIX = "app sign-in"
TOP_STORIES = "Top stories"
FOR_YOU = "For you"
CURATED_LABELS = (TOP_STORIES, FOR_YOU)
# How many stories the curated labels hold: a front page's worth.
CURATED_LIMIT = 50
# Story items kept in memory (a few KB each): a few full 1,000-item pages.
STORY_ITEMS_MEMO = 4096
# Fever sends total_items with every page of items; counting a 100k-article reading list takes ~50 ms, so the
# count is kept this long (as the top-stories ranking is): new items show in the total within half a minute.
TOTAL_CACHE_TTL_S = 30.0


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """A parsed stream: which articles, seen as items in the reader's mode."""

    source_ids: tuple[int, ...] | None = None
    story_ids: tuple[str, ...] | None = None
    read: bool | None = None
    starred: bool | None = None


@dataclass(frozen=True, slots=True)
class ItemView:
    """One item as apps show it (either an article or a story)."""

    id: int
    title: str
    html: str
    url: str | None
    author: str | None
    published: datetime
    updated: datetime
    crawled: datetime
    source: Subscription | None
    read: bool
    starred: bool
    folders: tuple[str, ...] = ()
    story_id: str | None = None
    outlet_links: tuple[tuple[str, str], ...] = field(default=())
    # What the item's rendering depends on besides the reader's state, when it can be cached: (item id, story
    # id, story version, page built). None (articles) means render it each time.
    cache_key: tuple[int, str, int, bool] | None = None


# A story item is the same for every reader at one story version: (story id, version, page built).
StoryItemKey = tuple[str, int, bool]


@dataclass(frozen=True, slots=True)
class StoryItem:
    """What a story item shows, the same for every reader: kept in memory per story version."""

    title: str
    html: str
    links: tuple[tuple[str, str], ...]
    source_ids: tuple[int, ...]  # every source that carried one of its articles, in coverage order
    published: datetime | None
    updated: datetime | None


def story_item_of_page(page: story_pages.StoryPage) -> StoryItem:
    """The story item of a stored story page: its summary, agreed claims, what each outlet adds, its links."""
    story = page.story
    links = tuple((a.outlet, a.url) for a in page.articles if a.url)
    comparison = comparison_view(page.comparison, page.compared_outlets) if page.comparison else None
    return StoryItem(
        title=story.headline, html=story_html(story, comparison, links), links=links,
        source_ids=tuple(s for a in page.articles for s in a.source_ids), published=story.first_seen,
        updated=story.last_seen,
    )  # fmt: skip


def fever_key(username: str, password: str) -> str:
    """What a Fever app sends as ``api_key``: md5 of ``username:password`` (the Fever API document's rule)."""
    return hashlib.md5(f"{username}:{password}".encode()).hexdigest()  # the protocol fixes md5


class AppService:
    """Use cases of the apps' APIs over one ``ReaderService``. Thread-safe as the reader is."""

    def __init__(self, reader: ReaderService) -> None:
        self.reader = reader
        self.store: AppStorage = SqlAppStore.for_storage(reader.service.storage)
        self._totals: dict[tuple[int, str], tuple[float, int]] = {}
        self._story_items: Lru[StoryItem] = Lru(STORY_ITEMS_MEMO)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self.reader.now()

    # -- API password, sign-in, tokens -----------------------------------------------------------------------

    def set_api_password(self, user: User, password: str) -> None:
        """Set the reader's API password (apart from the sign-in password); earlier app sign-ins are revoked."""
        accounts.check_password_rules(password)
        self.store.set_api_password(
            user.id, accounts.hash_password(password), accounts.token_hash(fever_key(user.username, password)), now=self.now()
        )
        self.store.revoke_app_tokens(user.id, APP_TOKEN_PREFIX)

    def has_api_password(self, user: User) -> bool:
        account = self.store.app_account(user.id)
        return account is not None and account.password_hash is not None

    def set_api_password_for(self, username: str, password: str) -> User:
        """``newsloom api-password USER``."""
        user = self.reader.accounts.find_user(username)
        if user is None:
            raise NotFoundError(f"no user named {username!r}")
        self.set_api_password(user, password)
        return user

    def client_login(self, username: str, password: str, *, client: str, app: str | None = None) -> str:
        """Check the API password and return a new app token. ``AuthError`` (nothing more said) when wrong.

        Rate-limited per username and per client address, like the web sign-in (its own counters).
        """
        now = self.now()
        keys = [f"app-user:{username.strip().lower()}", f"app-client:{client}"]
        wait = self.reader.limiter.blocked_for(keys, now)
        if wait is not None:
            raise RateLimitedError("too many failed sign-ins", max(1, int(wait.total_seconds()) + 1))
        user = self.reader.accounts.find_user(username) if username.strip() else None
        account = self.store.app_account(user.id) if user is not None else None
        password_hash = account.password_hash if account is not None else None
        if password_hash is None:
            accounts.burn_verification(password)
        if user is None or user.disabled or password_hash is None or not accounts.verify_password(password_hash, password):
            self.reader.limiter.failed(keys, now)
            raise AuthError("unauthorized")
        self.reader.limiter.succeeded(keys[:1])
        token = accounts.new_token(accounts.API_TOKEN_PREFIX)
        name = f"{APP_TOKEN_PREFIX} ({(app or 'app').strip()[:40] or 'app'})"
        self.reader.accounts.add_api_token(user.id, name, accounts.token_hash(token), now=now)
        return token

    def token_user(self, token: str | None) -> User:
        user = self.reader.token_user(token)
        if user is None:
            raise AuthError("unauthorized")
        return user

    def action_token(self, user: User, auth_token: str) -> str:
        """The Google Reader ``T`` token for POSTs: bound to the app token, so revoking one ends both."""
        return accounts.sign(self.reader.secret_key, f"greader-T:{user.id}:{accounts.token_hash(auth_token)}")[:57]

    def check_action_token(self, user: User, auth_token: str, given: str | None) -> None:
        if not given or not hmac.compare_digest(self.action_token(user, auth_token), given):
            raise AuthError("missing or wrong T token")

    def fever_user(self, api_key: str | None, *, client: str) -> User | None:
        """The reader of a Fever ``api_key``, or None; wrong keys are rate-limited per client address."""
        now = self.now()
        keys = [f"fever-client:{client}"]
        if self.reader.limiter.blocked_for(keys, now) is not None:
            return None
        key = (api_key or "").strip().lower()
        user = self.store.fever_user(accounts.token_hash(key)) if re.fullmatch(r"[0-9a-f]{32}", key) else None
        if user is None:
            self.reader.limiter.failed(keys, now)
        return user

    def item_mode(self, user: User) -> ItemMode:
        account = self.store.app_account(user.id)
        return account.item_mode if account is not None else "stories"

    def set_item_mode(self, user: User, mode: str) -> None:
        for known in ITEM_MODES:
            if mode == known:
                self.store.set_item_mode(user.id, known, now=self.now())
                return
        raise InputError(f"apps show either {' or '.join(ITEM_MODES)}")

    # -- subscriptions and folders ---------------------------------------------------------------------------

    def subscriptions(self, user: User) -> list[Subscription]:
        self.store.seed_subscriptions(user.id, now=self.now())
        return self.store.subscriptions(user.id)

    def find_subscription(self, user: User, ref: str) -> Subscription:
        """A subscription by feed URL or source id; ``NotFoundError`` when the reader has none such."""
        for sub in self.subscriptions(user):
            if ref == sub.url or ref == str(sub.source_id):
                return sub
        raise NotFoundError("no such subscription")

    def folders(self, user: User) -> list[str]:
        return sorted({s.folder for s in self.subscriptions(user) if s.folder}, key=str.lower)

    def quickadd(self, user: User, url: str, *, folder: str | None = None, title: str | None = None) -> Subscription:
        """Subscribe to a feed: an existing source, or (admins only, as on the web) a new one."""
        url = url.strip()
        if url.startswith("feed/"):
            url = url[len("feed/"):]
        if not url.startswith(("http://", "https://")):
            raise InputError("a feed address starts with http:// or https://")
        self.subscriptions(user)  # seed first, so a new reader's first add does not hide every other source
        source = self.reader.service.storage.find_source(url)
        if source is None:
            if not user.is_admin:
                raise AccessDeniedError("only an admin may add new sources")
            result = self.reader.add_source(user, url)
            source = result.source
            if source is None:
                raise InputError("that address is not a feed")
        self.store.subscribe(user.id, source.id, title=title, folder=folder, now=self.now())
        return self.find_subscription(user, str(source.id))

    def unsubscribe(self, user: User, ref: str) -> None:
        self.store.unsubscribe(user.id, self.find_subscription(user, ref).source_id)

    def edit_subscription(self, user: User, ref: str, *, title: str | None = None, add_folder: str | None = None,
                          remove_folder: str | None = None) -> None:  # fmt: skip
        sub = self.find_subscription(user, ref)
        changes: dict[str, str | None] = {}
        if title is not None and title.strip():
            changes["title"] = title.strip()[:500]
        if remove_folder is not None and sub.folder == remove_folder:
            changes["folder"] = None
        if add_folder is not None:
            changes["folder"] = _folder_name(add_folder)
        self.store.edit_subscription(user.id, sub.source_id, **changes)

    def rename_folder(self, user: User, old: str, new: str) -> None:
        if old in CURATED_LABELS:
            raise InputError(f"{old!r} is newsloom's own label")
        if not self.store.rename_folder(user.id, old, _folder_name(new)):
            raise NotFoundError("no such folder")

    def remove_folder(self, user: User, folder: str) -> None:
        if folder in CURATED_LABELS:
            raise InputError(f"{folder!r} is newsloom's own label")
        if not self.store.clear_folder(user.id, folder):
            raise NotFoundError("no such folder")

    # -- streams ---------------------------------------------------------------------------------------------

    def curated_story_ids(self, user: User, label: str) -> tuple[str, ...]:
        if label == TOP_STORIES:
            return tuple(r.story.id for r in self.reader.top_stories(limit=CURATED_LIMIT))
        return tuple(r.story.id for r in self.reader.for_you(user, limit=CURATED_LIMIT))

    def folder_stream(self, user: User, label: str) -> StreamSpec:
        if label in CURATED_LABELS:
            return StreamSpec(story_ids=self.curated_story_ids(user, label))
        ids = tuple(s.source_id for s in self.subscriptions(user) if s.folder == label)
        if not ids:
            raise NotFoundError("no such folder")
        return StreamSpec(source_ids=ids)

    def feed_stream(self, user: User, ref: str) -> StreamSpec:
        return StreamSpec(source_ids=(self.find_subscription(user, ref).source_id,))

    def query(self, user: User, spec: StreamSpec, **options: object) -> StreamQuery:
        self.store.seed_subscriptions(user.id, now=self.now())  # a first call seeds the reader's subscriptions
        read = options.pop("read", None)
        starred = options.pop("starred", None)
        mode = cast(ItemMode, options.pop("mode", None) or self.item_mode(user))
        return StreamQuery(
            mode=mode, source_ids=spec.source_ids, story_ids=spec.story_ids,
            read=spec.read if read is None else read,  # type: ignore[arg-type]
            starred=spec.starred if starred is None else starred,  # type: ignore[arg-type]
            **options,  # type: ignore[arg-type]
        )  # fmt: skip

    def stream(self, user: User, query: StreamQuery) -> list[StreamRow]:
        return self.store.stream(user.id, query)

    def count(self, user: User, query: StreamQuery) -> int:
        return self.store.count_items(user.id, query)

    def total_items(self, user: User) -> int:
        """How many items the reader's whole reading list holds (cached ``TOTAL_CACHE_TTL_S``)."""
        mode = self.item_mode(user)
        with self._lock:
            hit = self._totals.get((user.id, mode))
        if hit is not None and time.monotonic() - hit[0] < TOTAL_CACHE_TTL_S:
            return hit[1]
        total = self.count(user, self.query(user, StreamSpec()))
        with self._lock:
            self._totals[(user.id, mode)] = (time.monotonic(), total)
        return total

    def unread_counts(self, user: User) -> tuple[dict[int, tuple[int, datetime | None]], int]:
        """Unread items per subscribed source, and in the whole reading list."""
        mode = self.item_mode(user)
        self.subscriptions(user)
        per_source = {c.source_id: (c.count, c.newest) for c in self.store.unread_counts(user.id, mode)}
        total = self.store.count_items(user.id, StreamQuery(mode=mode, read=False))
        return per_source, total

    def items(self, user: User, item_ids: Sequence[int], mode: ItemMode | None = None) -> list[ItemView]:
        """Views of these items, in the given order; unknown ids are left out.

        A page of items is a fixed number of batched reads whatever its size (articles, their members, read and
        starred state, story versions); a story item is rendered from the story's stored page (built at ingest,
        see ``story_pages``) and kept in memory per story version, so no comparison is ever computed here.
        """
        mode = mode or self.item_mode(user)
        found = self.store.item_articles(item_ids, story_bodies=mode != "stories")
        ids = [i for i in dict.fromkeys(item_ids) if i in found]
        members = self.store.expand_items(ids, mode)
        everything = [a for i in ids for a in members.get(i, [i])]
        read, starred = self.store.item_state(user.id, everything)
        subs = {s.source_id: s for s in self.subscriptions(user)}
        stories: dict[str, tuple[StoryItemKey, StoryItem]] = {}
        if mode == "stories":
            stories = self.story_items([sid for i in ids if (sid := found[i].story_id)])
        views = []
        for item_id in ids:
            article = found[item_id]
            group = members.get(item_id, [item_id])
            held = stories.get(article.story_id) if article.story_id else None
            # The item's feed: the first of the reader's subscriptions that carried it (or any of its story).
            carriers = [*article.source_ids, *(held[1].source_ids if held is not None else ())]
            source = next((subs[s] for s in carriers if s in subs), None)
            common = {
                "id": item_id, "url": article.url, "author": article.author, "source": source,
                "read": all(a in read for a in group), "starred": any(a in starred for a in group),
                "folders": (source.folder,) if source is not None and source.folder else (),
                "story_id": article.story_id, "crawled": article.added_at,
            }  # fmt: skip
            if held is not None:
                key, item = held
                views.append(ItemView(
                    title=item.title, html=item.html, outlet_links=item.links, published=item.published or article.dated_at,
                    updated=item.updated or article.dated_at, cache_key=(item_id, *key), **common,  # type: ignore[arg-type]
                ))  # fmt: skip
            else:
                views.append(ItemView(
                    title=article.title or "(untitled)", html=article_html(article),
                    published=article.dated_at, updated=article.dated_at, **common,  # type: ignore[arg-type]
                ))  # fmt: skip
        return views

    def story_items(self, story_ids: Sequence[str]) -> dict[str, tuple[StoryItemKey, StoryItem]]:
        """Each story as an item, from its stored page; a story whose page is not built yet (or is older than
        the story) shows its headline, summary and links only until the page is built (at ingest, or on its
        first view on the web) — a page read here never runs a comparison.

        One read of the stories' versions; the stories and pages are read (one batched query) only for those
        not in memory at that version.
        """
        out: dict[str, tuple[StoryItemKey, StoryItem]] = {}
        missing = []
        for story_id, (version, page_version) in self.store.story_page_versions(story_ids).items():
            key = (story_id, version, page_version == version)
            hit = self._story_items.get(key)
            if hit is not None:
                out[story_id] = (key, hit)
            else:
                missing.append(story_id)
        if not missing:
            return out
        current = self.store.stories_with_pages(missing)
        pages = {sid: story_pages.decode_page(c) if c.fresh else None for sid, c in current.items()}
        bare = [sid for sid, page in pages.items() if page is None]
        coverage = self.reader.accounts.coverage(bare) if bare else {}
        names = self.reader.source_names() if bare else {}
        for story_id, c in current.items():
            page = pages[story_id]
            if page is not None:
                item = story_item_of_page(page)
            else:
                briefs = coverage.get(story_id, [])
                links = tuple((self.reader.outlet_of(b, names), b.url) for b in briefs if b.url)
                item = StoryItem(
                    title=c.story.headline, html=story_html(c.story, None, links), links=links,
                    source_ids=tuple(s for b in briefs for s in b.source_ids),
                    published=c.story.first_seen, updated=c.story.last_seen,
                )  # fmt: skip
            key = (story_id, c.version, page is not None)
            self._story_items.put(key, item)
            out[story_id] = (key, item)
        return out

    def set_state(self, user: User, item_ids: Sequence[int], *, read: bool | None = None,
                  starred: bool | None = None) -> int:  # fmt: skip
        """Mark items read/unread and/or starred/unstarred; every article behind each item changes."""
        members = self.store.expand_items(list(item_ids), self.item_mode(user))
        articles = [a for group in members.values() for a in group]
        changed = 0
        if read is not None:
            changed += self.store.set_read(user.id, articles, read, now=self.now())
        if starred is not None:
            # Starring a story saves its head article (one saved item), unstarring unsaves all of them.
            targets = list(members) if starred else articles
            changed += self.store.set_starred(user.id, targets, starred, now=self.now())
        return changed

    def mark_all_read(self, user: User, spec: StreamSpec, *, before: datetime | None = None,
                      max_id: int | None = None) -> int:  # fmt: skip
        query = self.query(user, spec, until=before, max_id=max_id)
        return self.store.mark_stream_read(user.id, query, now=self.now())


def _folder_name(label: str) -> str:
    name = label.strip()
    if name.startswith("user/"):
        name = name.split("/label/", 1)[-1]
    if not name or len(name) > 200:
        raise InputError("a folder name has 1 to 200 characters")
    if name in CURATED_LABELS:
        raise InputError(f"{name!r} is newsloom's own label")
    return name


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def article_html(article: ItemArticle) -> str:
    """The article's sanitized HTML (stored sanitized), else its text as paragraphs."""
    if article.html.strip():
        return article.html
    return "".join(f"<p>{_escape(p)}</p>" for p in article.text.split("\n\n") if p.strip())


def story_html(story: Story, comparison: ComparisonView | None, links: Sequence[tuple[str, str]]) -> str:
    """A story as one item: summary, what the outlets agree on, what each adds, and every outlet's copy."""
    parts = [f"<p>{_escape(story.summary)}</p>"] if story.summary else []
    if comparison is not None and comparison.agree:
        parts.append("<h3>What the outlets agree on</h3><ul>")
        parts += [f"<li>{_escape(c['text'])} <em>({_escape(', '.join(c['outlets']))})</em></li>" for c in comparison.agree]
        parts.append("</ul>")
    if comparison is not None and comparison.only_here:
        parts.append("<h3>What each outlet adds</h3><ul>")
        parts += [f"<li><strong>{_escape(c['outlet'])}:</strong> {_escape(c['text'])}</li>" for c in comparison.only_here]
        parts.append("</ul>")
    if links:
        parts.append(f"<h3>Coverage ({len(links)})</h3><ul>")
        parts += [f'<li><a href="{_escape(url)}">{_escape(outlet)}</a></li>' for outlet, url in links]
        parts.append("</ul>")
    return "".join(parts)
