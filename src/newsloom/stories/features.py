"""What the story stage reads from one article and can compute without its indexes: pure, picklable.

Assigning an article to a story needs the assigner's state (the near-duplicate index, the stream vocabulary,
the open stories), which lives in one process and one thread so that story ids stay stable. But most of the
work per article does not read that state: splitting the text into sentences, tokens, names and figures
(``text_parts``), its event signature, its near-duplicate sketch (MinHash of word shingles), its opening words
and its content hash.
A poll computes these ``ArticleFeatures`` in its worker processes (``article_features``, next to parsing and
extraction) and hands them to the assigner with the stored article, which then only looks up, scores and
decides: the single storage thread, which bounds a first poll, does a fraction of the work per article.

Features are an optimisation with one rule: the same results as without them. The assigner uses them only
for the very title, text and date it assigns (``matches``); anything else (a text changed on its way into
storage, a date the storage normalised to another offset) falls back to computing them in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from newsloom.stories.dedupe import NUM_PERM, SHINGLE_SIZE, NearDuplicateIndex, Sketch, content_hash
from newsloom.stories.originality_index import Opening, opening_of
from newsloom.stories.signature import EMPTY_SIGNATURE, EventSignature, event_signature
from newsloom.stories.storymodel import EngineConfig
from newsloom.stories.text import TextParts, text_parts


@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    """One article's index-free story features, for exactly this ``title``, ``text`` and ``date``."""

    title: str | None
    text: str
    #: the date the signature was read against (None: no signature was computed, the assigner computes it)
    date: datetime | None
    parts: TextParts
    signature: EventSignature | None
    #: the near-duplicate sketch of ``text`` (``NearDuplicateIndex`` with its default parameters)
    sketch: Sketch
    #: ``opening_of(text)``: its first words, for short copies of wire briefs
    opening: Opening
    #: ``content_hash(text)``: the exact-duplicate key stored with the article
    content_hash: str

    def matches(self, title: str | None, text: str) -> bool:
        """Whether these features were computed from this title and text (what the assigner is given)."""
        return self.title == title and self.text == text

    def signature_for(self, date: datetime | None) -> EventSignature | None:
        """The signature for an article dated ``date``, if it is the date it was computed for (same instant
        and offset: the event day is read in the date's own calendar); None: compute it."""
        if self.signature is None or self.date is None or date is None:
            return None
        if date != self.date or date.utcoffset() != self.date.utcoffset():
            return None
        return self.signature


def signature_of(
    config: EngineConfig, title: str | None, text: str, date: datetime | None, parts: TextParts
) -> EventSignature:
    """The event signature of a dated article (the event day needs the publication date); none else."""
    if date is None or not config.signature_bonus or parts.word_total < config.signature_min_words:
        return EMPTY_SIGNATURE
    names = parts.name_phrases if parts.word_total >= config.signature_name_min_words else ()
    return event_signature(title, text, date, names)


# One index per process, only for its sketching parameters (seeded permutations): sketches are a pure
# function of the text, so sharing it changes no result.
_sketcher: NearDuplicateIndex | None = None


def text_sketch(text: str) -> Sketch:
    """``NearDuplicateIndex().sketch(text)``, without building an index per call."""
    global _sketcher
    if _sketcher is None:
        _sketcher = NearDuplicateIndex()
    return _sketcher.sketch(text)


def sketch_applies(index: NearDuplicateIndex) -> bool:
    """Whether sketches made by ``text_sketch`` are valid for ``index`` (it uses the default parameters)."""
    return index.num_perm == NUM_PERM and index.shingle_size == SHINGLE_SIZE


def storage_date(published: datetime | None) -> datetime | None:
    """The date as the storage gives it back (UTC), which is the one the assigner reads the signature against;
    naive dates are left alone (the storage reads them as UTC, and ``signature_for`` then refuses them)."""
    if published is None or published.tzinfo is None:
        return published
    return published.astimezone(UTC)


def article_features(config: EngineConfig, title: str | None, text: str, published: datetime | None) -> ArticleFeatures:
    """The features of one article about to be stored (``published``: its own date, if it has one).

    An undated article is dated by the time it is stored, unknown here: its signature is left to the assigner.
    """
    parts = text_parts(title, text, lead_sentences=config.lead_sentences)
    date = storage_date(published)
    signature = signature_of(config, title, text, date, parts) if date is not None and date.tzinfo is not None else None
    return ArticleFeatures(
        title=title,
        text=text,
        date=date if signature is not None else None,
        parts=parts,
        signature=signature,
        sketch=text_sketch(text),
        opening=opening_of(text),
        content_hash=content_hash(text),
    )


def features_job(
    config: EngineConfig, articles: list[tuple[str | None, str, datetime | None]]
) -> list[ArticleFeatures]:
    """``article_features`` of (title, text, published) triples: one pool round trip per feed."""
    return [article_features(config, title, text, published) for title, text, published in articles]
