"""Compare the articles of one story claim by claim: what outlets agree on, what each adds, where they differ.

``compare_articles`` is pure: sentences are split (``sentences.py``), names found and merged
(``entities.py``), sentences of different articles aligned by TF-IDF cosine over word stems, entities and
figures (``align.py``), aligned sentences grouped into claims, and inside each claim the figures, quotations
and word choices ("framing") of the outlets compared (``differences.py``). Quotes are attributed and the
timeline built here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from newsloom.stories.align import align_sentences, sentence_features, sentence_similarity_matrix
from newsloom.stories.comparemodel import (
    ArticleInfo,
    Claim,
    CompareInput,
    Comparison,
    Quote,
    SentenceRef,
    TimelineEntry,
)
from newsloom.stories.differences import find_differences
from newsloom.stories.entities import EntityIndex, index_entities
from newsloom.stories.figures import Figure, extract_figures
from newsloom.stories.quotes import PersonMention, attribute_speaker, find_quotes, sentence_subject
from newsloom.stories.sentences import split_dateline, split_sentences

# sentence_similarity_matrix lives in align.py; it stays importable from here, where callers first found it.
__all__ = [
    "CompareInput",
    "Comparison",
    "compare_articles",
    "comparison_to_dict",
    "render_comparison_text",
    "sentence_similarity_matrix",
]

_CHROME_PREFIXES = ("also read", "read more", "read also", "related:", "click here", "sign up", "subscribe",
                    "follow us", "watch:", "advertisement", "share this")
# sort key of undated articles in the timeline (they sort last by the flag before it; any aware value does)
_UNDATED = datetime.min.replace(tzinfo=UTC)


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


# -------------------------------------------------------------------------------------------- comparison


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
    features = [sentence_features(r.text, m, f) for r, m, f in zip(sentences, flat_mentions, figures, strict=True)]
    sim = sentence_similarity_matrix(features) if sentences else np.zeros((0, 0))
    links = align_sentences(sentences, sim, features, len(inputs))

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
    differences = find_differences(
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
