"""Template rendering shared by the page routers: Jinja2 with autoescaping, and the context every page gets."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from newsloom.web.csrf import csrf_token_of

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIR = WEB_DIR / "templates"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))  # autoescapes .html templates
# The templates ship with the package and never change under a running server: without this, every render
# stats its template files (os.path.getmtime, 2.7% of a server's busy time under bench/load.py's mix).
templates.env.auto_reload = False

# Rendered anonymous pages kept in memory (see render_shared): 512 pages of ~50 KB at most.
RENDERED_MEMO_SIZE = 512
# Pages say "5 minutes ago": a rendered page is reused within one period of this many seconds, no longer.
RENDER_PERIOD_S = 60


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            if unit == "day" and n > 30:
                return value.strftime("%d %b %Y")
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def fmt_date(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC") if value else "date unknown"


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def safe_href(url: str | None) -> str:
    """Only http(s) links leave the page: a hostile feed cannot smuggle ``javascript:`` into an href."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return "#"


templates.env.filters.update(ago=ago, iso=iso, fmt_date=fmt_date, paragraphs=paragraphs, safe_href=safe_href,
                             urlquote=lambda v: quote(str(v), safe=""))  # fmt: skip


# Pages with forms an anonymous visitor submits: they carry the browser's CSRF token. Every other page shows
# forms to signed-in readers only, so anonymous visitors get it without a token and a shared cache may keep it.
ANONYMOUS_FORM_PAGES = frozenset({"signin.html", "signup.html"})


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    from newsloom.web.auth import optional_user
    from newsloom.web.caching import PER_BROWSER_FLAG

    user = getattr(request.state, "user", None) if hasattr(request.state, "user") else optional_user(request)
    with_token = user is not None or name in ANONYMOUS_FORM_PAGES
    if with_token:
        setattr(request.state, PER_BROWSER_FLAG, True)  # the page is this browser's own (web/caching.py)
    notes = getattr(request.app.state, "notify", None)
    ctx = {
        "request": request,
        "user": user,
        "csrf_token": csrf_token_of(request) if with_token else "",
        "path": request.url.path,
        "unread": notes.unread_count(user) if notes is not None and user is not None else 0,  # the nav badge
    }
    ctx.update(context)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def render_period() -> int:
    """The current ``RENDER_PERIOD_S`` period: a page rendered in an earlier one may show a stale "ago"."""
    return int(time.time() // RENDER_PERIOD_S)


def render_shared(
    request: Request, name: str, key: Hashable, context: Callable[[], dict[str, Any]], status_code: int = 200
) -> Response:
    """``render`` for a page that is the same for every anonymous visitor, reused while ``key`` holds.

    ``key`` names everything the page was computed from (a story's version and build, the newest article id,
    a ranking's generation); the address and the current ``RENDER_PERIOD_S`` period are added to it. So a
    change is a new key and is rendered at once. Signed-in readers always get their own render.
    ``context`` is only called when the page is rendered.
    """
    from newsloom.web.auth import optional_user

    memo = getattr(request.app.state, "rendered", None)
    if memo is None or optional_user(request) is not None:
        return render(request, name, context(), status_code)
    full_key = (name, request.url.path, request.url.query, key, status_code, render_period())
    body = memo.get(full_key)
    if body is None:
        response = render(request, name, context(), status_code)
        memo.put(full_key, bytes(response.body))
        return response
    return HTMLResponse(body, status_code=status_code)


def _share_text(share: object) -> str:
    from newsloom.stories.originality import OutletShare, share_text

    return share_text(share) if isinstance(share, OutletShare) else "no labelled articles yet"


templates.env.filters.update(share_text=_share_text)
