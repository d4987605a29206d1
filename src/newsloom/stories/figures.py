"""Figures in a sentence: counts, money, percentages and dates, with their precision.

A figure keeps what a reader compares: the value or range ("between 10,000 and 12,000 troops"), the
qualifier ("at least", "about"), the thing counted ("troops") and, for dates, which parts are given
("in February" against "in late February" against "on February 21"). ``compare_figures`` pairs the
figures of two sentences that report one fact and says which ones disagree or differ in precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FigureKind = Literal["count", "money", "percent", "date"]

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "dozen": 12, "dozens": 24, "hundreds": 200, "thousands": 2000,
}  # fmt: skip
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6, "k": 1e3}
CURRENCY_SIGNS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₩": "KRW", "₹": "INR"}
CURRENCY_WORDS = {"dollars": "USD", "dollar": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP",
                  "yen": "JPY", "won": "KRW", "rupees": "INR", "yuan": "CNY", "rubles": "RUB", "roubles": "RUB"}  # fmt: skip
QUALIFIERS = (
    "at least", "at most", "more than", "less than", "fewer than", "up to", "as many as", "as much as",
    "nearly", "almost", "about", "around", "roughly", "approximately", "some", "over", "under", "over",
    "an estimated", "estimated", "close to", "just over", "just under",
)  # fmt: skip
DAY_PARTS = ("early", "mid", "late", "end of", "beginning of", "start of", "middle of")

# Words skipped between a number and the noun it counts ("3,000 new deployments", "30 more people").
_UNIT_SKIP = frozenset(["new", "more", "additional", "other", "extra", "fresh", "further"])
_NOT_UNITS = frozenset(
    ["and", "or", "to", "in", "on", "at", "by", "for", "from", "with", "of", "a", "an", "the", "per", "percent", "years", "year-old", "was", "were", "is", "are", "had", "have"]
)

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_SCALE = r"(?:\s*(?:thousand|million|billion|trillion|bn|m|k)\b)?"
_QUAL = r"(?:(?P<qual>" + "|".join(re.escape(q) for q in QUALIFIERS) + r")\s+)?"
_CUR = r"(?P<cur>US\$|\$|€|£|¥|₩|₹)?"
_NUMBER_RE = re.compile(
    r"(?<![\w.,])" + _QUAL + r"(?:(?P<between>between|from)\s+)?" + _CUR
    + r"(?P<low>" + _NUM + r"|" + "|".join(NUMBER_WORDS) + r")(?P<lowscale>" + _SCALE + r")"
    + r"(?:\s*(?:-|–|to|and)\s*(?:US\$|\$|€|£)?(?P<high>" + _NUM + r")(?P<highscale>" + _SCALE + r"))?"
    + r"(?P<pct>\s*(?:%|percent\b|per cent\b|percentage points?\b))?",
    re.IGNORECASE,
)  # fmt: skip
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_RE = re.compile(
    r"(?P<prep>\b(?i:in|on|since|by|until|from|of|during|before|after)\s+)?"
    r"(?P<part>\b(?i:early|mid|late|the end of|end of|the beginning of|beginning of|the start of|start of|the middle of|middle of)[\s-]+)?"
    r"(?:(?P<weekday>\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)),?\s+)?"
    r"(?:(?P<day1>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?)?"
    r"(?P<month>\b(?i:" + _MONTH_NAMES + r"))\.?(?![a-z])"
    r"(?:\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?(?!\d))?"
    r"(?:,?\s+(?P<year>(?:19|20)\d\d)(?!\d))?",
)  # fmt: skip
_YEAR_RE = re.compile(r"(?P<prep>\b(?i:in|since|by|until|of|during|before|after)\s+)(?P<year>(?:19|20)\d\d)(?![\d,])")
_WEEKDAY_RE = re.compile(r"(?P<prep>\b(?i:on|since|by|until|last|next|this)\s+)?(?P<weekday>\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))(?:[’']s)?\b")


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure as written. ``low``/``high`` equal for a single value; dates use the date fields."""

    kind: FigureKind
    text: str
    start: int
    end: int
    low: float | None = None
    high: float | None = None
    qualifier: str | None = None
    unit: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    part: str | None = None
    weekday: int | None = None

    @property
    def is_range(self) -> bool:
        return self.low is not None and self.high is not None and self.high != self.low


@dataclass(frozen=True, slots=True)
class FigurePair:
    """Two figures of aligned sentences that refer to one quantity or date but are written differently."""

    kind: Literal["figure", "date"]
    left: Figure
    right: Figure
    reason: str  # "disagree" or "precision"


def _number(raw: str, scale: str) -> float:
    word = raw.lower()
    value = float(NUMBER_WORDS[word]) if word in NUMBER_WORDS else float(raw.replace(",", ""))
    scale_word = scale.strip().lower()
    return value * SCALES.get(scale_word, 1.0)


def _unit_after(sentence: str, end: int) -> tuple[str | None, int]:
    """The noun counted after a number, stemmed, and where it ends (``end`` when there is none)."""
    for index, match in enumerate(re.finditer(r"[A-Za-z][A-Za-z'-]*", sentence[end : end + 60])):
        if index >= 3:
            break
        low = match.group(0).lower()
        if low in _UNIT_SKIP:
            continue
        if low in _NOT_UNITS or low in MONTHS:
            return None, end
        return _unit_stem(low), end + match.end()
    return None, end


def _unit_stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < s_end and s_start < end for s_start, s_end in spans)


def extract_figures(sentence: str) -> list[Figure]:
    """Dates first (so "March 21, 2025" is not read as counts), then money, percentages and counts."""
    figures: list[Figure] = []
    taken: list[tuple[int, int]] = []
    for m in _DATE_RE.finditer(sentence):
        if m.group("month").lower() == "may" and not (m.group("day1") or m.group("day2") or m.group("year")):
            continue  # "may" is usually the verb
        if m.group("month")[0].islower():
            continue
        day = m.group("day1") or m.group("day2")
        part = (m.group("part") or "").strip().lower().removeprefix("the ").strip("- ") or None
        weekday = WEEKDAYS[m.group("weekday").lower()] if m.group("weekday") else None
        text = m.group(0).strip()
        if text.endswith(".") and len(m.group("month")) > 4:
            text = text[:-1]  # the sentence's full stop after "March", not an abbreviation's
        figures.append(Figure(
            "date", text, m.start(), m.end(), year=int(m.group("year")) if m.group("year") else None,
            month=MONTHS[m.group("month").lower().rstrip(".")], day=int(day) if day else None, part=part,
            weekday=weekday,
        ))  # fmt: skip
        taken.append((m.start(), m.end()))
    for m in _YEAR_RE.finditer(sentence):
        if not _overlaps(taken, m.start("year"), m.end("year")):
            figures.append(Figure("date", m.group(0).strip(), m.start(), m.end(), year=int(m.group("year"))))
            taken.append((m.start(), m.end()))
    for m in _WEEKDAY_RE.finditer(sentence):
        if not _overlaps(taken, m.start("weekday"), m.end("weekday")):
            text = m.group(0).strip()
            figures.append(Figure("date", text, m.start(), m.end(), weekday=WEEKDAYS[m.group("weekday").lower()]))
            taken.append((m.start(), m.end()))
    for m in _NUMBER_RE.finditer(sentence):
        if _overlaps(taken, m.start("low"), m.end("low")):
            continue
        low_raw = m.group("low")
        if low_raw.isalpha() and not low_raw[0].islower() and m.start("low") != 0:
            continue  # "One" mid-sentence in a name ("One Direction")
        if m.group("high") is None and m.group("between"):
            continue
        after = sentence[m.end() : m.end() + 2]
        bare_year = low_raw.isdigit() and len(low_raw) == 4 and low_raw[:2] in ("19", "20")
        if bare_year and not (m.group("cur") or m.group("lowscale") or m.group("pct")):
            continue  # a bare year ("the 2024 election")
        if after.startswith("-") and not m.group("high"):
            unit, unit_end = _unit_after(sentence, m.end() + 1)  # "11-day drill", "3-year-old"
        else:
            unit, unit_end = _unit_after(sentence, m.end())
        low = _number(low_raw, m.group("lowscale") or m.group("highscale") or "")
        high = _number(m.group("high"), m.group("highscale") or m.group("lowscale") or "") if m.group("high") else low
        if m.group("cur"):
            kind: FigureKind = "money"
            unit = CURRENCY_SIGNS[m.group("cur")]
        elif m.group("pct"):
            kind = "percent"
            unit = "%"
        elif unit in CURRENCY_WORDS:
            kind = "money"
            unit = CURRENCY_WORDS[unit]
        else:
            kind = "count"
        if kind == "count" and low_raw.isalpha() and unit is None:
            continue  # "one of the ...": a number word with nothing counted is not a figure
        qual = (m.group("qual") or "").lower() or None
        text = sentence[m.start() : max(m.end(), unit_end if kind == "count" else m.end())].strip()
        figures.append(Figure(kind, text, m.start(), m.end(), low=low, high=high, qualifier=qual, unit=unit))
        taken.append((m.start(), m.end()))
    return sorted(figures, key=lambda f: f.start)


def figure_keys(figure: Figure) -> tuple[str, ...]:
    """Features for sentence similarity: the value (and unit) a figure names."""
    if figure.kind == "date":
        keys = []
        if figure.month:
            keys.append(f"month:{figure.month}")
        if figure.year:
            keys.append(f"year:{figure.year}")
        if figure.weekday is not None:
            keys.append(f"weekday:{figure.weekday}")
        return tuple(keys)
    keys = [f"{figure.kind}:{figure.low:g}"]
    if figure.high != figure.low:
        keys.append(f"{figure.kind}:{figure.high:g}")
    return tuple(keys)


def _date_pair(left: Figure, right: Figure) -> FigurePair | None:
    if left.month is not None and right.month is not None:
        if left.month != right.month:
            return FigurePair("date", left, right, "disagree")
    elif left.year is not None and right.year is not None and left.month is None and right.month is None:
        if left.year != right.year:
            return FigurePair("date", left, right, "disagree")
        return None
    elif left.weekday is not None and right.weekday is not None and left.month is None and right.month is None:
        if left.weekday != right.weekday:
            return FigurePair("date", left, right, "disagree")
        return None
    else:
        return None
    for a, b in ((left.day, right.day), (left.year, right.year)):
        if a is not None and b is not None and a != b:
            return FigurePair("date", left, right, "disagree")
    if (left.day is None) != (right.day is None) or (left.part or None) != (right.part or None):
        return FigurePair("date", left, right, "precision")
    return None


_FLOOR_QUALIFIERS = frozenset({"at least", "more than", "over", "just over"})
_CEILING_QUALIFIERS = frozenset({"up to", "at most", "less than", "fewer than", "under", "as many as", "as much as"})
_ROUGH_QUALIFIERS = frozenset({"about", "around", "nearly", "almost", "roughly", "approximately", "some", "close to",
                               "an estimated", "estimated"})
# "about 100" and "105" are one figure told with different precision; "about 100" and "130" disagree. 15% is
# the usual rounding span of "about" in news copy (to the nearest 10 of two-digit, 50 of three-digit counts).
ROUGH_TOLERANCE = 0.15


def _same_quantity(left: Figure, right: Figure) -> bool:
    return left.low == right.low and left.high == right.high and (left.qualifier or "") == (right.qualifier or "")


def _number_pair(left: Figure, right: Figure) -> FigurePair | None:
    if _same_quantity(left, right):
        return None
    assert left.low is not None and left.high is not None and right.low is not None and right.high is not None
    overlap = left.low <= right.high and right.low <= left.high
    reason = "precision" if overlap and (left.is_range or right.is_range or left.qualifier or right.qualifier) else "disagree"
    if not overlap and (left.qualifier or right.qualifier):
        # "at least 30" against "32": consistent, one is vaguer
        lo_q = left if left.qualifier else right
        other = right if lo_q is left else left
        assert lo_q.low is not None and other.low is not None
        floor = lo_q.qualifier in _FLOOR_QUALIFIERS and other.low >= lo_q.low
        ceiling = lo_q.qualifier in _CEILING_QUALIFIERS and other.low <= lo_q.low
        near = lo_q.qualifier in _ROUGH_QUALIFIERS and (
            abs(other.low - lo_q.low) <= ROUGH_TOLERANCE * max(abs(lo_q.low), 1.0)
        )
        if floor or ceiling or near:
            reason = "precision"
    return FigurePair("figure", left, right, reason)


def compare_figures(left: list[Figure], right: list[Figure]) -> list[FigurePair]:
    """Pair figures of two aligned sentences and keep the pairs whose values or precision differ.

    Dates pair by month (or year, or weekday); numbers pair by kind and counted unit, or, when each side
    has exactly one number of a kind left, by kind alone. Figures on one side only are additions, not
    differences, and are not reported here.
    """
    pairs: list[FigurePair] = []
    used_right: set[int] = set()
    for lf in left:
        if lf.kind != "date":
            continue
        for j, rf in enumerate(right):
            if j in used_right or rf.kind != "date":
                continue
            same_anchor = (lf.month is not None and lf.month == rf.month) or (
                lf.month is None and rf.month is None
                and ((lf.year is not None and lf.year == rf.year) or (lf.weekday is not None and lf.weekday == rf.weekday))
            )  # fmt: skip
            if same_anchor:
                used_right.add(j)
                found = _date_pair(lf, rf)
                if found:
                    pairs.append(found)
                break
    unmatched_left: list[Figure] = []
    for lf in left:
        if lf.kind == "date":
            continue
        match = None
        for j, rf in enumerate(right):
            if j not in used_right and rf.kind == lf.kind and lf.unit is not None and rf.unit == lf.unit:
                match = j
                break
        if match is None:
            unmatched_left.append(lf)
            continue
        used_right.add(match)
        found = _number_pair(lf, right[match])
        if found:
            pairs.append(found)
    for kind in ("count", "money", "percent"):
        lefts = [f for f in unmatched_left if f.kind == kind]
        rights = [f for j, f in enumerate(right) if j not in used_right and f.kind == kind]
        if len(lefts) == 1 and len(rights) == 1 and (lefts[0].unit is None or rights[0].unit is None or kind != "count"):
            found = _number_pair(lefts[0], rights[0])
            if found:
                pairs.append(found)
    return pairs
