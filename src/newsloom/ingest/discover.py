"""Feed discovery for ``newsloom add URL``: a site's home page -> candidate feed URLs, best first.

Pure: nothing is fetched here. The caller tries the candidates in order and keeps the first that parses.
Order, from most to least reliable:

1. ``<link rel="alternate">`` with a feed media type in the page head (the autodiscovery convention);
   comment feeds go after the site's main feeds;
2. ``<a href>`` whose URL looks like a feed (/feed, .rss, .xml, feedburner ...), same site first;
3. well-known paths that blog engines and CMSs serve (WordPress /feed, Blogger /feeds/posts/default ...).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/x.atom+xml",
        "application/x-atom+xml",
        "text/xml",
        "application/xml",
    }
)

#: Media types that only feeds use; the generic ones (JSON, XML) come after them.
FEED_SPECIFIC_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
)

#: Paths that engines serve feeds at: WordPress (/feed), Ghost and many CMSs (/rss), Jekyll (/feed.xml,
#: /atom.xml), Hugo (/index.xml), Blogger (/feeds/posts/default), and the generic /rss.xml.
WELL_KNOWN_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/atom.xml",
    "/feed.xml",
    "/index.xml",
    "/feeds/posts/default",
)

_FEED_HREF = re.compile(
    r"(\.(rss|atom|rdf)$|[./](rss|atom|feed)\.xml$|/(feed|feeds|rss|atom)/?$|/feeds/posts/default"
    r"|[?&](feed|format|type)=(rss|rss2|atom|json|feed)\b)",
    re.IGNORECASE,
)
_FEED_HOSTS = ("feeds.feedburner.com", "feedproxy.google.com", "feeds.bbci.co.uk", "rss.")
_NOT_FEED = re.compile(r"(sitemap|/feedback|/comments/feed)", re.IGNORECASE)
_COMMENTS = re.compile(r"comment", re.IGNORECASE)


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base_href: str | None = None
        self.alternates: list[tuple[str, str, str]] = []  # (href, title, media type)
        self.anchors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        href = values.get("href", "")
        if not href:
            return
        if tag == "base" and self.base_href is None:
            self.base_href = href
        elif tag == "link":
            rels = values.get("rel", "").lower().split()
            kind = values.get("type", "").lower().split(";")[0].strip()
            if "alternate" in rels and kind in FEED_TYPES:
                self.alternates.append((href, values.get("title", ""), kind))
        elif tag == "a":
            kind = values.get("type", "").lower().split(";")[0].strip()
            if kind in FEED_TYPES or _looks_like_feed(href):
                self.anchors.append(href)

    handle_startendtag = handle_starttag


def _alternate_rank(alternate: tuple[str, str, str]) -> tuple[bool, bool]:
    """Sort key: the site's own feeds first, comment feeds after; feed media types before generic JSON/XML
    (WordPress links its REST API as rel=alternate application/json on every page)."""
    href, title, kind = alternate
    is_comments = bool(_COMMENTS.search(title) or _NOT_FEED.search(href))
    return is_comments, kind not in FEED_SPECIFIC_TYPES


def _looks_like_feed(href: str) -> bool:
    parts = urlsplit(href)
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return False
    if _NOT_FEED.search(href):
        return False
    host = parts.netloc.lower()
    if any(host.startswith(h) or host == h for h in _FEED_HOSTS) and parts.path not in ("", "/"):
        return True
    target = parts.path + ("?" + parts.query if parts.query else "")
    return bool(_FEED_HREF.search(target))


def _http_url(href: str, base: str) -> str | None:
    try:
        absolute = urljoin(base, href.strip())
        parts = urlsplit(absolute)
    except ValueError:  # malformed IPv6 literals and the like
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def discover_feeds(html: bytes | str, base_url: str) -> list[str]:
    """Candidate feed URLs for a page, best first, absolute and deduplicated. Nothing is fetched."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    collector = _LinkCollector()
    try:
        collector.feed(text)
        collector.close()
    except (AssertionError, ValueError):  # HTMLParser gives up on some broken markup; keep what it found
        pass
    base = urljoin(base_url, collector.base_href) if collector.base_href else base_url
    site_host = urlsplit(base_url).netloc.lower()

    alternates = sorted(collector.alternates, key=_alternate_rank)  # stable: document order within a rank
    anchors = [u for u in (_http_url(h, base) for h in collector.anchors) if u]
    same_site = [u for u in anchors if urlsplit(u).netloc == site_host]
    elsewhere = [u for u in anchors if u not in same_site]

    candidates = [_http_url(href, base) for href, _title, _kind in alternates]
    candidates += same_site + elsewhere + _well_known(base_url)
    return list(dict.fromkeys(c for c in candidates if c))


def _well_known(base_url: str) -> list[str]:
    """Well-known feed paths under the page's directory (a blog at /blog/) and under the site root."""
    parts = urlsplit(base_url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return []
    origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    directory = parts.path.rsplit("/", 1)[0] if not parts.path.endswith("/") else parts.path.rstrip("/")
    prefixes = [directory, ""] if directory else [""]
    return [origin + prefix + path for prefix in prefixes for path in WELL_KNOWN_PATHS]
