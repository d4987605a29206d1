"""What a story keeps once it leaves the window: its most central member texts, a trimmed unit centroid,
entity tally and outlets, packed into one byte string; and unpacking it again.

Why packing: the archive of closed stories grows with the stream, the open window does not (see ``pack``).
"""

from __future__ import annotations

import marshal

from newsloom.stories.state import Member, StoryState
from newsloom.stories.summary import MemberText
from newsloom.stories.vectorize import TermArrays, TermTable, Vector, dot, heaviest, heaviest_positions

#: a closed story keeps the texts of this many most central members, for its summary and headline
CLOSED_MEMBER_TEXTS = 4
#: a closed story keeps this many centroid terms, enough to rank its summary sentences
CLOSED_CENTROID_TERMS = 64

#: what a closed story keeps for presentation: its member texts (title, sentences), unit centroid, entity
#: tally and outlets
Presentation = tuple[list[MemberText], Vector, dict[str, int], dict[str, None]]


def pack(story: StoryState) -> bytes:
    """A closed story's member texts, centroid, entity tally and outlets as one byte string (marshal).

    Why: the archive of closed stories grows with the stream. As Python objects (a str and a tuple per
    member sentence, the members' trimmed vectors, the centroid, entity tally and outlet dicts, with a
    float or str object per entry) a closed story took ~20 KB (measured at 40k synthetic articles): ~2.5 GB
    by 1M articles, where every stage slowed together. Packed, it is one bytes object of ~5 KB. marshal
    keeps dict order and float bits, so ``unpack`` gives equal objects back and ``story`` says the same.
    (zlib would halve the bytes for ~130 us per story, ~15 us per article: not worth it.)
    The headline and summary cannot simply be computed once at close: ``story`` ranks sentences by the
    stream's idf when asked, so they change after the story closes (7% of closed stories by 30k articles).
    """
    texts = [(member.text.title, member.text.sentences) for member in story.members()]
    return marshal.dumps((texts, story.centroid, story.entities, story.outlets))


def unpack(packed: bytes) -> Presentation:
    texts, centroid, entities, outlets = marshal.loads(packed)
    return [MemberText(title, sentences) for title, sentences in texts], centroid, entities, outlets


def pack_closed(story: StoryState, terms: TermTable) -> None:
    """Keep only what presenting a closed story needs, packed; its member vectors and top names go.

    Nothing reads a closed story's member vectors or top names again (it is no candidate, no merge
    partner, and the engine sets top names of open stories only); only a ``restore`` into it
    (``unpack_into``) gives the rest back.
    """
    members = story.members()
    kept_centroid, closeness = unit_centroid(story, members, terms)
    ranked = sorted(range(len(members)), key=lambda i: (-closeness[i], i))
    keep = sorted(ranked[:CLOSED_MEMBER_TEXTS])
    story.head = [Member("", {}, members[i].text) for i in keep]
    story.tail = []
    story.member_rows = None
    story.centroid = kept_centroid
    story.centroid_arrays = None
    story.centroid_norm = 1.0
    story.top_names = ()
    story.packed = pack(story)
    story.head, story.centroid, story.entities, story.outlets = [], {}, {}, {}


def unpack_into(story: StoryState) -> None:
    """Give a packed (closed) story its member texts, centroid, entity tally and outlets back."""
    if story.packed is None:
        return
    texts, story.centroid, story.entities, story.outlets = unpack(story.packed)
    story.head = [Member("", {}, text) for text in texts]
    story.packed = None


def unit_centroid(story: StoryState, members: list[Member], terms: TermTable) -> tuple[Vector, list[float]]:
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
        terms.load_arrays(unit)
        kept = unit.take(heaviest_positions(unit.weights, CLOSED_CENTROID_TERMS))
        centroid = dict(zip(terms.terms(kept.ids), kept.weights.tolist(), strict=True))
        return centroid, [terms.loaded_dot(row) for row in rows]
    if story.centroid_norm:
        unit_vector = {term: weight / story.centroid_norm for term, weight in story.centroid.items()}
    else:
        unit_vector = {}
    centroid = {term: unit_vector[term] for term in heaviest(unit_vector, CLOSED_CENTROID_TERMS)}
    return centroid, [dot(member.vector, unit_vector) for member in members]
