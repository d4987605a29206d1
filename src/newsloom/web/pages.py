"""The reader's pages: top stories, story, article, search, sources, following, For you, saved, history, picks.

Every page works without JavaScript (plain links and forms that redirect back); with htmx, the save, follow
and read buttons swap in place (the partial templates under ``templates/partials``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from newsloom.errors import InputError
from newsloom.ingest.sanitize import sanitize_html
from newsloom.lru import Lru
from newsloom.reader_service import ReaderService
from newsloom.service import ORIGINALITY_DAYS
from newsloom.storage import changes
from newsloom.storage.accounts_base import User
from newsloom.web.auth import optional_user, reader_of, redirect, require_admin, require_user, safe_next
from newsloom.web.caching import PER_BROWSER_FLAG, body_etag, http_date, is_personal
from newsloom.web.chart import coverage_chart
from newsloom.web.csrf import verify_csrf
from newsloom.web.render import render, render_period, render_shared

router = APIRouter(dependencies=[Depends(verify_csrf)])
# Reads that need no CSRF check (every GET skips it) and whose hit path must stay free of dependencies.
story_router = APIRouter()

PAGE_SIZE = 30
MAX_SEARCH_PAGE = 100


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def parse_day(value: str | None, *, end: bool = False) -> datetime | None:
    """A ``YYYY-MM-DD`` form field as a UTC time (the end of that day for ``until``)."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InputError(f"{value!r} is not a date like 2025-03-21") from exc
    return day + timedelta(days=1) if end else day


@router.get("/")
async def top(request: Request, page: int = Query(1, ge=1, le=1000), q: str = "") -> Response:
    if q.strip():  # the front page's search box, as a search engine would send it
        return await held_search(request, lambda: search_page(request, q=q, page=min(page, MAX_SEARCH_PAGE)))
    return await run_in_threadpool(top_page, request, page)


def top_page(request: Request, page: int) -> Response:
    reader = reader_of(request)
    ranked = reader.top_stories(limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_shared(request, "top.html", ("top", reader.top_generation),
                         lambda: {"ranked": ranked[:PAGE_SIZE], "page": page, "more": len(ranked) > PAGE_SIZE,
                                  "title": "Top stories"})  # fmt: skip


# An anonymous story page is answered from memory, with no database read and no thread pool hop, while
# no write of this process happened since its story's version was last read (storage.changes) and for at most
# this many seconds after that read: the bound on how long a change made by another process (a worker) may
# take to show. The shared-cache lifetime (caching.PUBLIC_MAX_AGE_S) is ten times longer.
STORY_FRESH_S = 1.0
HELD_PAGES = 1024


@dataclass(frozen=True, slots=True)
class HeldPage:
    generation: int  # storage.changes.generation() read before the story's version was
    checked_at: float  # time.monotonic() of that read
    period: int  # render.render_period(): the page says "5 minutes ago"
    body: bytes
    headers: dict[str, str]  # ETag (computed once here, not per answer) and Last-Modified


def held_pages(request: Request) -> Lru[HeldPage]:
    held: Lru[HeldPage] = request.app.state.held_pages  # set by create_app
    return held


def _anonymous_plain(request: Request) -> bool:
    """No session, no token, no query string: the request every anonymous reader of the page sends."""
    return not request.scope.get("query_string") and not is_personal(request.headers)


def held_answer(request: Request, key: str) -> Response | None:
    """The page held under ``key`` if nothing this process wrote, and no more than STORY_FRESH_S, passed since."""
    held = held_pages(request).get(key)
    if (
        held is not None
        and held.generation == changes.generation()
        and time.monotonic() - held.checked_at < STORY_FRESH_S
        and held.period == render_period()
    ):
        return HTMLResponse(held.body, headers=held.headers)
    return None


@story_router.get("/story/{story_id}")
async def story(request: Request, story_id: str) -> Response:
    if _anonymous_plain(request) and (answer := held_answer(request, story_id)) is not None:
        return answer
    return await run_in_threadpool(story_page, request, story_id)


def hold(request: Request, key: str, since: tuple[int, float, int], response: Response, **headers: str) -> None:
    """Keep a 200 answer under ``key`` for ``held_answer``; ``since`` is (generation, monotonic time, render
    period) read before the reads the answer was built from. Sets its ETag (computed once, here)."""
    if response.status_code != 200 or not isinstance(response.body, bytes):
        return
    body = bytes(response.body)
    kept = {"ETag": body_etag(body), **headers}
    response.headers["ETag"] = kept["ETag"]
    held_pages(request).put(key, HeldPage(*since, body, kept))


def hold_since() -> tuple[int, float, int]:
    return changes.generation(), time.monotonic(), render_period()


async def held_search(request: Request, build: Callable[[], Response]) -> Response:
    """An anonymous search answered like an anonymous story page: held per query string, same bounds."""
    if is_personal(request.headers):
        return await run_in_threadpool(build)
    key = f"search?{request.url.path}?{request.scope.get('query_string', b'').decode('latin-1')}"
    if (answer := held_answer(request, key)) is not None:
        return answer
    since = hold_since()  # before the reads
    response = await run_in_threadpool(build)
    hold(request, key, since, response)
    return response


def story_page(request: Request, story_id: str) -> Response:
    since = hold_since()  # before the version read
    reader = reader_of(request)
    page, picked = reader.story_page(story_id)
    if page.story.id != story_id:  # merged into another story: one canonical address
        return redirect(f"/story/{page.story.id}")
    user = optional_user(request)

    def context() -> dict[str, object]:
        view = reader.view_of(page, picked, user)
        return {"view": view, "chart": coverage_chart(view.timeline), "title": view.story.headline}

    response = render_shared(request, "story.html", ("story", page.version, page.built_at), context)
    if user is None:  # a reader's own page also changes with their own state
        response.headers["Last-Modified"] = http_date(page.built_at.timestamp())
        if _anonymous_plain(request):
            hold(request, story_id, since, response, **{"Last-Modified": response.headers["Last-Modified"]})
    return response


@story_router.get("/article/{article_id}")
async def article(request: Request, article_id: int) -> Response:
    """An anonymous article page is held like a story page (same bounds): most readers of a story open the
    same few articles, and each answer otherwise reads the article, its sources and sanitizes its HTML."""
    key = f"article/{article_id}"
    if not _anonymous_plain(request):
        return await run_in_threadpool(article_page, request, article_id)
    if (answer := held_answer(request, key)) is not None:
        return answer
    since = hold_since()  # before the reads
    response = await run_in_threadpool(article_page, request, article_id)
    if not getattr(request.state, PER_BROWSER_FLAG, False):  # never a page that carries this browser's token
        hold(request, key, since, response)
    return response


def article_page(request: Request, article_id: int) -> Response:
    reader = reader_of(request)
    view = reader.article_view(article_id, optional_user(request))
    a = view.article
    # Stored HTML was sanitized at ingest; it is sanitized again here so that nothing stored by an older
    # version (or written into the database by hand) reaches a browser unsanitized.
    body = sanitize_html(a.html, base_url=a.url) if a.html.strip() else ""
    return render(request, "article.html", {"view": view, "body": body, "title": a.title or "Article"})


@router.get("/search")
async def search(
    request: Request,
    q: str = "",
    source: str = "",
    since: str = "",
    until: str = "",
    entity: str = "",
    page: int = Query(1, ge=1, le=MAX_SEARCH_PAGE),
) -> Response:
    return await held_search(request, lambda: search_page(request, q, source, since, until, entity, page))


def search_page(
    request: Request, q: str = "", source: str = "", since: str = "", until: str = "", entity: str = "", page: int = 1
) -> Response:
    reader = reader_of(request)
    source_id = int(source) if source.isdigit() else None
    results = None
    if q.strip() or entity.strip():
        results = reader.search(
            q, source_id=source_id, since=parse_day(since), until=parse_day(until, end=True), entity=entity or None,
            limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE,
        )  # fmt: skip
    more = results is not None and len(results.articles) > PAGE_SIZE and page < MAX_SEARCH_PAGE
    if results is not None:
        results = replace(results, articles=results.articles[:PAGE_SIZE])
    shown = results

    def context() -> dict[str, object]:
        return {"q": q, "source": source, "since": since, "until": until, "entity": entity, "results": shown,
                "more": more, "sources": reader.service.sources(), "page": page,
                "title": f"Search: {q}" if q else "Search"}  # fmt: skip

    # Without a query the page lists the sources only: keyed by the time period alone, like their names.
    return render_shared(request, "search.html", ("search", results.key if results else reader.top_generation), context)


@router.get("/entity/{name}")
def entity(request: Request, name: str) -> Response:
    reader = reader_of(request)
    results = reader.search("", entity=name, limit=PAGE_SIZE)
    user = optional_user(request)
    following = user is not None and any(f.kind == "entity" and f.value.lower() == name.lower() for f, _ in reader.follows(user))
    return render(request, "entity.html", {"name": name, "results": results, "following": following, "title": name})


@router.get("/sources")
def sources(request: Request) -> Response:
    reader = reader_of(request)
    user = optional_user(request)
    followed: set[str] = set()
    if user is not None:
        followed = {f.value for f, _ in reader.follows(user) if f.kind == "source"}
    return render(request, "sources.html", {"health": reader.sources_health(), "followed": followed, "days": ORIGINALITY_DAYS,
                                            "notice": dict(request.query_params), "title": "Sources"})  # fmt: skip


@router.get("/sources.opml")
def sources_opml(request: Request) -> Response:
    return Response(
        reader_of(request).export_opml(),
        media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="newsloom-sources.opml"'},
    )


# -- personal ------------------------------------------------------------------------------------------------


@router.get("/following")
def following(request: Request, user: User = Depends(require_user)) -> Response:
    reader = reader_of(request)
    return render(request, "following.html", {"follows": reader.follows(user), "sources": reader.service.sources(),
                                              "welcome": request.query_params.get("welcome"), "title": "Following"})  # fmt: skip


@router.post("/follow")
def follow(
    request: Request, kind: str = Form(...), value: str = Form(...), next: str = Form("/following"),
    user: User = Depends(require_user),
) -> Response:
    reader_of(request).follow(user, kind, value)
    return followed(request, kind, value, next, following=True)


@router.post("/unfollow")
def unfollow(
    request: Request, kind: str = Form(...), value: str = Form(...), next: str = Form("/following"),
    user: User = Depends(require_user),
) -> Response:
    reader_of(request).unfollow(user, kind, value)
    return followed(request, kind, value, next, following=False)


def followed(request: Request, kind: str, value: str, next: str, *, following: bool) -> Response:
    """htmx swaps in the new button; without JavaScript the reader goes back where they were."""
    if is_htmx(request):
        context = {"kind": kind, "value": value, "following": following, "next": next}
        return render(request, "partials/follow_button.html", context)
    return redirect(safe_next(next))


@router.get("/for-you")
def for_you(request: Request, user: User = Depends(require_user)) -> Response:
    reader = reader_of(request)
    return render(request, "for_you.html", {"items": reader.for_you(user), "has_follows": bool(reader.follows(user)),
                                            "title": "For you"})  # fmt: skip


@router.get("/saved")
def saved(request: Request, page: int = Query(1, ge=1), user: User = Depends(require_user)) -> Response:
    items = reader_of(request).saved(user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(request, "saved.html", {"items": items, "page": page, "title": "Saved"})


@router.post("/save/{article_id}")
def save(request: Request, article_id: int, next: str = Form("/saved"), user: User = Depends(require_user)) -> Response:
    reader_of(request).save(user, article_id)
    if is_htmx(request):
        return render(request, "partials/save_button.html", {"article_id": article_id, "saved": True, "next": next})
    return redirect(safe_next(next))


@router.post("/unsave/{article_id}")
def unsave(request: Request, article_id: int, next: str = Form("/saved"), user: User = Depends(require_user)) -> Response:
    reader_of(request).unsave(user, article_id)
    if is_htmx(request):
        return render(request, "partials/save_button.html", {"article_id": article_id, "saved": False, "next": next})
    return redirect(safe_next(next))


@router.post("/read/{article_id}")
def mark_read(
    request: Request, article_id: int, read: str = Form("1"), next: str = Form("/history"), user: User = Depends(require_user)
) -> Response:
    reader_of(request).mark_read(user, article_id, read == "1")
    if is_htmx(request):
        return render(request, "partials/read_button.html", {"article_id": article_id, "read": read == "1", "next": next})
    return redirect(safe_next(next))


@router.get("/history")
def history(request: Request, page: int = Query(1, ge=1), user: User = Depends(require_user)) -> Response:
    items = reader_of(request).history(user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(request, "history.html", {"items": items, "page": page, "title": "History"})


# -- picks ---------------------------------------------------------------------------------------------------


@router.get("/picks")
def picks(request: Request) -> Response:
    reader: ReaderService = reader_of(request)
    return render(request, "picks.html", {"picks": reader.picks(), "title": "Our picks"})


@router.post("/picks")
def pick(
    request: Request, story_id: str = Form(...), note: str = Form(""), remove: str = Form(""),
    user: User = Depends(require_admin),
) -> Response:
    reader = reader_of(request)
    if remove:
        reader.unpick(user, story_id)
    else:
        reader.pick(user, story_id, note)
    return redirect(f"/story/{story_id}")
