"""The story engine's records: what goes in (``ClusterDoc``), what comes out (``Assignment``) and its knobs.

``EngineConfig`` holds every threshold of the engine as a named, documented field. The defaults are ONE
setting measured on two very different corpora (ECB+: long tokenised reports, two similar events per topic;
AllSides: headline and lead of three differently-leaning outlets); see docs/benchmarks/clustering.md for the
figures and bench/clustering.py for how they were measured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ClusterDoc:
    """One article as the story engine sees it.

    ``date`` is when it was published (naive times are taken as UTC); without one the article is placed at
    the stream's current time (the latest date seen so far). ``original_id`` marks a syndicated copy: it
    joins the story of that article and counts as the same outlet's reporting.
    """

    id: str
    title: str | None
    text: str
    date: datetime | None = None
    source: str | None = None
    original_id: str | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where ``add`` put an article. ``merged`` lists story ids that were folded into ``story_id`` now."""

    story_id: str
    created: bool
    merged: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Knobs of the story engine. Change them together with the gate in tests/stories/test_cluster_gate.py."""

    #: a story takes new articles while its last article is younger than this (stream time, not wall time);
    #: news events rarely get fresh same-event coverage after a week, and the window bounds the index
    window_days: float = 7.0
    #: ... and a story with event-signature keys (``signature_bonus``) stays open this long after its last
    #: article, out of the word index, found by its keys only (a follow-up: arrest, victim named, funeral).
    #: gva-dev (dated local news): of the reports after an incident's first, 50% came within 1 day, 75%
    #: within 6, 90% within 83, 95% within 190 (the rest: trials, years later). Pairwise F1 at 14 / 30 / 60
    #: / 90 days (word window and this together, round 5): 0.682 / 0.745 / 0.760 / 0.755, precision
    #: falling past 60 (0.944 -> 0.886): a street or a name comes back in another incident months later
    follow_up_days: float = 60.0

    # --- document vector -------------------------------------------------------------------------------
    #: a title word counts this many body words: headlines name the event (AllSides: +3 F1 points vs 1.0)
    title_weight: float = 3.0
    #: lead sentences (the first ``lead_sentences``) say who/what/where; body words count 1
    lead_weight: float = 2.0
    lead_sentences: int = 2
    #: BM25's k1: a word's weight saturates with repetition (tf 1 -> 1, tf 3 -> 1.65, tf 10 -> 1.96)
    tf_saturation: float = 3.0
    #: extra weight of a capitalised name on top of its word; names separate two earthquakes in one topic
    name_weight: float = 1.5
    #: weight of a figure (number, day of month); weak alone (12 appears everywhere) but idf handles that.
    #: Two events of one kind differ in their figures (toll, score, sum, age): within ECB+ topics the figure
    #: overlap of two reports tells same-event from other-event pairs (ROC-AUC 0.79) and takes a large
    #: weight in a learned pair model (bench/clustering_ceiling.py). 1.5 -> 3.0: ECB+ 0.883 -> 0.888,
    #: AllSides 0.877 -> 0.882, ECB+ mean over five arrival orders 0.841 -> 0.852 (2.5: 0.886 / 0.880;
    #: 3.5: 0.891 / 0.879; 4.0: 0.888 / 0.877)
    figure_weight: float = 3.0
    #: idf counts this many earlier articles in which no word appeared: before the stream has shown which
    #: words are common, a content word is taken as rare (see StreamVocabulary.idf); negligible past ~1k
    idf_prior_documents: float = 100.0
    #: a document vector keeps its heaviest terms only; the tail moves cosines by < 0.01 and costs time
    doc_terms: int = 160

    # --- retrieval (bounded work per article) --------------------------------------------------------------
    #: heaviest terms of an article looked up in the inverted index of open stories
    query_terms: int = 16
    #: heaviest terms of a story's centroid posted to the index
    story_index_terms: int = 40
    #: a posting list is read from its newest end up to this many stories: a word that is in more open
    #: stories than this is no evidence anyway, and the cap keeps the per-article cost flat
    posting_scan_limit: int = 400
    #: stories whose centroid is compared per article, best by index overlap first ...
    #: (12 -> 6 changed no dev-set F1 by more than 0.002 and halves the centroid cosines per article)
    candidates: int = 6
    #: ... and of those, the closest by centroid that also get the best-member comparison (4 -> 3 together
    #: with 8 -> 6 member vectors: same F1 on both dev sets, 45% fewer member cosines)
    rescored_candidates: int = 3
    #: an undated article is also compared with the stories that took this many latest arrivals (in full),
    #: whatever its index overlap: reports of one event arrive close together
    recent_candidates: int = 3

    # --- scoring ---------------------------------------------------------------------------------------------
    #: terms kept in a story's centroid (sum of member vectors), heaviest first
    centroid_terms: int = 400
    #: terms kept of a member's vector for the best-member cosine (its heaviest carry the event)
    member_terms: int = 80
    #: member vectors kept per story for the best-member similarity (the first and the latest halves)
    #: (16, 8 and 6 score the same on both dev sets to 0.001; 4 loses 0.002 on ECB+; the best-member
    #: cosines are the dearest scoring step)
    member_vectors: int = 6
    #: share of best-member cosine in the score, the rest being centroid cosine: a member catches a new
    #: angle of a story, the centroid resists a single lookalike article
    member_share: float = 0.5
    #: an article joins the best story whose score reaches this; below it, it starts a story
    join_threshold: float = 0.32
    #: ... for an article of ``long_text_words`` words or more; an article of ``short_text_words`` or fewer
    #: (a headline and lead) joins at ``short_join_threshold``, log-interpolated between: short texts share
    #: fewer words with any report of their event, so their same-event cosines run lower
    #: (AllSides 0.736 -> 0.812 with ECB+ equal; 0.20 / 0.18 move recall up and precision down on both)
    short_join_threshold: float = 0.22
    short_text_words: int = 80
    long_text_words: int = 300
    #: two open stories merge when one article reaches both at this score or more AND their centroids reach
    #: ``merge_centroid_threshold``: a high bar, since two events of the same kind share most words
    merge_threshold: float = 0.45
    merge_centroid_threshold: float = 0.5
    #: dated article vs dated story: no penalty within this many days of the story's span ...
    time_grace_days: float = 1.0
    #: ... then the score drops by this much per day further away. AllSides' dated part (1,065 articles,
    #: all of a story's reports on one day) holds many same-topic events days apart (Afghanistan pullout,
    #: jobless claims): 0.04 -> 0.08 took its pairwise precision 0.849 -> 0.874 at equal recall (F1 0.868
    #: -> 0.880); 0.12 / 0.2: 0.881 / 0.888, left for real streams whose follow-ups come days later.
    #: ECB+ is undated: unchanged
    time_penalty_per_day: float = 0.08
    #: the score drops by this much when one of the article's ``conflict_names`` main names (named in its
    #: headline or mentioned twice) is not in the story and one of the story's heaviest names is not in the
    #: article: two events of one kind (Klitschko vs Rahman, Klitschko vs Thompson). ECB+ pairwise F1
    #: 0.831 -> 0.841 at 0.1 (0.15 and 0.2 no better; 3 names: 0.821), AllSides unchanged
    name_conflict_penalty: float = 0.1
    conflict_names: int = 2
    #: ... judged only for articles of this many words or more: a headline and lead name one or two actors,
    #: and a name missing from them is weak evidence (no floor: AllSides -0.07; 120 words: both 0.005 lower)
    conflict_min_words: int = 80
    #: undated article with a dateline in its text vs a story's dated span: no penalty within this many
    #: days, then ``dateline_penalty_per_doubling`` each time the gap doubles. OFF by default: on ECB+ the
    #: datelines of one event spread over weeks (follow-ups) and the other event of a topic is mostly
    #: undated, so it cost 0.004-0.013 F1 at 0.03-0.06 (a linear 0.04/day penalty: -0.026)
    dateline_grace_days: float = 7.0
    dateline_penalty_per_doubling: float = 0.0
    #: undated article that opens with a dateline ("Sep 18 , 2013") vs a story none of whose articles did:
    #: reports written with a dateline and reports without one come from different publications and, in
    #: an undated stream, often from different years (ECB+: the lumped second event of a topic is told by
    #: datelined reports). ECB+ pairwise P 0.806 -> 0.862, F1 0.841 -> 0.864 (0.15 the same, 0.05: no
    #: effect); AllSides unchanged. The reverse (an article without a dateline vs a mostly datelined story)
    #: cost ECB+ 0.006-0.008 F1 at 0.05-0.1, so it is not judged
    dateline_mismatch_penalty: float = 0.1
    #: the score rises by this much when the name the article mentions most (``lead_name_mentions`` times
    #: or more) is the story's heaviest name: two long reports about one person. With the dateline
    #: penalty: ECB+ 0.864 -> 0.876 (R 0.866 -> 0.898; 0.07 and 0.13 the same), AllSides 0.817 equal;
    #: without it the bonus lumps more than it joins (ECB+ 0.841 -> 0.836). At 3 mentions ECB+ 0.883 but
    #: AllSides 0.804 (a headline and lead can name their actor three times)
    lead_name_bonus: float = 0.1
    lead_name_mentions: int = 4
    #: undated article: no penalty for a story that grew within this many arrivals ...
    arrival_grace: int = 4
    #: ... then the score drops by this much each time the number of arrivals since doubles (a log decay:
    #: 0.1 at 8 arrivals, 0.4 at 64, 0.6 at 256; chaining long-running topics stops). AllSides pairwise
    #: precision 0.64 -> 0.93 at equal recall; grace 2 or 8 were worse on ECB+ (its events interleave)
    arrival_penalty_per_doubling: float = 0.1
    #: gray-zone join (0 margin: off): an undated text of at most ``recent_join_max_words`` words joins its
    #: best story at a bar lowered by ``recent_join_margin`` when that story grew in the last
    #: ``recent_join_arrivals`` arrivals AND the static-embedding cosine of the two leads reaches
    #: ``recent_join_min_embedding``. Why: 1,063 of AllSides' 1,094 false splits were the right story
    #: scored under the bar (0.0-0.2), differently worded headlines of one event arriving together.
    #: AllSides pairwise F1 0.817 -> 0.868 (P 0.872 -> 0.849, R 0.769 -> 0.887), ECB+ 0.841 -> 0.846.
    #: Without the embedding test ECB+ fell to 0.837 (0.795 with no length limit: its interleaved events);
    #: margin 0.10-0.12 x cosine 0.25-0.30 x arrivals 2-3 all give 0.867-0.870 on AllSides; margin 0.14
    #: starts chains of weak links (P 0.82), 0.22 collapses (P 0.65); 80 words: 0.850, 120: ECB+ 0.836.
    #: Cost: the embedder runs only in the gray zone (681 of 8,277 AllSides articles; 6% CPU time).
    recent_join_arrivals: int = 2
    recent_join_margin: float = 0.12
    recent_join_max_words: int = 100
    recent_join_min_embedding: float = 0.3
    #: ... and, for a dated article against a dated story, when the story's latest report is at most this
    #: many hours from it: outlets cover one event within hours, and in a busy dated stream the arrival
    #: rank alone says little. (Undated pairs had the gray zone alone: AllSides' dated part, a third of its
    #: false splits, went without it. 0 / 6 / 12 / 24 hours: AllSides 0.910 / 0.910 / 0.910 / 0.910,
    #: gva-dev 0.757 at each, both up from 0.905 / 0.753.)
    recent_join_hours: float = 12.0

    #: event signature of dated articles (``stories.signature``: street, person's full name, dateline place,
    #: event day, ages): an article that shares a rare strong key (street, full name) with a story gets
    #: ``signature_bonus`` (plus ``signature_extra_bonus`` per further shared key, up to two) and no time
    #: penalty: follow-ups days later (an arrest, the victim named) share the incident's keys, not its words.
    #: A key held by more than ``signature_rare_stories`` open stories is no evidence (an official, a long
    #: avenue, a politician's name in national news). 0 bonus: off
    signature_bonus: float = 0.25
    signature_extra_bonus: float = 0.05
    signature_rare_stories: int = 3
    #: open stories found by signature keys that are scored in full per article, most shared keys first
    #: (bounds the work: an article may have dozens of keys)
    signature_candidates: int = 3
    #: ... read only from articles of this many words or more: a full report names its incident's street
    #: and people, while a headline and lead names the topic's actors (a politician, a team), which recur
    #: in other events days apart
    signature_min_words: int = 60
    #: ... and its names from articles of this many words or more (a headline and lead names the topic's
    #: actors, which recur in other events: AllSides' dated part, 72-113 words, lost 0.010 pairwise F1 with
    #: names read from it; gva-dev at 100 / 120 / 150 words for all keys: 0.760 / 0.750 / 0.734)
    signature_name_min_words: int = 150
    #: the share of the time penalty a signature match still pays (follow-ups come days later)
    signature_time_share: float = 0.0
    #: a dated article whose event day (resolved from "Saturday night", "on March 3") is none of the story's
    #: event days, and that shares no strong key with it, loses this much: same-kind incidents on other days
    event_day_penalty: float = 0.2
    #: ... and one whose event day is one of the story's, with a shared strong or supporting key (the
    #: town, an age), gains this much
    event_day_bonus: float = 0.1

    # --- presentation ------------------------------------------------------------------------------------
    #: sentences in a story summary, most central first
    summary_sentences: int = 2
    #: sentences per member considered for the summary (leads carry the news)
    summary_pool_per_member: int = 4
    #: entities listed per story
    story_entities: int = 8

    def without_arrival_order(self) -> EngineConfig:
        """This config for an undated input whose order says nothing about time (a shuffled archive): the
        arrival order is no clock, so no arrival penalty, no recent-story candidates, no gray-zone joins.

        Why: those three read "reports of one event arrive together", and in a shuffled undated file the
        reports of one event are hundreds of arrivals apart. ECB+ shuffled (`bench/clustering.py
        --shuffle all`): pairwise F1 0.10-0.11 with the default, 0.85-0.87 with this (0.882 in file order).
        """
        return replace(self, arrival_penalty_per_doubling=0.0, recent_candidates=0, recent_join_margin=0.0)
