"""HTML or plain text -> ``ExtractedArticle``: trafilatura for the body, plus what it misses for news.

HTML: bytes are decoded (BOM, declared or given charset, else UTF-8 with replacement), parsed once with
lxml, metadata read from JSON-LD (schema.org NewsArticle), OpenGraph and meta tags, chrome containers
pruned, the body taken by trafilatura in precision mode without comments, then cleaned of chrome
paragraphs, bylines and captions. JSON-LD ``articleBody`` replaces the body when the page shows that
same text and it is clearly more complete. Plain text goes through the line rules of ``plaintext``.
Non-articles (walls, challenges, error and index pages) come back flagged by ``pagekind``.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from copy import copy
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from dateutil import parser as date_parser
from lxml import etree
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.settings import Extractor
from trafilatura.utils import load_html

from newsloom.errors import ExtractionError, InputError
from newsloom.ingest.chrome import is_chrome_line, is_edge_chrome_line, prune_chrome_containers, word_count
from newsloom.ingest.pagekind import ARTICLE_TYPES, PageSignals, classify_page
from newsloom.ingest.plaintext import (
    BYLINE_RE,
    as_utc,
    guess_language,
    normalise_line,
    parse_date,
    parse_plain_text,
)
from newsloom.ingest.plaintext import (
    recurring_lines as recurring_lines,  # re-exported: part of this module's public API
)
from newsloom.ingest.sanitize import sanitize_html
from newsloom.types import ExtractedArticle

__all__ = [
    "article_to_json",
    "extract_file",
    "extract_html",
    "extract_text",
    "recurring_lines",
]

#: How far into the bytes a charset declaration is looked for (the HTML spec's prescan reads 1024 bytes;
#: real pages put long inline scripts first, so look further).
CHARSET_SNIFF_BYTES = 4096
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
#: Python codecs that claim to be text encodings but are transforms or internals, never a page's charset
#: (a declared ``punycode`` or ``undefined`` must fall back like an unknown name, not be tried).
NOT_PAGE_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})

#: JSON-LD ``articleBody`` is used only when this share of its 4-word shingles is visible on the page
#: (else it is hidden paywalled text or a different article) ...
ARTICLE_BODY_VISIBLE_SHARE = 0.8
#: ... it covers this share of what trafilatura found (same article, not a teaser) ...
ARTICLE_BODY_COVERS_SHARE = 0.8
#: ... and it is this much longer (trafilatura missed part of the body). Below that the extracted
#: paragraphs win, since they keep the page's paragraph breaks and layout order.
ARTICLE_BODY_GAIN = 1.25

#: A leading paragraph this short that names a person ("By Jane Doe", "Jane Doe, Reporter") is a byline.
BYLINE_MAX_WORDS = 10

#: Link share and page text are only measured when the extracted text is this short: long extractions
#: are articles, and walking the whole page costs time.
SIGNAL_CHECK_MAX_WORDS = 200

#: trafilatura in precision mode without comments: +0.016 F1 over its defaults on the extraction set
#: (comment sections and "more stories" blocks are the main false positives on news pages). Links and
#: formatting stay off: keeping links disables parts of its link-density pruning (-0.05 F1).
#: Building an Extractor re-reads trafilatura's config (about 1 ms); it is built once and copied per page.
_BASE_OPTIONS = Extractor(output_format="python", precision=True, comments=False, formatting=False, tables=True)

JSON_LD_XPATH = etree.XPath('//script[@type="application/ld+json"]')
META_XPATH = etree.XPath("//meta[@content]")
# plain contains() stays inside libxml2 (EXSLT re:test calls back into Python for every element)
CAPTION_XPATH = etree.XPath("//figcaption | //*[contains(@class, 'caption')]")
TIME_XPATH = etree.XPath("//time[@datetime]/@datetime")
# parent:: rather than ancestor:: (scripts and styles hold only text): 3x faster on large pages
VISIBLE_TEXT_XPATH = etree.XPath("//body//text()[not(parent::script or parent::style or parent::noscript)]")
LINK_TEXT_XPATH = etree.XPath("//body//a//text()")
SHINGLE_TOKEN_RE = re.compile(r"\w+")
TITLE_SUFFIX_RE = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,60}$")


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """Metadata read from the page head and JSON-LD, before any body extraction."""

    title: str | None = None
    author: str | None = None
    publisher: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    language: str | None = None
    image_url: str | None = None
    description: str | None = None
    article_body: str | None = None
    schema_type: str | None = None
    og_type: str | None = None
    accessible_for_free: bool | None = None
    canonical_url: str | None = None


# --------------------------------------------------------------------------------------------- decoding


def decode_html(html: bytes, encoding: str | None = None) -> str:
    """Bytes -> text: BOM, then the given (transport) encoding, then a declared charset, then UTF-8."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if html.startswith(bom):
            return html[len(bom) :].decode(name, errors="replace")
    candidates: list[str] = []
    if encoding:
        candidates.append(encoding)
    head = html[:CHARSET_SNIFF_BYTES]
    declared = XML_DECL_RE.search(head) or META_CHARSET_RE.search(head)
    if declared:
        candidates.append(declared.group(1).decode("ascii", "replace"))
    for name in candidates:
        codec = _text_codec(name)
        if codec is None:
            continue
        # pages that declare latin-1 are windows-1252 in practice (the HTML spec maps one to the other)
        if codec in {"latin-1", "iso8859-1", "ascii"}:
            codec = "cp1252"
        try:
            return html.decode(codec)
        except ValueError:  # UnicodeError and its subclasses: the bytes are not in that charset
            continue
    return html.decode("utf-8", errors="replace")


def _text_codec(name: str) -> str | None:
    """The codec name for a declared charset, or None when it is unknown or not a character encoding.

    ``codecs.lookup`` also finds bytes-to-bytes transforms (base64, hex, zlib) and str-to-str ones (rot13);
    ``bytes.decode`` refuses those with LookupError, so only text encodings are candidates.
    """
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # ValueError: a name with NUL or other characters lookup refuses
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in NOT_PAGE_CHARSETS:
        return None
    return info.name


def parse_html(text: str) -> HtmlElement:
    """An lxml tree of ``text``; ExtractionError when it is not HTML at all."""
    if not text.strip():
        raise ExtractionError("empty document: nothing to extract")
    if "<" not in text:
        raise ExtractionError("not HTML: the document contains no markup")
    try:
        tree = load_html(text)
    except (ValueError, TypeError, etree.LxmlError) as exc:
        raise ExtractionError(f"cannot parse HTML: {exc.__class__.__name__}") from exc
    if tree is None:
        raise ExtractionError("cannot parse HTML: no document element")
    return tree


# --------------------------------------------------------------------------------------------- metadata


def _json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in JSON_LD_XPATH(tree):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        stack: list[Any] = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.extend(item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]])
                yield item


def _types(obj: dict[str, Any]) -> list[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return [v for v in values if isinstance(v, str)]


def _names(value: Any) -> list[str]:
    """Names out of a schema.org author/publisher value: a string, an object with ``name``, or a list."""
    if isinstance(value, str):
        return [value] if value.strip() and not value.startswith(("http://", "https://", "/")) else []
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _url_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        return _url_of(value.get("url") or value.get("contentUrl"))
    if isinstance(value, list) and value:
        return _url_of(value[0])
    return None


def parse_datetime(value: str | None) -> datetime | None:
    """An ISO-ish or human date string as an aware UTC datetime; naive values are taken as UTC."""
    if not value or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = date_parser.parse(value.strip())
        except (ValueError, OverflowError):
            return parse_date(value)
    return as_utc(parsed)


def _clean_title(title: str | None, publisher: str | None) -> str | None:
    if not title:
        return None
    title = " ".join(title.split())
    suffix = TITLE_SUFFIX_RE.search(title)
    if suffix and (publisher is None or publisher.lower() in suffix.group(0).lower() or len(title) > 40):
        title = title[: suffix.start()]
    return title or None


def read_metadata(tree: HtmlElement, url: str | None) -> PageMetadata:
    """Metadata from JSON-LD (preferred: it is written for machines), then OpenGraph and meta tags."""
    meta: dict[str, str] = {}
    for element in META_XPATH(tree):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        if key and key not in meta and element.get("content", "").strip():
            meta[key] = element.get("content", "").strip()

    article: dict[str, Any] = {}
    site: dict[str, Any] = {}
    for obj in _json_ld_objects(tree):
        types = {t.lower() for t in _types(obj)}
        if not article and (types & ARTICLE_TYPES or "articleBody" in obj):
            article = obj
        elif not site and types & {"organization", "newsmediaorganization", "website"}:
            site = obj

    authors = _names(article.get("author")) or [meta[k] for k in ("author", "article:author", "byl", "dc.creator") if k in meta and not meta[k].startswith("http")]
    publisher_names = _names(article.get("publisher")) or [meta[k] for k in ("og:site_name", "application-name", "publisher") if k in meta] or _names(site)
    publisher = publisher_names[0] if publisher_names else None

    head_title = tree.findtext(".//title")
    title = _clean_title(
        article.get("headline") if isinstance(article.get("headline"), str) else None, None
    ) or _clean_title(meta.get("og:title") or meta.get("twitter:title") or head_title, publisher)

    published = parse_datetime(
        _str(article.get("datePublished"))
        or meta.get("article:published_time")
        or meta.get("datepublished")
        or meta.get("pubdate")
        or meta.get("publishdate")
        or meta.get("date")
        or meta.get("dc.date")
        or meta.get("dc.date.issued")
        or meta.get("parsely-pub-date")
        or meta.get("sailthru.date")
        or next(iter(TIME_XPATH(tree)), None)
    )
    updated = parse_datetime(_str(article.get("dateModified")) or meta.get("article:modified_time"))
    image = meta.get("og:image") or _url_of(article.get("image")) or meta.get("twitter:image")
    language = (tree.get("lang") or meta.get("og:locale") or _str(article.get("inLanguage")) or meta.get("content-language"))
    free = article.get("isAccessibleForFree")
    canonical = next(iter(tree.xpath("//link[@rel='canonical']/@href")), None) or meta.get("og:url")
    return PageMetadata(
        title=title,
        author=", ".join(dict.fromkeys(a.strip() for a in authors)) or None,
        publisher=publisher.strip() if publisher else None,
        published=published,
        updated=updated,
        language=_language_code(language),
        image_url=_absolute_url(url, image),
        description=_str(article.get("description")) or meta.get("og:description") or meta.get("description"),
        article_body=_str(article.get("articleBody")),
        schema_type=next(iter(_types(article)), None),
        og_type=meta.get("og:type"),
        accessible_for_free=(free if isinstance(free, bool) else None) if not isinstance(free, str) else free.lower() != "false",
        canonical_url=str(canonical) if canonical else None,
    )


def _absolute_url(base: str | None, link: str | None) -> str | None:
    """``link`` resolved against ``base``; None when either is malformed (e.g. ``http://[x/``)."""
    if not link:
        return None
    try:
        resolved = urljoin(base, link) if base else link
        urlsplit(resolved)  # a malformed IPv6 host only raises here when no base was joined
    except ValueError:
        return None
    return resolved


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _language_code(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if 2 <= len(code) <= 3 and code.isalpha() else None


# --------------------------------------------------------------------------------------------- body


def _shingles(text: str) -> set[tuple[str, ...]]:
    tokens = SHINGLE_TOKEN_RE.findall(text.lower())
    return {tuple(tokens[i : i + 4]) for i in range(max(len(tokens) - 3, 1))} if tokens else set()


def _share_in(part: set[tuple[str, ...]], whole: set[tuple[str, ...]]) -> float:
    return len(part & whole) / len(part) if part else 0.0


def _collect_captions(tree: HtmlElement) -> list[str]:
    captions: list[str] = []
    for element in CAPTION_XPATH(tree):
        text = " ".join(" ".join(element.itertext()).split())
        if word_count(text) >= 3 and text not in captions:
            captions.append(text)
    return captions


def _clean_paragraphs(paragraphs: Iterable[str], *, title: str | None, author: str | None, captions: list[str]) -> list[str]:
    """Drop chrome, bylines, the repeated headline and captions from extracted paragraphs."""
    caption_keys = {normalise_line(c) for c in captions}
    title_key = normalise_line(title) if title else None
    author_key = normalise_line(author) if author else None
    kept: list[str] = []
    for paragraph in paragraphs:
        key = normalise_line(paragraph)
        if not key or key in caption_keys or key in (title_key, author_key):
            continue
        if is_chrome_line(paragraph):
            continue
        if not kept and word_count(paragraph) <= BYLINE_MAX_WORDS and BYLINE_RE.match(paragraph):
            continue
        kept.append(paragraph)
    # edges: short membership/app/newsletter lines before the first and after the last paragraph
    while kept and is_edge_chrome_line(kept[0]):
        kept.pop(0)
    while kept and is_edge_chrome_line(kept[-1]):
        kept.pop()
    return kept


def _drop_removed_blocks(body: etree._Element, kept_keys: set[str]) -> None:
    """Remove from trafilatura's body the top-level blocks whose text the cleaning dropped (chrome, title)."""
    for block in list(body):
        text = normalise_line(" ".join(block.itertext()))
        if text and text not in kept_keys and block.tag in {"p", "head"} and not any(text in k for k in kept_keys):
            body.remove(block)


def _page_signals(tree: HtmlElement) -> tuple[str, float, int]:
    """(visible page text, share of its words inside links, its word count)."""
    page_text = " ".join(VISIBLE_TEXT_XPATH(tree))
    page_words = len(page_text.split())
    link_words = len(" ".join(LINK_TEXT_XPATH(tree)).split())
    return page_text, (link_words / page_words if page_words else 0.0), page_words


def extract_html(html: bytes | str, *, url: str | None = None, encoding: str | None = None) -> ExtractedArticle:
    """Extract the article of one HTML page. Raises ExtractionError when the input is not HTML."""
    text = decode_html(html, encoding) if isinstance(html, bytes) else html
    tree = parse_html(text)
    metadata = read_metadata(tree, url)
    captions = _collect_captions(tree)
    prune_chrome_containers(tree)

    options = copy(_BASE_OPTIONS)
    options.url = url
    try:
        document = bare_extraction(tree, options=options)
    except (ValueError, TypeError, etree.LxmlError) as exc:  # trafilatura lets a few lxml errors through
        raise ExtractionError(f"cannot extract the article: {exc.__class__.__name__}") from exc
    body = getattr(document, "body", None)
    raw_text = getattr(document, "text", None) or ""
    paragraphs = _clean_paragraphs(raw_text.split("\n"), title=metadata.title, author=metadata.author, captions=captions)
    extracted = "\n\n".join(paragraphs)

    article_html = ""
    if body is not None and paragraphs:
        _drop_removed_blocks(body, {normalise_line(p) for p in paragraphs})
        article_html = etree.tostring(convert_to_html(body), encoding="unicode")

    page_text: str | None = None
    if metadata.article_body and word_count(metadata.article_body) > ARTICLE_BODY_GAIN * word_count(extracted):
        page_text = page_text or _page_signals(tree)[0]
        candidate = _shingles(metadata.article_body)
        if (
            _share_in(candidate, _shingles(page_text)) >= ARTICLE_BODY_VISIBLE_SHARE
            and _share_in(_shingles(extracted), candidate) >= ARTICLE_BODY_COVERS_SHARE
        ):
            body_paragraphs = [p.strip() for p in metadata.article_body.splitlines() if p.strip()]
            paragraphs = _clean_paragraphs(body_paragraphs, title=metadata.title, author=metadata.author, captions=captions)
            extracted = "\n\n".join(paragraphs)
            article_html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)

    signals = PageSignals(title=metadata.title, text=extracted, schema_type=metadata.schema_type,
                          og_type=metadata.og_type, accessible_for_free=metadata.accessible_for_free)
    if word_count(extracted) <= SIGNAL_CHECK_MAX_WORDS:
        full_text, link_share, page_words = _page_signals(tree)
        signals = replace(signals, page_text=full_text, link_share=link_share, page_words=page_words)
    reason = classify_page(signals)

    return ExtractedArticle(
        title=metadata.title,
        author=metadata.author,
        publisher=metadata.publisher,
        published=metadata.published,
        language=metadata.language or guess_language(extracted),
        text=extracted,
        html=sanitize_html(article_html, base_url=url),
        url=url,
        updated=metadata.updated,
        image_url=metadata.image_url,
        description=metadata.description,
        captions=tuple(captions),
        is_article=reason is None,
        not_article_reason=reason,
    )


# --------------------------------------------------------------------------------------------- plain text


def extract_text(text: str, *, path: str | None = None, site_lines: frozenset[str] = frozenset()) -> ExtractedArticle:
    """Extract the article of a plain-text document; ``site_lines`` are normalised recurring chrome lines."""
    parts = parse_plain_text(text, site_lines=site_lines)
    body = "\n\n".join(parts.paragraphs)
    reason = classify_page(PageSignals(title=parts.title, text=body))
    return ExtractedArticle(
        title=parts.title,
        author=parts.author,
        publisher=parts.publisher,
        published=parts.published,
        language=guess_language(body),
        text=body,
        html="".join(f"<p>{escape(p)}</p>" for p in parts.paragraphs),
        path=path,
        description=parts.description,
        captions=parts.captions,
        headings=parts.headings,
        is_article=reason is None,
        not_article_reason=reason,
    )


def extract_file(path: Path, *, site_lines: frozenset[str] = frozenset()) -> ExtractedArticle:
    """Extract a ``.html``/``.htm`` or ``.txt`` file; InputError when it cannot be read or has another suffix."""
    suffix = path.suffix.lower()
    if suffix not in {".html", ".htm", ".txt"}:
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'}; expected .html, .htm or .txt")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if suffix == ".txt":
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            content = data.decode("cp1252", errors="replace")
        return extract_text(content, path=str(path), site_lines=site_lines)
    return replace(extract_html(data), path=str(path))


def article_to_json(a: ExtractedArticle) -> dict[str, object]:
    """A JSON-ready dict of an extracted article (``path`` for files, ``url`` for pages)."""
    out: dict[str, object] = {"path": a.path} if a.path is not None else {"url": a.url}
    out.update(
        {
            "title": a.title,
            "author": a.author,
            "publisher": a.publisher,
            "published": a.published.isoformat() if a.published else None,
            "language": a.language,
            "text": a.text,
            "is_article": a.is_article,
            "not_article_reason": a.not_article_reason,
            "captions": list(a.captions),
            "image_url": a.image_url,
            "description": a.description,
        }
    )
    return out
