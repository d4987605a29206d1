"""Atom feeds out (RFC 4287): top stories, one story's coverage, and a reader's For you at a secret URL.

Built with ElementTree, so every text is escaped by the serializer; characters XML 1.0 forbids (control
characters from hostile feeds) are removed first, or a strict parser would refuse the whole document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newsloom.errors import NotFoundError
from newsloom.lru import Lru
from newsloom.reader_service import StoryView
from newsloom.web.auth import reader_of

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
FEED_SIZE = 30
# Characters outside XML 1.0's Char production: C0 controls but tab, newline and return; surrogates; U+FFFE/F.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Serialised top and story feeds kept per process, keyed by what they were built from (the ranking's
# generation, the story's version and build, the request's own URL): ElementTree's serializer was 15% of a
# server's busy time under bench/load.py's mix, for documents that change a few times a minute at most.
BUILT_FEEDS = 256

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    link: str
    updated: datetime
    summary: str = ""
    author: str | None = None


def xml_text(value: str | None) -> str:
    return _NOT_XML_CHAR.sub("", value or "")


def _stamp(when: datetime | None) -> str:
    return (when or _EPOCH).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_atom(*, feed_id: str, title: str, self_url: str, site_url: str, entries: Iterable[Entry]) -> bytes:
    """An Atom document; ``updated`` of the feed is that of its newest entry."""
    ET.register_namespace("", ATOM_NS)
    items = list(entries)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            element.text = xml_text(text)
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", _stamp(max((e.updated for e in items), default=None)))
    sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=site_url, type="text/html")
    author = sub(feed, "author")
    sub(author, "name", "newsloom")
    sub(feed, "generator", "newsloom")
    for item in items:
        entry = sub(feed, "entry")
        sub(entry, "id", item.id)
        sub(entry, "title", item.title or "(untitled)")
        sub(entry, "updated", _stamp(item.updated))
        sub(entry, "link", rel="alternate", href=item.link, type="text/html")
        if item.author:
            sub(sub(entry, "author"), "name", item.author)
        if item.summary:
            sub(entry, "summary", item.summary, type="text")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def _article_link(base: str, article_id: int, url: str | None) -> str:
    """The original's address when it is a web page, else the reader view (local files have no address)."""
    if url and url.startswith(("http://", "https://")):
        return url
    return f"{base}/article/{article_id}"


def built(request: Request, key: Hashable, build: Callable[[], bytes]) -> bytes:
    """The document built for ``key`` (what it is built from, plus the URL it names itself by), once."""
    memo: Lru[bytes] = request.app.state.built_feeds  # set by create_app
    full_key = (key, str(request.url))
    body = memo.get(full_key)
    if body is None:
        body = build()
        memo.put(full_key, body)
    return body


def _atom(content: bytes) -> Response:
    return Response(content, media_type=ATOM_MEDIA_TYPE, headers={"Cache-Control": "max-age=60"})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/feeds/top.atom")
def top_feed(request: Request) -> Response:
    reader = reader_of(request)
    base = _base(request)
    generation = reader.top_generation  # before the ranking is read: a newer ranking is a new key
    ranked = reader.top_stories(limit=FEED_SIZE)

    def build() -> bytes:
        entries = [
            Entry(id=f"{base}/story/{r.story.id}", title=r.story.headline, link=f"{base}/story/{r.story.id}",
                  updated=r.story.last_seen or _EPOCH, summary=f"{r.why}. {r.story.summary}".strip())
            for r in ranked
        ]  # fmt: skip
        return build_atom(feed_id=f"{base}/feeds/top.atom", title="newsloom: top stories",
                          self_url=str(request.url), site_url=f"{base}/", entries=entries)  # fmt: skip

    return _atom(built(request, ("top", generation), build))


@router.get("/feeds/story/{story_id}.atom")
def story_feed(request: Request, story_id: str) -> Response:
    reader = reader_of(request)
    base = _base(request)
    page, picked = reader.story_page(story_id)
    return _atom(built(request, ("story", page.story.id, page.version, page.built_at),
                       lambda: story_atom(reader.view_of(page, picked, None, with_comparison=False), base, str(request.url))))  # fmt: skip


def story_atom(view: StoryView, base: str, self_url: str) -> bytes:
    entries = [
        Entry(id=f"{base}/article/{row.article.id}", title=row.article.title or "(untitled)",
              link=_article_link(base, row.article.id, row.article.url),
              updated=row.article.published_at or row.article.fetched_at or _EPOCH,
              summary=row.excerpt, author=row.outlet)
        for row in reversed(view.articles)
    ]  # fmt: skip
    return build_atom(feed_id=f"{base}/story/{view.story.id}", title=f"newsloom: {view.story.headline}",
                      self_url=self_url, site_url=f"{base}/story/{view.story.id}", entries=entries)  # fmt: skip


@router.get("/feeds/for-you/{key}.atom", name="for_you_feed")
def for_you_feed(request: Request, key: str) -> Response:
    reader = reader_of(request)
    user = reader.feed_user(key)
    if user is None:
        raise NotFoundError("no such feed (the link may have been reset)")
    base = _base(request)
    entries = [
        Entry(id=f"{base}/story/{rec.story.id}", title=rec.story.headline, link=f"{base}/story/{rec.story.id}",
              updated=rec.story.last_seen or _EPOCH, summary=f"Because {rec.reason}. {rec.story.summary}".strip())
        for rec in reader.for_you(user, limit=FEED_SIZE)
    ]  # fmt: skip
    return _atom(build_atom(feed_id=f"{base}/feeds/for-you/{user.id}", title=f"newsloom: for {user.username}",
                            self_url=str(request.url), site_url=f"{base}/for-you", entries=entries))  # fmt: skip
