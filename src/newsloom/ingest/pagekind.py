"""Is this page an article? Paywall stubs, bot challenges, consent walls, error and index pages are not.

A pure decision over signals the extractor already has (title, extracted text, visible page text, link
share, schema.org type). The tell-tale phrases only count when the extracted text is short: a long article
that *mentions* cookies, captchas or a 404 is still an article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NotArticleReason = Literal["paywall", "bot-challenge", "consent", "error-page", "index-page", "empty"]

#: Below this many words the extracted text is no article at all (a headline, a teaser, a widget);
#: the shortest news briefs in the extraction set run to about 60 words.
EMPTY_MAX_WORDS = 25

#: Walls and challenges leave a teaser of at most a few paragraphs; 150 words is about two paragraphs, and
#: above it the phrases below are more likely quoted in a real article than shown as a wall.
WALL_MAX_WORDS = 150

#: An index page is mostly links: share of visible page text inside <a>. Article pages in the extraction
#: set sit between 0.1 and 0.45 (menus, footers, related lists); section fronts run above 0.6.
INDEX_LINK_SHARE = 0.6

#: ... and what was extracted is small next to the page's visible text.
INDEX_TEXT_SHARE = 0.15

BOT_CHALLENGE_RE = re.compile(
    r"just a moment\.\.\.|attention required!? \| cloudflare|checking (if the site connection is secure|your browser)"
    r"|verify(ing)? (that )?you are (a )?human|are you a robot|please (enable|turn on) (javascript|cookies) and"
    r"|pardon our interruption|captcha|ddos protection by|access to this page has been denied|unusual traffic",
    re.IGNORECASE,
)
CONSENT_RE = re.compile(
    r"we value your privacy|before you continue to|(use|consent to) (of )?cookies|cookie (settings|preferences|policy)"
    r"|accept (all )?cookies|manage (your )?(choices|preferences|consent)|your privacy choices"
    r"|we and our (\d+ )?partners|reject all|consent (to|management)",
    re.IGNORECASE,
)
PAYWALL_RE = re.compile(
    r"subscribe (now )?to (continue|keep) reading|(this|the) (article|story|content) is (only )?(available|reserved) (to|for)"
    r" (paying )?(subscribers|members)|subscribers? only|to continue reading,? (please )?(subscribe|log ?in|sign ?in)"
    r"|(you have|you've) (reached|used) (your|all) (free|monthly)|create (a )?free account to"
    r"|sign (up|in) to read (this|the full)|unlock (this|the full) (article|story)|premium (article|content)",
    re.IGNORECASE,
)
ERROR_TITLE_RE = re.compile(
    r"\b(404|410|500|502|503)\b|page not found|not found|error|doesn[’']t exist|does not exist|no longer available"
    r"|access denied|forbidden|service unavailable",
    re.IGNORECASE,
)
ERROR_TEXT_RE = re.compile(
    r"page (you (are|were) looking for|you requested) (could not|cannot|can[’']t|was not|wasn[’']t|doesn[’']t|does not)"
    r"|(page|article) (could not|cannot|can[’']t) be found|page not found|no longer available"
    r"|has been (removed|deleted)|(this|the) page (doesn[’']t|does not) exist",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PageSignals:
    """What the classifier looks at. ``link_share``/``page_words`` are None for plain text."""

    title: str | None
    text: str
    page_text: str = ""
    link_share: float | None = None
    page_words: int | None = None
    schema_type: str | None = None
    og_type: str | None = None
    accessible_for_free: bool | None = None
    http_status: int | None = None


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def classify_page(signals: PageSignals) -> NotArticleReason | None:
    """The reason this page is not an article, or None for an article."""
    words = _words(signals.text)
    title = signals.title or ""
    evidence = f"{title}\n{signals.text}\n{signals.page_text[:5000]}"
    if signals.http_status is not None and signals.http_status >= 400:
        return "error-page"
    if words <= WALL_MAX_WORDS:
        if BOT_CHALLENGE_RE.search(evidence):
            return "bot-challenge"
        if ERROR_TITLE_RE.search(title) and (words <= EMPTY_MAX_WORDS or ERROR_TEXT_RE.search(evidence)):
            return "error-page"
        if ERROR_TEXT_RE.search(signals.text) and words <= EMPTY_MAX_WORDS * 2:
            return "error-page"
        if signals.accessible_for_free is False or PAYWALL_RE.search(evidence):
            return "paywall"
        if CONSENT_RE.search(evidence) and words <= EMPTY_MAX_WORDS * 2:
            return "consent"
    if (
        signals.link_share is not None
        and signals.page_words
        and signals.link_share >= INDEX_LINK_SHARE
        and words < INDEX_TEXT_SHARE * signals.page_words
        and (signals.schema_type or "").lower() not in ARTICLE_TYPES
    ):
        return "index-page"
    if words <= EMPTY_MAX_WORDS:
        return "empty"
    return None


#: schema.org / OpenGraph types that declare an article page.
ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "blogposting", "opinionnewsarticle",
     "backgroundnewsarticle", "reviewnewsarticle", "report", "liveblogposting", "scholarlyarticle", "techarticle"}
)  # fmt: skip
