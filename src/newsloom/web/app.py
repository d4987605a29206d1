"""The FastAPI application: the reader's pages, the JSON API under /api/v1, Atom feeds, and ``serve``.

``create_app(reader)`` builds the app around one ``ReaderService``; ``web.server.serve`` runs it with uvicorn
(``newsloom serve`` and ``newsloom run``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsloom.apps_service import AppService
from newsloom.errors import (
    AccessDeniedError,
    AuthError,
    InputError,
    NewsloomError,
    NotFoundError,
    RateLimitedError,
)
from newsloom.lru import Lru
from newsloom.notify_service import NotifyService
from newsloom.reader_service import ReaderService
from newsloom.service import Service
from newsloom.settings import Settings
from newsloom.web import auth, feeds, notify_pages, pages, websub
from newsloom.web.api import create_api
from newsloom.web.caching import PER_BROWSER_FLAG, HttpCache
from newsloom.web.csp import CONTENT_SECURITY_POLICY
from newsloom.web.csrf import CSRF_COOKIE, NEW_TOKEN_STATE, set_csrf_cookie
from newsloom.web.fever import create_fever
from newsloom.web.greader import create_greader
from newsloom.web.render import RENDERED_MEMO_SIZE, STATIC_DIR, render


def load_secret_key(settings: Settings) -> str:
    """``settings.secret_key``, else a random key kept in the data directory (created on first use, mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


# Headers every response gets unless the route set its own (the API docs page sets the same policy plus the
# hash of its one inline script).
SECURITY_HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)


class SecurityHeaders:
    """Security headers on every response, and the CSRF cookie for browsers that have none yet.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware runs each response through extra tasks and
    streams, which cost about as much as the health check itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        request = Request(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in headers:
                        headers[name] = value
                # Only pages that carry the token need the cookie; the others stay free of Set-Cookie, so
                # that a shared cache may keep them (web/caching.py).
                per_browser = bool(getattr(request.state, PER_BROWSER_FLAG, False))
                token = getattr(request.state, NEW_TOKEN_STATE, None)  # made by this request's page
                if token and per_browser and CSRF_COOKIE not in headers.get("set-cookie", ""):
                    cookie = Response()
                    set_csrf_cookie(cookie, token, secure=request.url.scheme == "https")
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, with_headers)


class CollapseLeadingSlashes:
    """``//reader/...`` is ``/reader/...``: apps join a server URL ending in ``/`` with paths starting with one
    (newsboat posts to ``//accounts/ClientLogin`` for ``feedhq-url "http://host/"``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("//"):
            scope = {**scope, "path": "/" + scope["path"].lstrip("/")}
        await self.app(scope, receive, send)


def _page_error(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", {"title": title, "message": message}, status_code=status)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install_error_handlers(app: FastAPI) -> None:
    async def not_found(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return _page_error(request, 404, "Not found", str(exc))

    async def auth_error(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if request.method == "GET":
            return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
        return _page_error(request, 401, "Sign in first", str(exc))

    async def denied(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return _page_error(request, 403, "Not allowed", str(exc))

    async def limited(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimitedError)
        headers = {"Retry-After": str(exc.retry_after_s)}
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=429, headers=headers)
        response = _page_error(request, 429, "Too many tries", str(exc))
        response.headers.update(headers)
        return response

    async def bad_input(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return _page_error(request, 400, "That did not work", str(exc))

    async def failure(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=502)
        return _page_error(request, 502, "Something failed", str(exc))

    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(AuthError, auth_error)
    app.add_exception_handler(AccessDeniedError, denied)
    app.add_exception_handler(RateLimitedError, limited)
    app.add_exception_handler(InputError, bad_input)
    app.add_exception_handler(NewsloomError, failure)


def create_app(reader: ReaderService) -> FastAPI:
    """The whole web app around ``reader``."""
    threads = max(1, reader.service.settings.web_threads)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Pages that read the database run in a thread pool (40 threads by default). Their work is Python, so
        # threads only take turns at the interpreter lock, and the event loop thread, which answers every
        # held page and /healthz, waits its turn behind all of them: with 40 busy threads a cheap answer
        # waited behind ~40 slices. A few threads keep the loop's share and queue the rest in order.
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(title="newsloom", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.reader = reader
    app.state.rendered = Lru(RENDERED_MEMO_SIZE)  # render.render_shared
    app.state.held_pages = Lru(pages.HELD_PAGES)  # pages.story
    app.state.built_feeds = Lru(feeds.BUILT_FEEDS)  # feeds.built
    apps = AppService(reader)
    app.state.apps = apps
    app.state.notify = NotifyService(reader)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HttpCache)  # outside SecurityHeaders: it sees the final headers, Set-Cookie included
    app.add_middleware(CollapseLeadingSlashes)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/sw.js", include_in_schema=False)
    def service_worker() -> Response:
        # Served from the root so it may control every page (a worker's scope is its own path and below).
        return FileResponse(
            STATIC_DIR / "sw.js",
            media_type="text/javascript",
            headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
        )

    @app.get("/manifest.webmanifest", include_in_schema=False)
    def manifest() -> Response:
        return FileResponse(STATIC_DIR / "manifest.webmanifest", media_type="application/manifest+json")

    @app.get("/offline", include_in_schema=False, response_class=HTMLResponse)
    def offline(request: Request) -> Response:
        return render(request, "offline.html", {})

    # Readers' routes first. A request is matched against the routes in order, and an included router that
    # does not match costs ~10 us per route it holds (FastAPI 0.16x): /story/... behind the auth and page
    # routers spent ~480 us on routing alone, /api/v1/... ~600 us (bench/load.py's py-spy profile; now 30-80 us). No path
    # matches routes of two of these routers, so the order changes nothing else.
    app.include_router(pages.story_router)
    api_app = create_api(reader)
    app.mount("/api/v1", api_app)  # a mount that does not match costs ~1 us: its prefix alone is compared
    app.include_router(feeds.router)
    app.include_router(pages.router)
    app.include_router(auth.router)
    app.include_router(notify_pages.router)
    app.include_router(notify_pages.unsubscribe_router)
    app.include_router(websub.router)
    # The apps' APIs (Google Reader at the root, as apps expect it there).
    greader_app, client_login = create_greader(apps)
    app.add_api_route("/accounts/ClientLogin", client_login, methods=["POST"], include_in_schema=False)
    app.mount("/reader", greader_app)
    fever_app, fever_endpoint = create_fever(apps)
    app.add_api_route("/fever", fever_endpoint, methods=["GET", "POST"], include_in_schema=False)
    app.mount("/fever", fever_app)
    install_error_handlers(app)
    install_error_handlers(api_app)
    return app


def build_reader(settings: Settings, **options: Any) -> ReaderService:
    service = Service(settings)
    service.init()
    return ReaderService(service, secret_key=load_secret_key(settings), **options)
