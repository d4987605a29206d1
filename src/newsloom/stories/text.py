"""Text pieces the story stage works on: sentences, tokens, stems, names and figures.

Pure functions over strings. Everything here is deterministic and language-light (English news first, but
nothing breaks on other Latin-script text). Stemming is a small suffix stripper, not Porter: it only has to
make "quake"/"quakes" and "checked"/"checks" meet, and it must be fast (the engine caches it per word).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# A word: letters with inner apostrophes ("o'sullivan", "don't"). A figure: digits with inner separators.
# (possessive quantifiers: nothing after them can fail, so they find the same matches without keeping
# backtracking points)
_TOKEN_RE = re.compile(r"[^\W\d_]++(?:['’](?![sS]\b)[^\W\d_]++)*+|\d++(?:[.,:]\d++)*+")
# Each scanning pattern has an ASCII twin that finds the very same substrings in ASCII text (whose check,
# str.isascii, is free): Unicode classes such as [^\W\d_] look every character up in the Unicode
# database, which made tokenising three times slower.
# (the look-ahead, a character class, lets the scan skip to where a token can start: ~10% faster than
# trying both alternatives at every character)
_ASCII_TOKEN_RE = re.compile(
    r"(?=[A-Za-z0-9])(?:[A-Za-z]++(?:'(?![sS]\b)[A-Za-z]++)*+|[0-9]++(?:[.,:][0-9]++)*+)"
)
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and an
# upper-case letter, digit or opening quote; lines are always sentence boundaries.
# The end mark is captured (re.split returns it) and put back on its sentence: a pattern that starts with
# a character class scans much faster than one that starts with look-behinds.
_SENTENCE_END_RE = re.compile(r"([.!?][\"'”’)\]]?)\s+(?=[\"“‘'(\[]?[A-Z0-9])")

def _word_list(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: function words: not evidence of an event, and not names when capitalised at a sentence start
STOPWORDS: frozenset[str] = _word_list(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those through
    to too under until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves said says say told tells according new news report reports reported
    reportedly one two three first last also year years day days time week weeks month months
    mr mrs ms dr monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow
    may might must shall us via per amid among around since without within upon onto whether yet
    s t re ve ll d m don't didn't isn't wasn't aren't can't won't it's that's he's she's they're we're
    """
)

#: capitalised words that start sentences or headlines without naming anything
_NOT_NAMES: frozenset[str] = (STOPWORDS - {"new", "news", "first"}) | _word_list(
    """breaking update live watch exclusive opinion analysis editorial video photos read more
    president minister secretary senator governor police officials official authorities
    """
)

_MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}

# Suffixes stripped by ``stem``, longest first; each keeps a stem of at least _MIN_STEM letters.
_SUFFIXES: tuple[str, ...] = ("ations", "ation", "ings", "ing", "edly", "ied", "ies", "ed", "es", "ly", "s")
_MIN_STEM = 3


@dataclass(frozen=True, slots=True)
class TextParts:
    """What the story stage reads from one article: tokens per field, names and figures."""

    #: the tokens of each field as written (case kept); ``title_tokens`` etc. give them lower-cased
    title_words: tuple[str, ...]
    lead_words: tuple[str, ...]
    body_words: tuple[str, ...]
    #: capitalised words that are not common words, as written ("Shoigu", "Pyongyang", "KCNA")
    names: tuple[str, ...]
    #: multi-word names as written ("Sergei Shoigu"), for display
    name_phrases: tuple[str, ...]
    #: numbers and dates, normalised ("12000", "2025", "03-21")
    figures: tuple[str, ...]
    #: the text's sentences (without a headline-like first line taken as the title) and the title used
    sentences: tuple[str, ...] = ()
    title: str | None = None
    #: a publication date written near the top of the text ("May 03 , 2013"), for undated articles
    dateline: datetime | None = None
    #: how often each token is written over title, lead and body, in order of first mention (as written:
    #: the vector needs each distinct spelling once, and names need the words the text writes in lower case)
    word_counts: Counter[str] | None = field(default=None, compare=False)

    # lower-cased tokens on demand: the vector reads ``word_counts`` (a look-up per distinct spelling, not
    # a str.lower per token), so only callers that want the token lists pay for them
    @property
    def title_tokens(self) -> tuple[str, ...]:
        return tuple(map(str.lower, self.title_words))

    @property
    def lead_tokens(self) -> tuple[str, ...]:
        return tuple(map(str.lower, self.lead_words))

    @property
    def body_tokens(self) -> tuple[str, ...]:
        return tuple(map(str.lower, self.body_words))

    @property
    def word_total(self) -> int:
        """The number of tokens over title, lead and body."""
        return len(self.title_words) + len(self.lead_words) + len(self.body_words)


def split_lines(text: str) -> list[str]:
    """Non-empty lines, stripped."""
    # str.strip drops what the regex \s matches; a regex split on \s*\n\s* tries a match at every
    # character and took as long as tokenising the whole text
    return [line for line in map(str.strip, text.split("\n")) if line]


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``: every line break ends one, and so does . ! ? before a capital."""
    out: list[str] = []
    for line in split_lines(text):
        pieces = _SENTENCE_END_RE.split(line)
        if len(pieces) == 1:
            out.append(line)
            continue
        # pieces alternate text, end mark, text, ...: each sentence gets its end mark back
        ends = [*pieces[1::2], ""]
        for piece, end in zip(pieces[::2], ends, strict=True):
            sentence = (piece + end).strip()
            if sentence:
                out.append(sentence)
    return out


def tokens(text: str) -> list[str]:
    """Words and figures as written (case kept)."""
    return (_ASCII_TOKEN_RE if text.isascii() else _TOKEN_RE).findall(text)


def stem(word: str) -> str:
    """A light suffix stripper for lower-case English words; figures and short words come back unchanged.

    A final "e" is dropped too, so "quake", "quakes", "raised" and "raising" meet ("quak", "rais").
    """
    if len(word) <= _MIN_STEM + 1 or not word.isalpha():
        return word
    base = word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                base += "y"
            elif suffix == "s" and base.endswith(("s", "u", "i")):
                base = word  # "press", "virus", "thesis" are not plurals
            elif suffix == "es" and not base.endswith(("s", "x", "z", "ch", "sh")):
                base = word[:-1]  # "quakes" -> "quake": only the s is the plural
            break
    if base.endswith("e") and len(base) > _MIN_STEM + 1:
        base = base[:-1]
    return base


def normalise_figure(token: str) -> str | None:
    """'12,000' -> '12000', '3.5' -> '3.5'; ``None`` for figures too small to tell events apart (0-9)."""
    digits = token.replace(",", "")
    if digits.endswith((".", ":")):
        digits = digits[:-1]
    if len(digits) == 1:
        return None
    return digits


def looks_like_headline(line: str) -> bool:
    """A first line that is a headline: short and without a sentence's final punctuation."""
    words = line.split()
    return 0 < len(words) <= _HEADLINE_MAX_WORDS and not line.rstrip().endswith((".", "!", "?", ":", ";", ","))


#: a headline is rarely longer than this; longer first lines are the body's first sentence
_HEADLINE_MAX_WORDS = 20


def _is_title_case(words: list[str]) -> bool:
    """Headline style capitalises most words; then capitals say nothing about names."""
    alpha = [w for w in words if w[0].isalpha() and w.lower() not in STOPWORDS]
    if len(alpha) < 3:
        return False
    capitalised = sum(1 for w in alpha if w[0].isupper())
    return capitalised >= 0.8 * len(alpha)


_CAPITAL = "[A-ZÀ-ÖØ-Þ]"
_CAPITALISED_REST = r"[^\W_]*+(?:['’](?![sS]\b)[^\W\d_]++)*+"
_CAPITALISED = _CAPITAL + _CAPITALISED_REST
# capitalised words joined by single spaces: one name only across plain spaces ("Sergei Shoigu", not
# "Shoigu, Russia" nor "Russia’s Security"), not right after a letter, digit or apostrophe; findall gives
# the run and the character before it (the text is scanned with a line break in front, so there is one)
# (the look-behind sits after the first letter, so the scan starts on a character class: much faster)
_NAME_RUN_RE = re.compile(rf"({_CAPITAL}(?<=([^\w'’]).){_CAPITALISED_REST}(?: {_CAPITALISED})*+)")
_ASCII_CAPITALISED_REST = r"[A-Za-z0-9]*+(?:'(?![sS]\b)[A-Za-z]++)*+"
_ASCII_NAME_RUN_RE = re.compile(
    rf"([A-Z](?<=([^A-Za-z0-9_']).){_ASCII_CAPITALISED_REST}(?: [A-Z]{_ASCII_CAPITALISED_REST})*+)"
)
_LOWER_WORD_RE = re.compile(r"\b[a-z]+\b")
_FIGURE_RE = re.compile(r"\d(?<![\w.,:]\d)\d*+(?:[.,:]\d++)*+")
_ASCII_FIGURE_RE = re.compile(r"[0-9](?<![A-Za-z0-9_.,:][0-9])[0-9]*+(?:[.,:][0-9]++)*+")
# the word right before a figure, when it may be a month ("March 21", "Feb. 4")
_MONTH_BEFORE_RE = re.compile(r"([A-Za-z]{3,9})\.?\s+$")


def names_in(
    sentences: list[str], *, headlines: int = 0, words_used: Container[str] | None = None
) -> tuple[list[str], list[str]]:
    """Capitalised words and multi-word capitalised runs, as written, in ``sentences``.

    A sentence's first word counts only when the text never uses it in lower case ("The", "Perennial"
    are not names; "Kim" is). The first ``headlines`` sentences are skipped when in title case: every word
    is capitalised there. ``words_used``: the tokens of ``sentences`` as written, when the caller has them.
    """
    text = "\n".join(sentences)
    lower_used = set(_LOWER_WORD_RE.findall(text)) if words_used is None else words_used
    kept = [sentence for sentence in sentences[:headlines] if not _is_title_case(tokens(sentence))]
    if len(kept) < len(sentences[:headlines]):
        text = "\n".join(kept + sentences[headlines:])
    single: list[str] = []
    phrases: list[str] = []
    cached = _NAMEABLE.get
    # one pass over the text (sentences joined by line breaks): a run starts a sentence when a line break
    # is right before it
    runs = (_ASCII_NAME_RUN_RE if text.isascii() else _NAME_RUN_RE).findall("\n" + text)
    for found, before in runs:
        opens_sentence = before == "\n"
        if " " not in found:  # most runs are one word
            verdict = cached(found)
            if verdict is None:
                verdict = _nameable(found)
            if verdict and not (opens_sentence and found.lower() in lower_used):
                single.append(found)
            continue
        run: list[str] = []
        for position, word in enumerate(found.split(" ")):
            if _nameable(word) and (position > 0 or not opens_sentence or word.lower() not in lower_used):
                single.append(word)
                run.append(word)
                continue
            if len(run) >= 2:
                phrases.append(" ".join(run))
            run = []
        if len(run) >= 2:
            phrases.append(" ".join(run))
    return single, phrases


def _nameable(word: str) -> bool:
    """A capitalised word that may be a name wherever it stands: not a common word nor a month."""
    verdict = _NAMEABLE.get(word)
    if verdict is None:
        lower = word.lower()
        verdict = len(word) > 1 and lower not in _NOT_NAMES and lower not in _MONTHS
        if len(_NAMEABLE) < _NAMEABLE_CACHE_LIMIT:  # a cache of a pure function: never changes a result
            _NAMEABLE[word] = verdict
    return verdict


_NAMEABLE: dict[str, bool] = {}
_NAMEABLE_CACHE_LIMIT = 100_000


def figures_in(text: str) -> list[str]:
    """Numbers (two digits or more) and dates written as month and day ('03-21') in ``text``."""
    out: list[str] = []
    for match in (_ASCII_FIGURE_RE if text.isascii() else _FIGURE_RE).finditer(text):
        figure_text = match.group()
        if not figure_text.isdigit():  # separators: normalise
            figure = normalise_figure(figure_text)
            if figure is not None:
                out.append(figure)
            continue
        # most figures cannot be a day of the month: look for a month name before the others only
        if 1 <= int(figure_text) <= _LAST_DAY:
            before = _MONTH_BEFORE_RE.search(text, max(0, match.start() - 12), match.start())
            month = _MONTHS.get(before.group(1).lower()) if before else None
            if month is not None:
                out.append(f"{month:02d}-{int(figure_text):02d}")
                continue
        if len(figure_text) > 1:  # what normalise_figure keeps of a plain number
            out.append(figure_text)
    return out


_LAST_DAY = 31

#: a dateline sits in the first lines (after headline and byline); later dates are what the story is about
_DATELINE_SEARCH_CHARS = 400
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "May 03 , 2013", "March 21, 2013", "Sept. 4 2012", "May . 3 , 2013", "3 May 2013", "2013-05-03",
# "2013 - 05 - 03", "05/03/2013", "8 / 2 / 13" (tokenised text has spaces around punctuation)
_DATELINE_RES = (
    re.compile(
        rf"\b(?P<month>{_MONTH_NAMES})\s?\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*[,-]?\s+(?P<year>(?:19|20)\d\d)\b",
        re.I,
    ),
    re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month>{_MONTH_NAMES})\s?\.?\s*,?\s+(?P<year>(?:19|20)\d\d)\b",
        re.I,
    ),
    re.compile(r"\b(?P<year>(?:19|20)\d\d) ?([-.]) ?(?P<month>\d\d) ?\2 ?(?P<day>\d\d)\b"),
    # numeric day and month: month first (US) unless the first number cannot be a month; after a clock
    # time ("13 : 26 14 / 09 / 2013") but not inside a longer run of numbers; dotted ("08 . 07 . 2012")
    # only with a four-digit year (version numbers are dotted too)
    re.compile(
        r"(?:(?<![\d/] )(?<![\d/])|(?<=\d\d : \d\d ))"
        r"\b(?P<month>\d{1,2}) ?/ ?(?P<day>\d{1,2}) ?/ ?(?P<year>(?:19|20)?\d\d)\b(?! ?/)"
    ),
    re.compile(
        r"(?<![\d.] )(?<![\d.])\b(?P<month>\d{1,2}) ?\. ?(?P<day>\d{1,2}) ?\. ?(?P<year>(?:19|20)\d\d)\b(?! ?\. ?\d)"
    ),
)


# a year, or a numeric date whose year may have two digits (the look-ahead lets the scan skip to digits)
_YEAR_RE = re.compile(r"(?=\d)(?:(?:19|20)\d\d|\d ?/ ?\d)")
#: a two-digit year below this is 20xx, else 19xx
_CENTURY_PIVOT = 50


def _dateline_fields(match: re.Match[str]) -> tuple[int, int, int]:
    """(year, month, day) of a dateline match; numeric "day/month" when the first number exceeds 12."""
    month_text, day, year = match.group("month"), int(match.group("day")), int(match.group("year"))
    if year < 100:
        year += 2000 if year < _CENTURY_PIVOT else 1900
    if not month_text.isdigit():
        return year, _MONTHS[month_text.lower()], day
    month = int(month_text)
    if month > 12 >= day:
        month, day = day, month
    return year, month, day


def dateline_date(text: str) -> datetime | None:
    """The first full date (day, month and year) written in the opening of ``text``, as UTC midnight."""
    head = text[:_DATELINE_SEARCH_CHARS]
    # most openings hold no year: skip the dearer patterns (substring tests first: a regex scan costs
    # ~30 ns a character, a substring test a few)
    if ("/" not in head and "19" not in head and "20" not in head) or _YEAR_RE.search(head) is None:
        return None
    found: tuple[int, datetime] | None = None
    for pattern in _DATELINE_RES:
        match = pattern.search(head)
        if match is None or (found is not None and found[0] <= match.start()):
            continue
        try:
            found = (match.start(), datetime(*_dateline_fields(match), tzinfo=UTC))
        except ValueError:  # "February 30": not a date
            continue
    return found[1] if found else None


def count_words(*fields: Iterable[str]) -> Counter[str]:
    """How often each token is written over the fields, in order of first mention (counted in C); its keys
    are the words the text writes."""
    counts: Counter[str] = Counter()
    for words in fields:
        counts.update(words)
    return counts


def text_parts(title: str | None, text: str, *, lead_sentences: int = 2) -> TextParts:
    """Split an article into title, lead and body tokens (lower-cased), names and figures.

    Without a title, a short first line that reads as a headline is taken as the title (ECB+ and many
    plain-text exports start that way).
    """
    sentences = split_sentences(text)
    if not title and sentences and looks_like_headline(sentences[0]) and len(sentences) > 1:
        title, sentences = sentences[0], sentences[1:]
    lead = " ".join(sentences[:lead_sentences])
    body = "\n".join(sentences[lead_sentences:])
    # tokens as written, once: lower-cased for the vector, and as the set of words the text writes (a
    # capitalised sentence opener that the text also writes in lower case is not a name)
    title_words = tokens(title) if title else []
    lead_words = tokens(lead)
    body_words = tokens(body)
    word_counts = count_words(title_words, lead_words, body_words)
    name_list, phrase_list = names_in(
        ([title] if title else []) + sentences, headlines=2, words_used=word_counts
    )
    figure_list = figures_in(f"{title or ''}\n{lead}\n{body}")
    return TextParts(
        title_words=tuple(title_words),
        lead_words=tuple(lead_words),
        body_words=tuple(body_words),
        names=tuple(name_list),
        name_phrases=tuple(phrase_list),
        figures=tuple(figure_list),
        sentences=tuple(sentences),
        title=title,
        dateline=dateline_date(text),
        word_counts=word_counts,
    )
