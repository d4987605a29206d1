"""The e-mail digest: a reader's top stories and the changes of what they follow, as text and safe HTML. Pure.

The HTML is built with every dynamic string escaped, then passed through the article sanitizer (nh3), so a
headline with markup in it can neither run script nor restyle the mail.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from newsloom.ingest.sanitize import sanitize_html

DIGEST_PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
# A digest is sent when its period has passed, less this slack, so a notifier ticking every few seconds
# does not slip a daily digest later by a tick every day.
DIGEST_SLACK = timedelta(minutes=2)

# Stories and changes per digest: a digest is a glance, not a feed.
MAX_STORIES = 10
MAX_CHANGES = 20


@dataclass(frozen=True, slots=True)
class DigestStory:
    story_id: str
    headline: str
    why: str
    url: str | None


@dataclass(frozen=True, slots=True)
class DigestChange:
    title: str
    body: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Digest:
    subject: str
    text: str
    html: str


def due_before(frequency: str, now: datetime) -> datetime:
    """A digest of ``frequency`` last sent at or before this time is due at ``now``."""
    return now - DIGEST_PERIODS[frequency] + DIGEST_SLACK


def is_due(frequency: str, last_sent: datetime | None, now: datetime) -> bool:
    return frequency in DIGEST_PERIODS and (last_sent is None or last_sent <= due_before(frequency, now))


def unsubscribe_token(secret_key: str, user_id: int) -> str:
    """``<user id>.<HMAC>``: lets the one-click link stop this reader's digest without signing in."""
    mac = hmac.new(secret_key.encode(), f"unsubscribe:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{user_id}.{mac}"


def unsubscribe_user(secret_key: str, token: str) -> int | None:
    """The user id an unsubscribe token was made for, or None when it is forged or malformed."""
    head, _, _ = token.partition(".")
    if not head.isdigit() or len(head) > 12:
        return None
    user_id = int(head)
    return user_id if hmac.compare_digest(unsubscribe_token(secret_key, user_id), token) else None


def build_digest(
    *,
    reader_name: str,
    period: str,
    stories: Sequence[DigestStory],
    changes: Sequence[DigestChange],
    now: datetime,
    home_url: str | None,
    unsubscribe_url: str | None,
) -> Digest:
    """The digest for one reader. ``period`` is "daily", "hourly" or "now" (a test send)."""
    stories = list(stories)[:MAX_STORIES]
    changes = list(changes)[:MAX_CHANGES]
    label = {"daily": "Your daily news digest", "hourly": "Your hourly news digest"}.get(period, "Your news digest")
    subject = f"{label}: {stories[0].headline}" if stories else label
    lines = [f"{label} for {reader_name}, {now:%A %d %B %Y, %H:%M} UTC", ""]
    if changes:
        lines += ["What changed in what you follow", ""]
        for change in changes:
            lines += [f"* {change.title}", f"  {change.body}"] + ([f"  {change.url}"] if change.url else []) + [""]
    lines += ["Top stories", ""]
    if not stories:
        lines += ["No stories yet.", ""]
    for number, story in enumerate(stories, 1):
        lines += [f"{number}. {story.headline}", f"   {story.why}"] + ([f"   {story.url}"] if story.url else []) + [""]
    if home_url:
        lines += [f"Read more: {home_url}"]
    if unsubscribe_url:
        lines += [f"Stop these e-mails: {unsubscribe_url}"]
    text = "\n".join(lines).rstrip() + "\n"

    def link(title: str, url: str | None) -> str:
        return f'<a href="{escape(url)}">{escape(title)}</a>' if url else escape(title)

    parts = [f"<h1>{escape(label)}</h1>", f"<p>For {escape(reader_name)}, {now:%A %d %B %Y, %H:%M} UTC</p>"]
    if changes:
        parts.append("<h2>What changed in what you follow</h2><ul>")
        parts += [f"<li><strong>{link(c.title, c.url)}</strong><br>{escape(c.body)}</li>" for c in changes]
        parts.append("</ul>")
    parts.append("<h2>Top stories</h2>")
    if stories:
        parts.append("<ol>")
        parts += [f"<li><strong>{link(s.headline, s.url)}</strong><br><em>{escape(s.why)}</em></li>" for s in stories]
        parts.append("</ol>")
    else:
        parts.append("<p>No stories yet.</p>")
    footer = []
    if home_url:
        footer.append(link("Open newsloom", home_url))
    if unsubscribe_url:
        footer.append(link("Unsubscribe from these e-mails", unsubscribe_url))
    if footer:
        parts.append(f"<p>{' · '.join(footer)}</p>")
    html = "<html><body>" + sanitize_html("".join(parts)) + "</body></html>"
    return Digest(subject=subject, text=text, html=html)
