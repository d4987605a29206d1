"""Online same-event clustering: each article joins a story (or starts one) the moment it arrives.

How one article is placed (``StoryEngine.add``):

1. Its time is its date, or the stream's clock (latest date seen) when it has none; stories whose last
   article is older than ``window_days`` before that clock leave the candidate window. Every article also
   takes the next arrival number: for an undated article, arrival order is the only clock there is.
2. A syndicated copy (``original_id`` of an article in an open story) joins its original's story.
3. Otherwise its TF-IDF vector (stems, names, figures; title and lead weighted up; idf from the stream)
   is built, its heaviest terms are looked up in an inverted index of open stories, and the best few
   candidates by index overlap (plus, for an undated article, the stories of the latest arrivals) are
   scored: centroid cosine and best-member cosine, minus
   * a penalty for a date far from the story's dated span (dated article), or for the number of arrivals
     since the story last grew (undated article: reports of one event arrive close together);
   * a penalty when a long article's main names and the story's main names exclude each other (two
     events of one kind: the same champion, another opponent);
   * a penalty when an undated article opens with a dateline and none of the story's articles did;
   plus a bonus when the name the article mentions most is the story's heaviest name.
4. It joins the best story whose score reaches the join bar (lower for a short text, whose same-event
   cosines run lower), else starts a story whose id is ``new_story_id(doc)`` (default: the article id).
   A short undated text a little under the bar still joins a story that grew in the last arrivals when
   the static embeddings of their leads agree (differently worded headlines of one event).
5. If the article also reaches a second story at ``merge_threshold`` and the two centroids agree at
   ``merge_centroid_threshold``, the two are one event: the younger story is folded into the older,
   whose id survives, and ``resolve`` redirects the younger id.

Work per article is bounded by the config (query terms, posting scan limit, candidates, member vectors),
and the window is bounded by age, so the cost per article does not grow with the archive.
Deterministic: every collection iterated is a dict or list in insertion order, ties break on creation order.
"""

from __future__ import annotations

import heapq
import marshal
import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import islice

import numpy as np

from newsloom.errors import InputError, NotFoundError
from newsloom.stories.embed import FloatMatrix, StaticEmbedder, default_embedder
from newsloom.stories.entitylist import main_entities
from newsloom.stories.storymodel import Assignment, ClusterDoc, EngineConfig
from newsloom.stories.summary import MemberText, headline, member_text, summary
from newsloom.stories.text import TextParts, text_parts, tokens
from newsloom.stories.vectorize import (
    EMPTY_ARRAYS,
    NAME_PREFIX,
    StreamVocabulary,
    TermArrays,
    TermTable,
    Vector,
    add_into,
    dot,
    heaviest,
    heaviest_positions,
    norm_of,
    term_counts,
    weigh_arrays,
)
from newsloom.types import Story

__all__ = ["Assignment", "ClusterDoc", "EngineConfig", "StoryEngine", "cluster_records"]

_DAY_S = 86_400.0
#: a closed story keeps the texts of this many most central members, for its summary and headline
_CLOSED_MEMBER_TEXTS = 4
#: a closed story keeps this many centroid terms, enough to rank its summary sentences
_CLOSED_CENTROID_TERMS = 64
#: the entity tally of a story is pruned to its heaviest entries past this size
_ENTITY_TALLY_LIMIT = 256


@dataclass(slots=True)
class _Member:
    doc_id: str
    vector: Vector
    text: MemberText
    #: static embedding of the title and lead, computed the first time a gray-zone join asks for it
    embedding: FloatMatrix | None = None
    #: the vector's term ids and weights (taken from the article's arrays when it joins)
    ids: np.ndarray | None = None
    weights: np.ndarray | None = None


@dataclass(slots=True)
class _StoryState:
    id: str
    seq: int
    first_time: float | None = None
    last_time: float | None = None
    #: span of the members' own dates (not stream-clock times): the time-distance signal uses these
    first_date: float | None = None
    last_date: float | None = None
    #: arrival number of the story's latest article: the clock of undated articles
    last_arrival: int = 0
    centroid: Vector = field(default_factory=dict)
    centroid_norm: float = 0.0
    #: ``centroid`` as term arrays, for numpy cosines; None when it must be rebuilt from ``centroid``
    centroid_arrays: TermArrays | None = EMPTY_ARRAYS
    head: list[_Member] = field(default_factory=list)
    tail: list[_Member] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    article_count: int = 0
    original_count: int = 0
    syndicated_count: int = 0
    outlets: dict[str, None] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)
    index_terms: tuple[str, ...] = ()
    #: the postings of ``index_terms`` (the story is in each): reposting needs no look-up for these
    index_postings: tuple[dict[str, None], ...] = ()
    #: the centroid's heaviest names ("@" terms), for the name-conflict evidence
    top_names: tuple[str, ...] = ()
    #: some member's text opened with a dateline (``TextParts.dateline``)
    datelined: bool = False
    open: bool = True
    #: the members' ids and weights as matrix rows (zero-padded) for ``TermTable.best_row_dot``; None when stale
    member_rows: tuple[np.ndarray, np.ndarray] | None = None
    #: a closed story's member texts, centroid, entity tally and outlets, packed (``_pack``); those fields are
    #: empty meanwhile. None while open, and once unpacked again.
    packed: bytes | None = None

    def members(self) -> list[_Member]:
        return self.head + self.tail


#: what a closed story keeps for presentation: its member texts (title, sentences), unit centroid, entity
#: tally and outlets
_Presentation = tuple[list[MemberText], Vector, dict[str, int], dict[str, None]]


def _pack(story: _StoryState) -> bytes:
    """A closed story's member texts, centroid, entity tally and outlets as one byte string (marshal).

    Why: the archive of closed stories grows with the stream. As Python objects (a str and a tuple per
    member sentence, the members' trimmed vectors, the centroid, entity tally and outlet dicts, with a
    float or str object per entry) a closed story took ~20 KB (measured at 40k synthetic articles): ~2.5 GB
    by 1M articles, where every stage slowed together. Packed, it is one bytes object of ~5 KB. marshal
    keeps dict order and float bits, so ``_unpack`` gives equal objects back and ``story`` says the same.
    (zlib would halve the bytes for ~130 us per story, ~15 us per article: not worth it.)
    The headline and summary cannot simply be computed once at close: ``story`` ranks sentences by the
    stream's idf when asked, so they change after the story closes (7% of closed stories by 30k articles).
    """
    texts = [(member.text.title, member.text.sentences) for member in story.members()]
    return marshal.dumps((texts, story.centroid, story.entities, story.outlets))


def _unpack(packed: bytes) -> _Presentation:
    texts, centroid, entities, outlets = marshal.loads(packed)
    return [MemberText(title, sentences) for title, sentences in texts], centroid, entities, outlets


def _timestamp(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _datetime(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def _words(parts: TextParts) -> int:
    return parts.word_total


@cache
def _shared_embedder() -> StaticEmbedder | None:
    """The shipped embedder, loaded once per process (it is immutable apart from a memo that never changes a
    result); None when the artefact is not installed, and then no gray-zone join is made."""
    return default_embedder()


def _lead_embedding(embedder: StaticEmbedder, title: str | None, sentences: Iterable[str]) -> FloatMatrix:
    text = "\n".join(((title,) if title else ()) + tuple(sentences))
    row: FloatMatrix = embedder.encode([text])[0]
    return row


def _default_story_id(doc: ClusterDoc) -> str:
    return doc.id


class StoryEngine:
    """Online story clustering over a stream of articles in time order. Pure: no I/O, no clock."""

    def __init__(
        self,
        config: EngineConfig = EngineConfig(),
        *,
        new_story_id: Callable[[ClusterDoc], str] | None = None,
    ) -> None:
        self.config = config
        self._new_story_id = new_story_id or _default_story_id
        self._vocabulary = StreamVocabulary(config.idf_prior_documents)
        self._terms = TermTable(self._vocabulary)
        self._stories: dict[str, _StoryState] = {}
        self._redirects: dict[str, str] = {}
        self._postings: dict[str, dict[str, None]] = {}
        self._doc_story: dict[str, str] = {}
        self._expiry: list[tuple[float, int, str]] = []
        self._now: float | None = None
        self._seq = 0
        self._arrivals = 0
        #: ids of the stories that took the latest arrivals, newest last
        self._recent: deque[str] = deque(maxlen=config.recent_candidates)
        self._embedder = _shared_embedder() if config.recent_join_margin > 0.0 else None

    # --- public API -------------------------------------------------------------------------------------

    def add(self, doc: ClusterDoc) -> Assignment:
        """Place one article (in time order) and say where it went."""
        time = self._advance(doc.date)
        self._arrivals += 1
        original = self._doc_story.get(doc.original_id) if doc.original_id else None
        if original is not None:
            story = self._stories[self.resolve(original)]
            self._join_syndicated(story, doc, time)
            return Assignment(story_id=story.id, created=False)

        vector, parts = self._vectorize(doc)
        # each name's mentions, lower-cased as its "@name" term: both name signals read it
        tally = Counter(NAME_PREFIX + name.lower() for name in parts.names)
        scored = self._score_candidates(
            vector,
            self._signal_date(doc, parts),
            undated=doc.date is None,
            names=self._main_names(vector, parts, tally),
            lead_name=self._lead_name(tally),
            datelined=parts.dateline is not None,
        )
        if scored and self._reaches_bar(
            scored[0][0], scored[0][1], parts, undated=doc.date is None, datelined=parts.dateline is not None
        ):
            story = scored[0][1]
            self._join(story, doc, vector, parts, time)
            merged = self._merge_linked(story, scored[1:])
            survivor = self._stories[self.resolve(story.id)]
            return Assignment(story_id=survivor.id, created=False, merged=merged)
        story = self._create(doc)
        self._join(story, doc, vector, parts, time)
        return Assignment(story_id=story.id, created=True)

    def restore(self, doc: ClusterDoc, story_id: str) -> None:
        """Replay a stored assignment without deciding (rebuilds the index after a restart)."""
        time = self._advance(doc.date)
        self._arrivals += 1
        target = self.resolve(story_id)
        story = self._stories.get(target)
        if story is None:
            story = self._create(doc, story_id=target)
        if doc.original_id and doc.original_id in self._doc_story:
            self._join_syndicated(story, doc, time)
            return
        vector, parts = self._vectorize(doc)
        self._join(story, doc, vector, parts, time)

    def resolve(self, story_id: str) -> str:
        """The id a story goes by now (itself unless it was merged into another)."""
        path: list[str] = []
        current = story_id
        while current in self._redirects:
            path.append(current)
            current = self._redirects[current]
        for old in path[:-1]:
            self._redirects[old] = current
        return current

    def story(self, story_id: str) -> Story:
        """The story's headline, summary, span, counts and main entities."""
        state = self._stories.get(self.resolve(story_id))
        if state is None:
            raise NotFoundError(f"no story {story_id!r}")
        if state.packed is not None:
            texts, centroid, entities, outlets = _unpack(state.packed)
        else:
            texts = [member.text for member in state.members()]
            centroid, entities, outlets = state.centroid, state.entities, state.outlets
        if state.centroid_norm:
            centroid = {term: weight / state.centroid_norm for term, weight in centroid.items()}
        return Story(
            id=state.id,
            headline=headline(texts, centroid, self._sentence_vector),
            summary=summary(texts, centroid, self._sentence_vector, self.config.summary_sentences),
            first_seen=_datetime(state.first_time),
            last_seen=_datetime(state.last_time),
            article_count=state.article_count,
            outlet_count=len(outlets),
            original_count=state.original_count,
            syndicated_count=state.syndicated_count,
            entities=self._main_entities(entities, state.article_count),
        )

    def story_ids(self) -> list[str]:
        """Ids of every story so far (open or closed, merged ones excluded), oldest first."""
        return list(self._stories)

    # --- time window ------------------------------------------------------------------------------------

    def _advance(self, date: datetime | None) -> float | None:
        """Move the stream clock to ``date`` (never backwards), close stories out of the window."""
        stamp = _timestamp(date)
        if stamp is not None and (self._now is None or stamp > self._now):
            self._now = stamp
            cutoff = stamp - self.config.window_days * _DAY_S
            while self._expiry and self._expiry[0][0] < cutoff:
                last_time, _, story_id = heapq.heappop(self._expiry)
                story = self._stories.get(story_id)
                if story is not None and story.open and story.last_time == last_time:
                    self._close(story)
        return stamp if stamp is not None else self._now

    def _close(self, story: _StoryState) -> None:
        """Take a story out of the window; keep only what presenting it needs, packed (``_pack``).

        Nothing reads a closed story's member vectors or top names again (it is no candidate, no merge
        partner, and ``_refresh`` sets top names of open stories only), so they are dropped; only a
        ``restore`` into it (``_touch``) unpacks the rest.
        """
        self._unpost(story)
        story.open = False
        for doc_id in story.doc_ids:
            if self._doc_story.get(doc_id) == story.id:
                del self._doc_story[doc_id]
        story.doc_ids = []
        members = story.members()
        kept_centroid, closeness = self._unit_centroid(story, members)
        ranked = sorted(range(len(members)), key=lambda i: (-closeness[i], i))
        keep = sorted(ranked[:_CLOSED_MEMBER_TEXTS])
        story.head = [_Member("", {}, members[i].text) for i in keep]
        story.tail = []
        story.member_rows = None
        story.centroid = kept_centroid
        story.centroid_arrays = None
        story.centroid_norm = 1.0
        story.top_names = ()
        story.packed = _pack(story)
        story.head, story.centroid, story.entities, story.outlets = [], {}, {}, {}

    def _unpack_state(self, story: _StoryState) -> None:
        """Give a packed (closed) story its member texts, centroid, entity tally and outlets back."""
        if story.packed is None:
            return
        texts, story.centroid, story.entities, story.outlets = _unpack(story.packed)
        story.head = [_Member("", {}, text) for text in texts]
        story.packed = None

    def _unit_centroid(self, story: _StoryState, members: list[_Member]) -> tuple[Vector, list[float]]:
        """The heaviest terms of the story's unit centroid (what a closed story keeps) and each member's dot
        with the whole unit centroid.

        In numpy from the centroid's term arrays when each member vector is the side ``dot`` iterates (not
        longer than the centroid), else with dicts: the same floats either way.
        """
        arrays = story.centroid_arrays
        rows = [TermArrays(m.ids, m.weights) for m in members if m.ids is not None and m.weights is not None]
        if (
            story.centroid_norm
            and arrays is not None
            and len(rows) == len(members)
            and all(len(member.vector) <= len(arrays) for member in members)
        ):
            unit = TermArrays(arrays.ids, arrays.weights / story.centroid_norm)
            self._terms.load_arrays(unit)
            kept = unit.take(heaviest_positions(unit.weights, _CLOSED_CENTROID_TERMS))
            centroid = dict(zip(self._terms.terms(kept.ids), kept.weights.tolist(), strict=True))
            return centroid, [self._terms.loaded_dot(row) for row in rows]
        if story.centroid_norm:
            unit_vector = {term: weight / story.centroid_norm for term, weight in story.centroid.items()}
        else:
            unit_vector = {}
        centroid = {term: unit_vector[term] for term in heaviest(unit_vector, _CLOSED_CENTROID_TERMS)}
        return centroid, [dot(member.vector, unit_vector) for member in members]

    # --- vectors and candidates ------------------------------------------------------------------------------

    def _vectorize(self, doc: ClusterDoc) -> tuple[Vector, TextParts]:
        parts = text_parts(doc.title, doc.text, lead_sentences=self.config.lead_sentences)
        counts = term_counts(parts, self._vocabulary, self.config)
        self._vocabulary.observe(counts)
        vector, arrays = weigh_arrays(counts, self._vocabulary, self.config)
        self._terms.load_arrays(arrays, vector)
        return vector, parts

    def _sentence_vector(self, sentence: str) -> Vector:
        vocabulary = self._vocabulary
        out: Vector = {}
        for word in tokens(sentence):
            lower = word.lower()
            key = vocabulary.stem(lower)
            out[key] = vocabulary.idf(key)
            if word[0].isupper():
                out["@" + lower] = vocabulary.idf("@" + lower)
        return out

    def _score_candidates(
        self,
        vector: Vector,
        date: float | None,
        *,
        undated: bool,
        names: tuple[str, ...],
        lead_name: str | None = None,
        datelined: bool = False,
    ) -> list[tuple[float, _StoryState]]:
        """Open stories sharing heavy terms with ``vector``, scored, best first."""
        config = self.config
        overlap: dict[str, float] = {}
        for term in islice(vector, config.query_terms):  # document vectors come heaviest first
            posting = self._postings.get(term)
            if not posting:
                continue
            weight = vector[term]
            for story_id in islice(reversed(posting), config.posting_scan_limit):
                overlap[story_id] = overlap.get(story_id, 0.0) + weight
        stories = self._stories
        # the stories of the latest arrivals are always candidates: reports of one event arrive together,
        # and differently worded ones may share no heavy term (the arrival signal in ``_score`` decides)
        recent: dict[str, None] = {}
        if undated:
            for story_id in reversed(self._recent):
                current = self.resolve(story_id)
                story = stories.get(current)
                if story is not None and story.open:
                    recent[current] = None
        if not overlap and not recent:
            return []
        ranked = sorted(overlap.items(), key=lambda item: (-item[1], stories[item[0]].seq))[: config.candidates]
        candidate_ids = dict.fromkeys(story_id for story_id, _ in ranked)
        candidate_ids.update(recent)
        # centroid cosine for every candidate; the dearer best-member pass for the closest few (and recent) only
        by_centroid = sorted(
            ((self._centroid_cosine(vector, stories[story_id]), stories[story_id]) for story_id in candidate_ids),
            key=lambda item: (-item[0], item[1].seq),
        )
        chosen = by_centroid[: config.rescored_candidates]
        chosen += [item for item in by_centroid[config.rescored_candidates :] if item[1].id in recent]
        scored = [
            (
                self._score(
                    vector,
                    date,
                    story,
                    centroid_cosine,
                    undated=undated,
                    names=names,
                    lead_name=lead_name,
                    datelined=datelined,
                ),
                story,
            )
            for centroid_cosine, story in chosen
        ]
        scored.sort(key=lambda item: (-item[0], item[1].seq))
        return scored

    def _centroid_cosine(self, vector: Vector, story: _StoryState) -> float:
        if not story.centroid_norm:
            return 0.0
        if story.centroid_arrays is None:
            return dot(vector, story.centroid) / story.centroid_norm
        return self._terms.dot(vector, story.centroid_arrays) / story.centroid_norm

    def _score(
        self,
        vector: Vector,
        date: float | None,
        story: _StoryState,
        centroid_cosine: float,
        *,
        undated: bool,
        names: tuple[str, ...],
        lead_name: str | None = None,
        datelined: bool = False,
    ) -> float:
        config = self.config
        best_member = self._best_member(vector, story)
        score = (1.0 - config.member_share) * centroid_cosine + config.member_share * best_member
        if date is not None and story.first_date is not None and story.last_date is not None:
            gap_days = max(story.first_date - date, date - story.last_date, 0.0) / _DAY_S
            if not undated:
                score -= config.time_penalty_per_day * max(0.0, gap_days - config.time_grace_days)
            elif gap_days > config.dateline_grace_days:
                # a dateline is a looser clock (follow-ups quote the event's date): a penalty per doubling
                score -= config.dateline_penalty_per_doubling * math.log2(gap_days / config.dateline_grace_days)
        if names and self._names_conflict(vector, names, story):
            score -= config.name_conflict_penalty
        if lead_name is not None and story.top_names and story.top_names[0] == lead_name:
            score += config.lead_name_bonus
        if undated:
            if datelined and not story.datelined:
                score -= config.dateline_mismatch_penalty
            # no publication date: the arrival order is the clock (reports of one event arrive close together)
            gap = self._arrivals - story.last_arrival
            if gap > config.arrival_grace:
                score -= config.arrival_penalty_per_doubling * math.log2(gap / config.arrival_grace)
        return score

    def _reaches_bar(
        self, score: float, story: _StoryState, parts: TextParts, *, undated: bool, datelined: bool
    ) -> bool:
        """Whether the best candidate is joined: its score reaches the join bar, or it is a gray-zone join.

        Gray zone: an undated headline-and-lead text scoring within ``recent_join_margin`` under the bar
        against a story that grew in the last ``recent_join_arrivals`` arrivals, whose wording it shares in
        meaning (static-embedding cosine ``recent_join_min_embedding``) if not in words. Reports of one
        event arrive together, and differently worded short ones ("slams" / "castigates") share few terms.
        The embedder runs only here, so its cost is paid by the few articles in the gray zone. A datelined
        text against a story without datelines (``dateline_mismatch_penalty``) is not rescued: the evidence
        against the join is what put it under the bar (ECB+ 0.861 -> 0.881 with it, AllSides equal).
        """
        bar = self._join_bar(parts)
        if score >= bar:
            return True
        config = self.config
        return (
            undated
            and not (datelined and not story.datelined)
            and score >= bar - config.recent_join_margin
            and _words(parts) <= config.recent_join_max_words
            and self._arrivals - story.last_arrival <= config.recent_join_arrivals
            and self._embedding_cosine(parts, story) >= config.recent_join_min_embedding
        )

    def _embedding_cosine(self, parts: TextParts, story: _StoryState) -> float:
        """Static-embedding cosine of the article's title and lead with the sum of the story's members'
        (-1 without an embedder: no gray-zone join then)."""
        embedder = self._embedder
        if embedder is None:
            return -1.0
        lead_sentences = self.config.lead_sentences
        rows: list[FloatMatrix] = []
        for member in story.members():
            if member.embedding is None:
                member.embedding = _lead_embedding(embedder, member.text.title, member.text.sentences[:lead_sentences])
            rows.append(member.embedding)
        article = _lead_embedding(embedder, parts.title, parts.sentences[:lead_sentences])
        total = np.sum(rows, axis=0)
        length = float(np.linalg.norm(total))
        return float(article @ total) / length if length else -1.0

    def _best_member(self, vector: Vector, story: _StoryState) -> float:
        """The best cosine of ``vector`` with a member vector of ``story``: ``dot``'s very floats, in numpy
        when each member vector is the shorter side (the one ``dot`` iterates)."""
        members = story.members()
        if not members:
            return 0.0
        if any(len(member.vector) >= len(vector) for member in members):
            # ``dot`` would iterate the article's terms here, not the member's: its float, in its order
            return max(dot(vector, member.vector) for member in members)
        if story.member_rows is None:
            story.member_rows = self._member_rows(members)
        if self._terms.loaded is not vector:
            self._terms.load(vector)
        return self._terms.best_row_dot(*story.member_rows)

    def _member_rows(self, members: list[_Member]) -> tuple[np.ndarray, np.ndarray]:
        """The members' term ids and weights as the rows of two matrices, zero-padded to the longest."""
        width = max(len(member.vector) for member in members)
        ids = np.zeros((len(members), width), dtype=np.intp)
        weights = np.zeros((len(members), width))
        for row, member in enumerate(members):
            if member.ids is None or member.weights is None:
                member.ids = self._terms.ids(list(member.vector))
                member.weights = np.fromiter(member.vector.values(), dtype=np.float64, count=len(member.vector))
            ids[row, : len(member.ids)] = member.ids
            weights[row, : len(member.weights)] = member.weights
        return ids, weights

    def _join_bar(self, parts: TextParts) -> float:
        """The join threshold for an article of this length: ``short_join_threshold`` up to
        ``short_text_words`` words, ``join_threshold`` from ``long_text_words`` on, log-interpolated between.

        Short texts (a headline and lead) share fewer words with any report of the same event, so their
        cosines run lower; long reports of two events of one kind share many words, so theirs run higher.
        """
        config = self.config
        words = _words(parts)
        if words <= config.short_text_words:
            return config.short_join_threshold
        if words >= config.long_text_words:
            return config.join_threshold
        share = math.log(words / config.short_text_words) / math.log(config.long_text_words / config.short_text_words)
        return config.short_join_threshold + share * (config.join_threshold - config.short_join_threshold)

    def _main_names(self, vector: Vector, parts: TextParts, tally: Counter[str]) -> tuple[str, ...]:
        """A long article's heaviest names among those its headline names or it mentions at least twice
        (a name said once in a body is an aside). ``tally``: mentions per "@name" term."""
        config = self.config
        if not config.name_conflict_penalty:
            return ()
        if len(parts.lead_words) + len(parts.body_words) < config.conflict_min_words:
            return ()
        main = {key for key, times in tally.items() if times >= 2}
        title_words = set(parts.title_tokens)
        main.update(key for key in tally if key[len(NAME_PREFIX) :] in title_words)
        return tuple(islice((term for term in vector if term in main), config.conflict_names))

    def _lead_name(self, tally: Counter[str]) -> str | None:
        """The name the article mentions most (``tally``: mentions per "@name" term), if it does so
        ``lead_name_mentions`` times or more (first mentioned wins a tie): the actor the report is about."""
        config = self.config
        if not config.lead_name_bonus:
            return None
        if not tally:
            return None
        name, times = max(tally.items(), key=lambda item: item[1])  # max keeps the first of equals
        return name if times >= config.lead_name_mentions else None

    @staticmethod
    def _names_conflict(vector: Vector, names: tuple[str, ...], story: _StoryState) -> bool:
        """The article's main names are not the story's and the story's main names are not the article's.

        Two events of one kind share their vocabulary (knockout, heavyweight, title) and often one name
        (the champion), but not the other main actors (his opponent): that is evidence against "same event"
        that a cosine dilutes.
        """
        if not any(name not in story.centroid for name in names):
            return False
        return any(name not in vector for name in story.top_names)

    def _signal_date(self, doc: ClusterDoc, parts: TextParts) -> float | None:
        """The article's date as a same-event signal: its own, else a dateline read from its first lines.

        Only a signal: the stream clock (and so the window) moves with ``doc.date`` alone, since a dateline
        may be old news quoted, or misread.
        """
        if doc.date is not None:
            return _timestamp(doc.date)
        if not self.config.dateline_penalty_per_doubling:  # off: a dateline must not widen a story's dated span
            return None
        return _timestamp(parts.dateline)

    # --- story updates -----------------------------------------------------------------------------------

    def _create(self, doc: ClusterDoc, story_id: str | None = None) -> _StoryState:
        base = story_id if story_id is not None else self._new_story_id(doc)
        candidate, suffix = base, 1
        while candidate in self._stories or candidate in self._redirects:
            suffix += 1
            candidate = f"{base}~{suffix}"
        self._seq += 1
        story = _StoryState(id=candidate, seq=self._seq)
        self._stories[candidate] = story
        return story

    def _touch(self, story: _StoryState, doc: ClusterDoc, time: float | None, date: float | None) -> None:
        if story.packed is not None:  # ``restore`` into a closed story: it grows again
            self._unpack_state(story)
        story.article_count += 1
        story.last_arrival = self._arrivals
        if story.open and (not self._recent or self._recent[-1] != story.id):
            self._recent.append(story.id)
        if time is not None:
            story.first_time = time if story.first_time is None else min(story.first_time, time)
            story.last_time = time if story.last_time is None else max(story.last_time, time)
            if story.open and story.last_time == time:
                heapq.heappush(self._expiry, (time, story.seq, story.id))
        if date is not None:
            story.first_date = date if story.first_date is None else min(story.first_date, date)
            story.last_date = date if story.last_date is None else max(story.last_date, date)
        if story.open:
            story.doc_ids.append(doc.id)
            self._doc_story[doc.id] = story.id

    def _join_syndicated(self, story: _StoryState, doc: ClusterDoc, time: float | None) -> None:
        """A copy adds a report, not an outlet or words: centroid and document frequencies stay as they are."""
        self._touch(story, doc, time, _timestamp(doc.date))
        story.syndicated_count += 1

    def _join(self, story: _StoryState, doc: ClusterDoc, vector: Vector, parts: TextParts, time: float | None) -> None:
        config = self.config
        self._touch(story, doc, time, self._signal_date(doc, parts))
        story.original_count += 1
        if doc.source:
            story.outlets[doc.source] = None
        sentences = parts.sentences if parts.title == doc.title else (parts.title or "", *parts.sentences)
        text = member_text(doc.title, sentences, config.summary_pool_per_member)
        member_vector = vector
        if len(vector) > config.member_terms:
            member_vector = dict(islice(vector.items(), config.member_terms))  # heaviest first
        ids, weights = self._terms.prefix(vector, len(member_vector))
        member = _Member(doc.id, member_vector, text, ids=ids, weights=weights)
        half = config.member_vectors // 2
        if len(story.head) < half:
            story.head.append(member)
        else:
            story.tail.append(member)
            if len(story.tail) > config.member_vectors - half:
                story.tail.pop(0)
        story.member_rows = None
        self._tally_entities(story, parts)
        story.datelined = story.datelined or parts.dateline is not None
        if story.centroid_arrays is None:
            add_into(story.centroid, vector)
            self._refresh(story)
            return
        arrays, summed = self._terms.added(story.centroid_arrays, vector)
        story.centroid.update(zip(vector, summed, strict=True))  # what add_into gives, without its look-ups
        self._refresh(story, arrays)

    def _refresh(self, story: _StoryState, arrays: TermArrays | None = None) -> None:
        """Prune the centroid to its heaviest terms, recompute its norm, repost it if open.

        ``arrays``: the centroid as term arrays when the caller kept them up to date (else rebuilt here).
        """
        config = self.config
        if arrays is None:
            arrays = self._terms.arrays(story.centroid)
        if len(arrays) > 2 * config.centroid_terms:
            arrays = arrays.take(heaviest_positions(arrays.weights, config.centroid_terms))
            story.centroid = dict(zip(self._terms.terms(arrays.ids), arrays.weights.tolist(), strict=True))
        story.centroid_arrays = arrays
        story.centroid_norm = norm_of(arrays)
        if story.open:
            self._post(
                story,
                tuple(self._terms.terms(arrays.ids[heaviest_positions(arrays.weights, config.story_index_terms)])),
            )
            names = (term for term in story.index_terms if term[0] == NAME_PREFIX)
            story.top_names = tuple(islice(names, config.conflict_names))

    def _post(self, story: _StoryState, terms: tuple[str, ...]) -> None:
        """Index ``story`` under ``terms`` instead of its old index terms, at the newest end of each posting:
        the state that unposting and posting again gives, without looking up the postings it stays in."""
        held = dict(zip(story.index_terms, story.index_postings, strict=True))
        postings: list[dict[str, None]] = []
        for term in terms:
            posting = held.pop(term, None)
            if posting is None:
                posting = self._postings.setdefault(term, {})
            else:
                posting.pop(story.id, None)
            posting[story.id] = None
            postings.append(posting)
        self._leave(story, held.items())
        story.index_terms, story.index_postings = terms, tuple(postings)

    def _unpost(self, story: _StoryState) -> None:
        self._leave(story, zip(story.index_terms, story.index_postings, strict=True))
        story.index_terms, story.index_postings = (), ()

    def _leave(self, story: _StoryState, postings: Iterable[tuple[str, dict[str, None]]]) -> None:
        """Take ``story`` out of these (term, posting) pairs; a posting left empty leaves the index."""
        for term, posting in postings:
            posting.pop(story.id, None)
            if not posting and self._postings.get(term) is posting:
                del self._postings[term]

    def _merge_linked(self, story: _StoryState, others: list[tuple[float, _StoryState]]) -> tuple[str, ...]:
        """Fold into one the stories this article links at merge strength whose centroids also agree."""
        config = self.config
        merged: list[str] = []
        for score, other in others:
            if score < config.merge_threshold:
                break
            if not other.open or other.id == story.id or other.id in self._redirects:
                continue
            if not story.centroid_norm or not other.centroid_norm:
                continue
            agreement = dot(story.centroid, other.centroid) / (story.centroid_norm * other.centroid_norm)
            if agreement < config.merge_centroid_threshold:
                continue
            older, younger = (story, other) if story.seq < other.seq else (other, story)
            self._absorb(older, younger)
            merged.append(younger.id)
            story = older
        return tuple(merged)

    def _absorb(self, older: _StoryState, younger: _StoryState) -> None:
        config = self.config
        self._unpost(younger)
        for term, weight in younger.centroid.items():
            older.centroid[term] = older.centroid.get(term, 0.0) + weight
        half = config.member_vectors // 2
        members = older.members() + younger.members()
        older.head = members[:half]
        older.tail = members[half:][-(config.member_vectors - half) :]
        older.member_rows = None
        for doc_id in younger.doc_ids:
            self._doc_story[doc_id] = older.id
        older.doc_ids.extend(younger.doc_ids)
        older.article_count += younger.article_count
        older.original_count += younger.original_count
        older.syndicated_count += younger.syndicated_count
        older.outlets.update(younger.outlets)
        older.datelined = older.datelined or younger.datelined
        for entity, count in younger.entities.items():
            older.entities[entity] = older.entities.get(entity, 0) + count
        for attribute in ("first_time", "first_date"):
            values = [v for v in (getattr(older, attribute), getattr(younger, attribute)) if v is not None]
            setattr(older, attribute, min(values) if values else None)
        for attribute in ("last_time", "last_date"):
            values = [v for v in (getattr(older, attribute), getattr(younger, attribute)) if v is not None]
            setattr(older, attribute, max(values) if values else None)
        older.last_arrival = max(older.last_arrival, younger.last_arrival)
        if older.last_time is not None:
            heapq.heappush(self._expiry, (older.last_time, older.seq, older.id))
        del self._stories[younger.id]
        self._redirects[younger.id] = older.id
        self._refresh(older)

    # --- entities ----------------------------------------------------------------------------------------

    def _tally_entities(self, story: _StoryState, parts: TextParts) -> None:
        """Count each name and multi-word name once per article (as written)."""
        seen = dict.fromkeys(parts.name_phrases)
        seen.update(dict.fromkeys(parts.names))
        for name in seen:
            story.entities[name] = story.entities.get(name, 0) + 1
        if len(story.entities) > _ENTITY_TALLY_LIMIT:
            top = sorted(story.entities.items(), key=lambda item: (-item[1], item[0]))[: _ENTITY_TALLY_LIMIT // 4]
            story.entities = dict(top)

    def _main_entities(self, entities: dict[str, int], article_count: int) -> tuple[str, ...]:
        """Most mentioned full names, parts folded in, bare common nouns dropped (``entitylist``)."""
        return main_entities(entities, article_count, self.config.story_entities)


# --- the `newsloom cluster FILE.jsonl` semantics ------------------------------------------------------------


def _parse_date(value: object, record_id: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InputError(f"record {record_id!r}: date {value!r} is not ISO 8601") from exc
    else:
        raise InputError(f"record {record_id!r}: date must be an ISO 8601 string")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def records_to_docs(records: Iterable[Mapping[str, object]]) -> list[ClusterDoc]:
    """Records (id, title, text, optional date and source) as docs; every other field is ignored."""
    docs: list[ClusterDoc] = []
    for position, record in enumerate(records):
        if "id" not in record or record["id"] is None:
            raise InputError(f"record {position + 1}: no id")
        record_id = str(record["id"])
        docs.append(
            ClusterDoc(
                id=record_id,
                title=_optional_str(record.get("title")),
                text=_optional_str(record.get("text")) or "",
                date=_parse_date(record.get("date"), record_id),
                source=_optional_str(record.get("source")),
            )
        )
    return docs


def stream_positions(docs: list[ClusterDoc]) -> list[int]:
    """Positions of ``docs`` in the order they are fed to the engine: by date, undated ones staying where
    the file put them.

    Each undated article takes the date of the closest dated article before it in the file (articles
    before the first dated one keep the very start), then a stable sort by that date: dated articles go
    in date order, and every undated one travels right behind the article it followed in the file.
    Without any dates this is the file order.
    """
    keys: list[float] = []
    carried = float("-inf")
    for doc in docs:
        stamp = _timestamp(doc.date)
        if stamp is not None:
            carried = stamp
        keys.append(carried)
    return sorted(range(len(docs)), key=lambda i: keys[i])


def cluster_records(
    records: Iterable[Mapping[str, object]], config: EngineConfig = EngineConfig()
) -> list[tuple[str, str]]:
    """Cluster a file's records online; (id, final story id) per record in INPUT order, merges resolved."""
    docs = records_to_docs(records)
    engine = StoryEngine(config)
    story_of: dict[int, str] = {}
    for position in stream_positions(docs):
        story_of[position] = engine.add(docs[position]).story_id
    return [(doc.id, engine.resolve(story_of[position])) for position, doc in enumerate(docs)]
