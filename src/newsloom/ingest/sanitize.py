"""Sanitize article HTML for display: only safe article markup survives.

Everything is delegated to nh3 (the Rust ``ammonia`` sanitizer), which parses the fragment the way a browser
would, so tricks that fool regex cleaners (``<scr<script>ipt>``, entity-encoded ``javascript:``) fail here.
"""

from __future__ import annotations

from urllib.parse import urljoin

import nh3

#: Markup an article body needs: text structure, emphasis, quotes, lists, tables, figures and links.
#: No forms, frames, media players, ``style`` or ``class``: they carry layout or behaviour, not content.
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn", "div", "dl",
        "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
        "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "abbr": {"title"},
    "ol": {"start"},
}

#: Only these schemes may appear in href/src; ``javascript:``, ``data:`` and ``vbscript:`` are dropped.
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

#: Elements removed together with their content (not just unwrapped): their text is code or noise.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg", "math"})

#: Outbound links must not leak the reader's page (referrer), give the target a handle on our window
#: (opener) or pass our ranking to the target (nofollow).
LINK_REL = "noopener noreferrer nofollow"

URL_ATTRIBUTES = frozenset({"href", "src", "cite"})


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """Return ``html`` with only safe article markup; relative links are made absolute against ``base_url``."""
    if not html:
        return ""

    def absolutize(tag: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES and base_url:
            try:
                return urljoin(base_url, value.strip())
            except ValueError:  # malformed URL (bad IPv6 literal, ...): drop the attribute
                return None
        return value

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=absolutize,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(ALLOWED_URL_SCHEMES),
    ).strip()
