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
   * a penalty for a date far from the story's dated span (dated article, dated story), or for the number
     of arrivals since the story last grew (undated article or story: reports of one event arrive close
     together);
   * a penalty when a long article's main names and the story's main names exclude each other (two
     events of one kind: the same champion, another opponent);
   * a penalty when an undated article opens with a dateline and none of the story's articles did;
   plus a bonus when the name the article mentions most is the story's heaviest name.
4. It joins the best story whose score reaches the join bar (lower for a short text, whose same-event
   cosines run lower), else starts a story whose id is ``new_story_id(doc)`` (default: the article id).
   A short text a little under the bar still joins a story that grew in the last arrivals (and, both
   dated, within ``recent_join_hours``) when the static embeddings of their leads agree (differently
   worded headlines of one event).
5. If the article also reaches a second story at ``merge_threshold`` and the two centroids agree at
   ``merge_centroid_threshold``, the two are one event: the younger story is folded into the older,
   whose id survives, and ``resolve`` redirects the younger id.

Work per article is bounded by the config (query terms, posting scan limit, candidates, member vectors),
and the window is bounded by age, so the cost per article does not grow with the archive.
Deterministic: every collection iterated is a dict or list in insertion order, ties break on creation order.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import islice

from newsloom.errors import NotFoundError
from newsloom.stories import profile, scoring
from newsloom.stories.features import signature_of
from newsloom.stories.packing import pack_closed, unpack, unpack_into
from newsloom.stories.profile import SignatureIndex
from newsloom.stories.signature import EMPTY_SIGNATURE, EventSignature
from newsloom.stories.state import (
    DAY_S,
    Member,
    StoryState,
    main_entities,
    tally_entities,
    timestamp,
    to_datetime,
)
from newsloom.stories.storymodel import Assignment, ClusterDoc, EngineConfig
from newsloom.stories.summary import headline, member_text, summary
from newsloom.stories.text import TextParts, text_parts, tokens
from newsloom.stories.vectorize import (
    NAME_PREFIX,
    StreamVocabulary,
    TermArrays,
    TermTable,
    Vector,
    add_into,
    dot,
    heaviest_positions,
    norm_of,
    term_counts,
    weigh_arrays,
)
from newsloom.types import Story

__all__ = ["StoryEngine", "default_story_id"]


def default_story_id(doc: ClusterDoc) -> str:
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
        self._new_story_id = new_story_id or default_story_id
        self._vocabulary = StreamVocabulary(config.idf_prior_documents)
        self._terms = TermTable(self._vocabulary)
        self._stories: dict[str, StoryState] = {}
        self._redirects: dict[str, str] = {}
        self._postings: dict[str, dict[str, None]] = {}
        self._signatures = SignatureIndex(config.signature_rare_stories)
        self._doc_story: dict[str, str] = {}
        self._expiry: list[tuple[float, int, str]] = []
        #: stories past the word window that wait for follow-ups by signature (``follow_up_days``)
        self._dormant: list[tuple[float, int, str]] = []
        self._now: float | None = None
        self._seq = 0
        self._arrivals = 0
        #: ids of the stories that took the latest arrivals, newest last
        self._recent: deque[str] = deque(maxlen=config.recent_candidates)
        self._embedder = scoring.shared_embedder() if config.recent_join_margin > 0.0 else None

    # --- public API -------------------------------------------------------------------------------------

    def add(
        self, doc: ClusterDoc, *, parts: TextParts | None = None, signature: EventSignature | None = None
    ) -> Assignment:
        """Place one article (in time order) and say where it went.

        ``parts`` and ``signature``: the article's ``text_parts`` and event signature when computed already
        (``stories.features``, in a poll's worker processes); the result is the same as without them.
        """
        time = self._advance(doc.date)
        self._arrivals += 1
        original = self._doc_story.get(doc.original_id) if doc.original_id else None
        if original is not None:
            story = self._stories[self.resolve(original)]
            self._join_syndicated(story, doc, time)
            return Assignment(story_id=story.id, created=False)

        vector, parts = self._vectorize(doc, parts)
        if signature is None:
            signature = self._signature(doc, parts)
        # each name's mentions, lower-cased as its "@name" term: both name signals read it
        tally = Counter(map(NAME_PREFIX.__add__, map(str.lower, parts.names)))  # (maps: the loop stays in C)
        scored = self._score_candidates(
            vector,
            self._signal_date(doc, parts),
            undated=doc.date is None,
            names=scoring.main_names(self.config, vector, parts, tally),
            lead_name=scoring.lead_name(self.config, tally),
            datelined=parts.dateline is not None,
            signature=signature,
        )
        if scored and self._reaches_bar(
            scored[0][0],
            scored[0][1],
            parts,
            undated=doc.date is None,
            datelined=parts.dateline is not None,
            date=timestamp(doc.date),
        ):
            story = scored[0][1]
            self._join(story, doc, vector, parts, time, signature)
            merged = self._merge_linked(story, scored[1:])
            survivor = self._stories[self.resolve(story.id)]
            return Assignment(story_id=survivor.id, created=False, merged=merged)
        story = self._create(doc)
        self._join(story, doc, vector, parts, time, signature)
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
        self._join(story, doc, vector, parts, time, self._signature(doc, parts))

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
            texts, centroid, entities, outlets = unpack(state.packed)
        else:
            texts = [member.text for member in state.members()]
            centroid, entities, outlets = state.centroid, state.entities, state.outlets
        if state.centroid_norm:
            centroid = {term: weight / state.centroid_norm for term, weight in centroid.items()}
        return Story(
            id=state.id,
            headline=headline(texts, centroid, self._sentence_vector),
            summary=summary(texts, centroid, self._sentence_vector, self.config.summary_sentences),
            first_seen=to_datetime(state.first_time),
            last_seen=to_datetime(state.last_time),
            article_count=state.article_count,
            outlet_count=len(outlets),
            original_count=state.original_count,
            syndicated_count=state.syndicated_count,
            entities=main_entities(entities, state.article_count, self.config.story_entities),
        )

    def story_ids(self) -> list[str]:
        """Ids of every story so far (open or closed, merged ones excluded), oldest first."""
        return list(self._stories)

    # --- time window ------------------------------------------------------------------------------------

    def _advance(self, date: datetime | None) -> float | None:
        """Move the stream clock to ``date`` (never backwards), close stories out of the window.

        A story with signature keys leaves the word index after ``window_days`` but stays open, found by
        its keys only, until ``follow_up_days``: follow-ups of a local incident come for weeks.
        """
        stamp = timestamp(date)
        if stamp is not None and (self._now is None or stamp > self._now):
            self._now = stamp
            config = self.config
            cutoff = stamp - config.window_days * DAY_S
            while self._expiry and self._expiry[0][0] < cutoff:
                last_time, seq, story_id = heapq.heappop(self._expiry)
                story = self._stories.get(story_id)
                if story is not None and story.open and story.last_time == last_time:
                    if story.posted_keys and config.follow_up_days > config.window_days:
                        # out of the word index; its signature keys (street, victim) still find it
                        self._unpost(story)
                        heapq.heappush(self._dormant, (last_time, seq, story_id))
                    else:
                        self._close(story)
            cutoff = stamp - config.follow_up_days * DAY_S
            while self._dormant and self._dormant[0][0] < cutoff:
                last_time, _, story_id = heapq.heappop(self._dormant)
                story = self._stories.get(story_id)
                if story is not None and story.open and story.last_time == last_time:
                    self._close(story)
        return stamp if stamp is not None else self._now

    def _close(self, story: StoryState) -> None:
        """Take a story out of the window; keep only what presenting it needs, packed (``packing``)."""
        self._unpost(story)
        self._signatures.unpost(story)
        story.profile = {}
        story.open = False
        for doc_id in story.doc_ids:
            if self._doc_story.get(doc_id) == story.id:
                del self._doc_story[doc_id]
        story.doc_ids = []
        pack_closed(story, self._terms)

    # --- vectors and candidates ------------------------------------------------------------------------------

    def _vectorize(self, doc: ClusterDoc, parts: TextParts | None = None) -> tuple[Vector, TextParts]:
        if parts is None:
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
        signature: EventSignature = EMPTY_SIGNATURE,
    ) -> list[tuple[float, StoryState]]:
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
        # the open stories holding one of the article's rare strong keys (its street, a victim's name) are
        # candidates too: a follow-up may share those and few words
        rare_keys = self._signatures.rare(signature)
        recent.update(self._signatures.stories(rare_keys, config.signature_candidates))
        if not overlap and not recent:
            return []
        ranked = sorted(overlap.items(), key=lambda item: (-item[1], stories[item[0]].seq))[: config.candidates]
        candidate_ids = dict.fromkeys(story_id for story_id, _ in ranked)
        candidate_ids.update(recent)
        # centroid cosine for every candidate; the dearer best-member pass for the closest few (and recent) only
        by_centroid = sorted(
            ((scoring.centroid_cosine(self._terms, vector, stories[story_id]), stories[story_id]) for story_id in candidate_ids),
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
                    signature=signature,
                    rare_keys=rare_keys,
                ),
                story,
            )
            for centroid_cosine, story in chosen
        ]
        scored.sort(key=lambda item: (-item[0], item[1].seq))
        return scored

    def _score(
        self,
        vector: Vector,
        date: float | None,
        story: StoryState,
        centroid_cos: float,
        *,
        undated: bool,
        names: tuple[str, ...],
        lead_name: str | None = None,
        datelined: bool = False,
        signature: EventSignature = EMPTY_SIGNATURE,
        rare_keys: tuple[str, ...] = (),
    ) -> float:
        return scoring.score(
            self.config,
            vector,
            date,
            story,
            centroid_cos,
            scoring.best_member(self._terms, vector, story),
            self._arrivals,
            undated=undated,
            names=names,
            lead_name=lead_name,
            datelined=datelined,
            evidence=profile.evidence(story, signature, rare_keys),
        )

    def _reaches_bar(
        self,
        score: float,
        story: StoryState,
        parts: TextParts,
        *,
        undated: bool,
        datelined: bool,
        date: float | None = None,
    ) -> bool:
        """Whether the best candidate is joined: its score reaches the join bar, or it is a gray-zone join.

        Gray zone: a headline-and-lead text scoring within ``recent_join_margin`` under the bar against a
        story that grew in the last ``recent_join_arrivals`` arrivals (if both are dated, also within
        ``recent_join_hours`` of the story's latest date), whose wording it shares in
        meaning (static-embedding cosine ``recent_join_min_embedding``) if not in words. Reports of one
        event arrive together, and differently worded short ones ("slams" / "castigates") share few terms.
        The embedder runs only here, so its cost is paid by the few articles in the gray zone. A datelined
        text against a story without datelines (``dateline_mismatch_penalty``) is not rescued: the evidence
        against the join is what put it under the bar (ECB+ 0.861 -> 0.881 with it, AllSides equal).
        """
        config = self.config
        bar = scoring.join_bar(config, parts)
        if score >= bar:
            return True
        return scoring.in_gray_zone(
            config, score, bar, story, parts, self._arrivals, undated=undated, datelined=datelined, date=date
        ) and (
            scoring.embedding_cosine(self._embedder, config.lead_sentences, parts, story)
            >= config.recent_join_min_embedding
        )

    def _signature(self, doc: ClusterDoc, parts: TextParts) -> EventSignature:
        """The event signature of a dated article (the event day needs the publication date); none else."""
        return signature_of(self.config, doc.title, doc.text, doc.date, parts)

    def _signal_date(self, doc: ClusterDoc, parts: TextParts) -> float | None:
        """The article's date as a same-event signal: its own, else a dateline read from its first lines.

        Only a signal: the stream clock (and so the window) moves with ``doc.date`` alone, since a dateline
        may be old news quoted, or misread.
        """
        if doc.date is not None:
            return timestamp(doc.date)
        if not self.config.dateline_penalty_per_doubling:  # off: a dateline must not widen a story's dated span
            return None
        return timestamp(parts.dateline)

    # --- story updates -----------------------------------------------------------------------------------

    def _create(self, doc: ClusterDoc, story_id: str | None = None) -> StoryState:
        base = story_id if story_id is not None else self._new_story_id(doc)
        candidate, suffix = base, 1
        while candidate in self._stories or candidate in self._redirects:
            suffix += 1
            candidate = f"{base}~{suffix}"
        self._seq += 1
        story = StoryState(id=candidate, seq=self._seq)
        self._stories[candidate] = story
        return story

    def _touch(self, story: StoryState, doc: ClusterDoc, time: float | None, date: float | None) -> None:
        if story.packed is not None:  # ``restore`` into a closed story: it grows again
            unpack_into(story)
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

    def _join_syndicated(self, story: StoryState, doc: ClusterDoc, time: float | None) -> None:
        """A copy adds a report, not an outlet or words: centroid and document frequencies stay as they are."""
        self._touch(story, doc, time, timestamp(doc.date))
        story.syndicated_count += 1

    def _join(
        self,
        story: StoryState,
        doc: ClusterDoc,
        vector: Vector,
        parts: TextParts,
        time: float | None,
        signature: EventSignature = EMPTY_SIGNATURE,
    ) -> None:
        config = self.config
        if signature.all_keys():
            profile.tally(story, signature)
            if story.open:
                self._signatures.post(story, signature)
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
        member = Member(doc.id, member_vector, text, ids=ids, weights=weights)
        half = config.member_vectors // 2
        if len(story.head) < half:
            story.head.append(member)
        else:
            story.tail.append(member)
            if len(story.tail) > config.member_vectors - half:
                story.tail.pop(0)
        story.member_rows = None
        tally_entities(story, parts)
        story.datelined = story.datelined or parts.dateline is not None
        if story.centroid_arrays is None:
            add_into(story.centroid, vector)
            self._refresh(story)
            return
        arrays, summed = self._terms.added(story.centroid_arrays, vector)
        story.centroid.update(zip(vector, summed, strict=True))  # what add_into gives, without its look-ups
        self._refresh(story, arrays)

    def _refresh(self, story: StoryState, arrays: TermArrays | None = None) -> None:
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

    def _post(self, story: StoryState, terms: tuple[str, ...]) -> None:
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

    def _unpost(self, story: StoryState) -> None:
        self._leave(story, zip(story.index_terms, story.index_postings, strict=True))
        story.index_terms, story.index_postings = (), ()

    def _leave(self, story: StoryState, postings: Iterable[tuple[str, dict[str, None]]]) -> None:
        """Take ``story`` out of these (term, posting) pairs; a posting left empty leaves the index."""
        for term, posting in postings:
            posting.pop(story.id, None)
            if not posting and self._postings.get(term) is posting:
                del self._postings[term]

    def _merge_linked(self, story: StoryState, others: list[tuple[float, StoryState]]) -> tuple[str, ...]:
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

    def _absorb(self, older: StoryState, younger: StoryState) -> None:
        config = self.config
        self._unpost(younger)
        self._signatures.unpost(younger)
        profile.merge(older, younger)
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
        if older.open:
            self._signatures.repost(older)
