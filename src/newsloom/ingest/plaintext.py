"""Plain-text articles: find the body, the head (outlet, author, date, title), captions and headings.

Plain text has no markup, so every decision comes from the shape of lines:

* *anchor* paragraphs are long sentences (the article for sure); the article runs from the first to the
  last anchor, plus the short paragraphs around them that read as sentences;
* lines before the first anchor are the *head*: aggregator chrome first, then metadata lines (outlet,
  byline, date) and the headline;
* lines after the last anchor are the *tail*: the article ends at the first chrome-shaped line or at a run
  of short non-sentence lines (link lists, app promotions);
* in the middle, short lines without sentence punctuation are section headings, promotion lines are dropped;
* photo captions (text repeated in parentheses, photo credits) are kept apart.

Lines that recur across documents of one site (``recurring_lines``) are dropped wherever they appear.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

from dateutil import parser as date_parser

from newsloom.ingest.chrome import is_chrome_line, is_edge_chrome_line, word_count

#: A paragraph this long that ends like a sentence is article text whatever else it contains: chrome
#: sentences ("Read news from 100's of titles, curated specifically for you.") stay under 12 words.
ANCHOR_MIN_WORDS = 12

#: Section headings are short; 12 words fits "Weapons development and military exercises" and the
#: longest subheads of wire copy, while keeping real one-line paragraphs (which end in punctuation) out.
HEADING_MAX_WORDS = 12

#: A headline has at least this many words; outlet names and bylines have fewer or are name-shaped.
TITLE_MIN_WORDS = 3

#: Bylines and outlet names are short.
NAME_MAX_WORDS = 6

#: Date lines in the head ("21 March 2025", "Published: Mar 21, 2025 10:42 GMT") are short.
DATE_LINE_MAX_WORDS = 10

#: Hard-wrapped paragraphs: lines inside a blank-line-separated block are joined when at least this share
#: of them stops mid-sentence. One-paragraph-per-line texts end (almost) every line with punctuation.
WRAPPED_BLOCK_SHARE = 0.5

#: Hard-wrapped text breaks lines at 60-80 columns; a line of 40+ characters without end punctuation
#: followed by more text is a wrapped line, not a heading (headings are shorter and stand alone).
WRAP_MIN_CHARS = 40

#: A caption with a photo credit is a caption only while short; a long line citing Reuters is a paragraph.
CAPTION_MAX_WORDS = 60

SENTENCE_END_RE = re.compile(r"[.!?…:;,\"”’')\]]\s*$")
WRAP_END_RE = re.compile(r"[.!?…:\"”’')\]]\s*$")
WHITESPACE_RE = re.compile(r"\s+")
BYLINE_RE = re.compile(r"^\s*(?:by|written by|words by|von|par|por|di)\s+(.+?)\s*$", re.IGNORECASE)
DATE_PREFIX_RE = re.compile(
    r"^\s*(published|updated|posted|last updated|first published|date)\s*(on|at)?\s*[:|-]?\s*", re.IGNORECASE
)
MONTH_RE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b|\b\d{4}-\d{2}-\d{2}\b", re.IGNORECASE
)
REPEATED_CAPTION_RE = re.compile(r"^(?P<caption>.+?)\s*\((?P<repeat>.+)\)\s*$", re.DOTALL)
CREDIT_RE = re.compile(
    r"(^\W*(photo|photograph|image|picture|pictured|caption|above|file photo|credit)s?\s*:)"
    r"|([(\[|/—–-]\s*(photo|photograph|image|picture|credit|file|ap photo|getty images?|afp|reuters|epa|"
    r"shutterstock|alamy|pa images?|bloomberg|anadolu)\b[^()\[\]]*[)\]]?\s*$)",
    re.IGNORECASE,
)
#: Words in a name line that make it an outlet rather than a person.
OUTLET_WORD_RE = re.compile(
    r"\b(news|times|post|guardian|journal|herald|tribune|press|daily|weekly|media|agency|telegraph|independent"
    r"|gazette|chronicle|observer|radio|tv|television|network|magazine|review|report|wire|online|today|world"
    r"|reuters|bloomberg|associated|broadcasting|corporation|group|euronews|bbc|cnn|npr|afp|ap|upi|dpa|efe"
    r"|inc|ltd|llc|gmbh)\b|\.(com|org|net|co|io|news)\b",
    re.IGNORECASE,
)
NAME_TOKEN_RE = re.compile(r"^(?:[A-ZÀ-ÖØ-Þ][\w’'.-]*|de|da|di|van|von|der|den|del|la|le|al|el|bin|ibn|y|and|&)$")


@dataclass(frozen=True, slots=True)
class PlainTextParts:
    """What the line rules found in one plain-text document."""

    paragraphs: tuple[str, ...]
    title: str | None = None
    author: str | None = None
    publisher: str | None = None
    published: datetime | None = None
    description: str | None = None
    captions: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()


@dataclass
class _Head:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    published: datetime | None = None
    description: str | None = None
    paragraphs: list[str] = field(default_factory=list)


def normalise_line(line: str) -> str:
    """The form in which lines are compared across documents: case, spacing and curly quotes folded."""
    folded = line.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return WHITESPACE_RE.sub(" ", folded).strip().casefold()


def recurring_lines(texts: Iterable[str], *, min_docs: int = 3) -> frozenset[str]:
    """Normalised non-empty lines that appear in at least ``min_docs`` of ``texts`` (site or aggregator chrome)."""
    seen_in: Counter[str] = Counter()
    for text in texts:
        seen_in.update({normalise_line(line) for line in text.splitlines()} - {""})
    return frozenset(line for line, docs in seen_in.items() if docs >= min_docs)


def split_units(text: str) -> list[str]:
    """Paragraph units: one per line, except hard-wrapped blocks, whose lines are joined."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [WHITESPACE_RE.sub(" ", line).strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        # a line stops mid-sentence when it lacks end punctuation and the next one carries on in lower case
        # (or it is as long as a wrapped line); headings and label lists do neither
        open_ended = sum(
            1
            for line, following in pairwise(lines)
            if not WRAP_END_RE.search(line) and (following[:1].islower() or len(line) >= WRAP_MIN_CHARS)
        )
        if len(lines) > 1 and open_ended / (len(lines) - 1) >= WRAPPED_BLOCK_SHARE:
            units.append(" ".join(lines))
        else:
            units.extend(lines)
    return units


def caption_of(line: str) -> str | None:
    """The caption text when ``line`` is shaped like a photo caption, else None."""
    if word_count(line) > CAPTION_MAX_WORDS * 2:
        return None
    repeated = REPEATED_CAPTION_RE.match(line)
    if repeated:
        caption, repeat = normalise_line(repeated["caption"]), normalise_line(repeated["repeat"])
        # alt text repeated after the caption (aggregators print both); allow a trimmed or extended copy
        if len(caption) >= 20 and (caption == repeat or caption.startswith(repeat) or repeat.startswith(caption)):
            return repeated["caption"].strip()
    if word_count(line) <= CAPTION_MAX_WORDS and CREDIT_RE.search(line):
        return line.strip()
    return None


def is_sentence(line: str) -> bool:
    return bool(SENTENCE_END_RE.search(line))


def is_anchor(line: str) -> bool:
    return word_count(line) >= ANCHOR_MIN_WORDS and is_sentence(line) and not is_chrome_line(line)


def is_heading(line: str) -> bool:
    words = word_count(line)
    return 0 < words <= HEADING_MAX_WORDS and not is_sentence(line) and (line[:1].isupper() or line[:1].isdigit())


def parse_date(line: str) -> datetime | None:
    """A date line of the head as an aware UTC datetime (naive times are taken as UTC), else None.

    "Published: 3 June 2024", "Mar 21, 2025 10:42 GMT", "WORLD | 12 March 2025" (a section label beside it).
    """
    for piece in re.split(r"\s[|•·]\s", line):
        parsed = _parse_date_piece(piece)
        if parsed is not None:
            return parsed
    return None


def _parse_date_piece(line: str) -> datetime | None:
    candidate = DATE_PREFIX_RE.sub("", line).strip()
    if word_count(candidate) > DATE_LINE_MAX_WORDS or not re.search(r"\d", candidate) or not MONTH_RE.search(candidate):
        return None
    try:
        parsed: datetime = date_parser.parse(candidate, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    return as_utc(parsed)


def as_utc(parsed: datetime) -> datetime | None:
    """``parsed`` as an aware UTC datetime (naive is taken as UTC); None when UTC falls off the calendar.

    ``0001-01-01T00:00+01:00`` is a valid date whose UTC instant is in year 0, which ``datetime`` cannot
    hold (OverflowError); a date at the edge of the calendar is junk, so it reads as no date.
    """
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _is_name_line(line: str) -> bool:
    tokens = line.replace(",", " ").split()
    return 0 < len(tokens) <= NAME_MAX_WORDS and all(NAME_TOKEN_RE.match(t) for t in tokens) and not is_sentence(line)


def _is_outlet(line: str) -> bool:
    tokens = line.split()
    return bool(OUTLET_WORD_RE.search(line)) or len(tokens) == 1 or line.isupper() or tokens[0].lower() == "the"


def _parse_head(lines: Sequence[str]) -> _Head:
    head = _Head()
    # aggregator chrome comes before the article's own head: drop everything up to its last chrome line
    last_chrome = max((i for i, line in enumerate(lines) if is_edge_chrome_line(line)), default=-1)
    for line in lines[last_chrome + 1 :]:
        byline = BYLINE_RE.match(line)
        if byline and word_count(byline[1]) <= NAME_MAX_WORDS + 2:
            names = byline[1].strip()
            names = names.title() if names.isupper() else names
            head.authors.extend(n for n in re.split(r"\s*(?:,|&|\band\b)\s*", names, flags=re.IGNORECASE) if n)
            continue
        date = parse_date(line)
        if date is not None:
            head.published = head.published or date
            continue
        if _is_name_line(line) and word_count(line) < TITLE_MIN_WORDS + 2 and head.title is None:
            if _is_outlet(line):
                head.publisher = head.publisher or line
            elif line not in head.authors:
                head.authors.append(line)
            continue
        if is_sentence(line) and not line.endswith("?"):
            head.paragraphs.append(line)  # a short first paragraph or a standfirst
        elif head.title is None and word_count(line) >= TITLE_MIN_WORDS:
            head.title = line
        elif head.title is not None and head.description is None and not head.paragraphs:
            head.description = line
    return head


def _parse_tail(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """(paragraphs, headings) of the tail: it ends at chrome or at two non-sentence lines in a row."""
    paragraphs: list[str] = []
    headings: list[str] = []
    for index, line in enumerate(lines):
        if is_edge_chrome_line(line):
            break
        if not is_sentence(line):
            following = lines[index + 1] if index + 1 < len(lines) else None
            if following is None or not is_sentence(following) or is_edge_chrome_line(following):
                break
            headings.append(line)
            continue
        paragraphs.append(line)
    return paragraphs, headings


def parse_plain_text(text: str, *, site_lines: frozenset[str] = frozenset()) -> PlainTextParts:
    """Split a plain-text document into body paragraphs, head metadata, captions and headings."""
    units = [u for u in split_units(text) if normalise_line(u) not in site_lines]
    captions: list[str] = []
    kept: list[str] = []
    for unit in units:
        caption = caption_of(unit)
        if caption is not None:
            captions.append(caption)
        else:
            kept.append(unit)

    anchors = [i for i, unit in enumerate(kept) if is_anchor(unit)]
    if not anchors:
        # no long sentence at all (a brief, a list of short items): keep what is not chrome
        body = [u for u in kept if not is_edge_chrome_line(u)]
        return PlainTextParts(paragraphs=tuple(body), captions=tuple(captions))

    first, last = anchors[0], anchors[-1]
    head = _parse_head(kept[:first])
    paragraphs: list[str] = list(head.paragraphs)
    headings: list[str] = []
    for unit in kept[first : last + 1]:
        if is_chrome_line(unit):
            continue
        if is_heading(unit) and not is_sentence(unit):
            headings.append(unit)
        else:
            paragraphs.append(unit)
    tail_paragraphs, tail_headings = _parse_tail(kept[last + 1 :])
    paragraphs.extend(tail_paragraphs)
    headings.extend(tail_headings)
    return PlainTextParts(
        paragraphs=tuple(paragraphs),
        title=head.title,
        author=", ".join(head.authors) or None,
        publisher=head.publisher,
        published=head.published,
        description=head.description,
        captions=tuple(captions),
        headings=tuple(headings),
    )


#: Function words that identify a language from a few sentences; a language wins with at least this many
#: hits and twice the runner-up, else the guess is None (too little evidence is better left unknown).
LANGUAGE_MIN_HITS = 5
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(["the", "and", "of", "to", "in", "is", "that", "for", "was", "with", "on", "as", "by", "his", "her", "from", "have", "has", "are", "said", "were"]),
    "de": frozenset(["der", "die", "das", "und", "ist", "nicht", "mit", "von", "den", "sich", "des", "auf", "für", "dem", "ein", "eine", "wurde", "sagte"]),
    "fr": frozenset(["le", "la", "les", "et", "des", "est", "une", "dans", "que", "pour", "qui", "sur", "pas", "avec", "il", "elle", "du", "au", "été"]),
    "es": frozenset(["el", "la", "los", "las", "y", "de", "que", "en", "por", "con", "una", "para", "del", "se", "su", "fue", "es", "al", "como"]),
    "it": frozenset(["il", "la", "di", "che", "è", "per", "una", "con", "del", "della", "non", "sono", "gli", "anche", "ha", "nel", "alla"]),
    "pt": frozenset(["o", "a", "os", "as", "e", "de", "que", "em", "uma", "para", "com", "não", "do", "da", "foi", "no", "na", "ao", "pelo"]),
    "nl": frozenset(["de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "zijn", "met", "voor", "die", "werd", "heeft"]),
}


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the language of ``text`` from function-word counts, or None when unsure."""
    words = re.findall(r"\w+", text[:5000].lower())
    counts = {lang: sum(1 for w in words if w in stop) for lang, stop in STOPWORDS.items()}
    ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
    (best, hits), (_, runner_up) = ranked[0], ranked[1]
    if hits >= LANGUAGE_MIN_HITS and hits >= 2 * runner_up:
        return best
    return None
