"""Public, frozen records that flow through the pipeline.

``sources -> fetch -> parse -> extract -> dedupe -> cluster -> compare/rank -> serve``

Every time is an aware ``datetime`` in UTC. Parsers keep library-specific structures (feedparser's dict,
trafilatura's document) at the edge and hand back these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SourceKind = Literal["feed", "page", "file"]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one HTTP GET produced. ``not_modified`` is True for a 304 (then ``content`` is empty)."""

    url: str
    final_url: str
    status: int
    content: bytes
    content_type: str | None
    encoding: str | None
    etag: str | None
    last_modified: str | None
    not_modified: bool
    fetched_at: datetime
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, whatever the feed's format."""

    guid: str | None
    url: str | None
    title: str | None
    author: str | None
    published: datetime | None
    updated: datetime | None
    summary: str | None
    content_html: str | None
    categories: tuple[str, ...] = ()
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed turned into typed records. ``warning`` holds a recovered-from problem (feedparser's bozo)."""

    format: str
    title: str | None
    site_url: str | None
    language: str | None
    items: tuple[FeedItem, ...]
    warning: str | None = None
    hubs: tuple[str, ...] = ()  # WebSub hubs the feed advertises (<link rel="hub">, JSON Feed "hubs")
    self_url: str | None = None  # the feed's own address as it states it (rel="self"): the WebSub topic


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    """One subscription in an OPML file. ``category`` is the path of enclosing outlines joined by '/'."""

    xml_url: str
    title: str | None = None
    html_url: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """Clean article text and metadata extracted from one HTML page or plain-text document.

    ``text`` holds the body only, paragraphs separated by a blank line; chrome, headings of the page,
    captions, bylines and outlet lines are not in it. ``captions`` keeps photo captions apart.
    ``is_article`` is False for paywall stubs, bot challenges, consent walls, error and index pages,
    with ``not_article_reason`` saying which.
    """

    title: str | None
    author: str | None
    publisher: str | None
    published: datetime | None
    language: str | None
    text: str
    html: str = ""
    url: str | None = None
    path: str | None = None
    updated: datetime | None = None
    image_url: str | None = None
    description: str | None = None
    captions: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()
    is_article: bool = True
    not_article_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """A subscription with its fetch state."""

    id: int
    url: str
    kind: SourceKind = "feed"
    title: str | None = None
    site_url: str | None = None
    category: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    error_count: int = 0
    next_poll_at: datetime | None = None
    poll_interval_s: int = 3600
    created_at: datetime | None = None
    feed_digest: str | None = None  # of the last feed body parsed (an identical body is not parsed again)


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article about to be stored (no id yet). Built from an ``ExtractedArticle`` by the pipeline."""

    canonical_url: str
    title: str | None
    text: str
    content_hash: str
    url: str | None = None
    author: str | None = None
    publisher: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    fetched_at: datetime | None = None
    language: str | None = None
    html: str = ""
    image_url: str | None = None
    captions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Story:
    """One real-world event and the coverage grouped into it. ``id`` is stable as the story grows."""

    id: str
    headline: str
    summary: str
    first_seen: datetime | None
    last_seen: datetime | None
    article_count: int
    outlet_count: int
    original_count: int
    syndicated_count: int
    entities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article. ``original_id`` is set when this is a syndicated copy of an earlier article."""

    id: int
    canonical_url: str
    title: str | None
    text: str
    content_hash: str
    url: str | None = None
    author: str | None = None
    publisher: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    fetched_at: datetime | None = None
    language: str | None = None
    html: str = ""
    image_url: str | None = None
    captions: tuple[str, ...] = ()
    original_id: int | None = None
    story_id: str | None = None
    source_ids: tuple[int, ...] = field(default=())
