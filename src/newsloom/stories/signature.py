"""An article's event signature: where and when the event happened and who was in it, read from dated local
news (the place, the street, the day the text says it happened, names, ages).

Why: follow-up reports of one incident (an arrest, a victim named, a vigil) come days later in other words,
so their word vectors miss the first report; what they share is the street, the victim's name, the town
and the day of the event. Two incidents of one kind (a shooting in a town) share the vocabulary but not
those. The engine keeps a tally of these keys per story and looks them up like words (``stories.engine``).

Keys are plain strings with a kind prefix:
  * ``st:`` a street ("harrison street"): strong;
  * ``nm:`` a person's full name ("ramaya reed"): strong;
  * ``pl:`` the dateline place ("little rock"), ``ev:`` the event day (days since the epoch, resolved from
    "Tuesday night", "on March 3", "yesterday" against the publication date), ``age:`` ages ("2-year-old"):
    supporting evidence, too common to join on alone.
Pure: a function of (title, text, publication date).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: strong keys say "this incident" alone (with a rarity check in the engine); supporting ones only help
STRONG_KINDS = ("st:", "nm:")
#: the signature reads the title and this many characters of text: the who/where/when sit at the top,
#: and a bound keeps the cost per article flat for long texts
SIGNATURE_CHARS = 2_500
#: the event day is read from this many characters of text (the lead), where the report says when
EVENT_DAY_CHARS = 600
#: a resolved "March 3" later than the publication date by more than this is last year's March 3
_FUTURE_SLACK_DAYS = 1

_STREET_RE = re.compile(
    r"\b(?:(?:North|South|East|West|N\.|S\.|E\.|W\.)\s)?"
    r"((?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))(?:\s[A-Z][a-z]+){0,2})\s"
    r"(Street|Avenue|Road|Boulevard|Drive|Lane|Place|Court|Parkway|Highway|Terrace|St\.|Ave\.|Rd\.|Blvd\.)"
    r"(?!\w)"
)
# a street word after a space (group 1): a pattern that opens with a literal scans ~2.5x faster than one that
# opens with a look-behind (tried at every character); the same matches, the space consumed
_STREET_WORD_RE = re.compile(
    r" (Street|Avenue|Road|Boulevard|Drive|Lane|Place|Court|Parkway|Highway|Terrace|St\.|Ave\.|Rd\.|Blvd\.)(?!\w)"
)
#: a street's name and direction fit in this many characters before its street word
_STREET_LOOKBACK = 64
_SUFFIX = {"St.": "street", "Ave.": "avenue", "Rd.": "road", "Blvd.": "boulevard"}
#: capitalised words that open a street-like run but are no part of the street's name
_STREET_NOISE = frozenset({"The", "On", "In", "At", "Near", "Of", "And", "Block", "Main"})

#: words that make a capitalised pair no person's name (a place, an office, a weekday, a month ...)
_NOT_NAME_WORDS = frozenset(
    ["Police", "Department", "County", "City", "Street", "Avenue", "Road", "Boulevard", "Drive", "Lane", "Court", "Park", "Parkway", "Highway", "School", "High", "Middle", "Elementary", "University", "College", "Hospital", "Medical", "Center", "Office", "Sheriff", "Sheriff's", "Chief", "Officer", "Officers", "Deputy", "Detective", "Sgt", "Lt", "Capt", "Mayor", "Governor", "Gov", "President", "Senator", "Judge", "Attorney", "District", "State", "States", "United", "North", "South", "East", "West", "New", "Fort", "Saint", "St", "Lake", "River", "Mount", "Beach", "Valley", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December", "Christmas", "Day", "Eve", "Year", "Years", "News", "Channel", "Press", "Associated", "Facebook", "Twitter", "Copyright", "All", "Rights", "Reserved", "Related", "Stories", "Story", "Photo", "Video", "Click", "Read", "More", "Getty", "Images", "Crime", "Stoppers", "Department's", "Police's", "Community", "Church", "Baptist", "Memorial", "Funeral", "Home", "Homicide", "Unit", "Division", "Bureau", "Federal", "Investigation", "Special", "Agent", "Emergency", "Services", "Fire", "Rescue", "Metro", "Metropolitan", "Advertisement", "Continue", "Reading", "Eastern", "Western", "Northern", "Southern", "Central", "God", "Lord", "Jesus", "Black", "White", "American", "African", "Hispanic", "Latino", "Democrat", "Republican", "Sen", "Rep", "Mr", "Mrs", "Ms", "Dr"]
)
_DATELINE_RE = re.compile(r"^\W*([A-Z][A-Z.'\-]+(?:\s[A-Z][A-Z.'\-]+){0,3})\b(?:,\s*[A-Za-z. ]{2,20})?\s*(?:\([^)]{0,40}\))?\s*(?:—|–|--|-)")
_AGE = r"\b(\d{1,2})-year-old\b|,\s(\d{1,2}),\s"
# (the look-ahead, a character class every match starts with, lets the scan skip to where a match can
# start; the ASCII twin, for ASCII text, finds the very same matches without Unicode class look-ups:
# together ~2x faster, and the signature runs on every dated article)
_AGE_RE = re.compile(rf"(?=[\d,])(?:{_AGE})")
_ASCII_AGE_RE = re.compile(rf"(?=[0-9,])(?:{_AGE})", re.ASCII)
# what either kind of age match holds, found by a substring test or a scan for a literal comma (fast):
# a text without both has no age, and the full scan is skipped
_YEAR_OLD = "-year-old"
_COMMA_DIGIT_RE = re.compile(r",\s\d")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_WHEN = (
    r"\b(?:(" + "|".join(_WEEKDAYS) + r")|(yesterday|last night|today|this morning|tonight|this afternoon)|"
    r"(" + "|".join(_MONTHS) + r"|jan|feb|aug|sept|sep|oct|nov|dec)\.?\s(\d{1,2})(?:st|nd|rd|th)?\b)"
)
# the first letters of the alternatives as a look-ahead (case-insensitive like them): the scan skips to
# where a match can start instead of trying the alternation at every word (~3x faster); ASCII twin as above
_WHEN_RE = re.compile(rf"(?=[mtwfsylajond]){_WHEN}", re.IGNORECASE)
_ASCII_WHEN_RE = re.compile(rf"(?=[mtwfsylajond]){_WHEN}", re.IGNORECASE | re.ASCII)
_RELATIVE = {"yesterday": -1, "last night": -1, "today": 0, "this morning": 0, "tonight": 0, "this afternoon": 0}
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS, start=1)} | {
    "jan": 1,
    "feb": 2,
    "aug": 8,
    "sept": 9,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class EventSignature:
    """The keys of one article's event signature (see the module docstring), strong ones first."""

    strong: tuple[str, ...] = ()
    supporting: tuple[str, ...] = ()
    #: the event day (days since the epoch) or None when the text says no day
    event_day: int | None = None
    #: the dateline place, lower-cased, or None
    place: str | None = None

    def all_keys(self) -> tuple[str, ...]:
        return self.strong + self.supporting


EMPTY_SIGNATURE = EventSignature()


def _street_matches(text: str) -> Iterator[re.Match[str]]:
    """``_STREET_RE`` matches, looked for only just before a street word: most capitalised words open no
    street, and trying the pattern at each costs ~4x this two-step search."""
    last_end = 0
    for suffix in _STREET_WORD_RE.finditer(text):
        word_start, word_end = suffix.span(1)
        start = max(last_end, word_start - _STREET_LOOKBACK)
        match = None
        for found in _STREET_RE.finditer(text, start, word_end):
            match = found
        if match is not None and match.end() == word_end:
            last_end = match.end()
            yield match


def _streets(text: str) -> list[str]:
    found: list[str] = []
    for match in _street_matches(text):
        words = match.group(1).split()
        while words and words[0] in _STREET_NOISE:
            words.pop(0)
        if not words:
            continue
        suffix = _SUFFIX.get(match.group(2), match.group(2).lower())
        found.append("st:" + " ".join(words).lower() + " " + suffix)
    return found


def _names(name_phrases: Iterable[str]) -> list[str]:
    """Person-like names among the text's multi-word names (``TextParts.name_phrases``: runs of capitalised
    words that are not common words): two or three words, none of them a place, office or calendar word."""
    found: list[str] = []
    for phrase in name_phrases:
        words = phrase.split()
        if not 2 <= len(words) <= 3 or any(word in _NOT_NAME_WORDS for word in words):
            continue
        found.append("nm:" + phrase.lower())
    return found


def _ages(text: str) -> list[str]:
    if _YEAR_OLD not in text and _COMMA_DIGIT_RE.search(text) is None:
        return []
    pattern = _ASCII_AGE_RE if text.isascii() else _AGE_RE
    return ["age:" + (match.group(1) or match.group(2)) for match in pattern.finditer(text)]


def dateline_place(text: str) -> str | None:
    """The place a report's dateline names ("LITTLE ROCK, Ark. (KTHV) –" -> "little rock"), if any."""
    head = text.lstrip()[:120]
    for line in head.splitlines()[:3]:
        match = _DATELINE_RE.match(line)
        if match and len(match.group(1)) >= 3:
            return match.group(1).strip(" .").lower()
    return None


def event_day(text: str, published: date) -> int | None:
    """The day the text says the event happened (days since the epoch), resolved against ``published``:
    the first weekday ("Saturday night": the last Saturday on or before it), relative day ("yesterday")
    or month and day ("on March 3": that day in the publication's year, or the year before when that
    would be in the future) in the lead."""
    lead = text[:EVENT_DAY_CHARS]
    for match in (_ASCII_WHEN_RE if lead.isascii() else _WHEN_RE).finditer(lead):
        weekday, relative, month, day = match.groups()
        try:
            if weekday:
                back = (published.weekday() - _WEEKDAYS.index(weekday.lower())) % 7
                # the day after the publication date is that day, not six days before: dates are often the
                # day (in another time zone) before a late report's event ("early Friday" dated Thursday)
                resolved = published - timedelta(days=back) if back < 6 else published + timedelta(days=1)
            elif relative:
                resolved = published + timedelta(days=_RELATIVE[relative.lower()])
            else:
                number = int(day)
                resolved = date(published.year, _MONTH_NUMBER[month.lower()], number)
                if (resolved - published).days > _FUTURE_SLACK_DAYS:
                    resolved = date(published.year - 1, resolved.month, number)
        except (ValueError, OverflowError):  # "May 35", "February 30", or a day before year 1 / after 9999
            continue
        return (resolved - _EPOCH).days
    return None


def event_signature(
    title: str | None, text: str, published: datetime | None, name_phrases: Iterable[str] = ()
) -> EventSignature:
    """The event signature of one article (``published``: its date, which the event day needs;
    ``name_phrases``: its multi-word names, ``TextParts.name_phrases``)."""
    head = f"{title or ''}\n{text[:SIGNATURE_CHARS]}"
    strong = dict.fromkeys(_streets(head))
    strong.update(dict.fromkeys(_names(name_phrases)))
    place = dateline_place(text)
    # (event_day reads the first EVENT_DAY_CHARS only: no need to copy the whole text)
    lead = f"{title or ''}\n{text[:EVENT_DAY_CHARS]}"
    day = event_day(lead, published.date()) if published is not None else None
    supporting = dict.fromkeys(_ages(head))
    if place:
        supporting["pl:" + place] = None
    if day is not None:
        supporting[f"ev:{day}"] = None
    return EventSignature(tuple(strong), tuple(supporting), day, place)
