"""Hypothesis strategies that build near-valid hostile inputs for every parser, then mutate them.

Structure-aware: a feed is built element by element (RSS 2.0, Atom, RDF, JSON Feed) from field values that
real feeds get wrong (bad dates, relative and malformed URLs, entities, CDATA, markup in titles, control
characters), encoded in a charset that may contradict its declaration, and then possibly cut, spliced,
gzipped or given a DOCTYPE. Raw bytes are drawn too. The same strategies drive the CI tests (a few hundred
examples) and ``bench/fuzz.py`` (hundreds of thousands, through ``hypothesis``' ``fuzz_one_input``).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st

from newsloom.stories.compare import CompareInput

# --- field values ----------------------------------------------------------------------------------------

#: Strings that broke or nearly broke real feed and page parsers (feedparser's, miniflux's and reader's
#: issue trackers), plus classic injection and encoding traps.
HOSTILE_STRINGS = (
    "",
    " ",
    "&amp;",
    "&bogus;",
    "&#0;",
    "&#xD800;",
    "&#99999999;",
    "]]>",
    "<![CDATA[",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "http://[::1",
    "http://[x/",
    "https://exa mple.com/a b",
    "//evil.example/x",
    "/relative/path?q=1#f",
    "../up",
    "http://a.example/\x00",
    "mailto:someone@example.com",
    "\x00",
    "\x1b[31m",
    "\u202eevil",
    "\ufeff",
    "\u0301\u0301\u0301",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "日本語のニュース",
    "a" * 3000,
    "word " * 400,
    "Tue, 18 Mar 2025 10:00:00 GMT",
    "2025-03-18T10:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-14:00",
    "Mon, 31 Feb 2025 25:61:61 +9999",
    "-1",
    "1e400",
    "NaN",
    "By Jane Doe",
    "Photo: Reuters",
    "Advertisement",
)

URLS = (
    "https://news.example.com/2025/03/18/council-votes",
    "http://news.example.com/a?b=1&c=2",
    "/relative/story",
    "story.html",
    "//cdn.example.net/img.jpg",
    "http://[::1",
    "http://[x/",
    "http://127.0.0.1/admin",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "data:text/html,<b>x</b>",
    "http://user:pass@example.com/",
    "https://example.com:99999/",
    "https://ex\u00e4mple.com/ü",
    "",
)

DATES = (
    "Tue, 18 Mar 2025 10:00:00 GMT",
    "Tue, 18 Mar 2025 10:00:00 +0100",
    "18 Mar 2025",
    "2025-03-18T10:00:00Z",
    "2025-03-18T10:00:00.123456+05:30",
    "2025-03-18",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-14:00",
    "Mon, 31 Feb 2025 25:61:61 +9999",
    "yesterday",
    "1742300000",
    "",
)

CHARSETS = ("utf-8", "utf-16", "utf-16-le", "latin-1", "cp1252", "shift_jis", "koi8-r", "ascii")
#: Labels a hostile server may declare: real but wrong, unknown, or not text codecs at all.
BOGUS_CHARSETS = ("x-no-such-charset", "utf-32", "base64", "hex", "zlib", "rot13", "punycode", "undefined", "idna", "utf-7")

text_values = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
)
url_values = st.one_of(st.sampled_from(URLS), text_values)
date_values = st.one_of(st.sampled_from(DATES), text_values)

WORDS = ["the", "council", "voted", "to", "approve", "new", "harbour", "bridge", "after", "debate", "lasted", "more", "than", "six", "hours", "minister", "said", "police", "reported", "people", "were", "injured", "in", "Paris", "on", "Tuesday", "company", "shares", "fell", "percent", "million", "dollars", "announced", "plan", "election", "results", "storm", "flooding"]
NAMES = ("Jane Doe", "Olaf Scholz", "Emmanuel Macron", "Acme Corp", "World Health Organization", "María López")
PLACES = ("Paris", "Berlin", "New York", "Lagos", "Tokyo", "São Paulo")


@st.composite
def sentences(draw: st.DrawFn) -> str:
    """A news-like sentence: names, places, figures and quotes, which the comparison and clustering read."""
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=18))
    parts = [draw(st.sampled_from(NAMES)), *words]
    if draw(st.booleans()):
        parts.append(f"in {draw(st.sampled_from(PLACES))}")
    if draw(st.booleans()):
        amount = draw(st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True)))
        unit = draw(st.sampled_from(["", "%", " percent", " million", " people", " km", " $", "€"]))
        parts.insert(draw(st.integers(0, len(parts))), f"{amount}{unit}")
    sentence = " ".join(parts)
    style = draw(st.integers(0, 4))
    if style == 1:
        sentence = f'"{sentence}," {draw(st.sampled_from(NAMES))} said.'
    elif style == 2:
        sentence = f"“{sentence}”"
    elif style == 3:
        sentence = sentence + draw(st.sampled_from(HOSTILE_STRINGS))
    else:
        sentence = sentence[0].upper() + sentence[1:] + "."
    return sentence


paragraphs = st.lists(st.one_of(sentences(), text_values), min_size=1, max_size=5).map(" ".join)


# --- XML feeds -----------------------------------------------------------------------------------------------


@st.composite
def xml_value(draw: st.DrawFn, values: st.SearchStrategy[str] = text_values) -> str:
    """A value as it appears between tags: escaped (the usual), in CDATA, or raw (malformed on purpose)."""
    value = draw(values)
    how = draw(st.sampled_from(["escape", "escape", "escape", "cdata", "raw", "double"]))
    if how == "cdata":
        return f"<![CDATA[{value}]]>"
    if how == "raw":
        return value
    if how == "double":  # HTML escaped once for the feed's content, once for XML
        return escape(escape(value))
    return escape(value)


def _element(name: str, value: str, attrs: str = "") -> str:
    return f"<{name}{attrs}>{value}</{name}>"


@st.composite
def rss_item(draw: st.DrawFn) -> str:
    fields = []
    for name, values in (
        ("title", text_values),
        ("link", url_values),
        ("guid", url_values),
        ("pubDate", date_values),
        ("description", st.one_of(paragraphs, text_values)),
        ("content:encoded", st.one_of(paragraphs.map(lambda p: f"<p>{p}</p>"), text_values)),
        ("author", text_values),
        ("dc:creator", text_values),
        ("category", text_values),
        ("dc:date", date_values),
    ):
        if draw(st.booleans()):
            fields.append(_element(name, draw(xml_value(values))))
    if draw(st.booleans()):
        fields.append(f"<enclosure url={quoteattr(draw(url_values))} type={quoteattr(draw(st.sampled_from(['image/jpeg', 'audio/mpeg', ''])))} length='-1'/>")
    if draw(st.booleans()):
        fields.append(f"<media:content url={quoteattr(draw(url_values))} medium='image'/>")
    draw(st.randoms()).shuffle(fields)
    return _element("item", "".join(fields))


@st.composite
def rss_document(draw: st.DrawFn) -> str:
    version = draw(st.sampled_from(["2.0", "0.91", "0.92", "", "9.9"]))
    items = "".join(draw(st.lists(rss_item(), max_size=4)))
    channel = (
        _element("title", draw(xml_value()))
        + _element("link", draw(xml_value(url_values)))
        + _element("description", draw(xml_value()))
        + (_element("language", draw(xml_value())) if draw(st.booleans()) else "")
        + items
    )
    ns = (
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:media="http://search.yahoo.com/mrss/"'
    )
    return f'<rss version="{version}"{ns if draw(st.booleans()) else ""}><channel>{channel}</channel></rss>'


@st.composite
def atom_entry(draw: st.DrawFn) -> str:
    fields = []
    for name, values in (("id", url_values), ("title", text_values), ("updated", date_values), ("published", date_values)):
        if draw(st.booleans()):
            attrs = f' type="{draw(st.sampled_from(["text", "html", "xhtml"]))}"' if name == "title" and draw(st.booleans()) else ""
            fields.append(_element(name, draw(xml_value(values)), attrs))
    for _ in range(draw(st.integers(0, 2))):
        rel = draw(st.sampled_from(["alternate", "enclosure", "self", "related", ""]))
        fields.append(f"<link rel={quoteattr(rel)} href={quoteattr(draw(url_values))}/>")
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["html", "text", "xhtml"]))
        body = draw(paragraphs)
        value = f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(body)}</p></div>' if kind == "xhtml" else draw(xml_value(st.just(body)))
        fields.append(_element(draw(st.sampled_from(["content", "summary"])), value, f' type="{kind}"'))
    if draw(st.booleans()):
        fields.append(f"<author><name>{draw(xml_value())}</name></author>")
    if draw(st.booleans()):
        fields.append(f"<category term={quoteattr(draw(text_values))}/>")
    return _element("entry", "".join(fields))


@st.composite
def atom_document(draw: st.DrawFn) -> str:
    base = f' xml:base={quoteattr(draw(url_values))}' if draw(st.booleans()) else ""
    entries = "".join(draw(st.lists(atom_entry(), max_size=4)))
    return (
        f'<feed xmlns="http://www.w3.org/2005/Atom"{base}>'
        + _element("title", draw(xml_value()))
        + f"<link href={quoteattr(draw(url_values))}/>"
        + _element("updated", draw(xml_value(date_values)))
        + entries
        + "</feed>"
    )


@st.composite
def rdf_document(draw: st.DrawFn) -> str:
    items = "".join(
        f"<item rdf:about={quoteattr(draw(url_values))}>"
        + _element("title", draw(xml_value()))
        + _element("link", draw(xml_value(url_values)))
        + _element("description", draw(xml_value(paragraphs)))
        + _element("dc:date", draw(xml_value(date_values)))
        + "</item>"
        for _ in range(draw(st.integers(0, 3)))
    )
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel>{_element('title', draw(xml_value()))}{_element('link', draw(xml_value(url_values)))}</channel>"
        f"{items}</rdf:RDF>"
    )


@st.composite
def encoded_xml(draw: st.DrawFn, document: str) -> bytes:
    """The document in some charset, with an XML declaration that may name another (or a bogus) one."""
    actual = draw(st.sampled_from(CHARSETS))
    declared = draw(st.one_of(st.none(), st.sampled_from(CHARSETS), st.sampled_from(BOGUS_CHARSETS)))
    prolog = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    if draw(st.booleans()):
        prolog = draw(st.sampled_from(["", " ", "\n\n", "<!-- c -->", "<?xml-stylesheet href='x.xsl'?>"])) + prolog
    return (prolog + document).encode(actual, errors="replace")


# --- byte-level mutations ------------------------------------------------------------------------------------

DOCTYPES = (
    b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b'<!DOCTYPE rss SYSTEM "file:///etc/passwd">',
    b'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "http://127.0.0.1/secret">]>',
    b"<!DOCTYPE html>",
    b"<!DOCTYPE rss [ <!-- ]> --> ",  # never closed
    b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">',
)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with zero to three byte-level mutations: cut, splice, insert, flip, wrap."""
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["truncate", "delete", "duplicate", "insert", "flip", "gzip", "doctype", "bom", "nest"]))
        n = len(data)
        at = draw(st.integers(0, n))
        if kind == "truncate":
            data = data[:at]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
        elif kind == "duplicate":
            data = data[:at] + data[at : at + draw(st.integers(1, 256))] * draw(st.integers(2, 20)) + data[at:]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
        elif kind == "flip" and n:
            i = min(at, n - 1)
            data = data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1 :]
        elif kind == "gzip":
            data = gzip.compress(data, compresslevel=1)
        elif kind == "doctype":
            data = draw(st.sampled_from(DOCTYPES)) + data
        elif kind == "bom":
            data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"])) + data
        elif kind == "nest":  # deep nesting: recursion limits of tree builders and walkers
            tag = draw(st.sampled_from([b"div", b"outline", b"item", b"p", b"span"]))
            depth = draw(st.integers(10, 3000))
            data = data[:at] + b"<" + tag + b">" * 1 + (b"<" + tag + b">") * depth + (b"</" + tag + b">") * depth + data[at:]
    return data


# --- JSON Feed -----------------------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True), text_values
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def _either(draw: st.DrawFn, good: st.SearchStrategy[Any]) -> Any:
    """A plausible value most of the time, any JSON value otherwise."""
    return draw(good) if draw(st.integers(0, 3)) else draw(json_values)


@st.composite
def json_feed_item(draw: st.DrawFn) -> Any:
    if not draw(st.integers(0, 9)):
        return draw(json_values)  # not an object at all
    item: dict[str, Any] = {}
    for key, good in (
        ("id", st.one_of(url_values, st.integers())),
        ("url", url_values),
        ("external_url", url_values),
        ("title", text_values),
        ("content_html", paragraphs.map(lambda p: f"<p>{p}</p>")),
        ("content_text", paragraphs),
        ("summary", text_values),
        ("image", url_values),
        ("banner_image", url_values),
        ("date_published", date_values),
        ("date_modified", date_values),
        ("tags", st.lists(text_values, max_size=3)),
        ("author", st.fixed_dictionaries({"name": text_values})),
        ("authors", st.lists(st.fixed_dictionaries({"name": text_values, "url": url_values}), max_size=2)),
    ):
        if draw(st.booleans()):
            item[key] = _either(draw, good)
    return item


@st.composite
def json_feed_document(draw: st.DrawFn) -> bytes:
    doc: dict[str, Any] = {}
    for key, good in (
        ("version", st.sampled_from(["https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1", "2"])),
        ("title", text_values),
        ("home_page_url", url_values),
        ("feed_url", url_values),
        ("language", text_values),
        ("authors", st.lists(st.fixed_dictionaries({"name": text_values}), max_size=2)),
    ):
        if draw(st.booleans()):
            doc[key] = _either(draw, good)
    if draw(st.integers(0, 9)):
        doc["items"] = draw(st.lists(json_feed_item(), max_size=4))
    elif draw(st.booleans()):
        doc["items"] = draw(json_values)
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()), allow_nan=True)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


# --- feeds of every kind -------------------------------------------------------------------------------------


@st.composite
def feed_bytes(draw: st.DrawFn) -> bytes:
    """A near-valid feed of any format, then mutated; or raw bytes."""
    kind = draw(st.sampled_from(["rss", "rss", "atom", "atom", "rdf", "json", "json", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=2048))
    if kind == "json":
        data = draw(json_feed_document())
    else:
        document = draw({"rss": rss_document(), "atom": atom_document(), "rdf": rdf_document()}[kind])
        data = draw(encoded_xml(document))
    return draw(mutated(data))


content_types = st.one_of(
    st.none(),
    st.sampled_from(["application/rss+xml", "text/xml", "text/html", "application/json", "application/octet-stream"]),
    st.sampled_from(CHARSETS + BOGUS_CHARSETS).map(lambda c: f"application/xml; charset={c}"),
    text_values,
)


# --- OPML ----------------------------------------------------------------------------------------------------


@st.composite
def opml_outline(draw: st.DrawFn, depth: int) -> str:
    attrs = []
    for name, values in (
        ("text", text_values),
        ("title", text_values),
        (draw(st.sampled_from(["xmlUrl", "xmlurl", "XMLURL", "xmlURL"])), url_values),
        ("htmlUrl", url_values),
        ("type", st.sampled_from(["rss", "atom", "link", ""])),
        ("category", st.one_of(st.sampled_from(["/World/Europe,/tag", "/", ",,,", "a/b/c"]), text_values)),
    ):
        if draw(st.booleans()):
            attrs.append(f" {name}={quoteattr(draw(values))}")
    children = ""
    if depth > 0 and draw(st.booleans()):
        children = "".join(draw(st.lists(opml_outline(depth - 1), max_size=3)))
    return f"<outline{''.join(attrs)}>{children}</outline>" if children else f"<outline{''.join(attrs)}/>"


@st.composite
def opml_bytes(draw: st.DrawFn) -> bytes:
    if not draw(st.integers(0, 9)):
        return draw(st.binary(max_size=1024))
    body = "".join(draw(st.lists(opml_outline(4), max_size=5)))
    root = draw(st.sampled_from(["opml", "opml", "OPML", "rss"]))
    head = f"<head><title>{escape(draw(text_values))}</title></head>" if draw(st.booleans()) else ""
    document = f'<{root} version="2.0">{head}<body>{body}</body></{root}>'
    return draw(mutated(draw(encoded_xml(document))))


# --- HTML pages ----------------------------------------------------------------------------------------------

BLOCK_TAGS = ("div", "article", "section", "main", "p", "figure", "figcaption", "nav", "footer", "header", "aside",
              "ul", "li", "table", "tr", "td", "blockquote", "h1", "h2", "span", "a", "time", "noscript", "form")


@st.composite
def html_node(draw: st.DrawFn, depth: int) -> str:
    tag = draw(st.sampled_from(BLOCK_TAGS))
    attrs = ""
    if draw(st.booleans()):
        attr = draw(st.sampled_from(["class", "id", "href", "src", "datetime", "style", "onclick", "role"]))
        value = draw(st.one_of(st.sampled_from(["caption", "article-body", "byline", "share", "cookie-banner", "paywall"]), url_values))
        attrs = f" {attr}={quoteattr(value)}"
    inner = draw(paragraphs) if draw(st.booleans()) else draw(text_values)
    if depth > 0 and draw(st.booleans()):
        inner += "".join(draw(st.lists(html_node(depth - 1), max_size=3)))
    if not draw(st.integers(0, 9)):
        return f"<{tag}{attrs}>{inner}"  # unclosed
    return f"<{tag}{attrs}>{inner}</{tag}>"


@st.composite
def html_document(draw: st.DrawFn) -> str:
    head = []
    if draw(st.booleans()):
        head.append(f"<meta charset={quoteattr(draw(st.sampled_from(CHARSETS + BOGUS_CHARSETS)))}>")
    if draw(st.booleans()):
        head.append(f"<title>{escape(draw(text_values))}</title>")
    for prop in ("og:title", "og:site_name", "og:type", "article:published_time", "og:image", "author", "description"):
        if draw(st.integers(0, 3)) == 0:
            head.append(f"<meta property={quoteattr(prop)} name={quoteattr(prop)} content={quoteattr(draw(st.one_of(text_values, date_values, url_values)))}>")
    if draw(st.booleans()):
        ld: Any = {
            "@context": "https://schema.org",
            "@type": _either(draw, st.sampled_from(["NewsArticle", "Article", "WebPage", ["NewsArticle", "Thing"]])),
            "headline": _either(draw, text_values),
            "datePublished": _either(draw, date_values),
            "author": _either(draw, st.fixed_dictionaries({"@type": st.just("Person"), "name": text_values})),
            "publisher": _either(draw, st.fixed_dictionaries({"name": text_values})),
            "articleBody": _either(draw, paragraphs),
            "isAccessibleForFree": _either(draw, st.sampled_from([True, False, "False", "true"])),
        }
        if draw(st.booleans()):
            ld = {"@graph": [ld, draw(json_values)]}
        script = json.dumps(ld) if draw(st.integers(0, 4)) else draw(text_values)
        head.append(f'<script type="application/ld+json">{script}</script>')
    body = "".join(draw(st.lists(html_node(4), max_size=6)))
    lang = f" lang={quoteattr(draw(text_values))}" if draw(st.booleans()) else ""
    return f"<!DOCTYPE html><html{lang}><head>{''.join(head)}</head><body>{body}</body></html>"


@st.composite
def html_input(draw: st.DrawFn) -> tuple[bytes | str, str | None, str | None]:
    """(page as bytes or text, transport charset, URL) for ``extract_html``."""
    if not draw(st.integers(0, 9)):
        page: bytes | str = draw(st.one_of(st.binary(max_size=2048), st.text(max_size=500)))
    else:
        document = draw(html_document())
        if draw(st.booleans()):
            page = document
        else:
            page = draw(mutated(document.encode(draw(st.sampled_from(CHARSETS)), errors="replace")))
    encoding = draw(st.one_of(st.none(), st.sampled_from(CHARSETS + BOGUS_CHARSETS)))
    url = draw(st.one_of(st.none(), url_values))
    return page, encoding, url


# --- plain text ----------------------------------------------------------------------------------------------

TEXT_LINES = (
    "By Jane Doe",
    "By Jane Doe and John Smith, Reuters",
    "Reuters",
    "Published: 18 March 2025",
    "March 32, 2024",
    "Updated 10:45 a.m. ET",
    "Photo: Jane Doe/AP",
    "(Image credit: Getty)",
    "Advertisement",
    "Share this article",
    "Read more: Council votes",
    "Sign up for our newsletter",
    "© 2025 News Corp. All rights reserved.",
    "PARIS (AP) —",
    "Related:",
    "* * *",
)


@st.composite
def plain_text(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(st.sampled_from(TEXT_LINES), paragraphs, text_values, st.just("")), max_size=16))
    sep = draw(st.sampled_from(["\n", "\n\n", "\r\n", "\r", "\u2028", "\n \n"]))
    return sep.join(lines)


# --- cluster input (JSON Lines) ----------------------------------------------------------------------------


@st.composite
def cluster_record(draw: st.DrawFn) -> Any:
    if not draw(st.integers(0, 14)):
        return draw(json_values)
    record: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        record["id"] = _either(draw, st.one_of(st.text(max_size=10), st.integers()))
    if draw(st.integers(0, 9)):
        record["text"] = draw(paragraphs) if draw(st.integers(0, 5)) else draw(json_values)
    for key, good in (("title", text_values), ("date", date_values), ("source", text_values)):
        if draw(st.booleans()):
            record[key] = _either(draw, good)
    return record


@st.composite
def jsonl_bytes(draw: st.DrawFn) -> bytes:
    lines = []
    for record in draw(st.lists(cluster_record(), max_size=8)):
        if draw(st.integers(0, 19)):
            lines.append(json.dumps(record, allow_nan=True, ensure_ascii=draw(st.booleans())))
        else:
            lines.append(draw(text_values))
    data = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    return data if draw(st.integers(0, 9)) else draw(mutated(data))


# --- compare input -------------------------------------------------------------------------------------------

aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from([UTC, timezone(timedelta(hours=-14)), timezone(timedelta(hours=14))])
)


@st.composite
def compare_inputs(draw: st.DrawFn) -> list[CompareInput]:
    n = draw(st.integers(0, 4))
    inputs = []
    for _ in range(n):
        body = draw(st.lists(st.one_of(paragraphs, st.just("")), max_size=5))
        inputs.append(
            CompareInput(
                text="\n\n".join(body),
                title=draw(st.one_of(st.none(), text_values)),
                publisher=draw(st.one_of(st.none(), st.sampled_from(["Reuters", "AP", "BBC", ""]), text_values)),
                url=draw(st.one_of(st.none(), url_values)),
                published=draw(st.one_of(st.none(), aware_datetimes, st.datetimes())),
                captions=tuple(draw(st.lists(st.one_of(sentences(), text_values), max_size=2))),
                headings=tuple(draw(st.lists(text_values, max_size=2))),
                original_index=draw(st.one_of(st.none(), st.integers(-2, n + 1))),
            )
        )
    return inputs
