"""The reader's use cases: top stories, story and article views, search, sources, accounts and personal state.

``ReaderService`` wraps one ``service.Service`` (the one use-case layer) and adds what the web reader, its
JSON API and its Atom feeds need. Web routes call this and nothing below it. Decisions (ranking, related,
For you) are the pure functions of ``newsloom.stories.rank``; this module gathers their inputs.

Thread safety: the web server calls it from a thread pool. Storage calls are thread-safe; the few use cases
that go through the ingest intake (adding a source that turns out to be an article page, WebSub pushes) take
the Service's ``intake_lock``, which the poller of ``newsloom run`` takes as well.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from newsloom import accounts, story_pages
from newsloom.errors import (
    AccessDeniedError,
    AuthError,
    InputError,
    NotFoundError,
    RateLimitedError,
)
from newsloom.ingest.groupcommit import GroupCommit
from newsloom.ingest.opml import parse_opml
from newsloom.ingest.subscriber import Delivery
from newsloom.ingest.websub import Verification
from newsloom.lru import Lru
from newsloom.service import ORIGINALITY_DAYS, AddResult, Service, compare_inputs
from newsloom.storage.accounts_base import (
    FOLLOW_KINDS,
    AccountStorage,
    ApiToken,
    ArticleBrief,
    Follow,
    FollowKind,
    Invite,
    Pick,
    ReadEntry,
    SavedItem,
    User,
)
from newsloom.storage.accounts_store import SqlAccountStore
from newsloom.storage.base import SearchHit
from newsloom.stories import rank
from newsloom.stories.originality import OutletShare
from newsloom.stories.origins import OriginArticle, StoryOrigins, story_origins
from newsloom.stories.outlets import host_of, outlet_key
from newsloom.types import Article, Source, Story

# Top stories are ranked among the stories most recently seen: 400 covers two busy days of a few hundred
# feeds (about 150-200 new stories a day), and ranking them takes a few ms.
TOP_CANDIDATES = 400
# Ranking is cached this long: a page view every second would otherwise re-read every candidate's coverage.
# New articles show up within half a minute, which a news front page tolerates.
TOP_CACHE_TTL_S = 30.0
# The comparison aligns every pair of sentences; past this many originals it is slow and no more readable.
COMPARE_MAX_ARTICLES = 16
# For you reads the entities of the stories behind this many of the reader's latest reads and saves.
HISTORY_DEPTH = 50
RELATED_CANDIDATES = 200
# Decoded story pages kept in memory, by story id, each with the version and build it came from: a view reads
# the story's version (one indexed read) and decodes its stored page only when that changed.
PAGE_MEMO_SIZE = 1024
# Search results kept in memory, keyed by the query, its filters, the page and the newest article id (a new
# article is a new key). 256 covers the popular queries of a busy reader site.
SEARCH_MEMO_SIZE = 256
SIGNUP_MODE_KEY = "signup_mode"  # "open" | "invite"
_A = TypeVar("_A", Article, ArticleBrief)


@dataclass(frozen=True, slots=True)
class StoryArticle:
    article: Article
    outlet: str
    is_new: bool = False
    saved: bool = False
    read: bool = False
    excerpt: str = ""  # the start of the article's text


@dataclass(frozen=True, slots=True)
class ComparisonView:
    agree: list[dict[str, Any]]
    only_here: list[dict[str, Any]]
    differs: list[dict[str, Any]]
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoryView:
    story: Story
    why: str
    articles: list[StoryArticle]
    comparison: ComparisonView | None
    timeline: list[tuple[datetime, int]]
    related: list[rank.RelatedStory]
    previous_visit: datetime | None = None
    new_count: int = 0
    picked: bool = False
    followed_entities: frozenset[str] = frozenset()
    following_story: bool = False
    built_at: datetime | None = None  # when the stored page was built: the story page's Last-Modified
    version: int = 0  # the story version the page shows
    origins: StoryOrigins | None = None


@dataclass(frozen=True, slots=True)
class ArticleView:
    article: Article
    outlet: str
    sources: list[Source]
    saved: bool = False


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    articles: list[SearchHit]
    stories: list[Story]
    outlets: dict[int, str] = field(default_factory=dict)
    key: tuple[object, ...] = ()  # what the results were computed from (for caches of pages showing them)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: Source
    status: str  # "ok" | "new" | "failing"
    note: str
    originality: OutletShare | None = None  # its labelled articles of the window, when it has any


@dataclass(frozen=True, slots=True)
class Signin:
    user: User
    session_token: str


_host = host_of


class ReaderService:
    """The reader's use cases over one ``Service``. See the module docstring."""

    def __init__(
        self,
        service: Service,
        *,
        secret_key: str,
        clock: Callable[[], datetime] | None = None,
        top_cache_ttl_s: float = TOP_CACHE_TTL_S,
    ) -> None:
        self.service = service
        self.secret_key = secret_key
        self.accounts: AccountStorage = SqlAccountStore.for_storage(service.storage)
        self.limiter = accounts.LoginLimiter()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._top_ttl = top_cache_ttl_s
        self._top_cache: tuple[float, list[rank.RankedStory], dict[str, list[rank.CoverageItem]]] | None = None
        self.top_generation = 0  # counts rankings: a new ranking is a new key for what is cached from it
        self._pages: Lru[tuple[int, datetime, story_pages.StoryPage, bool]] = Lru(PAGE_MEMO_SIZE)
        self._origins: Lru[tuple[int, datetime, StoryOrigins]] = Lru(PAGE_MEMO_SIZE)
        self._searches: Lru[SearchResults] = Lru(SEARCH_MEMO_SIZE)
        self._lock = threading.Lock()
        self._ranking = threading.Lock()  # held by the one thread ranking top stories
        # The Service's own: a poll through the same Service (``newsloom run``) takes it too.
        self._intake_lock = service.intake_lock
        self._pushes: GroupCommit[tuple[int, bytes, dict[str, str]], Delivery] | None = None

    def now(self) -> datetime:
        return self._clock()

    # -- outlets ---------------------------------------------------------------------------------------------

    def source_names(self) -> dict[int, str]:
        return {s.id: s.title or _host(s.site_url or s.url) or s.url for s in self.service.sources()}

    def outlet_of(self, article: Article | ArticleBrief | SearchHit, names: dict[int, str]) -> str:
        if article.publisher:
            return article.publisher
        for source_id in article.source_ids:
            if source_id in names:
                return names[source_id]
        return _host(article.url) or "unknown outlet"

    def _coverage_items(self, briefs: dict[str, list[ArticleBrief]]) -> dict[str, list[rank.CoverageItem]]:
        return {
            story_id: [
                rank.CoverageItem(
                    article_id=b.id, outlet=outlet_key(b.publisher, b.source_ids, b.url), at=b.dated_at, original_id=b.original_id,
                    source_ids=b.source_ids,
                )
                for b in items
            ]
            for story_id, items in briefs.items()
        }

    # -- top stories -----------------------------------------------------------------------------------------

    def _ranked(self) -> tuple[list[rank.RankedStory], dict[str, list[rank.CoverageItem]]]:
        with self._lock:
            cached = self._top_cache
            if cached is not None and time.monotonic() - cached[0] < self._top_ttl:
                return cached[1], cached[2]
        # One thread ranks; while it does, the others answer with the ranking it replaces (if there is one)
        # instead of ranking the same 400 candidates at once (the front page's p99 under load was that pile-up).
        if not self._ranking.acquire(blocking=cached is None):
            assert cached is not None
            return cached[1], cached[2]
        try:
            with self._lock:
                fresh = self._top_cache
                if fresh is not None and fresh is not cached and time.monotonic() - fresh[0] < self._top_ttl:
                    return fresh[1], fresh[2]
            candidates = self.service.stories(limit=TOP_CANDIDATES)
            coverage = self._coverage_items(self.accounts.coverage([s.id for s in candidates]))
            ranked = rank.top_stories(candidates, coverage, self.now(), limit=TOP_CANDIDATES)
            with self._lock:
                self._top_cache = (time.monotonic(), ranked, coverage)
                self.top_generation += 1
            return ranked, coverage
        finally:
            self._ranking.release()

    def fresh_top_generation(self) -> int | None:
        """The generation of the ranking ``top_stories`` answers with now, or None when it would rank again.

        Cheap (no database read): lets a cache of what is computed from the ranking be checked in place.
        """
        with self._lock:
            cached = self._top_cache
            if cached is not None and time.monotonic() - cached[0] < self._top_ttl:
                return self.top_generation
        return None

    def invalidate(self) -> None:
        with self._lock:
            self._top_cache = None

    def top_stories(self, *, limit: int = 30, offset: int = 0) -> list[rank.RankedStory]:
        ranked, _ = self._ranked()
        return ranked[offset : offset + limit]

    def why(self, story: Story) -> str:
        for ranked in self._ranked()[0]:
            if ranked.story.id == story.id:
                return ranked.why
        coverage = self._coverage_items(self.accounts.coverage([story.id]))
        return rank.why_line(rank.story_stats(story, coverage.get(story.id, []), self.now()), self.now())

    # -- stories and articles --------------------------------------------------------------------------------

    def story(self, story_id: str) -> Story:
        return self.service.story(story_id)

    def story_page(self, story_id: str) -> tuple[story_pages.StoryPage, bool]:
        """The story's stored page (rebuilt first if the story changed since) and whether it is an editor pick.

        One indexed read when the page is in memory already: picks bump the story's version too, so the
        version and build of the stored page say whether what is in memory still holds.
        """
        storage = self.service.storage
        memo = self._pages.get(story_id)
        if memo is not None:  # check the version and build alone, without reading the stored page again
            current = storage.story_with_page(story_id, with_payload=False)
            held = memo[2].story.id == current.story.id and memo[:2] == (current.version, current.page and current.page.built_at)
            if current.fresh and held:
                return memo[2], memo[3]
        current = storage.story_with_page(story_id)
        page = story_pages.page_of(storage, self.accounts, current, now=self.now())
        picked = self.accounts.is_picked(page.story.id)
        self._pages.put(story_id, (page.version, page.built_at, page, picked))
        return page, picked

    def story_view(self, story_id: str, user: User | None = None, *, with_comparison: bool = True) -> StoryView:
        page, picked = self.story_page(story_id)
        return self.view_of(page, picked, user, with_comparison=with_comparison)

    def view_of(
        self, page: story_pages.StoryPage, picked: bool, user: User | None = None, *, with_comparison: bool = True
    ) -> StoryView:
        """The story page as ``user`` sees it (new since their last visit, saved, read, followed names)."""
        story = page.story
        previous = None
        saved: set[int] = set()
        read: set[int] = set()
        followed: frozenset[str] = frozenset()
        following_story = False
        if user is not None:
            previous = self.accounts.visit_story(user.id, story.id, now=self.now())
            ids = [a.id for a in page.articles]
            saved = self.accounts.saved_ids(user.id, ids)
            read = self.accounts.read_ids(user.id, ids)
            follows = self.accounts.list_follows(user.id)
            followed = frozenset(f.value.lower() for f in follows if f.kind == "entity")
            following_story = any(f.kind == "story" and f.value == story.id for f in follows)
        rows = []
        for a in page.articles:
            is_new = previous is not None and a.added_at is not None and a.added_at > previous
            rows.append(StoryArticle(a.as_article(story.id), a.outlet, is_new, a.id in saved, a.id in read, a.excerpt))
        comparison = None
        if with_comparison and page.comparison is not None:
            comparison = comparison_view(page.comparison, page.compared_outlets)
        return StoryView(
            story=story,
            why=page.why(self.now()),
            articles=rows,
            comparison=comparison,
            origins=self._page_origins(page) if with_comparison else None,
            timeline=page.timeline,
            related=page.related,
            previous_visit=previous,
            new_count=sum(r.is_new for r in rows),
            picked=picked,
            followed_entities=followed,
            following_story=following_story,
            built_at=page.built_at,
            version=page.version,
        )

    def _page_origins(self, page: story_pages.StoryPage) -> StoryOrigins:
        """``origins`` of the page's story, computed once per story version and build (labels are set with the
        story's assignment, which bumps its version)."""
        held = self._origins.get(page.story.id)
        if held is not None and held[:2] == (page.version, page.built_at):
            return held[2]
        found = self.origins(page.story)
        self._origins.put(page.story.id, (page.version, page.built_at, found))
        return found

    def comparison(
        self, story: Story, articles: Sequence[Article] | None = None, names: dict[int, str] | None = None
    ) -> ComparisonView | None:
        """The story's comparison (agree / only here / differs), computed once per set of articles."""
        names = names if names is not None else self.source_names()
        compared = self._compared(story, articles)
        if compared is None:
            return None
        chosen, raw = compared
        return comparison_view(raw, [self.outlet_of(a, names) for a in chosen])

    def _compared(
        self, story: Story, articles: Sequence[Article] | None = None
    ) -> tuple[list[Article], dict[str, Any]] | None:
        """The compared articles (in the comparison's order) and the comparison's dict, cached per set."""
        from newsloom.stories.compare import compare_articles, comparison_to_dict

        if articles is None:
            articles = self.service.story_articles(story.id)
        chosen = compared_articles(articles)
        if len(chosen) < 2:
            return None
        fingerprint = comparison_fingerprint(chosen)
        payload = self.accounts.cached_comparison(story.id, fingerprint)
        if payload is None:
            data = comparison_to_dict(compare_articles(compare_inputs(chosen)))
            payload = json.dumps(data, ensure_ascii=False)
            self.accounts.store_comparison(story.id, fingerprint, payload, now=self.now())
        return chosen, json.loads(payload)

    def origins(self, story: Story, articles: Sequence[Article] | None = None) -> StoryOrigins:
        """Who reported first, how each outlet's articles are labelled, which claims each added."""
        if articles is None:
            articles = self.service.story_articles(story.id)
        names = self.source_names()
        compared = self._compared(story, articles)
        shown, raw = compared if compared is not None else (list(articles), None)
        labels = self.service.originality_labels(a.id for a in articles)
        items = [
            OriginArticle(self.outlet_of(a, names), a.published_at or a.fetched_at, labels.get(a.id)) for a in shown
        ]
        # articles beyond the compared ones still show their outlet and label (they added nothing compared)
        compared_ids = {a.id for a in shown}
        items += [
            OriginArticle(self.outlet_of(a, names), a.published_at or a.fetched_at, labels.get(a.id))
            for a in articles
            if a.id not in compared_ids
        ]
        return story_origins(items, raw)

    def article_view(self, article_id: int, user: User | None = None) -> ArticleView:
        article = self.service.article(article_id)
        saved = False
        if user is not None:
            self.accounts.mark_read(user.id, article.id, now=self.now())
            saved = bool(self.accounts.saved_ids(user.id, [article.id]))
        return ArticleView(article, self.outlet_of(article, self.source_names()), self.service.article_sources(article.id), saved)

    # -- search ----------------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        source_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        entity: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        """Articles matching ``query`` (web-search syntax) and the stories they belong to.

        ``entity`` keeps articles that mention that name (as a phrase), so it works alone or with a query.
        """
        text = query.strip()
        if entity and entity.strip():
            text = f'{text} "{entity.strip().replace(chr(34), " ")}"'.strip()
        if not text:
            return SearchResults(query=query, articles=[], stories=[])
        # The newest article id is in the key: a new article is a new search. Source names and story headlines
        # of the hits may lag by at most the ranking's TTL (the time bucket).
        key = (text, source_id, since, until, limit, offset, self.service.storage.latest_article_id(), self._bucket())
        cached = self._searches.get(key) if self._top_ttl > 0 else None
        if cached is not None:
            return replace(cached, query=query)
        found = self.service.storage.search_hits(text, source_id=source_id, since=since, until=until, limit=limit, offset=offset)
        story_ids = list(dict.fromkeys(a.story_id for a in found if a.story_id))
        stories: list[Story] = []
        for story_id in story_ids[:10]:
            try:
                stories.append(self.service.story(story_id))
            except NotFoundError:
                continue
        names = self.source_names()
        outlets = {a.id: self.outlet_of(a, names) for a in found}
        results = SearchResults(query=query, articles=found, stories=stories, outlets=outlets, key=key)
        self._searches.put(key, results)
        return results

    def _bucket(self) -> int:
        """The current period of the ranking's TTL: part of cache keys for what may lag by that much."""
        return int(time.monotonic() // self._top_ttl) if self._top_ttl > 0 else 0

    # -- sources ---------------------------------------------------------------------------------------------

    def sources_health(self, *, days: float = ORIGINALITY_DAYS) -> list[SourceHealth]:
        out = []
        shares = self.service.originality(days=days, now=self.now())
        for s in self.service.sources():
            if s.error_count:
                status, note = "failing", f"{s.error_count} failure{'s' if s.error_count > 1 else ''}: {s.last_error or ''}"
            elif s.last_success_at is None:
                status, note = "new", "not polled yet"
            else:
                status, note = "ok", "polling normally"
            out.append(SourceHealth(s, status, note.strip(), shares.get(s.id)))
        return out

    def add_source(self, actor: User, url: str, *, category: str | None = None) -> AddResult:
        self.require_admin(actor)
        url = url.strip()
        if not url.startswith(("http://", "https://")):
            raise InputError("enter a web address starting with http:// or https://")
        with self._intake_lock:
            result = self.service.add(url, category=category or None)
        self.invalidate()
        return result

    # -- WebSub callbacks (called by hubs, not readers) ----------------------------------------------------------

    def websub_verify(self, subscription_id: int, params: dict[str, str]) -> Verification:
        return self.service.websub_verify(subscription_id, params)

    def websub_deliver(self, subscription_id: int, body: bytes, headers: dict[str, str]) -> Future[Delivery]:
        """Queue a hub's delivery for the push thread; the future resolves once its articles are committed.

        Deliveries arriving together are stored together (group commit); the intake is not thread-safe, so
        the push thread takes the same lock as the other use cases that ingest.
        """
        if self._pushes is None:
            self._pushes = GroupCommit(self._deliver_batch, name="newsloom-websub")
        return self._pushes.submit((subscription_id, body, headers))

    def _deliver_batch(self, batch: Sequence[tuple[int, bytes, dict[str, str]]]) -> list[Delivery]:
        # No ``invalidate()``: the top-stories ranking is cached TOP_CACHE_TTL_S on purpose, and dropping it on
        # every push made each story page view under a push burst re-rank all candidates (the story page
        # itself reads the story fresh, so a pushed article shows there at once).
        with self._intake_lock:
            return self.service.websub_deliver_many(batch)

    def remove_source(self, actor: User, source_id: int) -> Source:
        self.require_admin(actor)
        return self.service.remove(str(source_id))

    def import_opml(self, actor: User, content: bytes) -> tuple[int, int]:
        self.require_admin(actor)
        return self.service.subscribe(parse_opml(content))

    def export_opml(self) -> bytes:
        return self.service.export_opml()

    # -- accounts --------------------------------------------------------------------------------------------

    def signup_mode(self) -> str:
        stored = self.accounts.get_setting(SIGNUP_MODE_KEY)
        if stored in ("open", "invite"):
            return stored
        return "open" if self.service.settings.open_signup else "invite"

    def set_signup_mode(self, actor: User, mode: str) -> None:
        self.require_admin(actor)
        if mode not in ("open", "invite"):
            raise InputError("sign-up is either open or invite")
        self.accounts.set_setting(SIGNUP_MODE_KEY, mode)

    def signup(self, username: str, password: str, *, invite_code: str | None = None) -> User:
        name = accounts.check_username(username)
        accounts.check_password_rules(password)
        invite_hash = accounts.token_hash(invite_code.strip()) if invite_code and invite_code.strip() else None
        invited = invite_hash is not None and self.accounts.valid_invite(invite_hash, now=self.now())
        if self.signup_mode() == "invite" and not invited:
            raise AccessDeniedError("sign-up is by invitation: this invite code is unknown, used or expired")
        user = self.accounts.add_user(name, accounts.hash_password(password), role="reader", now=self.now())
        if invite_hash is not None and invited:
            self.accounts.use_invite(invite_hash, user.id, now=self.now())
        return user

    def create_admin(self, username: str, password: str) -> User:
        """``newsloom createadmin``: a new admin, or an existing user promoted (and given this password)."""
        name = accounts.check_username(username)
        existing = self.accounts.find_user(name)
        password_hash = accounts.hash_password(password)
        if existing is not None:
            return self.accounts.update_user(existing.id, role="admin", password_hash=password_hash, disabled=False)
        return self.accounts.add_user(name, password_hash, role="admin", now=self.now())

    def signin(self, username: str, password: str, *, client: str, user_agent: str | None = None) -> Signin:
        now = self.now()
        keys = [f"user:{username.strip().lower()}", f"client:{client}"]
        wait = self.limiter.blocked_for(keys, now)
        if wait is not None:
            seconds = max(1, int(wait.total_seconds()) + 1)
            raise RateLimitedError(f"too many failed sign-ins; try again in {seconds // 60 + 1} minutes", seconds)
        user = self.accounts.find_user(username)
        if user is None:
            accounts.burn_verification(password)
        if user is None or user.disabled or not accounts.verify_password(user.password_hash, password):
            self.limiter.failed(keys, now)
            raise AuthError("wrong username or password")
        self.limiter.succeeded(keys[:1])  # the client key keeps counting: one address guessing many accounts
        changes: dict[str, object] = {"last_login_at": now}
        if accounts.needs_rehash(user.password_hash):
            changes["password_hash"] = accounts.hash_password(password)
        user = self.accounts.update_user(user.id, **changes)
        token = accounts.new_token()
        self.accounts.add_session(
            accounts.token_hash(token), user.id, now=now, expires_at=now + accounts.SESSION_LIFETIME, user_agent=user_agent
        )
        return Signin(user, token)

    def signout(self, session_token: str) -> None:
        self.accounts.delete_session(accounts.token_hash(session_token))

    def session_user(self, session_token: str | None) -> User | None:
        if not session_token:
            return None
        return self.accounts.session_user(accounts.token_hash(session_token), now=self.now())

    def token_user(self, api_token: str | None) -> User | None:
        if not api_token:
            return None
        return self.accounts.token_user(accounts.token_hash(api_token), now=self.now())

    def create_api_token(self, user: User, name: str) -> tuple[ApiToken, str]:
        """A new personal API token; the plain token is returned once and never stored."""
        token = accounts.new_token(accounts.API_TOKEN_PREFIX)
        record = self.accounts.add_api_token(user.id, (name or "token").strip()[:80], accounts.token_hash(token), now=self.now())
        return record, token

    def api_tokens(self, user: User) -> list[ApiToken]:
        return self.accounts.list_api_tokens(user.id)

    def revoke_api_token(self, user: User, token_id: int) -> bool:
        return self.accounts.delete_api_token(user.id, token_id)

    def feed_key(self, user: User) -> str:
        return accounts.feed_key(self.secret_key, user.id, user.feed_nonce)

    def reset_feed_key(self, user: User) -> User:
        return self.accounts.update_user(user.id, feed_nonce=user.feed_nonce + 1)

    def feed_user(self, key: str) -> User | None:
        parsed = accounts.parse_feed_key(key)
        if parsed is None:
            return None
        try:
            user = self.accounts.get_user(parsed[0])
        except NotFoundError:
            return None
        if user.disabled or not accounts.feed_key_matches(self.secret_key, key, user.id, user.feed_nonce):
            return None
        return user

    def create_invite(self, actor: User) -> tuple[Invite, str]:
        self.require_admin(actor)
        code = accounts.new_token()[:22]
        now = self.now()
        invite = self.accounts.add_invite(accounts.token_hash(code), created_by=actor.id, now=now, expires_at=now + accounts.INVITE_LIFETIME)
        return invite, code

    def invites(self, actor: User) -> list[Invite]:
        self.require_admin(actor)
        return self.accounts.list_invites()

    def users(self, actor: User) -> list[User]:
        self.require_admin(actor)
        return self.accounts.list_users()

    def set_user_role(self, actor: User, user_id: int, role: str) -> User:
        self.require_admin(actor)
        if role not in ("admin", "reader"):
            raise InputError("a role is admin or reader")
        if user_id == actor.id and role != "admin":
            raise InputError("you cannot remove your own admin role")
        return self.accounts.update_user(user_id, role=role)

    def set_user_disabled(self, actor: User, user_id: int, disabled: bool) -> User:
        self.require_admin(actor)
        if user_id == actor.id:
            raise InputError("you cannot disable yourself")
        user = self.accounts.update_user(user_id, disabled=disabled)
        if disabled:
            self.accounts.delete_user_sessions(user_id)
        return user

    @staticmethod
    def require_admin(actor: User | None) -> User:
        if actor is None:
            raise AuthError("sign in first")
        if not actor.is_admin:
            raise AccessDeniedError("only an admin may do this")
        return actor

    # -- personal state --------------------------------------------------------------------------------------

    def follow(self, user: User, kind: str, value: str) -> bool:
        follow_kind = _follow_kind(kind)
        if follow_kind == "source":
            self.service.resolve_source(value.strip())  # NotFoundError for an unknown source
        if follow_kind == "story":
            value = self.service.story(value.strip()).id  # NotFoundError for an unknown story; merged: its new id
        return self.accounts.follow(user.id, follow_kind, value, now=self.now())

    def unfollow(self, user: User, kind: str, value: str) -> bool:
        return self.accounts.unfollow(user.id, _follow_kind(kind), value)

    def follows(self, user: User) -> list[tuple[Follow, str]]:
        """The reader's follows with a display label (a source's name instead of its id)."""
        names = self.source_names()
        out = []
        for f in self.accounts.list_follows(user.id):
            label = names.get(int(f.value), f"source {f.value}") if f.kind == "source" and f.value.isdigit() else f.value
            if f.kind == "story":
                try:
                    label = self.service.story(f.value).headline
                except NotFoundError:
                    label = f"story {f.value}"
            out.append((f, label))
        return out

    def save(self, user: User, article_id: int) -> bool:
        return self.accounts.save_item(user.id, article_id, now=self.now())

    def unsave(self, user: User, article_id: int) -> bool:
        return self.accounts.unsave_item(user.id, article_id)

    def saved(self, user: User, *, limit: int = 50, offset: int = 0) -> list[SavedItem]:
        return self.accounts.list_saved(user.id, limit=limit, offset=offset)

    def mark_read(self, user: User, article_id: int, read: bool = True) -> None:
        if read:
            self.accounts.mark_read(user.id, article_id, now=self.now())
        else:
            self.accounts.mark_unread(user.id, article_id)

    def history(self, user: User, *, limit: int = 50, offset: int = 0) -> list[ReadEntry]:
        return self.accounts.history(user.id, limit=limit, offset=offset)

    def for_you(self, user: User, *, limit: int = 30) -> list[rank.Recommendation]:
        ranked, coverage = self._ranked()
        follows = self.accounts.list_follows(user.id)
        names = self.source_names()
        sources = {int(f.value): names.get(int(f.value), f"source {f.value}") for f in follows if f.kind == "source" and f.value.isdigit()}
        story_ids: list[str] = []
        briefs = [e.article for e in self.accounts.history(user.id, limit=HISTORY_DEPTH)]
        briefs += [s.article for s in self.accounts.list_saved(user.id, limit=HISTORY_DEPTH)]
        for brief in briefs:
            if brief.story_id and brief.story_id not in story_ids:
                story_ids.append(brief.story_id)
        entity_counts: Counter[str] = Counter()
        seen: set[str] = set()
        for story_id in story_ids[:HISTORY_DEPTH]:
            try:
                story = self.service.story(story_id)
            except NotFoundError:
                continue
            seen.add(story.id)
            entity_counts.update(story.entities)
        interests = rank.Interests(
            sources=sources,
            topics=tuple(f.value for f in follows if f.kind == "topic"),
            entities=tuple(f.value for f in follows if f.kind == "entity"),
            history_entities=dict(entity_counts),
            seen_story_ids=frozenset(seen),
        )
        return rank.for_you(ranked, coverage, interests, limit=limit)

    # -- editor picks ----------------------------------------------------------------------------------------

    def pick(self, actor: User, story_id: str, note: str | None = None) -> None:
        self.require_admin(actor)
        story = self.service.story(story_id)
        self.accounts.add_pick(story.id, picked_by=actor.id, note=(note or "").strip() or None, now=self.now())
        self.service.storage.touch_story(story.id)  # its page shows the pick

    def unpick(self, actor: User, story_id: str) -> bool:
        self.require_admin(actor)
        removed = self.accounts.remove_pick(story_id)
        self.service.storage.touch_story(story_id)
        return removed

    def picks(self, *, limit: int = 30) -> list[tuple[Pick, Story]]:
        out = []
        for p in self.accounts.list_picks(limit=limit):
            try:
                out.append((p, self.service.story(p.story_id)))
            except NotFoundError:
                continue
        return out


def compared_articles(articles: Sequence[_A]) -> list[_A]:
    """The articles a comparison aligns: originals first, at most ``COMPARE_MAX_ARTICLES``, then by id (originals
    before their copies, so compare_inputs can link them)."""
    chosen = sorted(articles, key=lambda a: (a.original_id is not None, a.id))[:COMPARE_MAX_ARTICLES]
    chosen.sort(key=lambda a: a.id)
    return chosen


def comparison_fingerprint(chosen: Sequence[Article | ArticleBrief]) -> str:
    return hashlib.sha256(",".join(str(a.id) for a in chosen).encode()).hexdigest()


def _follow_kind(kind: str) -> FollowKind:
    for known in FOLLOW_KINDS:
        if kind == known:
            return known
    raise InputError(f"cannot follow a {kind!r}: use one of {', '.join(FOLLOW_KINDS)}")


def comparison_view(raw: dict[str, Any], outlets: Sequence[str]) -> ComparisonView:
    """The comparison as three lists a page shows: what outlets agree on, what only one has, where they differ."""

    def name(index: int) -> str:
        return outlets[index] if 0 <= index < len(outlets) else f"article {index}"

    claims = {c["id"]: c for c in raw.get("claims", [])}
    agree = [
        {"text": c["sentences"][0]["text"], "outlets": sorted({name(o) for o in c["outlets"]}), "claim": c["id"]}
        for c in raw.get("claims", [])
        if c.get("consensus") and c.get("sentences")
    ]
    only_here = [
        {"text": c["sentences"][0]["text"], "outlet": name(c["outlets"][0]), "claim": c["id"]}
        for c in raw.get("claims", [])
        if not c.get("consensus") and c.get("sentences") and c.get("outlets") and not c.get("caption")
    ]
    differs = []
    for d in raw.get("differences", []):
        claim = claims.get(d.get("claim"))
        differs.append(
            {
                "kind": d.get("kind", ""),
                "note": d.get("note", ""),
                "context": claim["sentences"][0]["text"] if claim and claim.get("sentences") else "",
                "values": [{"outlet": name(v["article"]), "text": v["text"]} for v in d.get("values", [])],
            }
        )
    return ComparisonView(agree=agree, only_here=only_here, differs=differs, raw=raw)
