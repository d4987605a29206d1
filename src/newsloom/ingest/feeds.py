"""RSS 0.9x/1.0/2.0, Atom and JSON Feed bytes -> ``ParsedFeed`` records.

Two steps, like miniflux's adapter: feedparser (or ``jsonfeed`` for JSON Feed) turns bytes into its own
structures, then ``_map_entry`` maps them to ``FeedItem``. feedparser's dict never leaves this module.

The bytes are prepared before feedparser sees them (feedbytes.py): gzip bodies decompressed within a cap,
UTF-16/32 transcoded to UTF-8, the DOCTYPE removed so no entity is ever expanded, and the charset chosen
from the header, the XML declaration and the bytes.

Every failure is a ``FeedParseError`` with a readable message; a feed that feedparser recovers from comes back
with its items and ``ParsedFeed.warning``.
"""

from __future__ import annotations

import calendar
import html
import io
import re
import time
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from newsloom.errors import FeedParseError
from newsloom.ingest.feedbytes import (
    GZIP_MAGIC,
    SNIFF_BYTES,
    charset_param,
    feedparser_content_type,
    gunzip,
    remove_doctype,
    scan_prolog,
    to_ascii_compatible,
    wide_encoding,
)
from newsloom.ingest.jsonfeed import looks_like_json, parse_json_feed
from newsloom.ingest.opml import default_sources  # the bundled source list is offered next to the parser
from newsloom.types import FeedItem, ParsedFeed

__all__ = ["carries_full_text", "default_sources", "parse_feed", "sniff_format", "visible_text"]

#: A feed item whose body has at least this many characters of visible text carries the article itself.
#: Teasers are short by design: WordPress excerpts are 55 words (~350 characters), BBC/AP/Reuters descriptions
#: one or two sentences (~150-300), Google News summaries ~300. News articles run 2,000+ characters and short
#: briefs ~800-1,000. 1,000 sits at about three times the longest common teaser and below most articles.
FULL_TEXT_MIN_CHARS = 1_000

#: One CJK character carries roughly one word's worth of information, about three Latin characters'.
CJK_CHAR_WEIGHT = 3

#: Endings that mark a body as cut short by the publisher ("… [Read more]"), whatever its length.
_TRUNCATION_TAIL = re.compile(
    r"(\.\.\.|…|\[…\]|\[\.\.\.\]|\(…\)|read more|continue reading|read the full (?:story|article)|"
    r"weiterlesen|lire la suite|leer más|leggi tutto|続きを読む)\W*$",
    re.IGNORECASE,
)
#: WordPress appends this line to excerpts and full posts alike, after any "[…]"
_WORDPRESS_FOOTER = re.compile(r"\s*The post .{1,300}? appeared first on .{1,200}?$", re.DOTALL)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_TAG = re.compile(r"<[^>]*>")
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
#: an href/src/poster attribute whose value has no scheme ("/a", "b.png", "//cdn/x"): a relative URL
_RELATIVE_ATTR = re.compile(
    r"""(\b(?:href|src|poster)\s*=\s*)(["'])(?![a-zA-Z][a-zA-Z0-9+.-]*:)([^"'<>]*)\2"""
)

_ROOT_ANYWHERE = re.compile(rb"<(rss|feed|rdf:RDF|RDF|opml|html|HTML|channel)[\s>]")
_HTML_ANYWHERE = re.compile(rb"<(html|head|body)[\s>]|<!doctype html", re.IGNORECASE)
_HTML_ROOTS = frozenset({"html", "head", "body", "div", "p", "meta", "title", "script", "a", "table", "span"})
_ROOT_FORMATS = {"rss": "rss", "channel": "rss", "feed": "atom", "rdf": "rdf", "opml": "opml"}


# ---------------------------------------------------------------------------------------------- format sniffing


def sniff_format(content: bytes) -> str:
    """'rss' | 'atom' | 'rdf' | 'jsonfeed' | 'opml' | 'html' | 'unknown', judged from the bytes alone.

    File extensions and Content-Type headers lie (feeds served as text/html, gzip saved as .xml); the root
    element does not. Gzip bodies are looked into.
    """
    head = content[: SNIFF_BYTES * 4]
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(head, SNIFF_BYTES)
        except zlib.error:
            return "unknown"
    head = head[:SNIFF_BYTES]
    wide = wide_encoding(head)
    if wide is not None:
        head = head.decode(wide, "ignore").encode("utf-8")
    if looks_like_json(head):
        return "jsonfeed" if b"jsonfeed.org" in head or b'"items"' in head else "unknown"
    root, doctype = scan_prolog(head)
    if root < 0:
        if doctype is not None and head[doctype[0] : doctype[0] + 14].lower() == b"<!doctype html":
            return "html"
        match = _ROOT_ANYWHERE.search(head)
        if match is None:
            return "html" if _HTML_ANYWHERE.search(head) else "unknown"
        root = match.start()
    name = re.match(rb"<([A-Za-z_][\w:.-]*)", head[root:])
    if name is None:
        return "unknown"
    local = name.group(1).decode("ascii", "replace").rsplit(":", 1)[-1].lower()
    if local in _ROOT_FORMATS:
        return _ROOT_FORMATS[local]
    if local in _HTML_ROOTS or _HTML_ANYWHERE.search(head):
        return "html"
    return "unknown"


# ---------------------------------------------------------------------------------------------- parsing


def parse_feed(content: bytes, *, url: str | None = None, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS, RDF, Atom or JSON Feed bytes. Raises ``FeedParseError`` and nothing else.

    ``url`` is where the feed was fetched from: relative links resolve against it (then against the
    feed's own site link). ``content_type`` is the response's Content-Type header, for its charset.
    """
    try:
        return _parse_feed(content, url=url, content_type=content_type)
    except FeedParseError:
        raise
    except Exception as exc:  # feedparser and sgmllib raise odd things on odd input; callers get one type
        raise FeedParseError(f"feed could not be parsed: {type(exc).__name__}: {exc}") from exc


def _parse_feed(content: bytes, *, url: str | None, content_type: str | None) -> ParsedFeed:
    if not content or not content.strip():
        raise FeedParseError("the document is empty")
    data = gunzip(content) if content.startswith(GZIP_MAGIC) else content
    data, transcoded = to_ascii_compatible(data)
    fmt = sniff_format(data)
    if fmt == "jsonfeed" or looks_like_json(data):
        return parse_json_feed(data, url=url, charset=charset_param(content_type))
    if fmt == "html":
        raise FeedParseError("this is an HTML page, not a feed (its feeds can be discovered from it)")
    if fmt == "opml":
        raise FeedParseError("this is an OPML subscription list, not a feed; import it instead")
    data = data.lstrip(b" \t\r\n")  # whitespace before <?xml makes the strict parser give up
    data, doctype_warning = remove_doctype(data)
    # No content-location: feedparser would then resolve every URI of every element against it, which
    # doubles its parse time (bench/feeds.py); links are resolved once, after mapping, instead.
    headers = {"content-type": feedparser_content_type(data, content_type, transcoded=transcoded)}
    # A stream, never bare bytes: feedparser tries open(bytes) as a file name first, so a body that reads
    # like a local path ("/etc/passwd") would be read from the local disk.
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    return _map_feed(parsed, url=url, sniffed=fmt, doctype_warning=doctype_warning)


def _map_feed(
    parsed: Mapping[str, Any], *, url: str | None, sniffed: str, doctype_warning: str | None
) -> ParsedFeed:
    version = str(parsed.get("version") or "")
    entries = parsed.get("entries") or []
    feed = parsed.get("feed") or {}
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries:
        detail = f" ({_describe(bozo)})" if bozo is not None else ""
        if not version:
            raise FeedParseError(f"not a feed: no RSS, RDF or Atom structure found{detail}")
        if bozo is not None:
            raise FeedParseError(f"malformed feed with no usable items{detail}")
    site_url = _absolute(_get(feed, "link"), url)
    # Every <item>/<entry> comes out, even one with nothing in it: the caller decides what an item without
    # link or text is worth (the pipeline skips it and says why), and item counts stay those of the feed.
    items = tuple(_map_entry(entry, base=site_url or url) for entry in entries)
    warnings = [w for w in (doctype_warning, _describe(bozo) if bozo is not None else None) if w]
    hubs, self_url = _hub_links(_get(feed, "links"), url)
    return ParsedFeed(
        format=_format_name(version, sniffed),
        title=_text(_get(feed, "title"), _get(feed, "title_detail")),
        site_url=site_url,
        language=_clean(_get(feed, "language")),
        items=items,
        warning="; ".join(warnings) or None,
        hubs=hubs,
        self_url=self_url,
    )


def _hub_links(links: object, base: str | None) -> tuple[tuple[str, ...], str | None]:
    """The feed-level ``rel="hub"`` links (WebSub hubs, in order, once each) and the first ``rel="self"``."""
    hubs: list[str] = []
    self_url: str | None = None
    for link in links if isinstance(links, list) else []:
        rel = _clean(_get(link, "rel"))
        href = _absolute(_get(link, "href"), base)
        if href is None or rel is None:
            continue
        if rel.lower() == "hub" and href not in hubs:
            hubs.append(href)
        elif rel.lower() == "self" and self_url is None:
            self_url = href
    return tuple(hubs), self_url


def _format_name(version: str, sniffed: str) -> str:
    if version in ("rss090", "rss10"):
        return "rdf"
    if version.startswith("atom"):
        return "atom"
    if version.startswith("rss") or version == "cdf":
        return "rss"
    return sniffed if sniffed in ("rss", "atom", "rdf") else "rss"


def _describe(exc: object) -> str:
    message = str(getattr(exc, "getMessage", lambda: exc)()) if exc is not None else ""
    line = getattr(exc, "getLineNumber", lambda: None)()
    where = f" (line {line})" if isinstance(line, int) else ""
    kind = type(exc).__name__
    return f"{kind}: {message}{where}" if message else kind


def _map_entry(entry: Mapping[str, Any], *, base: str | None) -> FeedItem:
    """One feedparser entry as a FeedItem.

    Relative item links resolve against the feed's site link, then the feed's own URL (as miniflux does:
    feeds relayed through another host, e.g. feedburner, mean their site); xml:base was applied by
    feedparser already. Relative URLs inside the HTML resolve against the item's own page.
    """
    published = _datetime(_get(entry, "published_parsed")) or _datetime(_get(entry, "created_parsed"))
    updated = _datetime(_get(entry, "updated_parsed"))
    item_url = _item_url(entry, base)
    page = item_url or base
    return FeedItem(
        guid=_clean(_get(entry, "id")),
        url=item_url,
        title=_text(_get(entry, "title"), _get(entry, "title_detail")),
        author=_author(entry),
        # Atom requires only <updated>; an item's first known date is the best "published" the pipeline has
        published=published or updated,
        updated=updated,
        summary=_resolve_in_html(_clean(_get(entry, "summary")), page),
        content_html=_resolve_in_html(_content_html(entry), page),
        categories=_categories(entry),
        image_url=_image_url(entry, page),
    )


def _get(mapping: object, key: str) -> Any:
    """A raw key of a feedparser dict, without its aliases (``updated_parsed`` silently falls back to the
    published date through ``FeedParserDict.__getitem__``; we want to know which dates the feed gave)."""
    return dict.get(mapping, key) if isinstance(mapping, dict) else None


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _text(value: object, detail: object) -> str | None:
    """A title as plain text: markup removed when the feed says it is HTML."""
    text = _clean(value)
    if text is None:
        return None
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if "html" in str(kind) and "<" in text:
        text = html.unescape(_TAG.sub("", text))
    return _SPACE.sub(" ", text).strip() or None


def _absolute(link: object, base: str | None) -> str | None:
    link = _clean(link)
    if link is None:
        return None
    try:
        absolute = urljoin(base, link) if base else link
        scheme = urlsplit(absolute).scheme
    except ValueError:  # a malformed link ("http://[x/"): that link is dropped, the item and feed are kept
        return None
    return absolute if scheme in ("http", "https") else None


def _item_url(entry: Mapping[str, Any], base: str | None) -> str | None:
    link = _clean(_get(entry, "link"))
    if link is None:
        for candidate in _get(entry, "links") or ():
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = str(candidate["href"]).strip()
                break
    if link is None:
        return None
    return _absolute(link, base)


def _resolve_in_html(fragment: str | None, base: str | None) -> str | None:
    """href/src attribute values made absolute against ``base``; absolute ones and #anchors untouched."""
    if not fragment or not base or "=" not in fragment:
        return fragment

    def absolute(match: re.Match[str]) -> str:
        value = match.group(3)
        if not value or value.startswith("#"):
            return match.group(0)
        try:
            joined = urljoin(base, value)
        except ValueError:  # e.g. a malformed IPv6 host
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{joined}{match.group(2)}"

    return _RELATIVE_ATTR.sub(absolute, fragment)


def _datetime(value: object) -> datetime | None:
    """feedparser's UTC struct_time -> aware UTC datetime; None for missing or impossible dates."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _author(entry: Mapping[str, Any]) -> str | None:
    detail = _get(entry, "author_detail")
    if isinstance(detail, Mapping) and _clean(detail.get("name")):
        return _clean(detail.get("name"))
    return _clean(_get(entry, "author"))


def _content_html(entry: Mapping[str, Any]) -> str | None:
    contents = [c for c in _get(entry, "content") or () if _clean(c.get("value"))]
    if not contents:
        return None
    htmlish = [c for c in contents if "html" in str(c.get("type", ""))]
    chosen = max(htmlish or contents, key=lambda c: len(c.get("value", "")))
    value = str(chosen["value"]).strip()
    if "html" not in str(chosen.get("type", "")):
        return "".join(f"<p>{html.escape(p.strip())}</p>" for p in value.split("\n\n") if p.strip())
    return value


def _categories(entry: Mapping[str, Any]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in _get(entry, "tags") or ():
        term = _clean(tag.get("term")) or _clean(tag.get("label"))
        if term:
            seen.setdefault(term, None)
    return tuple(seen)


def _image_url(entry: Mapping[str, Any], base: str | None) -> str | None:
    for key in ("media_content", "media_thumbnail"):
        for media in _get(entry, key) or ():
            kind = str(media.get("type") or media.get("medium") or "image")
            if kind.startswith("image") and media.get("url"):
                return _absolute(media["url"], base)
    for link in _get(entry, "links") or ():
        if (
            link.get("rel") == "enclosure"
            and str(link.get("type", "")).startswith("image/")
            and link.get("href")
        ):
            return _absolute(link["href"], base)
    image = _get(entry, "image")
    if isinstance(image, Mapping) and image.get("href"):
        return _absolute(image["href"], base)
    return None


# ---------------------------------------------------------------------------------------------- full text or teaser


def visible_text(fragment: str) -> str:
    """The words a reader would see in an HTML fragment, whitespace collapsed."""
    text = _TAG.sub(" ", _SCRIPT_STYLE.sub(" ", fragment))
    return _SPACE.sub(" ", html.unescape(text)).strip()


def carries_full_text(item: FeedItem) -> bool:
    """True when the item's own body is the article, False when it is a teaser (fetch the page then).

    The body is the longer of ``content_html`` and ``summary`` (many RSS feeds put the whole article in
    <description>). It counts as the article when its visible text reaches ``FULL_TEXT_MIN_CHARS`` (CJK
    characters weigh ``CJK_CHAR_WEIGHT``) and it does not end the way cut-short excerpts do.
    """
    bodies = [visible_text(b) for b in (item.content_html, item.summary) if b]
    if not bodies:
        return False
    text = _WORDPRESS_FOOTER.sub("", max(bodies, key=len))
    if _TRUNCATION_TAIL.search(text[-60:]):
        return False
    weighted = len(text) + (CJK_CHAR_WEIGHT - 1) * len(_CJK.findall(text))
    return weighted >= FULL_TEXT_MIN_CHARS
