"""Named entities across the articles of one story, with their aliases merged.

No model: capitalised spans, cut at titles ("Russian President Vladimir Putin" -> "Vladimir Putin"),
possessives and sentence starts, split where they run two names together ("North Korea Kim Jong Un"),
then merged across articles by four general rules: an acronym in parentheses or matching the initials
(KCNA / Korean Central News Agency), a transliteration variant (Sergei / Sergey Shoigu), a surname or
family name on its own (Shoigu, Kim), and dotted acronyms (U.S. / US). Types come from the words around a
name: titles make persons, heads like "Agency" organisations, "in/to/from" places, "exercise" events.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

EntityType = Literal["person", "organisation", "place", "event", "other"]

TITLES = frozenset(
    ["president", "presidents", "prime", "minister", "ministers", "secretary", "secretaries", "chancellor", "senator", "sen", "rep", "representative", "governor", "gov", "general", "gen", "mr", "mrs", "ms", "dr", "prof", "king", "queen", "prince", "princess", "pope", "judge", "justice", "chairman", "chairwoman", "chair", "director", "leader", "supreme", "party", "foreign", "defence", "defense", "vice", "deputy", "chief", "spokesman", "spokeswoman", "spokesperson", "ambassador", "commander", "colonel", "col", "captain", "capt", "lt", "sgt", "mayor", "sheriff", "coach", "pastor", "rev", "sir", "lord", "lady", "dame", "ceo", "premier", "envoy", "minister-president", "speaker", "lawmaker", "actress", "actor", "singer", "star", "rapper", "first", "general-secretary", "state", "interior", "finance", "home", "head", "former"]
)
ORG_HEADS = frozenset(
    ["agency", "service", "council", "ministry", "department", "party", "company", "corporation", "corp", "inc", "ltd", "llc", "group", "bank", "university", "college", "school", "association", "commission", "committee", "court", "army", "navy", "force", "forces", "police", "office", "institute", "foundation", "organization", "organisation", "news", "times", "post", "journal", "network", "union", "league", "assembly", "parliament", "congress", "senate", "administration", "center", "centre", "club", "team", "fund", "board", "authority", "guard", "reuters", "press", "media", "television", "radio", "tv", "airlines", "airways", "hospital", "church", "agency", "bureau", "cabinet", "government", "intelligence", "republic", "federation", "alliance", "coalition", "movement", "front", "brigade", "command", "council"]
)
EVENT_HEADS = frozenset(
    ["games", "olympics", "cup", "war", "summit", "festival", "championship", "championships", "conference", "forum", "election", "elections", "exercise", "exercises", "drill", "drills", "operation", "offensive", "revolution", "crisis", "storm", "hurricane", "earthquake"]
)
FACILITY_HEADS = frozenset(
    ["airport", "station", "square", "street", "avenue", "road", "bridge", "palace", "hall", "stadium", "river", "mountain", "mountains", "island", "islands", "lake", "sea", "ocean", "port", "harbour", "harbor", "base", "building", "tower", "park", "province", "region", "county", "city", "state", "peninsula", "valley", "district"]
)
EVENT_CUES = frozenset(["exercise", "exercises", "drill", "drills", "operation", "code-named", "codenamed", "summit", "manoeuvres", "maneuvers"])
PLACE_PREPOSITIONS = frozenset(["in", "to", "from", "at", "near", "across", "into", "toward", "towards", "outside", "inside", "visit", "visited", "visiting"])
COUNTRIES = frozenset(
    ["afghanistan", "albania", "algeria", "argentina", "armenia", "australia", "austria", "azerbaijan", "bahrain", "bangladesh", "belarus", "belgium", "bolivia", "bosnia", "brazil", "britain", "bulgaria", "cambodia", "cameroon", "canada", "chile", "china", "colombia", "congo", "croatia", "cuba", "cyprus", "czechia", "denmark", "ecuador", "egypt", "england", "estonia", "ethiopia", "europe", "finland", "france", "georgia", "germany", "ghana", "greece", "haiti", "hungary", "iceland", "india", "indonesia", "iran", "iraq", "ireland", "israel", "italy", "japan", "jordan", "kazakhstan", "kenya", "korea", "kosovo", "kuwait", "latvia", "lebanon", "libya", "lithuania", "malaysia", "mali", "mexico", "moldova", "mongolia", "morocco", "myanmar", "nepal", "netherlands", "nigeria", "norway", "oman", "pakistan", "palestine", "panama", "peru", "philippines", "poland", "portugal", "qatar", "romania", "russia", "rwanda", "scotland", "serbia", "singapore", "slovakia", "slovenia", "somalia", "spain", "sudan", "sweden", "switzerland", "syria", "taiwan", "tanzania", "thailand", "tunisia", "turkey", "uganda", "ukraine", "uae", "us", "usa", "uk", "venezuela", "vietnam", "wales", "yemen", "zambia", "zimbabwe", "gaza", "crimea", "africa", "asia", "america"]
)
# Common words that are capitalised only at a sentence start or in headlines; never an entity on their own.
_NOT_NAMES = frozenset(
    ["the", "a", "an", "and", "or", "but", "if", "in", "on", "at", "to", "of", "for", "by", "with", "from", "as", "this", "that", "these", "those", "there", "here", "it", "its", "he", "she", "they", "we", "i", "you", "his", "her", "their", "our", "my", "your", "who", "what", "when", "where", "why", "how", "also", "however", "meanwhile", "according", "both", "after", "before", "while", "although", "though", "since", "during", "earlier", "later", "today", "yesterday", "tomorrow", "analysts", "officials", "police", "authorities", "some", "many", "most", "several", "all", "no", "one", "two", "three", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "mr", "mrs", "ms", "dr"]
)
_MONTHS_DAYS = frozenset(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
)

_NOT_PERSON_HEADS = ORG_HEADS | EVENT_HEADS | FACILITY_HEADS

# A name token: capitalised word (with hyphens/apostrophes inside), or a dotted acronym ("U.S.").
_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[A-Z][\w]*(?:[-’'][\w]+)*")
_CONNECTORS = frozenset({"of", "for", "on", "de", "del", "van", "von", "bin", "al", "la", "le"})
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")


@dataclass(frozen=True, slots=True)
class Mention:
    """One name as written in one sentence. ``surface`` has possessives and dots removed."""

    surface: str
    start: int
    end: int
    title: str | None = None  # the title words cut from the front ("Russian President")
    before: str = ""  # the word before the mention, lower-cased
    after: str = ""  # the word after the mention, lower-cased
    acronym: str | None = None  # "(KCNA)" right after the mention


@dataclass(frozen=True, slots=True)
class Entity:
    """One real-world entity of the story: its display name, other names used for it, type and articles."""

    name: str
    aliases: tuple[str, ...]
    type: EntityType
    articles: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EntityIndex:
    """All entities of a story and, per article and sentence, which entities each sentence mentions."""

    entities: tuple[Entity, ...]
    # sentence_entities[article][sentence] -> ((entity index, start, end), ...)
    sentence_entities: tuple[tuple[tuple[tuple[int, int, int], ...], ...], ...]
    canonical: dict[str, int] = field(default_factory=dict)  # surface -> entity index


def _strip_possessive(token: str) -> tuple[str, bool]:
    for suffix in ("’s", "'s", "’", "'"):
        if token.endswith(suffix):
            return token[: -len(suffix)], True
    return token, False


def _normalise(surface: str) -> str:
    return surface.replace(".", "") if re.fullmatch(r"(?:[A-Z]\.){2,}", surface) else surface


def _word_before(sentence: str, start: int) -> str:
    match = re.search(r"([A-Za-z’'-]+)[\s,]*$", sentence[:start])
    return match.group(1).lower() if match else ""


def _word_after(sentence: str, end: int) -> str:
    match = re.match(r"[\s,]*([A-Za-z’'-]+)", sentence[end:])
    return match.group(1).lower() if match else ""


def raw_spans(sentence: str) -> list[tuple[list[tuple[str, int, int]], bool]]:
    """Runs of name tokens ``[(token, start, end)...]`` and whether the run starts the sentence."""
    runs: list[tuple[list[tuple[str, int, int]], bool]] = []
    tokens = list(_TOKEN.finditer(sentence))
    current: list[tuple[str, int, int]] = []
    first_word = re.match(r"[\s“\"‘'(`]*([A-Za-z])", sentence)
    first_pos = first_word.start(1) if first_word else -1
    for m in tokens:
        token, possessive = _strip_possessive(m.group(0))
        start, end = m.start(), m.start() + len(token)
        gap = sentence[current[-1][2] : start] if current else ""
        joinable = bool(current) and (
            gap == " " or gap == "-" or (gap == ". " and len(current[-1][0]) == 1) or (gap.strip().lower() in _CONNECTORS and gap.startswith(" ") and gap.endswith(" ")
                                         and current[-1][0].lower() in ORG_HEADS)
        )  # fmt: skip
        if current and not joinable:
            runs.append((current, current[0][1] == first_pos))
            current = []
        current.append((token, start, end))
        if possessive:
            runs.append((current, current[0][1] == first_pos))
            current = []
    if current:
        runs.append((current, current[0][1] == first_pos))
    return runs


def _capitalised_inside(sentences: Sequence[str]) -> set[str]:
    """Words seen capitalised somewhere other than a sentence start: evidence that they are names."""
    seen: set[str] = set()
    for sentence in sentences:
        for run, at_start in raw_spans(sentence):
            for k, (token, _, _) in enumerate(run):
                if k > 0 or not at_start:
                    seen.add(token)
    return seen


def _is_demonym(token: str) -> bool:
    low = token.lower()
    if low in COUNTRIES:
        return False
    return low.endswith(("ean", "ian", "ese", "ish", "can", "man", "ban", "lan", "nian", "ani", "qi", "eli"))


def _common_opener(tokens: list[tuple[str, int, int]], named_words: set[str], common_words: set[str]) -> bool:
    """Is the capitalised first word of a sentence an ordinary word rather than part of a name?

    It is a name when seen capitalised elsewhere, or an acronym; it is ordinary when it is a function word
    or written in lower case elsewhere in the story; a lone word seen nowhere else is taken as ordinary
    ("Analysts expect"), the first of several capitalised words as a name ("Angela Merkel met").
    """
    first = tokens[0][0]
    if first in named_words or _ACRONYM.match(first):
        return False
    if first.lower() in _NOT_NAMES or first.lower() in common_words:
        return True
    return len(tokens) == 1


def _mentions_in(sentence: str, named_words: set[str], common_words: set[str]) -> list[Mention]:
    mentions: list[Mention] = []
    for run, at_start in raw_spans(sentence):
        tokens = list(run)
        if at_start and tokens and _common_opener(tokens, named_words, common_words):
            tokens = tokens[1:]
        tokens = [t for t in tokens if t[0].lower() not in _MONTHS_DAYS or len(tokens) > 2]
        while tokens and tokens[-1][0].lower() in _NOT_NAMES and not _ACRONYM.match(tokens[-1][0]):
            tokens = tokens[:-1]
        if not tokens:
            continue
        title_cut = 0
        for k, (token, _, _) in enumerate(tokens):
            if token.lower() in TITLES and k < len(tokens) - 1:
                title_cut = k + 1
        title = " ".join(t[0] for t in tokens[:title_cut]) or None
        if title_cut and tokens[title_cut - 1][0].lower() in ORG_HEADS and title_cut >= 2:
            title = None  # "Security Council Secretary": keep the organisation as its own mention
            org = tokens[: title_cut - 1]
            if org and not all(t[0].lower() in TITLES for t in org):
                mentions.append(_mention(sentence, org, None))
        tokens = tokens[title_cut:]
        if all((t[0].lower() in TITLES or t[0].lower() in _NOT_NAMES) and not _ACRONYM.match(t[0]) for t in tokens):
            continue
        after = _word_after(sentence, tokens[-1][2])
        if _is_demonym(tokens[-1][0]) and after and sentence[tokens[-1][2] :].lstrip(" ,")[:1].islower():
            continue  # "North Korean dictator", "Russian official": an adjective, not a name
        mentions.append(_mention(sentence, tokens, title))
    return mentions


def _mention(sentence: str, tokens: list[tuple[str, int, int]], title: str | None) -> Mention:
    start, end = tokens[0][1], tokens[-1][2]
    surface = _normalise(sentence[start:end])
    acronym_match = re.match(r"\s*\(([A-Z]{2,6}|(?:[A-Z]\.){2,})\)", sentence[end:])
    acronym = _normalise(acronym_match.group(1)) if acronym_match else None
    return Mention(surface, start, end, title, _word_before(sentence, start), _word_after(sentence, end), acronym)


def _split_compounds(surfaces: Counter[str]) -> dict[str, list[str]]:
    """Split a run like "North Korea Kim Jong Un" into names each seen on its own elsewhere."""
    known = {s for s in surfaces if " " in s or surfaces[s] > 0}
    splits: dict[str, list[str]] = {}
    for surface in surfaces:
        words = surface.split()
        if len(words) < 3:
            continue
        # best[i]: a segmentation of words[:i] into known names, fewest pieces first
        best: list[list[str] | None] = [[]] + [None] * len(words)
        for i in range(1, len(words) + 1):
            for j in range(i):
                piece = " ".join(words[j:i])
                prev = best[j]
                if prev is not None and piece in known and piece != surface:
                    option = [*prev, piece]
                    current = best[i]
                    if current is None or len(option) < len(current):
                        best[i] = option
        found = best[len(words)]
        if found and len(found) >= 2 and any(" " in piece for piece in found):
            splits[surface] = found
    return splits


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[0].isupper())


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _spelling_variants(a: str, b: str) -> bool:
    """Same name transliterated differently: one word differs by one letter ("Sergei"/"Sergey")."""
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb) or len(wa) < 2:
        return False
    differing = [(x, y) for x, y in zip(wa, wb, strict=True) if x != y]
    return len(differing) == 1 and min(len(differing[0][0]), len(differing[0][1])) >= 4 and (
        _edit_distance(differing[0][0].lower(), differing[0][1].lower()) <= 1
    )


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _entity_type(names: set[str], mentions: list[Mention], articles_text: str) -> EntityType:
    heads = {n.split()[-1].lower() for n in names}
    if any(n.lower() in COUNTRIES or n.lower() in ("north korea", "south korea", "united states", "united kingdom") for n in names):
        return "place"
    if heads & ORG_HEADS or any(n.lower() in ("reuters", "ap", "afp", "kcna", "un", "nato", "eu") for n in names):
        return "organisation"
    if heads & FACILITY_HEADS:
        return "place"
    if heads & EVENT_HEADS or any(m.before in EVENT_CUES for m in mentions):
        return "event"
    if any(m.title for m in mentions) or any(m.before in ("mr", "mrs", "ms", "dr", "quoted") for m in mentions):
        return "person"
    if any(m.after in ("said", "says", "told", "added", "who") for m in mentions):
        return "person"
    if all(_ACRONYM.match(n) for n in names):
        return "organisation"
    place_votes = sum(m.before in PLACE_PREPOSITIONS for m in mentions)
    if place_votes * 2 >= len(mentions) and place_votes:
        return "place"
    multi = [n for n in names if len(n.split()) >= 2]
    singles = {n for n in names if " " not in n}
    if multi and singles and any(s in m.split() for s in singles for m in multi):
        return "person"  # "Sergei Shoigu" also written "Shoigu": how people are named, not organisations
    return "other"


def index_entities(articles: Sequence[Sequence[str]]) -> EntityIndex:
    """Find and merge entities. ``articles[i]`` is the list of sentences of article ``i``."""
    all_sentences = [s for sentences in articles for s in sentences]
    named_words = _capitalised_inside(all_sentences)
    common_words = {w for s in all_sentences for w in re.findall(r"\b[a-z][a-z'’-]+\b", s)}
    per_sentence: list[list[list[Mention]]] = [
        [_mentions_in(s, named_words, common_words) for s in sentences] for sentences in articles
    ]
    surfaces: Counter[str] = Counter(m.surface for art in per_sentence for sent in art for m in sent)
    splits = _split_compounds(surfaces)
    # replace compound mentions by their pieces (positions are approximated by searching the pieces)
    for art_index, art in enumerate(per_sentence):
        for sent_index, sent in enumerate(art):
            fixed: list[Mention] = []
            for m in sent:
                if m.surface not in splits:
                    fixed.append(m)
                    continue
                sentence = articles[art_index][sent_index]
                cursor = m.start
                for piece in splits[m.surface]:
                    pos = sentence.find(piece, cursor)
                    pos = pos if pos >= 0 else cursor
                    fixed.append(Mention(piece, pos, pos + len(piece), m.title if cursor == m.start else None,
                                         _word_before(sentence, pos), _word_after(sentence, pos + len(piece))))  # fmt: skip
                    cursor = pos + len(piece)
            art[sent_index] = fixed
    surfaces = Counter(m.surface for art in per_sentence for sent in art for m in sent)

    union = _Union()
    for s in surfaces:
        union.find(s)
    # 1. acronyms: "(KCNA)" after a name, or an acronym matching the initials of exactly one name
    acronyms = {s for s in surfaces if _ACRONYM.match(s)}
    for art in per_sentence:
        for sent in art:
            for m in sent:
                if m.acronym:
                    union.union(m.surface, m.acronym)
                    surfaces[m.acronym] += 0
    multi = [s for s in surfaces if len(s.split()) >= 2]
    for acr in acronyms:
        matches = [s for s in multi if _initials(s) == acr]
        if len(matches) == 1:
            union.union(matches[0], acr)
    # 2. transliteration variants
    for k, a in enumerate(multi):
        for b in multi[k + 1 :]:
            if _spelling_variants(a, b):
                union.union(a, b)
    # 2b. the same name with and without a middle initial ("John F. Kerry" / "John Kerry")
    for full in multi:
        bare = " ".join(w for w in full.replace(".", " ").split() if len(w) > 1)
        if bare != full and bare in surfaces:
            union.union(bare, full)
    # 3. a surname or family name on its own, when exactly one multi-word name (group) holds it
    for single in [s for s in surfaces if " " not in s and not _ACRONYM.match(s)]:
        if single.lower() in COUNTRIES:
            continue
        holders = {
            union.find(m) for m in multi
            if single in (m.split()[0], m.split()[-1]) and m.split()[-1].lower() not in _NOT_PERSON_HEADS
        }  # fmt: skip
        holders = {h for h in holders if not any(x.lower() in COUNTRIES for x in _members(union, h, surfaces))}
        if len(holders) == 1:
            union.union(holders.pop(), single)

    groups: dict[str, set[str]] = defaultdict(set)
    for s in surfaces:
        groups[union.find(s)].add(s)
    mentions_by_surface: dict[str, list[Mention]] = defaultdict(list)
    articles_by_surface: dict[str, set[int]] = defaultdict(set)
    for art_index, art in enumerate(per_sentence):
        for sent in art:
            for m in sent:
                mentions_by_surface[m.surface].append(m)
                articles_by_surface[m.surface].add(art_index)
                if m.acronym:
                    articles_by_surface[m.acronym].add(art_index)

    entities: list[Entity] = []
    canonical: dict[str, int] = {}
    ordered = sorted(groups.values(), key=lambda g: (-sum(surfaces[s] for s in g), sorted(g)[0]))
    for names in ordered:
        name = max(names, key=lambda s: (not _ACRONYM.match(s), len(s.split()), surfaces[s], -len(s), s))
        mentions = [m for s in names for m in mentions_by_surface[s]]
        arts = sorted({a for s in names for a in articles_by_surface[s]})
        if not arts:
            continue
        index = len(entities)
        entities.append(Entity(name, tuple(sorted(names - {name})), _entity_type(names, mentions, ""), tuple(arts)))
        for s in names:
            canonical[s] = index
    sentence_entities = tuple(
        tuple(tuple((canonical[m.surface], m.start, m.end) for m in sent if m.surface in canonical) for sent in art)
        for art in per_sentence
    )
    return EntityIndex(tuple(entities), sentence_entities, canonical)


def _members(union: _Union, root: str, surfaces: Counter[str]) -> list[str]:
    return [s for s in surfaces if union.find(s) == root]
