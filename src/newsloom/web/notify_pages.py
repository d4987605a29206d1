"""Notification pages: the in-app list with the reader's delivery settings, the test-event button, per-follow
channels, and the one-click unsubscribe link of digests (which works without signing in or a CSRF token:
the HMAC token in the URL is the authorisation, and mail clients POST it with nothing else)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from newsloom.errors import NewsloomError
from newsloom.notify_service import NotifyService
from newsloom.storage.accounts_base import User
from newsloom.web.auth import redirect, require_user
from newsloom.web.csrf import verify_csrf
from newsloom.web.render import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
unsubscribe_router = APIRouter()

PAGE_SIZE = 50


def notifier_of(request: Request) -> NotifyService:
    notes: NotifyService = request.app.state.notify
    return notes


@router.get("/notifications")
def notifications(request: Request, user: User = Depends(require_user)) -> Response:
    notes = notifier_of(request)
    items = notes.notifications(user, limit=PAGE_SIZE)
    unread = {n.id for n in items if n.read_at is None}
    context = {
        "items": items, "unread_ids": unread, "settings": notes.notify_settings(user),
        "failed": notes.failed_deliveries(user), "recent": notes.deliveries(user, limit=10),
        "notice": request.query_params.get("notice"), "error": request.query_params.get("error"),
        "mail_ready": bool(notes.settings.smtp_host and notes.settings.mail_from), "title": "Notifications",
    }  # fmt: skip
    if unread:
        notes.mark_read(user, sorted(unread))  # seen now (the nav badge clears); the list still marks them new once
    return render(request, "notifications.html", context)


@router.post("/notifications/settings")
def save_settings(
    request: Request, email: str = Form(""), digest: str = Form("off"), webhook_url: str = Form(""),
    user: User = Depends(require_user),
) -> Response:
    try:
        notifier_of(request).update_settings(user, email=email, digest=digest, webhook_url=webhook_url)
    except NewsloomError as exc:
        return redirect(f"/notifications?error={_q(str(exc))}")
    return redirect("/notifications?notice=saved")


@router.post("/notifications/test")
def send_test(request: Request, user: User = Depends(require_user)) -> Response:
    try:
        report = notifier_of(request).send_test_event(user)
    except NewsloomError as exc:
        return redirect(f"/notifications?error={_q(str(exc))}")
    if report.sent:
        return redirect("/notifications?notice=test-sent")
    return redirect(f"/notifications?error={_q('; '.join(report.errors) or 'the test event was not sent')}")


@router.post("/notifications/read")
def read_all(request: Request, user: User = Depends(require_user)) -> Response:
    notifier_of(request).mark_read(user)
    return redirect("/notifications")


@router.post("/follow/channel")
def follow_channel(
    request: Request, kind: str = Form(...), value: str = Form(...), channel: str = Form(...),
    user: User = Depends(require_user),
) -> Response:
    notifier_of(request).set_follow_channel(user, kind, value, channel)
    return redirect("/following")


@unsubscribe_router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> Response:
    return render(request, "unsubscribe.html", {"token": token, "done": False, "title": "Unsubscribe"})


@unsubscribe_router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str) -> Response:
    """RFC 8058 one-click: the mail client POSTs ``List-Unsubscribe=One-Click`` here."""
    done = notifier_of(request).unsubscribe(token)
    return render(request, "unsubscribe.html", {"token": token, "done": done, "title": "Unsubscribe"},
                  status_code=200 if done else 404)  # fmt: skip


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300], safe="")
