"""The JSON API, mounted at /api/v1 (OpenAPI document at /api/v1/openapi.json, docs at /api/v1/docs).

Public endpoints read stories, articles, search and sources. Personal endpoints (``/me/...``) need a personal
token (``Authorization: Bearer nl_...``, created on the account page); cookies are never used here, so the API
needs no CSRF token. Lists are paginated with ``limit`` and ``offset`` and say where the next page starts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import Depends, FastAPI, Query, Request, Security
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from newsloom.errors import AuthError
from newsloom.lru import Lru
from newsloom.reader_service import ReaderService
from newsloom.service import ORIGINALITY_DAYS
from newsloom.storage.accounts_base import ArticleBrief, User
from newsloom.storage.base import SearchHit
from newsloom.stories.originality import OriginalityLabel, OutletShare, share_text
from newsloom.types import Article, Source, Story
from newsloom.web.caching import body_etag
from newsloom.web.csp import swagger_ui_page
from newsloom.web.webhook_schema import document_webhooks

T = TypeVar("T")
MAX_LIMIT = 100
HELD_LISTS = 256  # serialised list bodies kept (about 10 KB each at limit=100)

bearer = HTTPBearer(auto_error=False, description="A personal token from the account page")


class Page(BaseModel, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


class StoryOut(BaseModel):
    id: str
    headline: str
    summary: str
    first_seen: datetime | None
    last_seen: datetime | None
    article_count: int
    outlet_count: int
    original_count: int
    syndicated_count: int
    entities: list[str]
    why: str | None = None
    reason: str | None = None

    @classmethod
    def of(cls, s: Story, **extra: Any) -> StoryOut:
        return cls(id=s.id, headline=s.headline, summary=s.summary, first_seen=s.first_seen, last_seen=s.last_seen,
                   article_count=s.article_count, outlet_count=s.outlet_count, original_count=s.original_count,
                   syndicated_count=s.syndicated_count, entities=list(s.entities), **extra)  # fmt: skip


class ArticleOut(BaseModel):
    id: int
    title: str | None
    url: str | None
    publisher: str | None
    author: str | None = None
    published_at: datetime | None = None
    story_id: str | None
    original_id: int | None
    text: str | None = None
    snippet: str | None = None  # in search results: the start of the text
    originality: LabelOut | None = None

    @classmethod
    def of(cls, a: Article, *, full: bool = False, label: OriginalityLabel | None = None) -> ArticleOut:
        return cls(id=a.id, title=a.title, url=a.url, publisher=a.publisher, author=a.author,
                   published_at=a.published_at, story_id=a.story_id, original_id=a.original_id,
                   text=a.text if full else None,
                   originality=LabelOut(kind=label.kind, wire=label.wire, copied_from=label.copied_from) if label else None)  # fmt: skip

    @classmethod
    def hit(cls, h: SearchHit) -> ArticleOut:
        return cls(id=h.id, title=h.title, url=h.url, publisher=h.publisher, published_at=h.published_at,
                   story_id=h.story_id, original_id=h.original_id, snippet=h.snippet)  # fmt: skip

    @classmethod
    def brief(cls, a: ArticleBrief) -> ArticleOut:
        return cls(id=a.id, title=a.title, url=a.url, publisher=a.publisher, published_at=a.dated_at,
                   story_id=a.story_id, original_id=a.original_id)  # fmt: skip


class OriginalityOut(BaseModel):
    """Shares of a source's labelled articles over the window: own reporting, wire copy, rewritten."""

    days: float
    total: int
    own: int
    wire: int
    rewrite: int
    own_share: float
    wire_share: float
    rewrite_share: float
    wires: dict[str, int]
    text: str

    @classmethod
    def of(cls, o: OutletShare, days: float) -> OriginalityOut:
        return cls(days=days, total=o.total, own=o.own, wire=o.wire, rewrite=o.rewrite, own_share=round(o.share("own"), 4),
                   wire_share=round(o.share("wire"), 4), rewrite_share=round(o.share("rewrite"), 4),
                   wires=dict(o.wires), text=share_text(o))  # fmt: skip


class LabelOut(BaseModel):
    kind: str
    wire: str | None
    copied_from: int | None


class OutletOriginOut(BaseModel):
    outlet: str
    first_at: datetime | None
    articles: int
    labels: list[str]
    added_count: int
    added: list[str]


class StoryOriginsOut(BaseModel):
    story_id: str
    first_outlet: str | None
    first_at: datetime | None
    outlets: list[OutletOriginOut]


class SourceOut(BaseModel):
    id: int
    url: str
    title: str | None
    site_url: str | None
    category: str | None
    status: str
    last_success_at: datetime | None
    error_count: int
    last_error: str | None
    originality: OriginalityOut | None = None


class SearchOut(BaseModel):
    query: str
    articles: list[ArticleOut]
    stories: list[StoryOut]
    limit: int
    offset: int
    next_offset: int | None


class SavedOut(BaseModel):
    article: ArticleOut
    saved_at: datetime


class FollowOut(BaseModel):
    kind: str
    value: str
    label: str
    created_at: datetime


class MeOut(BaseModel):
    id: int
    username: str
    role: str


class Changed(BaseModel):
    changed: bool


def _page(items: list[Any], limit: int, offset: int, fetched: int) -> dict[str, Any]:
    return {"items": items, "limit": limit, "offset": offset, "next_offset": offset + limit if fetched > limit else None}


def create_api(reader: ReaderService) -> FastAPI:
    api = FastAPI(
        title="newsloom API",
        version="1",
        description=__doc__,
        docs_url=None,  # served below from vendored Swagger UI files, not a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.reader = reader
    document_webhooks(api)

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return swagger_ui_page(f"{root}/openapi.json", f"{api.title} - docs")

    async def get_reader(request: Request) -> ReaderService:  # async: a sync one would cost a thread pool hop
        value: ReaderService = request.app.state.reader
        return value

    # Serialised list bodies, keyed by what they were computed from (the ranking's generation, a story's
    # version and build) and the page asked for: a hit skips pydantic and, for /stories, the thread pool.
    held: Lru[tuple[bytes, dict[str, str]]] = Lru(HELD_LISTS)

    def hold(key: tuple[object, ...], body: bytes) -> tuple[bytes, dict[str, str]]:
        entry = (body, {"ETag": body_etag(body)})  # the tag computed once, not on every answer (web/caching.py)
        held.put(key, entry)
        return entry

    def token_user(
        credentials: HTTPAuthorizationCredentials | None = Security(bearer), r: ReaderService = Depends(get_reader)
    ) -> User:
        user = r.token_user(credentials.credentials if credentials else None)
        if user is None:
            raise AuthError("a valid personal token is needed: Authorization: Bearer <token>")
        return user

    limit_q = Query(20, ge=1, le=MAX_LIMIT)
    offset_q = Query(0, ge=0, le=100_000)

    def stories_body(limit: int, offset: int, r: ReaderService) -> tuple[bytes, dict[str, str]]:
        generation = r.top_generation  # before the ranking is read: a newer ranking is a new key
        ranked = r.top_stories(limit=limit + 1, offset=offset)
        page = _page([StoryOut.of(x.story, why=x.why) for x in ranked[:limit]], limit, offset, len(ranked))
        return hold(("stories", generation, limit, offset), Page[StoryOut](**page).model_dump_json().encode())

    @api.get("/stories", response_model=Page[StoryOut], summary="Top stories, best first")
    async def stories(limit: int = limit_q, offset: int = offset_q, r: ReaderService = Depends(get_reader)) -> Response:
        generation = r.fresh_top_generation()
        entry = held.get(("stories", generation, limit, offset)) if generation is not None else None
        if entry is None:
            entry = await run_in_threadpool(stories_body, limit, offset, r)
        return Response(entry[0], media_type="application/json", headers=entry[1])

    @api.get("/stories/{story_id}", response_model=StoryOut)
    def story(story_id: str, r: ReaderService = Depends(get_reader)) -> StoryOut:
        s = r.story(story_id)
        return StoryOut.of(s, why=r.why(s))

    @api.get("/stories/{story_id}/articles", response_model=Page[ArticleOut], summary="A story's coverage, oldest first")
    def story_articles(
        story_id: str, limit: int = limit_q, offset: int = offset_q, r: ReaderService = Depends(get_reader)
    ) -> Response:
        page, _ = r.story_page(story_id)  # one indexed version read when the page is in memory
        key = ("articles", story_id, page.story.id, page.version, page.built_at, limit, offset)
        entry = held.get(key)
        if entry is None:
            rows = r.view_of(page, False, with_comparison=False).articles[offset : offset + limit + 1]
            listed = _page([ArticleOut.of(x.article) for x in rows[:limit]], limit, offset, len(rows))
            entry = hold(key, Page[ArticleOut](**listed).model_dump_json().encode())
        return Response(entry[0], media_type="application/json", headers=entry[1])

    @api.get("/stories/{story_id}/comparison", summary="What outlets agree on, what only one has, where they differ")
    def comparison(story_id: str, r: ReaderService = Depends(get_reader)) -> dict[str, Any]:
        view = r.story_view(story_id).comparison
        if view is None:
            return {"story_id": story_id, "comparison": None, "agree": [], "only_here": [], "differs": []}
        return {"story_id": story_id, "agree": view.agree, "only_here": view.only_here, "differs": view.differs,
                "comparison": view.raw}  # fmt: skip

    @api.get("/articles/{article_id}", response_model=ArticleOut)
    def article(article_id: int, r: ReaderService = Depends(get_reader)) -> ArticleOut:
        found = r.service.article(article_id)
        return ArticleOut.of(found, full=True, label=r.service.originality_labels([found.id]).get(found.id))

    @api.get("/search", response_model=SearchOut, summary="Full text over articles (and their stories)")
    def search(
        q: str = Query("", description='Words, "phrases", OR, -excluded'),
        source_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        entity: str | None = None,
        limit: int = limit_q,
        offset: int = offset_q,
        r: ReaderService = Depends(get_reader),
    ) -> SearchOut:
        from datetime import UTC

        since = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
        until = until.replace(tzinfo=UTC) if until and until.tzinfo is None else until
        found = r.search(q, source_id=source_id, since=since, until=until, entity=entity, limit=limit + 1, offset=offset)
        return SearchOut(
            query=q, articles=[ArticleOut.hit(a) for a in found.articles[:limit]],
            stories=[StoryOut.of(s) for s in found.stories], limit=limit, offset=offset,
            next_offset=offset + limit if len(found.articles) > limit else None,
        )  # fmt: skip

    @api.get("/sources", response_model=list[SourceOut], summary="Sources with their health and originality")
    def sources(
        days: float = Query(ORIGINALITY_DAYS, gt=0, le=3650, description="Originality window, in days"),
        r: ReaderService = Depends(get_reader),
    ) -> list[SourceOut]:
        return [
            _source_out(h.source, h.status, OriginalityOut.of(h.originality, days) if h.originality else None)
            for h in r.sources_health(days=days)
        ]

    @api.get("/stories/{story_id}/originality", response_model=StoryOriginsOut,
             summary="Who reported first, each outlet's originality labels, the claims each added")  # fmt: skip
    def story_originality(story_id: str, r: ReaderService = Depends(get_reader)) -> StoryOriginsOut:
        o = r.origins(r.story(story_id))
        return StoryOriginsOut(
            story_id=story_id, first_outlet=o.first_outlet, first_at=o.first_at,
            outlets=[OutletOriginOut(outlet=x.outlet, first_at=x.first_at, articles=x.articles, labels=list(x.labels),
                                     added_count=x.added_count, added=list(x.added)) for x in o.outlets],
        )  # fmt: skip

    @api.get("/picks", response_model=list[StoryOut], summary="Our picks: stories chosen by the editors")
    def picks(r: ReaderService = Depends(get_reader)) -> list[StoryOut]:
        return [StoryOut.of(s, reason=p.note) for p, s in r.picks()]

    # -- personal ------------------------------------------------------------------------------------------

    @api.get("/me", response_model=MeOut)
    def me(user: User = Depends(token_user)) -> MeOut:
        return MeOut(id=user.id, username=user.username, role=user.role)

    @api.get("/me/for-you", response_model=list[StoryOut])
    def for_you(limit: int = limit_q, user: User = Depends(token_user), r: ReaderService = Depends(get_reader)) -> list[StoryOut]:
        return [StoryOut.of(rec.story, reason=rec.reason) for rec in r.for_you(user, limit=limit)]

    @api.get("/me/saved", response_model=Page[SavedOut])
    def saved(
        limit: int = limit_q, offset: int = offset_q, user: User = Depends(token_user), r: ReaderService = Depends(get_reader)
    ) -> dict[str, Any]:
        items = r.saved(user, limit=limit + 1, offset=offset)
        return _page([SavedOut(article=ArticleOut.brief(i.article), saved_at=i.saved_at) for i in items[:limit]], limit, offset, len(items))

    @api.put("/me/saved/{article_id}", response_model=Changed)
    def save(article_id: int, user: User = Depends(token_user), r: ReaderService = Depends(get_reader)) -> Changed:
        return Changed(changed=r.save(user, article_id))

    @api.delete("/me/saved/{article_id}", response_model=Changed)
    def unsave(article_id: int, user: User = Depends(token_user), r: ReaderService = Depends(get_reader)) -> Changed:
        return Changed(changed=r.unsave(user, article_id))

    @api.get("/me/follows", response_model=list[FollowOut])
    def follows(user: User = Depends(token_user), r: ReaderService = Depends(get_reader)) -> list[FollowOut]:
        return [FollowOut(kind=f.kind, value=f.value, label=label, created_at=f.created_at) for f, label in r.follows(user)]

    @api.put("/me/follows/{kind}/{value}", response_model=Changed)
    def follow(kind: str, value: str, user: User = Depends(token_user), r: ReaderService = Depends(get_reader)) -> Changed:
        return Changed(changed=r.follow(user, kind, value))

    @api.delete("/me/follows/{kind}/{value}", response_model=Changed)
    def unfollow(kind: str, value: str, user: User = Depends(token_user), r: ReaderService = Depends(get_reader)) -> Changed:
        return Changed(changed=r.unfollow(user, kind, value))

    @api.get("/me/history", response_model=Page[ArticleOut])
    def history(
        limit: int = limit_q, offset: int = offset_q, user: User = Depends(token_user), r: ReaderService = Depends(get_reader)
    ) -> dict[str, Any]:
        items = r.history(user, limit=limit + 1, offset=offset)
        return _page([ArticleOut.brief(i.article) for i in items[:limit]], limit, offset, len(items))

    return api


def _source_out(s: Source, status: str, originality: OriginalityOut | None = None) -> SourceOut:
    return SourceOut(id=s.id, url=s.url, title=s.title, site_url=s.site_url, category=s.category, status=status,
                     last_success_at=s.last_success_at, error_count=s.error_count, last_error=s.last_error,
                     originality=originality)  # fmt: skip
