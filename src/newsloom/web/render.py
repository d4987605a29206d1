"""Template rendering shared by the page routers: Jinja2 with autoescaping, and the context every page gets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIR = WEB_DIR / "templates"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))  # autoescapes .html templates


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


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    from newsloom.web.auth import optional_user

    user = getattr(request.state, "user", None) if hasattr(request.state, "user") else optional_user(request)
    notes = getattr(request.app.state, "notify", None)
    ctx = {
        "request": request,
        "user": user,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "path": request.url.path,
        "unread": notes.unread_count(user) if notes is not None and user is not None else 0,  # the nav badge
    }
    ctx.update(context)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _share_text(share: object) -> str:
    from newsloom.stories.originality import OutletShare, share_text

    return share_text(share) if isinstance(share, OutletShare) else "no labelled articles yet"


templates.env.filters.update(share_text=_share_text)
