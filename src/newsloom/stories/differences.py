"""Where aligned sentences of independent outlets differ: figures (``figures.py``), quotation wording
(``quotes.py``) and word choices ("framing"), one ``Difference`` per distinct pair of values in a claim.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from newsloom.stories.align import STOPWORDS, WORD_RE, stem
from newsloom.stories.comparemodel import Claim, Difference, DiffValue, Quote, SentenceRef
from newsloom.stories.figures import Figure, compare_figures
from newsloom.stories.quotes import QuoteSpan, find_quotes, quote_changes, quote_wording_differs, same_quote

__all__ = ["MAX_FRAMING_TOKENS", "find_differences", "framing_pairs"]

# Framing spans longer than this are rewrites, not word choices.
MAX_FRAMING_TOKENS = 5

_VERBISH_SUFFIXES = ("ed", "ing")


# ----------------------------------------------------------------------------------------------- framing


def _framing_tokens(
    sentence: str, mentions: Sequence[tuple[int, int, int]], quotes: Sequence[tuple[int, int]]
) -> list[tuple[str, int, int]]:
    """(key, start, end) per token; a whole entity mention is one token keyed by its entity id."""
    out: list[tuple[str, int, int]] = []
    spans = sorted((s, e, ent) for ent, s, e in mentions)
    k = 0
    for m in WORD_RE.finditer(sentence):
        while k < len(spans) and spans[k][1] <= m.start():
            k += 1
        if k < len(spans) and spans[k][0] <= m.start() < spans[k][1]:
            if out and out[-1][0] == f"ent:{spans[k][2]}" and out[-1][1] == spans[k][0]:
                continue
            out.append((f"ent:{spans[k][2]}", spans[k][0], spans[k][1]))
            continue
        in_quote = any(qs <= m.start() < qe for qs, qe in quotes)
        key = ("q:" if in_quote else "") + stem(m.group(0))
        out.append((key, m.start(), m.end()))
    return out


def _is_content(key: str) -> bool:
    word = key.removeprefix("q:")
    return not key.startswith("q:") and word not in STOPWORDS and not word[:1].isdigit()


def _trim(tokens: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    while tokens and not _is_content(tokens[0][0]):
        tokens = tokens[1:]
    while tokens and not _is_content(tokens[-1][0]):
        tokens = tokens[:-1]
    return tokens


def _verbish(sentence: str, tokens: list[tuple[str, int, int]]) -> bool:
    words = [sentence[s:e].lower() for key, s, e in tokens if _is_content(key) and not key.startswith("ent:")]
    return bool(words) and all(w.endswith(_VERBISH_SUFFIXES) for w in words)


def framing_pairs(
    left: str, left_tokens: list[tuple[str, int, int]], right: str, right_tokens: list[tuple[str, int, int]]
) -> list[tuple[str, str]]:
    """Word choices that differ in the same slot of two aligned sentences, next to a shared entity.

    The token sequences are aligned (difflib); runs of changes separated by at most one equal token are
    one slot ("Supreme Leader of North Korea" against "North Korean dictator"). A slot is framing when both
    sides are short, hold content words that differ, are not figures, quotations or verbs, and sit right
    next to an entity both sentences name (the referent whose naming differs, or its head).
    """
    a = [t[0] for t in left_tokens]
    b = [t[0] for t in right_tokens]
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    groups: list[list[tuple[str, int, int, int, int]]] = []
    for op in ops:
        if op[0] == "equal":
            continue
        if groups:
            last = groups[-1][-1]
            if op[1] - last[2] <= 1 and op[3] - last[4] <= 1:
                groups[-1].append(op)
                continue
        groups.append([op])
    pairs: list[tuple[str, str]] = []
    for group in groups:
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        if i1 == i2 or j1 == j2:
            continue  # one side adds words: an addition, not a different choice of words
        span_a = _trim(left_tokens[i1:i2])
        span_b = _trim(right_tokens[j1:j2])
        if not span_a or not span_b or len(span_a) > MAX_FRAMING_TOKENS or len(span_b) > MAX_FRAMING_TOKENS:
            continue
        if any(k.startswith("q:") for k, _, _ in left_tokens[i1:i2] + right_tokens[j1:j2]):
            continue
        content_a = {k for k, _, _ in span_a if _is_content(k)}
        content_b = {k for k, _, _ in span_b if _is_content(k)}
        if not content_a - content_b or not content_b - content_a:
            continue
        if any(re.search(r"\d", left[s:e]) for _, s, e in span_a) or any(re.search(r"\d", right[s:e]) for _, s, e in span_b):
            continue
        if _verbish(left, span_a) or _verbish(right, span_b):
            continue
        neighbours = {a[i] for i in (i1 - 1, i2) if 0 <= i < len(a)} & {b[j] for j in (j1 - 1, j2) if 0 <= j < len(b)}
        if not any(k.startswith("ent:") for k in neighbours):
            continue
        pairs.append((left[span_a[0][1] : span_a[-1][2]], right[span_b[0][1] : span_b[-1][2]]))
    return pairs


# -------------------------------------------------------------------------------------------- differences


def find_differences(
    claims: list[Claim], sentences: list[SentenceRef], mentions: list[tuple[tuple[int, int, int], ...]],
    figures: list[list[Figure]], quotes: list[Quote], groups: list[int], claim_of_sentence: dict[int, int],
    names: Sequence[str], types: Sequence[str],
) -> list[Difference]:
    index_of = {(r.article, r.position): k for k, r in enumerate(sentences)}
    token_cache: dict[int, tuple[list[QuoteSpan], list[tuple[str, int, int]]]] = {}
    out: list[Difference] = []
    for claim in claims:
        if claim.independent_outlets < 2:
            continue
        # one sentence per independent group: the first article of the group that carries the claim
        reps: dict[int, SentenceRef] = {}
        for ref in claim.sentences:
            reps.setdefault(groups[ref.article], ref)
        chosen = list(reps.values())
        seen: set[tuple[str, str, str]] = set()
        for x in range(len(chosen)):
            for y in range(x + 1, len(chosen)):
                left, right = chosen[x], chosen[y]
                kl, kr = index_of[(left.article, left.position)], index_of[(right.article, right.position)]
                for diff in _pair_differences(claim.id, left, right, kl, kr, mentions, figures, token_cache):
                    key = (diff.kind, diff.values[0].text, diff.values[1].text)
                    if key not in seen:
                        seen.add(key)
                        out.append(diff)
    return out


def _pair_differences(
    claim_id: int, left: SentenceRef, right: SentenceRef, kl: int, kr: int,
    mentions: list[tuple[tuple[int, int, int], ...]], figures: list[list[Figure]],
    token_cache: dict[int, tuple[list[QuoteSpan], list[tuple[str, int, int]]]],
) -> list[Difference]:
    out: list[Difference] = []
    for k, ref in ((kl, left), (kr, right)):
        if k not in token_cache:
            spans = find_quotes(ref.text)
            token_cache[k] = (spans, _framing_tokens(ref.text, mentions[k], [(q.start, q.end) for q in spans]))
    left_quotes, lt = token_cache[kl]
    right_quotes, rt = token_cache[kr]
    for pair in compare_figures(figures[kl], figures[kr]):
        out.append(Difference(claim_id, pair.kind, (DiffValue(left.article, pair.left.text),
                                                    DiffValue(right.article, pair.right.text)), pair.reason))
    for lq in left_quotes:
        for rq in right_quotes:
            if same_quote(lq.text, rq.text) and quote_wording_differs(lq.text, rq.text):
                out.append(Difference(claim_id, "quote", (DiffValue(left.article, lq.text),
                                                          DiffValue(right.article, rq.text)),
                                      quote_changes(lq.text, rq.text)))
    for a, b in framing_pairs(left.text, lt, right.text, rt):
        out.append(Difference(claim_id, "framing", (DiffValue(left.article, a), DiffValue(right.article, b))))
    return out
