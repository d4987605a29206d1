"""Task arguments as JSON: feed items and the feed fields a page fetch needs, and back. Pure functions.

Tasks travel through the broker as JSON (never pickle: a message must not be able to run code in a worker),
so typed records are flattened here, datetimes as ISO 8601 text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newsloom.types import FeedItem, ParsedFeed

JsonDict = dict[str, Any]


def _time_out(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time_in(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def item_to_json(item: FeedItem) -> JsonDict:
    return {
        "guid": item.guid,
        "url": item.url,
        "title": item.title,
        "author": item.author,
        "published": _time_out(item.published),
        "updated": _time_out(item.updated),
        "summary": item.summary,
        "content_html": item.content_html,
        "categories": list(item.categories),
        "image_url": item.image_url,
    }


def item_from_json(data: JsonDict) -> FeedItem:
    return FeedItem(
        guid=data.get("guid"),
        url=data.get("url"),
        title=data.get("title"),
        author=data.get("author"),
        published=_time_in(data.get("published")),
        updated=_time_in(data.get("updated")),
        summary=data.get("summary"),
        content_html=data.get("content_html"),
        categories=tuple(data.get("categories") or ()),
        image_url=data.get("image_url"),
    )


def feed_to_json(feed: ParsedFeed) -> JsonDict:
    """The feed without its items: what ``merge_page_with_item`` / ``item_to_article`` read from it."""
    return {"format": feed.format, "title": feed.title, "site_url": feed.site_url, "language": feed.language}


def feed_from_json(data: JsonDict) -> ParsedFeed:
    return ParsedFeed(
        format=str(data.get("format") or "rss"),
        title=data.get("title"),
        site_url=data.get("site_url"),
        language=data.get("language"),
        items=(),
    )
