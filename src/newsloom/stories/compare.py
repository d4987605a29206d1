"""Compare the articles of one story claim by claim: what outlets agree on, what each adds, where they differ.

``compare_articles`` is pure: sentences are split (``sentences.py``), names found and merged
(``entities.py``), sentences of different articles aligned by TF-IDF cosine over word stems, entities and
figures, aligned sentences grouped into claims, and inside each claim the figures (``figures.py``),
quotations (``quotes.py``) and word choices ("framing") of the outlets compared.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from newsloom.stories.comparemodel import (
    ArticleInfo,
    Claim,
    CompareInput,
    Comparison,
    Difference,
    DiffValue,
    Quote,
    SentenceRef,
    TimelineEntry,
)
from newsloom.stories.entities import EntityIndex, index_entities
from newsloom.stories.figures import Figure, compare_figures, extract_figures, figure_keys
from newsloom.stories.quotes import (
    PersonMention,
    QuoteSpan,
    attribute_speaker,
    find_quotes,
    quote_changes,
    quote_wording_differs,
    same_quote,
    sentence_subject,
)
from newsloom.stories.sentences import split_dateline, split_sentences

__all__ = [
    "CompareInput",
    "Comparison",
    "compare_articles",
    "comparison_to_dict",
    "render_comparison_text",
    "sentence_similarity_matrix",
]

# Two sentences of different articles report one fact when the cosine of their TF-IDF vectors reaches this.
# Chosen from the null distribution: on ECB+ dev, sentence pairs drawn from two articles about *different*
# events of the same kind (the hardest negatives we have) reach 0.30 in 0.13% of pairs (p99.9 = 0.32), while
# the paraphrased seed pairs score 0.43 to 0.88 and the closest seed non-pair 0.28
# (bench/compare.py null prints the percentiles; docs/benchmarks-compare.md has the figures).
ALIGN_MIN_SIMILARITY = 0.30
# ...and share at least this many content features (stems, entities, figures): one shared name is never a fact.
ALIGN_MIN_SHARED_FEATURES = 3
# An entity counts like this many words: names carry the "who" of a fact and survive paraphrase.
ENTITY_WEIGHT = 1.5
FIGURE_WEIGHT = 1.0
# Framing spans longer than this are rewrites, not word choices.
MAX_FRAMING_TOKENS = 5

STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "then", "than", "that", "this", "these", "those", "there", "their", "they", "them", "it", "its", "he", "she", "his", "her", "him", "we", "our", "us", "you", "your", "i", "me", "my", "of", "in", "on", "at", "to", "for", "from", "by", "with", "without", "about", "into", "onto", "over", "under", "after", "before", "between", "during", "since", "until", "as", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "not", "no", "nor", "so", "such", "also", "just", "only", "very", "more", "most", "much", "many", "some", "any", "each", "other", "both", "either", "neither", "all", "own", "same", "too", "s", "t", "said", "says", "say", "told", "according", "who", "whom", "whose", "which", "what", "when", "where", "why", "how", "while", "although", "though", "because", "however", "meanwhile", "again", "further", "once", "here", "up", "down", "out", "off", "am", "being", "having", "doing"]
)
_CHROME_PREFIXES = ("also read", "read more", "read also", "related:", "click here", "sign up", "subscribe",
                    "follow us", "watch:", "advertisement", "share this")
_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:[’'][A-Za-z]+)?(?:[-.][A-Za-z0-9]+)*")
_VERBISH_SUFFIXES = ("ed", "ing")
# sort key of undated articles in the timeline (they sort last by the flag before it; any aware value does)
_UNDATED = datetime.min.replace(tzinfo=UTC)


# A pure function called ~40 times per sentence: memoised (results never depend on what was seen before).
@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match "pledging"/"pledges", "assistance"/"assist"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ations", "ation", "ments", "ment", "ances", "ance", "ences", "ence", "ings", "ing", "ions",
                   "ion", "ies", "ied", "ers", "er", "ed", "es", "ly", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)]
            break
    return w[:7]


# ---------------------------------------------------------------------------------------------- sentences


def _is_heading_or_chrome(sentence: str, headings: set[str]) -> bool:
    norm = sentence.strip().lower()
    if norm in headings:
        return True
    if norm.startswith(_CHROME_PREFIXES):
        return True
    # a line with no final punctuation and few words is a heading, a dateline or a headline, not a claim
    return sentence.rstrip()[-1:] not in ".!?\"”’')…" and len(sentence.split()) <= 12


def _dedupe_caption(caption: str) -> str:
    """Aggregators repeat a caption in parentheses ("X. (X.)"): keep one copy."""
    text = caption.strip()
    match = re.fullmatch(r"(?P<a>.+?)\s*\((?P<b>.+)\)", text, flags=re.S)
    if match and match.group("a").strip().rstrip(".") == match.group("b").strip().rstrip("."):
        return match.group("a").strip()
    return text


def _article_sentences(item: CompareInput) -> list[SentenceRef]:
    headings = {h.strip().lower() for h in item.headings}
    out: list[SentenceRef] = []
    for sentence in split_sentences(item.text):
        if not _is_heading_or_chrome(sentence, headings):
            out.append(SentenceRef(-1, len(out), sentence, False))
    for caption in item.captions:
        for sentence in split_sentences(_dedupe_caption(caption)):
            out.append(SentenceRef(-1, len(out), sentence, True))
    return out


# --------------------------------------------------------------------------------------------- similarity


def _features(sentence: str, mentions: Sequence[tuple[int, int, int]], figures: Sequence[Figure]) -> Counter[str]:
    """Weighted features: content-word stems outside names, entity ids, figure values."""
    _, body = split_dateline(sentence)
    offset = len(sentence) - len(body)
    feats: Counter[str] = Counter()
    covered = [(s, e) for _, s, e in mentions] + [(f.start, f.end) for f in figures]
    for m in _WORD_RE.finditer(body):
        start = m.start() + offset
        if any(s <= start < e for s, e in covered):
            continue
        word = m.group(0).lower()
        if word in STOPWORDS or len(word) < 2 or word.isdigit():
            continue
        feats[stem(word)] += 1
    for entity, s, _ in mentions:
        if s >= offset:
            feats[f"ent:{entity}"] += 1
    for figure in figures:
        if figure.start >= offset:
            for key in figure_keys(figure):
                feats[f"fig:{key}"] += 1
    return feats


def _weight(feature: str) -> float:
    if feature.startswith("ent:"):
        return ENTITY_WEIGHT
    if feature.startswith("fig:"):
        return FIGURE_WEIGHT
    return 1.0


def sentence_similarity_matrix(features: Sequence[Counter[str]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Cosine similarity of TF-IDF vectors (sublinear tf, smoothed idf over the given sentences)."""
    vocab: dict[str, int] = {}
    df: Counter[str] = Counter()
    for feats in features:
        df.update(feats.keys())
        for f in feats:
            vocab.setdefault(f, len(vocab))
    n = len(features)
    matrix = np.zeros((n, max(1, len(vocab))), dtype=np.float64)
    for row, feats in enumerate(features):
        for f, count in feats.items():
            idf = math.log((1 + n) / (1 + df[f])) + 1.0
            matrix[row, vocab[f]] = (1.0 + math.log(count)) * idf * _weight(f)
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    matrix /= norms[:, None]
    result: np.ndarray[Any, np.dtype[np.float64]] = matrix @ matrix.T
    return result


# ----------------------------------------------------------------------------------------------- helpers


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _independence_groups(inputs: Sequence[CompareInput]) -> list[int]:
    """Articles that are not independent (copies of one original, or one publisher) share a group."""
    union = _Union(len(inputs))
    by_publisher: dict[str, int] = {}
    for i, item in enumerate(inputs):
        original = _original_of(i, item.original_index, len(inputs))
        if original is not None:
            union.union(i, original)
        if item.publisher:
            key = item.publisher.strip().lower()
            if key in by_publisher:
                union.union(i, by_publisher[key])
            else:
                by_publisher[key] = i
    return [union.find(i) for i in range(len(inputs))]


# ----------------------------------------------------------------------------------------------- framing


def _framing_tokens(
    sentence: str, mentions: Sequence[tuple[int, int, int]], quotes: Sequence[tuple[int, int]]
) -> list[tuple[str, int, int]]:
    """(key, start, end) per token; a whole entity mention is one token keyed by its entity id."""
    out: list[tuple[str, int, int]] = []
    spans = sorted((s, e, ent) for ent, s, e in mentions)
    k = 0
    for m in _WORD_RE.finditer(sentence):
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


# -------------------------------------------------------------------------------------------- comparison


def _align(
    sentences: list[SentenceRef], sim: np.ndarray[Any, np.dtype[np.float64]], features: list[Counter[str]],
    n_articles: int,
) -> list[tuple[int, int, float]]:
    """One-to-one alignment per pair of articles: greedy on similarity, above the threshold."""
    by_article: dict[int, list[int]] = defaultdict(list)
    for k, ref in enumerate(sentences):
        by_article[ref.article].append(k)
    links: list[tuple[int, int, float]] = []
    for a in range(n_articles):
        for b in range(a + 1, n_articles):
            rows, cols = by_article.get(a, []), by_article.get(b, [])
            if not rows or not cols:
                continue
            block = sim[np.ix_(rows, cols)]
            candidates = np.argwhere(block >= ALIGN_MIN_SIMILARITY)
            scored = sorted(((float(block[r, c]), int(r), int(c)) for r, c in candidates), reverse=True)
            used_r: set[int] = set()
            used_c: set[int] = set()
            for score, r, c in scored:
                if r in used_r or c in used_c:
                    continue
                shared = features[rows[r]].keys() & features[cols[c]].keys()
                if len(shared) < ALIGN_MIN_SHARED_FEATURES:
                    continue
                used_r.add(r)
                used_c.add(c)
                links.append((rows[r], cols[c], score))
    return links


def compare_articles(inputs: Sequence[CompareInput]) -> Comparison:
    """Compare the articles of one story. Articles keep their input order as their index."""
    sentences: list[SentenceRef] = []
    per_article: list[list[SentenceRef]] = []
    for index, item in enumerate(inputs):
        refs = [SentenceRef(index, r.position, r.text, r.caption) for r in _article_sentences(item)]
        per_article.append(refs)
        sentences.extend(refs)
    texts = [[r.text for r in refs] for refs in per_article]
    entity_index = index_entities(texts)
    flat_mentions = [m for art in entity_index.sentence_entities for m in art]
    figures = [extract_figures(split_dateline(r.text)[1]) for r in sentences]
    figures = [
        [_shift(f, len(r.text) - len(split_dateline(r.text)[1])) for f in figs] for r, figs in zip(sentences, figures, strict=True)
    ]
    features = [_features(r.text, m, f) for r, m, f in zip(sentences, flat_mentions, figures, strict=True)]
    sim = sentence_similarity_matrix(features) if sentences else np.zeros((0, 0))
    links = _align(sentences, sim, features, len(inputs))

    groups = _independence_groups(inputs)
    union = _Union(len(sentences))
    for x, y, _ in links:
        union.union(x, y)
    members: dict[int, list[int]] = defaultdict(list)
    for k in range(len(sentences)):
        members[union.find(k)].append(k)
    # claims in reading order: by the earliest article and position that carries them
    ordered = sorted(members.values(), key=lambda ks: (sentences[ks[0]].article, sentences[ks[0]].position))
    claims: list[Claim] = []
    claim_of_sentence: dict[int, int] = {}
    for claim_id, ks in enumerate(ordered):
        carried = tuple(sentences[k] for k in sorted(ks, key=lambda k: (sentences[k].article, sentences[k].position)))
        outlets = tuple(sorted({r.article for r in carried}))
        independent = len({groups[a] for a in outlets})
        claims.append(
            Claim(claim_id, outlets, carried, independent >= 2, all(r.caption for r in carried), independent)
        )
        for k in ks:
            claim_of_sentence[k] = claim_id

    entity_names = [e.name for e in entity_index.entities]
    entity_types = [e.type for e in entity_index.entities]
    quotes = _quotes(sentences, flat_mentions, entity_names, entity_types, claim_of_sentence)
    differences = _differences(
        claims, sentences, flat_mentions, figures, quotes, groups, claim_of_sentence, entity_names, entity_types
    )
    articles = tuple(
        ArticleInfo(i, item.publisher, item.title, item.url, item.path, item.published,
                    _original_of(i, item.original_index, len(inputs)), len(per_article[i]))
        for i, item in enumerate(inputs)
    )
    timeline = _timeline(inputs, claims, entity_index, figures, sentences)
    return Comparison(articles, tuple(claims), tuple(differences), entity_index.entities, tuple(quotes), timeline)


def _original_of(index: int, original_index: int | None, count: int) -> int | None:
    """``original_index`` when it names another input; None (not a copy) when out of range or the article itself."""
    if original_index is None or not 0 <= original_index < count or original_index == index:
        return None
    return original_index


def _shift(figure: Figure, offset: int) -> Figure:
    if not offset:
        return figure
    from dataclasses import replace

    return replace(figure, start=figure.start + offset, end=figure.end + offset)


def _persons(
    mentions: Sequence[tuple[int, int, int]], names: Sequence[str], types: Sequence[str]
) -> list[PersonMention]:
    return [PersonMention(names[e], s, t) for e, s, t in sorted(mentions, key=lambda m: m[1]) if types[e] in ("person", "other")]


def _quotes(
    sentences: list[SentenceRef], mentions: list[tuple[tuple[int, int, int], ...]], names: Sequence[str],
    types: Sequence[str], claim_of_sentence: dict[int, int],
) -> list[Quote]:
    out: list[Quote] = []
    previous_subject: str | None = None
    previous_article = -1
    for k, ref in enumerate(sentences):
        if ref.article != previous_article:
            previous_subject, previous_article = None, ref.article
        persons = _persons(mentions[k], names, types)
        for span in find_quotes(ref.text):
            speaker = attribute_speaker(ref.text, span, persons, previous_subject)
            out.append(Quote(speaker, span.text, ref.article, claim_of_sentence.get(k)))
        if not ref.caption:
            previous_subject = sentence_subject(ref.text, persons, previous_subject)
    return out


def _differences(
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


def _timeline(
    inputs: Sequence[CompareInput], claims: list[Claim], entity_index: EntityIndex, figures: list[list[Figure]],
    sentences: list[SentenceRef],
) -> tuple[TimelineEntry, ...]:
    """Articles by publication time (undated ones last, in input order), each with what it added."""
    def when(i: int) -> tuple[bool, datetime, int]:
        # aware datetimes compare without timestamp() arithmetic, which fails at the calendar's edges
        # (datetime(1, 1, 1) local is year 0 in UTC); naive ones are taken as UTC
        published = inputs[i].published or _UNDATED
        return (inputs[i].published is None, published if published.tzinfo else published.replace(tzinfo=UTC), i)

    order = sorted(range(len(inputs)), key=when)
    seen_claims: set[int] = set()
    seen_entities: set[str] = set()
    seen_figures: set[str] = set()
    entries: list[TimelineEntry] = []
    figures_by_article: dict[int, list[Figure]] = defaultdict(list)
    for ref, figs in zip(sentences, figures, strict=True):
        figures_by_article[ref.article].extend(figs)
    for i in order:
        new_claims = tuple(c.id for c in claims if i in c.outlets and c.id not in seen_claims)
        seen_claims.update(new_claims)
        names = tuple(e.name for e in entity_index.entities if i in e.articles and e.name not in seen_entities)
        seen_entities.update(names)
        new_figures = tuple(dict.fromkeys(f.text for f in figures_by_article[i] if f.text not in seen_figures))
        seen_figures.update(new_figures)
        entries.append(TimelineEntry(i, inputs[i].published, new_claims, names, new_figures))
    return tuple(entries)


# ------------------------------------------------------------------------------------------------ output


def comparison_to_dict(c: Comparison) -> dict[str, Any]:
    """JSON-ready dict: articles, claims, differences, entities, quotes, timeline."""
    return {
        "articles": [
            {"index": a.index, "path": a.path, "url": a.url, "publisher": a.publisher, "title": a.title,
             "published": a.published.isoformat() if a.published else None, "original_index": a.original_index,
             "sentences": a.sentence_count}
            for a in c.articles
        ],
        "claims": [
            {"id": cl.id, "outlets": list(cl.outlets), "consensus": cl.consensus, "caption": cl.caption,
             "independent_outlets": cl.independent_outlets,
             "sentences": [{"article": s.article, "text": s.text, "caption": s.caption} for s in cl.sentences]}
            for cl in c.claims
        ],
        "differences": [
            {"claim": d.claim, "kind": d.kind, "note": d.note,
             "values": [{"article": v.article, "text": v.text} for v in d.values]}
            for d in c.differences
        ],
        "entities": [
            {"name": e.name, "aliases": list(e.aliases), "type": e.type, "articles": list(e.articles),
             "only_in": _only_in(c, e.articles)}
            for e in c.entities
        ],
        "quotes": [{"speaker": q.speaker, "text": q.text, "article": q.article, "claim": q.claim} for q in c.quotes],
        "timeline": [
            {"article": t.article, "published": t.published.isoformat() if t.published else None,
             "new_claims": list(t.new_claims), "new_entities": list(t.new_entities), "new_figures": list(t.new_figures)}
            for t in c.timeline
        ],
    }


def _only_in(c: Comparison, articles: Sequence[int]) -> int | None:
    """The article index when only one independent outlet names something, else None."""
    roots = {_root(c, a) for a in articles}
    return articles[0] if len(roots) == 1 and len(c.articles) > 1 else None


def _root(c: Comparison, article: int) -> int:
    """The original an article was copied from (following copies of copies); cycles and bad indices stop."""
    seen = set()
    while article not in seen:
        seen.add(article)
        original = c.articles[article].original_index
        if original is None or not 0 <= original < len(c.articles):
            break
        article = original
    return article


def _label(c: Comparison, index: int) -> str:
    a = c.articles[index]
    return f"[{index}] {a.publisher or a.path or a.url or 'article'}"


def render_comparison_text(c: Comparison) -> str:
    """A plain-text report for a terminal: who agrees, what only one outlet says, where words differ."""
    lines: list[str] = [f"Comparing {len(c.articles)} articles"]
    for a in c.articles:
        when = a.published.isoformat() if a.published else "date unknown"
        copy = f", copy of [{a.original_index}]" if a.original_index is not None else ""
        lines.append(f"  {_label(c, a.index)}: {a.title or '(no title)'} ({when}{copy})")
    consensus = [cl for cl in c.claims if cl.consensus]
    lines += ["", f"AGREE: {len(consensus)} claims carried by two or more independent outlets"]
    for cl in consensus:
        tag = " [caption]" if cl.caption else ""
        lines.append(f"  #{cl.id} ({', '.join(str(o) for o in cl.outlets)}){tag} {cl.sentences[0].text}")
    for a in c.articles:
        only = [cl for cl in c.claims if not cl.consensus and cl.outlets[0] == a.index]
        if only:
            lines += ["", f"ONLY IN {_label(c, a.index)}: {len(only)} claims"]
            for cl in only:
                tag = " [caption]" if cl.caption else ""
                lines.append(f"  #{cl.id}{tag} {cl.sentences[0].text}")
    if c.differences:
        lines += ["", f"DIFFERS: {len(c.differences)}"]
        for d in c.differences:
            values = " | ".join(f"[{v.article}] {v.text!r}" for v in d.values)
            note = f" ({d.note})" if d.note else ""
            lines.append(f"  #{d.claim} {d.kind}{note}: {values}")
    if c.entities:
        lines += ["", "ENTITIES"]
        for e in c.entities:
            aka = f" (also {', '.join(e.aliases)})" if e.aliases else ""
            only_in = _only_in(c, e.articles)
            where = f"only {_label(c, only_in)}" if only_in is not None else f"in {', '.join(map(str, e.articles))}"
            lines.append(f"  {e.name}{aka} [{e.type}] {where}")
    if c.quotes:
        lines += ["", "QUOTES"]
        for q in c.quotes:
            lines.append(f"  [{q.article}] {q.speaker or 'unattributed'}: “{q.text}”")
    lines += ["", "TIMELINE"]
    for t in c.timeline:
        when = t.published.isoformat() if t.published else "date unknown"
        lines.append(f"  {when} {_label(c, t.article)}: +{len(t.new_claims)} claims, "
                     f"+{len(t.new_entities)} names{': ' + ', '.join(t.new_entities[:6]) if t.new_entities else ''}")
    return "\n".join(lines) + "\n"
