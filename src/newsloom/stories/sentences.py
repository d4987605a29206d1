"""Sentence segmentation and word tokens for news text.

News text breaks naive splitters in known places: abbreviations ("Mr.", "U.S.", "Jan."), initials
("J. R. R. Tolkien", "John F. Kerry"), quotations that hold several sentences, "?" or "!" inside a quote
followed by an attribution ("“Why?” Trump asked."), datelines ("KYIV, March 3 (Reuters) -") and text
that was tokenised with spaces around punctuation (ECB+ style: "said . `` We ...").

Pure functions; no models, no I/O.
"""

from __future__ import annotations

import re

# Words that end in a period but rarely end a sentence. Kept general: titles, months, corporate suffixes,
# common Latin and measurement abbreviations. Lower-cased, without the final period.
ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "maj", "capt", "cmdr", "sgt", "adm", "rev", "hon", "pres", "supt", "insp", "det", "st", "ste", "jr", "sr", "messrs", "mme", "mlle", "sec", "amb", "atty", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "inc", "corp", "ltd", "co", "bros", "dept", "univ", "assn", "est", "no", "nos", "vol", "fig", "approx", "vs", "v", "ft", "mt", "ave", "blvd", "rd", "hwy", "e.g", "i.e", "cf", "al"]
)

# Dotted abbreviations ("U.S.", "a.m.", "Ph.D.") can end a sentence; they do when the next word is one
# that usually opens a sentence. The list is the usual sentence openers of English news.
SENTENCE_OPENERS = frozenset(
    ["the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "this", "that", "these", "those", "there", "his", "her", "its", "their", "our", "but", "and", "so", "yet", "however", "meanwhile", "also", "in", "on", "at", "after", "before", "when", "while", "if", "although", "though", "as", "for", "officials", "police", "authorities", "according", "some", "many", "most", "both", "no", "one", "two", "three"]
)

SPEECH_VERBS = frozenset(
    ["said", "says", "say", "told", "tells", "asked", "asks", "added", "adds", "wrote", "writes", "stated", "states", "declared", "declares", "replied", "replies", "insisted", "insists", "warned", "warns", "explained", "explains", "argued", "argues", "noted", "notes", "continued", "continues", "shouted", "shouts", "tweeted", "tweets", "posted", "posts", "announced", "announces", "recalled", "recalls", "acknowledged", "acknowledges", "admitted", "admits", "claimed", "claims"]
)

_OPEN_QUOTES = "“‘«\"`"
_CLOSE_QUOTES = "”’»\"'"
_CLOSERS = _CLOSE_QUOTES + ")]}"

# A dateline: an upper-case place (optionally ", Month day"), an optional "(Agency)", then a dash.
_DATELINE = re.compile(
    r"^\s*(?P<dateline>[A-Z][A-Z.'\- ]{1,40}(?:,\s*[A-Z][A-Za-z.]*(?:\s+[A-Z][A-Za-z.]*)?)?"
    r"(?:,?\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s*\d{4})?)?"
    r"\s*(?:\([A-Za-z][A-Za-z .&-]{0,30}\))?\s*[-–—]{1,2}\s+)(?=\S)"
)
_PAREN_ONLY_DATELINE = re.compile(r"^\s*(?P<dateline>\([A-Z][A-Za-z .&-]{0,30}\)\s*[-–—]{1,2}\s+)(?=\S)")

_WORD = re.compile(r"[A-Za-z0-9]+(?:[’'][A-Za-z]+)*(?:[-.][A-Za-z0-9]+)*")


def split_dateline(sentence: str) -> tuple[str | None, str]:
    """Split a leading news dateline ("KYIV, March 3 (Reuters) -") from the sentence that follows."""
    for pattern in (_DATELINE, _PAREN_ONLY_DATELINE):
        match = pattern.match(sentence)
        if match:
            head = match.group("dateline")
            # an all-caps run that is really the sentence ("NATO SAYS -") is rare; a dateline needs a
            # place of at least two letters and no lower-case words before the agency
            return head.strip().rstrip("-–— ").strip(), sentence[match.end() :]
    return None, sentence


def _paragraphs(text: str) -> list[str]:
    """Lines are hard boundaries, except a line that stops mid-sentence and continues in lower case."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if out and out[-1] and out[-1][-1] not in ".!?:;”\"’)" and line[0].islower():
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _is_abbreviation(before: str) -> bool:
    """``before`` is the text up to (not including) a period. True if its last word is an abbreviation."""
    match = re.search(r"([A-Za-z][A-Za-z.]*)$", before)
    if not match:
        return False
    word = match.group(1)
    if len(word) == 1 and word.isupper():
        return True  # an initial: "J." in "J. R. R. Tolkien", "F." in "John F. Kennedy"
    return word.lower().rstrip(".") in ABBREVIATIONS


def _is_dotted_acronym(before: str) -> bool:
    return re.search(r"(?:^|[\s(])(?:[A-Za-z]\.){1,}[A-Za-z]$", before) is not None


def _next_word(text: str, start: int) -> str:
    match = re.match(r"\s*[" + re.escape(_OPEN_QUOTES) + r"(\[]*\s*([A-Za-z0-9]+)", text[start:])
    return match.group(1) if match else ""


def _attribution_follows(text: str, start: int) -> bool:
    """True for `“Why?” Trump asked` or `“No!” said Mr. Smith`: a speech verb within the next few words."""
    words = re.findall(r"[A-Za-z]+", text[start : start + 60])[:4]
    return any(word.lower() in SPEECH_VERBS for word in words[:4])


def _split_paragraph(par: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    quote_depth = 0
    i = 0
    n = len(par)
    while i < n:
        ch = par[i]
        if ch in "“«" or (ch == "`" and par.startswith("``", i)):
            quote_depth += 1
        elif ch in "”»" or (ch == "'" and par.startswith("''", i)):
            quote_depth = max(0, quote_depth - 1)
        elif ch == '"':
            # straight quotes: opening when preceded by start/space/bracket, closing otherwise
            quote_depth = quote_depth + 1 if (i == 0 or par[i - 1] in " ([—–-") else max(0, quote_depth - 1)
        if ch in ".!?" or (ch == "…"):
            end = i + 1
            while end < n and par[end] in ".!?…":
                end += 1
            closers_start = end
            while end < n and (par[end] in _CLOSERS or (par[end] == " " and par[end + 1 : end + 3] == "''")):
                if par.startswith("''", end):
                    end += 2
                    quote_depth = max(0, quote_depth - 1)
                    continue
                if par[end] == " ":
                    end += 1
                    continue
                if par[end] in "”»\"":
                    quote_depth = max(0, quote_depth - 1)
                end += 1
            if end < n and not par[end].isspace():
                i = end
                continue
            candidate = par[start:end].strip()
            nxt = _next_word(par, end)
            boundary = bool(nxt) and (nxt[0].isupper() or nxt[0].isdigit() or par[end:].lstrip()[:1] in _OPEN_QUOTES)
            if boundary and ch == ".":
                before = par[start:i]
                if _is_dotted_acronym(before + ".") or _is_dotted_acronym(before):
                    boundary = nxt.lower() in SENTENCE_OPENERS
                elif _is_abbreviation(before):
                    boundary = False
            if boundary and ch in "!?" and closers_start < end and _attribution_follows(par, end):
                boundary = False
            if boundary and quote_depth > 0 and closers_start == end:
                # inside an open quotation: keep the quoted sentences together, unless the quote never
                # closes in this paragraph (then it was a stray or multi-paragraph quote)
                if _closes_later(par, end):
                    boundary = False
                else:
                    quote_depth = 0
            if boundary and candidate:
                sentences.append(candidate)
                start = end
            i = end
            continue
        i += 1
    tail = par[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _closes_later(par: str, start: int) -> bool:
    rest = par[start:]
    return any(q in rest for q in "”»") or "''" in rest or rest.count('"') % 2 == 1


def split_sentences(text: str) -> list[str]:
    """Split news text into sentences, in order. Blank and whitespace-only input gives ``[]``."""
    out: list[str] = []
    for par in _paragraphs(text):
        out.extend(s for s in _split_paragraph(par) if s.strip())
    return out


def words(text: str) -> list[str]:
    """Word tokens with their case ("U.S.", "Chung-cheon", "Russia’s", "10,000" splits at the comma)."""
    return _WORD.findall(text)
