"""CSRF protection for every form and htmx request: a double-submit token bound to a cookie, plus an Origin check.

The browser gets a random ``nl_csrf`` cookie (HttpOnly, SameSite=Lax). Pages render the same value into each
form (``csrf_token`` field) and into ``hx-headers`` (``X-CSRF-Token``). A state-changing request passes only
when the submitted value equals the cookie: another site can make the browser send the cookie, but cannot read
it to put it in the form. A cross-site ``Origin`` header is refused outright.

The JSON API is exempt: it authenticates with bearer tokens, which browsers never attach on their own.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response

CSRF_COOKIE = "nl_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The cookie lives as long as a session may (30 days): a form left open in a tab still submits.
CSRF_COOKIE_MAX_AGE_S = 30 * 24 * 3600


# request.state attribute set when csrf_token_of made a new token: the response must set the cookie.
NEW_TOKEN_STATE = "csrf_new_token"


def csrf_token_of(request: Request) -> str:
    """The browser's CSRF token, made (and kept on ``request.state``) the first time a page asks for it.

    Only pages that render a form ask: the others (every cached anonymous read) skip making a random token
    they would throw away (``secrets`` was ~2% of a server's busy time under bench/load.py).
    """
    new: str | None = getattr(request.state, NEW_TOKEN_STATE, None)
    if new is not None:
        return new
    existing = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(existing) <= 100:
        return existing
    token = secrets.token_urlsafe(32)
    setattr(request.state, NEW_TOKEN_STATE, token)
    return token


def set_csrf_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, max_age=CSRF_COOKIE_MAX_AGE_S, httponly=True, samesite="lax", secure=secure, path="/"
    )


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None  # "null" comes from sandboxed frames and privacy redirects: refuse it
    parts = urlsplit(origin)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc) or parts.netloc == request.headers.get("host")


async def verify_csrf(request: Request) -> None:
    """FastAPI dependency for the page routers: refuses unsafe requests without a matching token (403)."""
    if request.method in SAFE_METHODS:
        return
    if not _same_origin(request):
        raise HTTPException(status_code=403, detail="cross-site request refused")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise HTTPException(status_code=403, detail="the form expired or came from another site; reload the page and try again")
