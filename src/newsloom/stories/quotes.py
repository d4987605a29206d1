"""Quotations in a sentence, who said them, and whether two outlets worded the same quotation differently."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from newsloom.stories.sentences import SPEECH_VERBS

_QUOTE_RE = re.compile(r"“(?P<a>[^”]{1,600})”|\"(?P<b>[^\"]{1,600})\"|``\s*(?P<c>.{1,600}?)\s*''|«(?P<d>[^»]{1,600})»")
_PRONOUNS = frozenset({"he", "she", "they"})

# Two quotations are "the same quotation" when at least this share of their words (Jaccard) is common.
# Chosen so that one changed word in a short quote (5 words: 4/6 = 0.67) still pairs and two unrelated
# quotes of one speaker (typically < 0.2) do not.
SAME_QUOTE_MIN_OVERLAP = 0.5


@dataclass(frozen=True, slots=True)
class QuoteSpan:
    text: str  # the words inside the quotation marks, trailing punctuation removed
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PersonMention:
    name: str  # the entity's display name
    start: int
    end: int


def find_quotes(sentence: str) -> list[QuoteSpan]:
    out: list[QuoteSpan] = []
    for m in _QUOTE_RE.finditer(sentence):
        inner = next(g for g in m.groups() if g is not None)
        inner = inner.strip().rstrip(",.;:").strip()
        if inner:
            out.append(QuoteSpan(inner, m.start(), m.end()))
    return out


def _speech_verb_near(text: str) -> bool:
    return any(w.lower() in SPEECH_VERBS for w in re.findall(r"[A-Za-z]+", text))


def attribute_speaker(
    sentence: str, quote: QuoteSpan, persons: Sequence[PersonMention], previous_subject: str | None
) -> str | None:
    """Who is quoted, by the usual news patterns, in order of reliability.

    "quoted X as saying", "X said"/"said X", "X, who ... vowed to give “...”", then the subject that opens
    the sentence ("He ..." resolves to the previous sentence's subject). Two subjects joined by "and" give
    no speaker: the quote is not one person's.
    """
    outside = [p for p in persons if p.end <= quote.start or p.start >= quote.end]
    for p in outside:
        if re.search(r"\bquoted\s+$", sentence[max(0, p.start - 8) : p.start]) and re.match(
            r"\s+as\s+saying", sentence[p.end : p.end + 12]
        ):
            return p.name
    for p in outside:
        after = sentence[p.end : p.end + 25]
        if re.match(r"\s*(?:has |had |then |also |,[^,]{0,40},\s*)?(?:" + "|".join(SPEECH_VERBS) + r")\b", after):
            return p.name
        before = sentence[max(0, p.start - 12) : p.start]
        if re.search(r"\b(?:" + "|".join(SPEECH_VERBS) + r")\s+$", before):
            return p.name
    for p in reversed([p for p in outside if p.end <= quote.start]):
        if re.match(r"\s*,\s*who\b", sentence[p.end : p.end + 8]):
            return p.name
    opening = re.match(r"[\s“\"(]*([A-Za-z]+)", sentence)
    if opening and opening.group(1).lower() in _PRONOUNS:
        return previous_subject if opening.group(1).lower() != "they" else None
    first = persons[0] if persons else None
    if first is not None and first.start <= 3:
        following = sentence[first.end : first.end + 6]
        if re.match(r"\s+and\s", following):
            return None
        return first.name
    return None


def sentence_subject(sentence: str, persons: Sequence[PersonMention], previous_subject: str | None) -> str | None:
    """The person a following "He"/"She" most likely refers to: the one opening this sentence, if any."""
    if persons and persons[0].start <= 3:
        return persons[0].name
    opening = re.match(r"[\s“\"(]*([A-Za-z]+)", sentence)
    if opening and opening.group(1).lower() in ("he", "she"):
        return previous_subject
    return previous_subject if not persons else persons[0].name


def _quote_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'").replace("'s", "s"))


def same_quote(a: str, b: str) -> bool:
    """True when two quotation texts are the same quotation, worded alike or not."""
    ta, tb = set(_quote_tokens(a)), set(_quote_tokens(b))
    if not ta or not tb:
        return False
    return len(ta & tb) / len(ta | tb) >= SAME_QUOTE_MIN_OVERLAP


def quote_wording_differs(a: str, b: str) -> bool:
    return _quote_tokens(a) != _quote_tokens(b)


def quote_changes(a: str, b: str) -> str:
    """A short note of the words that differ, e.g. "the -> their"."""
    ta, tb = _quote_tokens(a), _quote_tokens(b)
    notes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ta, b=tb, autojunk=False).get_opcodes():
        if op != "equal":
            notes.append(f"{' '.join(ta[i1:i2]) or '∅'} -> {' '.join(tb[j1:j2]) or '∅'}")
    return "; ".join(notes)
