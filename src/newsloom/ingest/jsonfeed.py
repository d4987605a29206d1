"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) bytes -> ``ParsedFeed``, with the json module.

feedparser does not read JSON Feed. Like the XML path, this parses in two steps: ``json`` gives plain dicts,
then ``_map_item`` maps each to a ``FeedItem``. Real feeds bend the spec (numeric ids, 1.0's single
``author`` in a 1.1 feed, dates without a zone), so fields are read leniently and a bad item is skipped with a
warning instead of failing the feed.
"""

from __future__ import annotations

import codecs
import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from newsloom.errors import FeedParseError
from newsloom.types import FeedItem, ParsedFeed

JSONFEED_VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like_json(content: bytes) -> bool:
    """True when the first non-blank byte opens a JSON object."""
    return content.lstrip(b" \t\r\n").removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")[:1] == b"{"


def _decode(content: bytes, charset: str | None) -> str:
    """JSON is UTF-8 (RFC 8259); a Content-Type charset is honoured only when UTF-8 fails."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if charset:
        try:
            return content.decode(charset)
        except (ValueError, LookupError):  # UnicodeError (also from 'undefined'), or base64/zlib: not text
            pass
    return content.decode("utf-8", "replace")


def parse_json_feed(content: bytes, *, url: str | None = None, charset: str | None = None) -> ParsedFeed:
    """Parse a JSON Feed document. Raises ``FeedParseError`` for invalid JSON or a JSON that is no feed."""
    try:
        document = json.loads(_decode(content, charset))
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise FeedParseError("JSON document is not a JSON Feed: the top level is not an object")
    version = document.get("version")
    items_raw = document.get("items")
    if not isinstance(items_raw, list):
        raise FeedParseError("JSON document is not a JSON Feed: it has no 'items' list")
    warnings: list[str] = []
    if not (isinstance(version, str) and version.startswith(JSONFEED_VERSION_PREFIX)):
        warnings.append(f"JSON Feed without a jsonfeed.org version ({version!r})")
    site_url = _absolute(document.get("home_page_url"), url)
    base = site_url or url  # like the XML path: relative item links mean the site's pages
    feed_authors = _authors(document)
    feed_language = _string(document.get("language"))
    items: list[FeedItem] = []
    skipped = 0
    for raw in items_raw:
        if isinstance(raw, Mapping):
            items.append(_map_item(raw, base=base, feed_authors=feed_authors))
        else:
            skipped += 1
    if skipped:
        warnings.append(f"skipped {skipped} item(s) that are not JSON objects")
    return ParsedFeed(
        format="jsonfeed",
        title=_string(document.get("title")),
        site_url=site_url,
        language=feed_language,
        items=tuple(items),
        warning="; ".join(warnings) or None,
        hubs=_hubs(document.get("hubs"), url),
        self_url=_absolute(document.get("feed_url"), url),
    )


def _hubs(raw: object, base: str | None) -> tuple[str, ...]:
    """JSON Feed 1.1 ``hubs``: objects with ``type`` and ``url``; only WebSub (or untyped) hubs are kept."""
    hubs: list[str] = []
    for hub in raw if isinstance(raw, list) else []:
        if not isinstance(hub, Mapping):
            continue
        kind = hub.get("type")
        url = _absolute(hub.get("url"), base)
        if url and (not isinstance(kind, str) or kind.lower() in ("websub", "pubsubhubbub")) and url not in hubs:
            hubs.append(url)
    return tuple(hubs)


def _map_item(raw: Mapping[str, Any], *, base: str | None, feed_authors: str | None) -> FeedItem:
    guid = raw.get("id")
    content_html = _string(raw.get("content_html"))
    content_text = _string(raw.get("content_text"))
    if content_html is None and content_text is not None:
        content_html = "".join(
            f"<p>{html.escape(p.strip())}</p>" for p in content_text.split("\n\n") if p.strip()
        )
    published = _date(raw.get("date_published"))
    updated = _date(raw.get("date_modified"))
    url = _absolute(raw.get("url"), base)
    tags = raw.get("tags")
    return FeedItem(
        guid=str(guid).strip() or None
        if isinstance(guid, str | int) and not isinstance(guid, bool)
        else None,
        url=url or _absolute(raw.get("external_url"), base),
        title=_string(raw.get("title")),
        author=_authors(raw) or feed_authors,
        published=published or updated,
        updated=updated,
        summary=_string(raw.get("summary")),
        content_html=content_html,
        categories=tuple(dict.fromkeys(t.strip() for t in tags if isinstance(t, str) and t.strip()))
        if isinstance(tags, list)
        else (),
        image_url=_absolute(raw.get("image"), base) or _absolute(raw.get("banner_image"), base),
    )


def _string(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _absolute(value: object, base: str | None) -> str | None:
    link = _string(value)
    if link is None:
        return None
    try:
        absolute = urljoin(base, link) if base else link
        scheme = urlsplit(absolute).scheme
    except ValueError:  # a malformed link ("http://[::1"): dropped like any unusable link, not the feed
        return None
    return absolute if scheme in ("http", "https") else None


def _authors(holder: Mapping[str, Any]) -> str | None:
    """1.1's ``authors`` list, or 1.0's single ``author``, as 'A, B'."""
    raw = holder.get("authors")
    people = raw if isinstance(raw, list) else [holder.get("author")]
    names = [_string(p.get("name")) for p in people if isinstance(p, Mapping)]
    return ", ".join(n for n in names if n) or None


def _date(value: object) -> datetime | None:
    """RFC 3339 -> aware UTC; a date without a zone is taken as UTC; nonsense is None."""
    text = _string(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset is year 0 in UTC: a junk date, so no date
        return None
