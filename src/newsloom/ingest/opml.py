"""OPML subscription lists: import (``parse_opml``), export (``build_opml``) and the bundled default list.

Parsing goes through defusedxml with entity declarations and external references refused: an OPML file is
user-supplied XML, the classic carrier of billion-laughs and XXE payloads.

Categories: an outline without ``xmlUrl`` is a folder, and the titles of the folders enclosing a subscription
form its category path ('World/Europe'). A subscription outside any folder takes the first path of its OPML 2.0
``category`` attribute instead ('/World/Europe,/tag' -> 'World/Europe'). Export writes one folder level per
path segment, so export -> import gives the same outlines back (a folder title that itself contains '/'
becomes two levels).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from importlib.resources import files
from urllib.parse import urlsplit

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from newsloom.errors import OpmlError
from newsloom.types import OpmlOutline

#: Attribute spellings seen in exported OPML files; xmlUrl is the standard, the others come from old readers.
_XML_URL_ATTRS = ("xmlUrl", "xmlurl", "xmlURL", "XMLURL")
_HTML_URL_ATTRS = ("htmlUrl", "htmlurl", "htmlURL")
_FEED_SCHEMES = ("http", "https")
DEFAULT_SOURCES_RESOURCE = "data/default_sources.opml"


def parse_opml(content: bytes) -> list[OpmlOutline]:
    """Subscriptions of an OPML document, in document order, one per feed URL. Raises ``OpmlError``."""
    root = _parse_xml(content)
    if _local(root.tag).lower() != "opml":
        raise OpmlError(f"not an OPML document: the root element is <{_local(root.tag)}>")
    body = next((child for child in root if _local(child.tag).lower() == "body"), None)
    if body is None:
        raise OpmlError("OPML document has no <body>")
    seen: dict[str, OpmlOutline] = {}
    for outline in _walk(body, ()):
        seen.setdefault(outline.xml_url, outline)
    return list(seen.values())


def _parse_xml(content: bytes) -> ET.Element:
    if not content or not content.strip():
        raise OpmlError("the OPML document is empty")
    data = content.lstrip(b" \t\r\n")
    try:
        root: ET.Element = DefusedET.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
        return root
    except DefusedXmlException as exc:
        raise OpmlError(
            f"refusing an OPML document that declares XML entities or external references ({exc})"
        ) from exc
    except ET.ParseError as exc:
        raise OpmlError(f"malformed OPML: {exc}") from exc
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding in the XML declaration
        raise OpmlError(f"malformed OPML: {exc}") from exc


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _attr(element: ET.Element, names: Iterable[str]) -> str | None:
    for name in names:
        value = element.get(name)
        if value and value.strip():
            return value.strip()
    return None


def _walk(body: ET.Element, path: tuple[str, ...]) -> Iterator[OpmlOutline]:
    """Subscriptions under ``body`` in document order, with their folder paths.

    Iterative (an explicit stack of child iterators) rather than recursive: folder depth is whatever the
    file says, and 5000 nested outlines must not hit Python's recursion limit.
    """
    stack: list[tuple[Iterator[ET.Element], tuple[str, ...]]] = [(iter(body), path)]
    while stack:
        children, folder_path = stack[-1]
        element = next(children, None)
        if element is None:
            stack.pop()
            continue
        if _local(element.tag).lower() != "outline":
            continue
        title = _attr(element, ("title", "text"))
        xml_url = _attr(element, _XML_URL_ATTRS)
        if xml_url is None:
            stack.append((iter(element), (*folder_path, title) if title else folder_path))
            continue
        if not _feed_scheme(xml_url):
            continue  # file:, javascript:, feed: and friends are not something to poll
        yield OpmlOutline(
            xml_url=xml_url,
            title=title,
            html_url=_attr(element, _HTML_URL_ATTRS),
            category="/".join(folder_path) if folder_path else _category_attribute(element.get("category")),
        )
        # a subscription with children is malformed but seen in the wild; its children still count
        stack.append((iter(element), folder_path))


def _feed_scheme(url: str) -> bool:
    """True for http(s) URLs; file:, javascript:, feed: and malformed URLs are nothing to poll."""
    try:
        return urlsplit(url).scheme.lower() in _FEED_SCHEMES
    except ValueError:  # e.g. an unbalanced "[" in the host: this outline is skipped, not the file
        return False


def _category_attribute(raw: str | None) -> str | None:
    """The first path of an OPML 2.0 category attribute: '/World/Europe,/tag' -> 'World/Europe'."""
    for candidate in (raw or "").split(","):
        path = "/".join(part.strip() for part in candidate.split("/") if part.strip())
        if path:
            return path
    return None


def build_opml(outlines: Iterable[OpmlOutline], *, title: str = "newsloom subscriptions") -> bytes:
    """An OPML 2.0 document (UTF-8) with one folder level per category path segment."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = title
    body = ET.SubElement(root, "body")
    folders: dict[tuple[str, ...], ET.Element] = {(): body}
    for outline in outlines:
        path = tuple(part.strip() for part in (outline.category or "").split("/") if part.strip())
        parent = _folder(folders, path)
        attrs = {"type": "rss", "text": outline.title or outline.xml_url}
        if outline.title:
            attrs["title"] = outline.title
        attrs["xmlUrl"] = outline.xml_url
        if outline.html_url:
            attrs["htmlUrl"] = outline.html_url
        ET.SubElement(parent, "outline", attrs)
    ET.indent(root, space="  ")
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _folder(folders: dict[tuple[str, ...], ET.Element], path: tuple[str, ...]) -> ET.Element:
    if path not in folders:
        parent = _folder(folders, path[:-1])
        folders[path] = ET.SubElement(parent, "outline", {"text": path[-1], "title": path[-1]})
    return folders[path]


def default_sources() -> list[OpmlOutline]:
    """The bundled list of public news feeds offered to a new installation."""
    return parse_opml(files("newsloom").joinpath(DEFAULT_SOURCES_RESOURCE).read_bytes())
