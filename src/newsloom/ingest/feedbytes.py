"""Feed bytes made safe and readable before feedparser sees them (``feeds.parse_feed`` runs these in order).

* gzip bodies saved or served as plain XML (gzip magic) are decompressed, at most ``MAX_DECOMPRESSED_BYTES``;
* UTF-16/32 documents are transcoded to UTF-8, so every later step can treat the bytes as ASCII-compatible;
* the DOCTYPE declaration is removed, so no entity is ever expanded (billion laughs, XXE); a warning says so
  when it declared entities;
* the charset is chosen from the Content-Type header, the XML declaration and the bytes themselves (see
  ``feedparser_content_type``), never by RFC 3023's "text/xml means US-ASCII" rule, which real servers break.
"""

from __future__ import annotations

import codecs
import re
import zlib

from newsloom.errors import FeedParseError

__all__ = [
    "GZIP_MAGIC",
    "MAX_DECOMPRESSED_BYTES",
    "SNIFF_BYTES",
    "charset_param",
    "feedparser_content_type",
    "gunzip",
    "remove_doctype",
    "scan_prolog",
    "to_ascii_compatible",
    "wide_encoding",
]

#: Largest decompressed body of a gzip-wrapped feed. Matches the fetcher's default ``max_body_bytes`` (10 MB):
#: the largest real feed in our evaluation set is 1.6 MB, and a gzip bomb must stop well before memory does.
MAX_DECOMPRESSED_BYTES = 10_000_000

#: How much of the document ``feeds.sniff_format`` looks at (and where a misplaced DOCTYPE or a charset is
#: looked for). A prolog (XML declaration, comments, a DOCTYPE with a
#: short internal subset) fits in far less; 64 KiB also covers pages with long <head>s before their root.
SNIFF_BYTES = 65_536

#: charset-normalizer scores (chaos, coherence) closer than this are a tie: its scores move in steps of
#: ~0.02 on short documents, and equal-looking Western code pages score exactly alike.
CHARSET_TIE = 0.01

GZIP_MAGIC = b"\x1f\x8b"
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_XML_DECL = re.compile(rb"^<\?xml[^>]*?\?>")
_XML_DECL_ENCODING = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
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


# ---------------------------------------------------------------------------------------------- compression, width, DOCTYPE


def gunzip(content: bytes) -> bytes:
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


def wide_encoding(content: bytes) -> str | None:
    """The UTF-16/32 codec a document is in, from its BOM or its first '<?'; None for ASCII-compatible bytes."""
    for bom, name in _UTF_BOMS:
        if content.startswith(bom) and not (name.startswith("utf-16") and content[2:4] == b"\x00\x00"):
            return name
    for marker, name in _UTF_WIDE_MARKERS:
        if content.startswith(marker):
            return name
    return None


def to_ascii_compatible(content: bytes) -> tuple[bytes, bool]:
    """Transcode UTF-16/32 to UTF-8; returns (bytes, transcoded)."""
    wide = wide_encoding(content)
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


def scan_prolog(data: bytes) -> tuple[int, tuple[int, int] | None]:
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
    root, span = scan_prolog(data)
    if span is not None:
        return span
    match = _DOCTYPE.search(data, 0, SNIFF_BYTES)
    if match is None or 0 <= root < match.start():
        return None
    end = _doctype_end(data, match.end())
    return match.start(), end if end >= 0 else len(data)


def remove_doctype(data: bytes) -> tuple[bytes, str | None]:
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


# ---------------------------------------------------------------------------------------------- charset choice


def charset_param(content_type: str | None) -> str | None:
    """The codec named by a Content-Type header's charset parameter; None when absent or unknown."""
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


def feedparser_content_type(data: bytes, content_type: str | None, *, transcoded: bool) -> str:
    """The Content-Type to tell feedparser, which decides the charset from it.

    Always an XML media type, so the XML declaration counts (feedparser otherwise applies RFC 3023's
    text/xml-means-US-ASCII rule). A header charset is kept unless the bytes contradict it: bytes that are
    valid UTF-8 with non-ASCII characters are UTF-8 whatever the header says (legacy text is practically
    never valid UTF-8), and a header claiming UTF-8 for bytes that are not defers to the XML declaration.
    """
    if transcoded:
        return "application/xml; charset=utf-8"
    http_charset = charset_param(content_type)
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
