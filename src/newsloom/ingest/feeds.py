"""RSS 0.9x/1.0/2.0, Atom and JSON Feed bytes -> ``ParsedFeed`` records.

Two steps, like miniflux's adapter: feedparser (or ``jsonfeed`` for JSON Feed) turns bytes into its own
structures, then ``_map_entry`` maps them to ``FeedItem``. feedparser's dict never leaves this module.

The bytes are prepared before feedparser sees them:

* gzip bodies saved or served as plain XML (gzip magic) are decompressed, at most ``MAX_DECOMPRESSED_BYTES``;
* UTF-16/32 documents are transcoded to UTF-8, so every later step can treat the bytes as ASCII-compatible;
* the DOCTYPE declaration is removed, so no entity is ever expanded (billion laughs, XXE); a warning says so
  when it declared entities;
* the charset is chosen from the Content-Type header, the XML declaration and the bytes themselves (see
  ``_feedparser_content_type``), never by RFC 3023's "text/xml means US-ASCII" rule, which real servers break.

Every failure is a ``FeedParseError`` with a readable message; a feed that feedparser recovers from comes back
with its items and ``ParsedFeed.warning``.
"""

from __future__ import annotations

import calendar
import codecs
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
from newsloom.ingest.jsonfeed import looks_like_json, parse_json_feed
from newsloom.ingest.opml import default_sources  # the bundled source list is offered next to the parser
from newsloom.types import FeedItem, ParsedFeed

__all__ = ["carries_full_text", "default_sources", "parse_feed", "sniff_format", "visible_text"]

#: Largest decompressed body of a gzip-wrapped feed. Matches the fetcher's default ``max_body_bytes`` (10 MB):
#: the largest real feed in our evaluation set is 1.6 MB, and a gzip bomb must stop well before memory does.
MAX_DECOMPRESSED_BYTES = 10_000_000

#: How much of the document ``sniff_format`` looks at. A prolog (XML declaration, comments, a DOCTYPE with a
#: short internal subset) fits in far less; 64 KiB also covers pages with long <head>s before their root.
SNIFF_BYTES = 65_536

#: A feed item whose body has at least this many characters of visible text carries the article itself.
#: Teasers are short by design: WordPress excerpts are 55 words (~350 characters), BBC/AP/Reuters descriptions
#: one or two sentences (~150-300), Google News summaries ~300. News articles run 2,000+ characters and short
#: briefs ~800-1,000. 1,000 sits at about three times the longest common teaser and below most articles.
FULL_TEXT_MIN_CHARS = 1_000

#: One CJK character carries roughly one word's worth of information, about three Latin characters'.
CJK_CHAR_WEIGHT = 3

#: charset-normalizer scores (chaos, coherence) closer than this are a tie: its scores move in steps of
#: ~0.02 on short documents, and equal-looking Western code pages score exactly alike.
CHARSET_TIE = 0.01

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

_GZIP_MAGIC = b"\x1f\x8b"
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_XML_DECL = re.compile(rb"^<\?xml[^>]*?\?>")
_XML_DECL_ENCODING = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_ROOT_ANYWHERE = re.compile(rb"<(rss|feed|rdf:RDF|RDF|opml|html|HTML|channel)[\s>]")
_HTML_ANYWHERE = re.compile(rb"<(html|head|body)[\s>]|<!doctype html", re.IGNORECASE)
_HTML_ROOTS = frozenset({"html", "head", "body", "div", "p", "meta", "title", "script", "a", "table", "span"})
_ROOT_FORMATS = {"rss": "rss", "channel": "rss", "feed": "atom", "rdf": "rdf", "opml": "opml"}

_UTF_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_UTF_WIDE_MARKERS = (  # '<?' without a BOM, XML 1.0 appendix F
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)


# ---------------------------------------------------------------------------------------------- byte preparation


def _gunzip(content: bytes) -> bytes:
    """Decompress a gzip body, refusing more than ``MAX_DECOMPRESSED_BYTES``."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(content, MAX_DECOMPRESSED_BYTES)
    except zlib.error as exc:
        raise FeedParseError(f"gzip-compressed feed is corrupt: {exc}") from exc
    if decompressor.unconsumed_tail:
        raise FeedParseError(f"gzip-compressed feed expands beyond {MAX_DECOMPRESSED_BYTES} bytes")
    if not out:  # a cut-off download still gives its first items; nothing at all is corruption
        raise FeedParseError("gzip-compressed feed is truncated or corrupt")
    return out


def _wide_encoding(content: bytes) -> str | None:
    for bom, name in _UTF_BOMS:
        if content.startswith(bom) and not (name.startswith("utf-16") and content[2:4] == b"\x00\x00"):
            return name
    for marker, name in _UTF_WIDE_MARKERS:
        if content.startswith(marker):
            return name
    return None


def _to_ascii_compatible(content: bytes) -> tuple[bytes, bool]:
    """Transcode UTF-16/32 to UTF-8; returns (bytes, transcoded)."""
    wide = _wide_encoding(content)
    if wide is None:
        return content, False
    try:
        text = content.decode(wide)
    except UnicodeDecodeError as exc:
        raise FeedParseError(f"document looks like {wide} but does not decode as it: {exc.reason}") from exc
    data = text.lstrip("\ufeff").encode("utf-8")
    # the declaration still names UTF-16; it must now say what the bytes are
    return _XML_DECL.sub(b'<?xml version="1.0" encoding="utf-8"?>', data, count=1), True


def _doctype_end(data: bytes, i: int) -> int:
    """Index just past the DOCTYPE declaration whose body starts at ``i``; -1 when it never ends."""
    n = len(data)
    quote = 0
    depth = 0
    while i < n:
        c = data[i]
        if quote:
            if c == quote:
                quote = 0
        elif c in (0x22, 0x27):  # " '
            quote = c
        elif c == 0x5B:  # [ opens the internal subset
            depth += 1
        elif c == 0x5D:
            depth -= 1
        elif c == 0x3C and data.startswith(b"<!--", i):  # comments in the subset may hold quotes and '>'
            j = data.find(b"-->", i + 4)
            if j < 0:
                return -1
            i = j + 3
            continue
        elif c == 0x3E and depth <= 0:
            return i + 1
        i += 1
    return -1


def _scan_prolog(data: bytes) -> tuple[int, tuple[int, int] | None]:
    """(index of the root element's '<' or -1, span of the DOCTYPE declaration or None).

    The span's end is ``len(data)`` when the declaration is not terminated within ``data``.
    """
    i = 3 if data.startswith(codecs.BOM_UTF8) else 0
    n = len(data)
    doctype: tuple[int, int] | None = None
    while True:
        while i < n and data[i] in b" \t\r\n":
            i += 1
        if data.startswith(b"<?", i):
            j = data.find(b"?>", i + 2)
            if j < 0:
                return -1, doctype
            i = j + 2
        elif data.startswith(b"<!--", i):
            j = data.find(b"-->", i + 4)
            if j < 0:
                return -1, doctype
            i = j + 3
        elif data[i : i + 9].upper() == b"<!DOCTYPE":
            end = _doctype_end(data, i + 9)
            if end < 0:
                return -1, (i, n)
            doctype = (i, end)
            i = end
        else:
            return (i if data.startswith(b"<", i) else -1), doctype


def _doctype_span(data: bytes) -> tuple[int, int] | None:
    """Where the DOCTYPE declaration is: in the prolog, or after junk that precedes it (PHP notices ...)."""
    root, span = _scan_prolog(data)
    if span is not None:
        return span
    match = _DOCTYPE.search(data, 0, SNIFF_BYTES)
    if match is None or 0 <= root < match.start():
        return None
    end = _doctype_end(data, match.end())
    return match.start(), end if end >= 0 else len(data)


def _remove_doctype(data: bytes) -> tuple[bytes, str | None]:
    """The document without its DOCTYPE declaration, so that no entity can be expanded; plus a warning."""
    span = _doctype_span(data)
    if span is None:
        return data, None
    start, end = span
    if end >= len(data):
        raise FeedParseError("the DOCTYPE declaration is never closed; refusing the document")
    declared_entities = b"<!ENTITY" in data[start:end].upper()
    warning = (
        "removed a DOCTYPE that declares XML entities; they are never expanded" if declared_entities else None
    )
    return data[:start] + data[end:], warning


# ---------------------------------------------------------------------------------------------- format sniffing


def sniff_format(content: bytes) -> str:
    """'rss' | 'atom' | 'rdf' | 'jsonfeed' | 'opml' | 'html' | 'unknown', judged from the bytes alone.

    File extensions and Content-Type headers lie (feeds served as text/html, gzip saved as .xml); the root
    element does not. Gzip bodies are looked into.
    """
    head = content[: SNIFF_BYTES * 4]
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(head, SNIFF_BYTES)
        except zlib.error:
            return "unknown"
    head = head[:SNIFF_BYTES]
    wide = _wide_encoding(head)
    if wide is not None:
        head = head.decode(wide, "ignore").encode("utf-8")
    if looks_like_json(head):
        return "jsonfeed" if b"jsonfeed.org" in head or b'"items"' in head else "unknown"
    root, doctype = _scan_prolog(head)
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


# ---------------------------------------------------------------------------------------------- charset choice


def _charset_param(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", content_type, re.IGNORECASE)
    return _codec_name(match.group(1)) if match else None


def _codec_name(label: str) -> str | None:
    """The codec for a charset label; None when unknown or not a text encoding (base64, zlib, rot13)."""
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guess_charset(data: bytes) -> str | None:
    """Best guess for bytes that declare no charset anywhere and are not UTF-8 (charset-normalizer)."""
    from charset_normalizer import from_bytes  # imported late: only undeclared legacy encodings need it

    matches = list(from_bytes(data[:SNIFF_BYTES]))
    if not matches:
        return None
    best = matches[0]
    # Short Western texts fit cp1250, cp1252 and iso8859-10 equally well and charset-normalizer then picks the
    # first; undeclared feeds are overwhelmingly windows-1252 (the web's default), so it wins such ties.
    tied = [
        m
        for m in matches
        if m.chaos <= best.chaos + CHARSET_TIE and m.coherence >= best.coherence - CHARSET_TIE
    ]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        return "cp1252"
    return _codec_name(best.encoding)


def _feedparser_content_type(data: bytes, content_type: str | None, *, transcoded: bool) -> str:
    """The Content-Type to tell feedparser, which decides the charset from it.

    Always an XML media type, so the XML declaration counts (feedparser otherwise applies RFC 3023's
    text/xml-means-US-ASCII rule). A header charset is kept unless the bytes contradict it: bytes that are
    valid UTF-8 with non-ASCII characters are UTF-8 whatever the header says (legacy text is practically
    never valid UTF-8), and a header claiming UTF-8 for bytes that are not defers to the XML declaration.
    """
    if transcoded:
        return "application/xml; charset=utf-8"
    http_charset = _charset_param(content_type)
    declared = _XML_DECL_ENCODING.match(data.lstrip(b" \t\r\n").removeprefix(codecs.BOM_UTF8))
    declared_charset = _codec_name(declared.group(1).decode("ascii")) if declared else None
    if data.startswith(codecs.BOM_UTF8):
        return "application/xml; charset=utf-8"
    if http_charset is None and declared_charset is not None:
        return "application/xml"
    utf8 = data.isascii() or _is_utf8(data)
    if utf8 and not data.isascii():
        return "application/xml; charset=utf-8"
    if http_charset is not None and http_charset != "utf-8":
        return f"application/xml; charset={http_charset}"
    if declared_charset is not None:
        return "application/xml"
    if utf8:
        return "application/xml; charset=utf-8"
    guessed = _guess_charset(data)
    return f"application/xml; charset={guessed}" if guessed else "application/xml"


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
    data = _gunzip(content) if content.startswith(_GZIP_MAGIC) else content
    data, transcoded = _to_ascii_compatible(data)
    fmt = sniff_format(data)
    if fmt == "jsonfeed" or looks_like_json(data):
        return parse_json_feed(data, url=url, charset=_charset_param(content_type))
    if fmt == "html":
        raise FeedParseError("this is an HTML page, not a feed (its feeds can be discovered from it)")
    if fmt == "opml":
        raise FeedParseError("this is an OPML subscription list, not a feed; import it instead")
    data = data.lstrip(b" \t\r\n")  # whitespace before <?xml makes the strict parser give up
    data, doctype_warning = _remove_doctype(data)
    # No content-location: feedparser would then resolve every URI of every element against it, which
    # doubles its parse time (bench/feeds.py); links are resolved once, after mapping, instead.
    headers = {"content-type": _feedparser_content_type(data, content_type, transcoded=transcoded)}
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
    return ParsedFeed(
        format=_format_name(version, sniffed),
        title=_text(_get(feed, "title"), _get(feed, "title_detail")),
        site_url=site_url,
        language=_clean(_get(feed, "language")),
        items=items,
        warning="; ".join(warnings) or None,
    )


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
