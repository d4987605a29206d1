"""HTTP caching for every page and API read: ETag, Last-Modified, 304 answers and Cache-Control.

``HttpCache`` wraps the whole app. For a ``GET`` answered 200 it:

- sets ``ETag`` to a hash of the body itself, so the tag changes whenever a single byte does: a ``304`` can
  never hide a change, whatever changed (a new article, the time in a why line, an editor pick);
- answers ``304 Not Modified`` (no body) to ``If-None-Match`` naming that tag, and, when the route said when
  the content last changed (``Last-Modified``, e.g. a story page's ``built_at``, which moves by at least one
  whole second per rebuild), to an ``If-Modified-Since`` not older than it; ``If-None-Match`` wins when both
  come (RFC 9110 13.2.2);
- sets ``Cache-Control`` unless the route chose one: ``public, max-age=PUBLIC_MAX_AGE_S, must-revalidate``
  for anonymous requests, so a reverse proxy may keep a page for a few seconds and then revalidate it;
  ``private, no-cache`` for anything personal (a session cookie or an ``Authorization`` header in the
  request, a cookie being set, or a page that carries the browser's CSRF token), which no shared cache may
  keep; and ``Vary: Cookie, Authorization`` so that a cache never answers one reader with another's page.

Static files (``/static``) keep Starlette's own ETag and Last-Modified handling.
"""

from __future__ import annotations

import hashlib
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Seconds a shared cache (or a browser) may reuse an anonymous page without asking: short enough that a new
# article shows within that time, long enough that a burst of readers behind a proxy costs one render.
PUBLIC_MAX_AGE_S = 10
PUBLIC_CACHE_CONTROL = f"public, max-age={PUBLIC_MAX_AGE_S}, must-revalidate"
PRIVATE_CACHE_CONTROL = "private, no-cache"
VARY = "Cookie, Authorization"
SESSION_COOKIE_PREFIX = "nl_session="
# request.state flag set by pages that put the browser's CSRF token into the body (they are personal).
PER_BROWSER_FLAG = "per_browser"
# Headers a 304 repeats (RFC 9110 15.4.5); the body and its length go.
KEPT_ON_304 = ("etag", "last-modified", "cache-control", "vary", "expires", "content-location", "date")
SKIPPED_PREFIXES = ("/static/",)


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 8.8.3.2): a proxy may have weakened the tag with W/ on the way.
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags


def _not_modified_since(if_modified_since: str, last_modified: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unparseable date is ignored, as RFC 9110 says


def is_personal(request_headers: Headers) -> bool:
    if request_headers.get("authorization"):
        return True
    return any(part.strip().startswith(SESSION_COOKIE_PREFIX) for part in request_headers.get("cookie", "").split(";"))


class HttpCache:
    """ASGI middleware adding validators, 304 answers and Cache-Control; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope["method"] != "GET" or path.startswith(SKIPPED_PREFIXES):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # shared with the routes' request.state, where PER_BROWSER_FLAG is set
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200:
                    await send(message)
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            if start["status"] != 200:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._answer(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, buffer)

    async def _answer(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        request_headers = Headers(scope=scope)
        headers = MutableHeaders(scope=start)
        etag = headers.get("etag") or body_etag(body)
        headers["etag"] = etag
        if "cache-control" not in headers:
            state: dict[str, Any] = scope.get("state") or {}
            personal = is_personal(request_headers) or "set-cookie" in headers or bool(state.get(PER_BROWSER_FLAG))
            headers["cache-control"] = PRIVATE_CACHE_CONTROL if personal else PUBLIC_CACHE_CONTROL
            headers["vary"] = VARY
        if self._fresh(request_headers, etag, headers.get("last-modified")):
            kept = [(k, v) for k, v in start["headers"] if k.decode("latin-1").lower() in KEPT_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _fresh(request_headers: Headers, etag: str, last_modified: str | None) -> bool:
        if_none_match = request_headers.get("if-none-match")
        if if_none_match is not None:
            return _etag_matches(if_none_match, etag)
        if_modified_since = request_headers.get("if-modified-since")
        return bool(if_modified_since and last_modified and _not_modified_since(if_modified_since, last_modified))
