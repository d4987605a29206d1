"""A story's page, built when the story changes and stored, so that viewing it is one indexed read.

A story page shows the coverage (one row per article, with its outlet), the claim-by-claim comparison, the
coverage timeline and related stories. Building it reads every article of the story and may run the
comparison, far too much for each view (bench/web.py: 13 req/s at 100k articles when it was done per view).
So ``refresh_story_page`` builds it when the story changes (the ingest intake calls it after each commit that
touched stories, in-process or in the queue's assigner) and stores it with the story version it was built
from. ``story_page`` reads the story and its stored page in one query and serves the page only when it was
built from the story's current version; otherwise (a write that bypassed the intake, a page never built, a
newer payload format) it rebuilds it first. Every write that changes what the page shows bumps the version
(``Storage.story_with_page`` lists them), so a page is never served stale.

What depends on the reader (saved, read, new since the last visit, followed names) and on the clock (the why
line) is not stored: the reader service adds it at view time from the stored rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from newsloom.errors import NewsloomError
from newsloom.storage.accounts_base import AccountStorage, ArticleBrief
from newsloom.storage.base import Storage, StoryWithPage
from newsloom.stories import rank
from newsloom.stories.outlets import host_of, outlet_key
from newsloom.types import Article, Story

log = logging.getLogger(__name__)

# Bump when the payload's shape changes: pages stored in an older format are rebuilt on their next view.
PAGE_FORMAT = 1
# The comparison aligns every pair of sentences; past this many originals it is slow and no more readable.
COMPARE_MAX_ARTICLES = 16
# Most articles a page lists (a story rarely has more; the comparison takes the first originals anyway).
PAGE_MAX_ARTICLES = 500
# Related stories are looked for among the stories most recently seen.
RELATED_CANDIDATES = 200
# Characters of each article's text kept on the page (the story's Atom feed uses them as entry summaries).
EXCERPT_CHARS = 400


@dataclass(frozen=True, slots=True)
class PageArticle:
    """One row of a story's coverage: the article without its text, and the outlet shown for it."""

    id: int
    title: str | None
    url: str | None
    publisher: str | None
    outlet: str
    published_at: datetime | None
    fetched_at: datetime | None
    dated_at: datetime
    added_at: datetime | None
    original_id: int | None
    source_ids: tuple[int, ...]
    excerpt: str

    def as_article(self, story_id: str) -> Article:
        """An ``Article`` record for templates and the API (no text or HTML: the page does not show them)."""
        return Article(
            id=self.id, canonical_url=self.url or "", title=self.title, text="", content_hash="", url=self.url,
            publisher=self.publisher, published_at=self.published_at, fetched_at=self.fetched_at,
            original_id=self.original_id, story_id=story_id, source_ids=self.source_ids,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoryPage:
    """A story's page data as stored; ``built_at`` only increases (it is the page's Last-Modified)."""

    story: Story
    version: int
    built_at: datetime
    articles: list[PageArticle]  # oldest first
    comparison: dict[str, Any] | None  # comparison_to_dict of the first originals; None below two articles
    compared_outlets: list[str]  # the outlet of each compared article, by its index in the comparison
    timeline: list[tuple[datetime, int]]
    related: list[rank.RelatedStory]

    def coverage(self) -> list[rank.CoverageItem]:
        return [self._item(a) for a in self.articles]

    @staticmethod
    def _item(a: PageArticle) -> rank.CoverageItem:
        return rank.CoverageItem(article_id=a.id, outlet=outlet_key(a.publisher, a.source_ids, a.url), at=a.dated_at,
                                 original_id=a.original_id, source_ids=a.source_ids)  # fmt: skip

    def why(self, now: datetime) -> str:
        """The why line of the story (``4 outlets in 5 hours, 1 in the last hour``) at ``now``, as ranked."""
        return rank.why_line(rank.story_stats(self.story, self.coverage(), now), now)


def source_names(storage: Storage) -> dict[int, str]:
    """Each source's display name: its title, else its site's host."""
    return {s.id: s.title or host_of(s.site_url or s.url) or s.url for s in storage.list_sources()}


def outlet_name(publisher: str | None, source_ids: Iterable[int], url: str | None, names: Mapping[int, str]) -> str:
    """The outlet an article is shown under: its publisher, else its first source's name, else its host."""
    if publisher:
        return publisher
    for source_id in source_ids:
        if source_id in names:
            return names[source_id]
    return host_of(url) or "unknown outlet"


# -- building --------------------------------------------------------------------------------------------------


def refresh_story_page(storage: Storage, accounts: AccountStorage, story_id: str, *, now: datetime) -> StoryPage:
    """Build the story's page from what is stored now and store it; returns it. ``NotFoundError`` if no story.

    The version is read before the articles: a write landing in between makes the stored page look older than
    it is, so it is rebuilt once more, never the other way round.
    """
    current = storage.story_with_page(story_id)
    story = current.story
    articles = storage.list_articles(story_id=story.id, limit=PAGE_MAX_ARTICLES)
    articles.sort(key=lambda a: (a.published_at or a.fetched_at or datetime.min.replace(tzinfo=UTC), a.id))
    names = source_names(storage)
    briefs = {b.id: b for b in accounts.coverage([story.id]).get(story.id, [])}
    rows = [_page_article(a, briefs.get(a.id), names, now) for a in articles]
    comparison, compared_outlets = _comparison(accounts, story, articles, names, now=now)
    related = rank.related_stories(story, storage.list_stories(limit=RELATED_CANDIDATES))
    page = StoryPage(
        story=story, version=current.version, built_at=now, articles=rows, comparison=comparison,
        compared_outlets=compared_outlets, timeline=rank.coverage_bins([r.dated_at for r in rows]), related=related,
    )  # fmt: skip
    built_at = storage.save_story_page(story.id, current.version, encode_page(page), now=now)
    return replace(page, built_at=built_at)


def _page_article(a: Article, brief: ArticleBrief | None, names: Mapping[int, str], now: datetime) -> PageArticle:
    return PageArticle(
        id=a.id, title=a.title, url=a.url, publisher=a.publisher,
        outlet=outlet_name(a.publisher, a.source_ids, a.url, names), published_at=a.published_at,
        fetched_at=a.fetched_at, dated_at=brief.dated_at if brief else (a.published_at or a.fetched_at or now),
        added_at=brief.added_at if brief else None, original_id=a.original_id, source_ids=a.source_ids,
        excerpt=a.text[:EXCERPT_CHARS],
    )  # fmt: skip


def _comparison(
    accounts: AccountStorage, story: Story, articles: Sequence[Article], names: Mapping[int, str], *, now: datetime
) -> tuple[dict[str, Any] | None, list[str]]:
    """The comparison of the story's first originals (computed once per set of articles) and their outlets."""
    from newsloom.service import compare_inputs
    from newsloom.stories.compare import compare_articles, comparison_to_dict

    chosen = sorted(articles, key=lambda a: (a.original_id is not None, a.id))[:COMPARE_MAX_ARTICLES]
    chosen.sort(key=lambda a: a.id)  # originals before their copies, so compare_inputs can link them
    if len(chosen) < 2:
        return None, []
    fingerprint = hashlib.sha256(",".join(str(a.id) for a in chosen).encode()).hexdigest()
    payload = accounts.cached_comparison(story.id, fingerprint)
    if payload is None:
        payload = json.dumps(comparison_to_dict(compare_articles(compare_inputs(chosen))), ensure_ascii=False)
        accounts.store_comparison(story.id, fingerprint, payload, now=now)
    raw: dict[str, Any] = json.loads(payload)
    return raw, [outlet_name(a.publisher, a.source_ids, a.url, names) for a in chosen]


def refresh_story_pages(storage: Storage, accounts: AccountStorage, story_ids: Iterable[str], *, now: datetime) -> int:
    """``refresh_story_page`` for each story (the intake's call after a commit); returns how many were built.

    A page that fails to build here is logged and left to be rebuilt on its next view: the articles are
    stored already, and an ingest must not fail for a page.
    """
    built = 0
    for story_id in dict.fromkeys(story_ids):
        try:
            refresh_story_page(storage, accounts, story_id, now=now)
            built += 1
        except NewsloomError as exc:
            log.warning("story page %s not built at ingest (it will be on its next view): %s", story_id, exc)
    return built


# -- reading ---------------------------------------------------------------------------------------------------


def story_page(storage: Storage, accounts: AccountStorage, story_id: str, *, now: datetime) -> StoryPage:
    """The story's page (following merges), rebuilt first when it is older than the story. ``NotFoundError``."""
    return page_of(storage, accounts, storage.story_with_page(story_id), now=now)


def page_of(storage: Storage, accounts: AccountStorage, current: StoryWithPage, *, now: datetime) -> StoryPage:
    """The page of a story just read with ``story_with_page``: the stored one if fresh, else rebuilt now."""
    if current.fresh:
        page = decode_page(current)
        if page is not None:
            return page
    return refresh_story_page(storage, accounts, current.story.id, now=now)


# -- payload ---------------------------------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def encode_page(page: StoryPage) -> str:
    """The page as stored JSON (the story row itself is not repeated: it is read with the page)."""
    return json.dumps(
        {
            "format": PAGE_FORMAT,
            "articles": [
                {**asdict(a), **{k: _when(getattr(a, k)) for k in ("published_at", "fetched_at", "dated_at", "added_at")}}
                for a in page.articles
            ],
            "comparison": page.comparison,
            "compared_outlets": page.compared_outlets,
            "timeline": [[_when(at), count] for at, count in page.timeline],
            "related": [_related_json(r) for r in page.related],
        },
        ensure_ascii=False,
    )


def _related_json(r: rank.RelatedStory) -> dict[str, Any]:
    story = {**asdict(r.story), "first_seen": _when(r.story.first_seen), "last_seen": _when(r.story.last_seen)}
    return {"story": story, "score": r.score, "why": r.why}


def decode_page(current: StoryWithPage) -> StoryPage | None:
    """The stored page, or None when it is missing or in another format (then it is rebuilt)."""
    if current.page is None:
        return None
    data = json.loads(current.page.payload)
    if data.get("format") != PAGE_FORMAT:
        return None
    articles = []
    for a in data["articles"]:
        dated = _parse(a["dated_at"])
        assert dated is not None
        articles.append(PageArticle(**{
            **a, "published_at": _parse(a["published_at"]), "fetched_at": _parse(a["fetched_at"]), "dated_at": dated,
            "added_at": _parse(a["added_at"]), "source_ids": tuple(a["source_ids"]),
        }))  # fmt: skip
    related = []
    for r in data["related"]:
        s = r["story"]
        story = Story(**{**s, "first_seen": _parse(s["first_seen"]), "last_seen": _parse(s["last_seen"]),
                         "entities": tuple(s["entities"])})  # fmt: skip
        related.append(rank.RelatedStory(story=story, score=r["score"], why=r["why"]))
    timeline: list[tuple[datetime, int]] = []
    for at, count in data["timeline"]:
        when = _parse(at)
        assert when is not None
        timeline.append((when, int(count)))
    return StoryPage(
        story=current.story, version=current.version, built_at=current.page.built_at, articles=articles,
        comparison=data["comparison"], compared_outlets=list(data["compared_outlets"]), timeline=timeline,
        related=related,
    )  # fmt: skip
