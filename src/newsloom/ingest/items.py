"""Feed items as articles: the feed's own text, or the fetched page with the feed's metadata filling gaps."""

from __future__ import annotations

from dataclasses import replace

import lxml.html
from lxml import etree

from newsloom.ingest.sanitize import sanitize_html
from newsloom.types import ExtractedArticle, FeedItem, ParsedFeed

BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section", "article")


def fragment_text(html: str) -> str:
    """Plain text of a feed's HTML fragment, one paragraph per block element.

    Feed content is the article body already (no page chrome), so it is converted rather than extracted:
    trafilatura's main-content heuristics drop short fragments entirely.
    """
    if "<" not in html:
        return "\n\n".join(p.strip() for p in html.split("\n\n") if p.strip())
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    for bad in root.xpath("//script|//style|//noscript|//figcaption"):
        bad.drop_tree()
    for element in root.iter(*BLOCK_TAGS):
        element.tail = "\n\n" + (element.tail or "")
        if element.tag == "br":
            element.tail = "\n" + (element.tail or "").lstrip("\n")
    text = root.text_content()
    paragraphs = [" ".join(chunk.split()) for chunk in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def item_to_article(item: FeedItem, feed: ParsedFeed) -> ExtractedArticle:
    """An article built from the feed alone (the feed carries the full text, or the page could not be had)."""
    html = item.content_html or item.summary or ""
    text = fragment_text(html)
    return ExtractedArticle(
        title=item.title,
        author=item.author,
        publisher=feed.title,
        published=item.published,
        updated=item.updated,
        language=feed.language,
        text=text,
        html=sanitize_html(html, base_url=item.url) if "<" in html else "",
        url=item.url,
        image_url=item.image_url,
        description=item.summary,
    )


def merge_page_with_item(page: ExtractedArticle, item: FeedItem, feed: ParsedFeed) -> ExtractedArticle:
    """The page's text with the feed's metadata filling its gaps (feeds date items more reliably)."""
    return replace(
        page,
        title=page.title or item.title,
        author=page.author or item.author,
        publisher=page.publisher or feed.title,
        published=item.published or page.published,
        updated=item.updated or page.updated,
        language=page.language or feed.language,
        url=item.url or page.url,
        image_url=page.image_url or item.image_url,
    )
