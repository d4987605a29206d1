"""Recognise site and aggregator chrome by its shape, in HTML trees and in lines of plain text.

Chrome is what a page wraps around an article: sign-up and subscription prompts, "Also read:" promotions,
app banners, newsletter boxes, share bars, related-story lists, copyright lines. None of it is listed
line by line here: the rules describe the *shape* of such text (an imperative call to action, a promotion
prefix, a section label, a short line full of membership words), so they carry over to sites nobody has
seen. Lines that recur across many documents of one site are caught separately by
``newsloom.ingest.plaintext.recurring_lines``.
"""

from __future__ import annotations

import re

from lxml.etree import _Element

#: Calls to action are short. 15 words covers "One subscription that gives you access to news from hundreds
#: of sites" (12) with room; the longest body sentences that start with "Sign up"/"Subscribe" run past it.
CTA_MAX_WORDS = 15

#: A line that *contains* a membership word (app, subscription, newsletter ...) is chrome only when this short,
#: and only at the edges of a text: in the middle, "The subscription costs $5." is news.
EDGE_KEYWORD_MAX_WORDS = 12

#: Promotions of other articles start with one of these labels, anywhere in the body ("Also read: ...").
PROMO_PREFIX_RE = re.compile(
    r"^\W*(also read|read also|read more|more on this|more from|related( stories| articles| content| coverage)?"
    r"|see also|recommended( for you| reading)?|don[’']t miss|must read|you (may|might) also like"
    r"|watch( now| more)?|listen( now)?|trending( now)?|latest|top stories|editor[’']s picks?|more stories"
    r"|further reading|click here|tap here|suggested|sponsored|promoted|advert(isement)?|ad)\b\s*[:|–—-]",
    re.IGNORECASE,
)

#: Lines that are only a label of a chrome block ("Related Stories", "Our Picks", "Share this article").
CHROME_LABEL_RE = re.compile(
    r"^\W*(related( stories| articles| content| coverage| news| topics)?|our picks|top stories\b.*|most (read|popular|viewed)"
    r"|trending( now| stories)?|recommended( for you| stories)?|more (stories|news|from [\w ]+)|latest (news|stories)"
    r"|you (may|might) also like|share( this( article| story)?)?|advertisement|sponsored( content)?|comments?"
    r"|topics|tags|newsletter|sign up|sign in|log in|subscribe( now)?|follow us( on [\w ]+)?|skip to (main )?content"
    r"|continue reading|story continues below( advertisement)?|scroll to continue( with content)?|back to top"
    r"|print|email|copy link|(leave|view|show) (a )?comments?|read more|listen to (this )?article|menu|search|home"
    r"|(download|get) (the|our) app|all rights reserved\.?|image|video|photo|gallery)\W*$",
    re.IGNORECASE,
)

#: Imperatives and questions that open a call to action ("Sign up to read this article",
#: "Already a member? Sign in here", "Download the app").
CTA_START_RE = re.compile(
    r"^\W*(sign ?(up|in)|log ?in|subscribe|download (the|our|it|now|for free|free)|get (the|our) app"
    r"|install (the|our)|start (reading|your|a free)|try (it )?(for )?free|join (now|us|today|for free)"
    r"|register (now|for free|here|today)|create (an|your|a free) account|become a (member|subscriber)"
    r"|already (a|an) (member|subscriber|user)|already have an account|don[’']t have an account|not a (member|subscriber)"
    r"|unlock (this|the|full|unlimited|all)|upgrade (now|to|your)|claim your|follow us|share (this|on|via)"
    r"|click (here|to|on)|tap (here|to)|continue reading|keep reading|read (the )?(full|rest|more)\b"
    r"|get (unlimited|full|access)|enjoy (unlimited|full)|receive our|want (more|to read)\b"
    r"|support (our|independent) (journalism|reporting)|we(’|')d like to|enable (push )?notifications"
    r"|allow notifications|copyright (©|\(c\)|\d{4})|©|\(c\) \d{4}|all rights reserved"
    r"|this (article|story|content) (is|was) (only )?(available|for) (to )?(subscribers|members)"
    r"|(reporting|additional reporting|editing|writing) by)\b",
    re.IGNORECASE,
)

#: "© 2025 Example Media", "Copyright 2025 ...", "(c) 2025 ..." (a line-level notice, not a sentence about copyright).
COPYRIGHT_RE = re.compile(r"(©|\(c\)\s*\d{4}|^\W*copyright\s*(©|\(c\))?\s*\d{4})", re.IGNORECASE)

#: Words that mark a short line at the edge of a text as membership/app/newsletter chrome.
EDGE_KEYWORD_RE = re.compile(
    r"\b(app|apps|subscription|subscribe|subscriber|membership|member|newsletter|sign ?up|sign ?in|log ?in"
    r"|premium|trial|days? free|free for|titles|trusted (global )?sources|curated|unlimited|ad-free|download"
    r"|inbox|notifications|cookies?|privacy policy|terms of (use|service)|all rights reserved|copyright|©)\b",
    re.IGNORECASE,
)

#: class/id tokens of HTML containers that hold chrome, not article text, which trafilatura's own discard
#: list (share, social, newsletter, related, most-popular, ads, cookie ...) does not cover. Matched as whole
#: ``-``/``_``/space-separated tokens, so "promo" does not hit "promotion-story-body".
CHROME_CLASS_TOKENS = (
    "subscribe", "subscription", "signup", "sign-up", "regwall", "paywall-prompt", "app-banner", "appbanner",
    "app-promo", "app-download", "promo", "promos", "recommended", "recommendations", "read-more", "readmore",
    "also-read", "more-stories", "recirculation", "trending", "most-read", "newsletter-signup", "inline-newsletter",
)  # fmt: skip
CHROME_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:" + "|".join(t.replace("-", "[_-]") for t in CHROME_CLASS_TOKENS) + r")(?:$|[\s_-])",
    re.IGNORECASE,
)
#: Tags of containers that may be chrome. Iterating them in Python with one regex over class+id is ~6x faster
#: than an XPath with a ``contains()`` per token (and EXSLT ``re:test`` calls back into Python per element).
CONTAINER_TAGS = ("div", "aside", "section", "ul", "nav", "form", "p")


#: Containers whose class says chrome but which hold this much text are the article itself (some CMSs
#: put "share" or "promo" on the article wrapper); 400 characters is longer than any prompt or link list
#: label in the extraction set, shorter than any real article.
CHROME_CONTAINER_MAX_CHARS = 400


def word_count(line: str) -> int:
    """Whitespace-separated words: cheap, and close enough to \\w+ tokens for length thresholds."""
    return len(line.split())


#: Chrome labels ("Related Stories", "Share this article") are at most this many words.
LABEL_MAX_WORDS = 6


def is_promotion(line: str) -> bool:
    """A promotion of another story or a chrome label, wherever it appears in the text."""
    stripped = line.strip()
    if not stripped:
        return False
    if PROMO_PREFIX_RE.match(stripped):
        return True
    return word_count(stripped) <= LABEL_MAX_WORDS and bool(CHROME_LABEL_RE.match(stripped))


def is_call_to_action(line: str) -> bool:
    """A short imperative or question asking the reader to sign up, subscribe, download, share ..."""
    stripped = line.strip()
    return bool(stripped) and word_count(stripped) <= CTA_MAX_WORDS and bool(CTA_START_RE.match(stripped))


def is_copyright_line(line: str) -> bool:
    stripped = line.strip()
    return word_count(stripped) <= CTA_MAX_WORDS and bool(COPYRIGHT_RE.search(stripped))


def is_chrome_line(line: str) -> bool:
    """Chrome anywhere in a text: promotions, chrome labels, calls to action and copyright notices."""
    stripped = line.strip()
    if not stripped:
        return False
    if PROMO_PREFIX_RE.match(stripped):
        return True
    words = word_count(stripped)
    if words > CTA_MAX_WORDS:  # every rule below is about short lines; long paragraphs skip the regexes
        return False
    return (
        (words <= LABEL_MAX_WORDS and bool(CHROME_LABEL_RE.match(stripped)))
        or bool(CTA_START_RE.match(stripped))
        or bool(COPYRIGHT_RE.search(stripped))
    )


def is_edge_chrome_line(line: str) -> bool:
    """Chrome at the head or tail of a text, where short membership/app lines are never the article."""
    if is_chrome_line(line):
        return True
    stripped = line.strip()
    return word_count(stripped) <= EDGE_KEYWORD_MAX_WORDS and bool(EDGE_KEYWORD_RE.search(stripped))


def prune_chrome_containers(tree: _Element) -> int:
    """Remove chrome containers (share bars, newsletter boxes, related lists) from ``tree`` in place.

    Returns how many were removed. Containers with more text than a prompt are left alone.
    """
    removed = 0
    found = []
    for element in tree.iter(CONTAINER_TAGS):
        css_class, css_id = element.get("class"), element.get("id")
        if (css_class or css_id) and CHROME_CLASS_RE.search(f"{css_class or ''} {css_id or ''}"):
            found.append(element)
    for element in found:
        parent = element.getparent()
        if parent is None:
            continue
        text = "".join(element.itertext())
        if len(text.strip()) > CHROME_CONTAINER_MAX_CHARS:
            continue
        tail = element.tail
        if tail and tail.strip():
            previous = element.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail
        parent.remove(element)
        removed += 1
    return removed
