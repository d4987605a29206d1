"""Syndicated copies: the same wire story or article republished on other sites.

Pure: no I/O, no clock, no process-global state; every result is a function of the texts and dates given.

Two keys:

- ``content_hash``: exact duplicates after ``normalize_text`` (the same text with other quotes, dashes,
  spacing or case);
- ``NearDuplicateIndex``: near duplicates. A copy shares most of its word 5-grams ("shingles") with the
  original even after small edits, a different intro line, appended outlet chrome or a trimmed ending, while
  two outlets' own reports of one event share names, stock phrases and quotations. So quotations are left
  out (``narrative_words``) and the measure is the overlap coefficient (containment) |A ∩ B| / min(|A|, |B|)
  of the remaining shingles: Jaccard would punish a copy that keeps only the first third of the original
  (Jaccard 0.3, containment 1.0). Candidates come from datasketch's MinHash LSH, tuned wide (see
  ``LSH_BANDS``), and each is verified on the exact shingle sets (about 3 KB per 700-word article).
  Texts under ``MIN_WORDS`` narrative words match only when their words are identical.

How the constants were chosen is written next to them; the measurements are in docs/benchmarks/dedupe.md and
are reproduced by bench/dedupe.py.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from datasketch import LeanMinHash

# --- text normalisation -------------------------------------------------------------------------------

# Typographic variants that differ between a wire story and its copies without changing a word.
_FOLDED = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", ""),  # soft hyphen, zero-width characters
}
# A regular expression finds the few characters to fold: str.translate with a dict costs ~0.1 us a
# character (it dominated content_hash at 360 us for an 800-word article).
_FOLDABLE = re.compile("[" + "".join(_FOLDED) + "]")
# Words are runs of anything but ASCII punctuation and whitespace (non-ASCII letters, digits and CJK runs
# stay words, as with regex \w+). Splitting UTF-8 bytes on this table is ~10x faster than re.findall(r"\w+"),
# and no ASCII byte occurs inside a multi-byte UTF-8 sequence, so the words stay valid UTF-8.
_SEPARATOR_BYTES = bytes(range(0x21, 0x30)) + bytes(range(0x3A, 0x41)) + bytes(range(0x5B, 0x61)) + bytes(range(0x7B, 0x7F))
_TO_SPACE = bytes.maketrans(_SEPARATOR_BYTES + b"\t\n\r\x0b\x0c", b" " * (len(_SEPARATOR_BYTES) + 5))
_SPACE = 0x20
# A quotation, found before quotes are folded so that an opening mark can be told from a closing one: from
# an opening mark (“ „ « or the `` of tokenised corpora; " opens and closes) to its closing mark or the end of
# the paragraph (news style opens every paragraph of a long quote and closes only the last one).
_QUOTATION = re.compile(r"“[^”\n]*(?:”|\n|$)|„[^“”\n]*(?:[“”]|\n|$)|«[^»\n]*(?:»|\n|$)|``[^\n]*?(?:''|\n|$)|\"[^\"\n]*(?:\"|\n|$)")


def _fold_marks(text: str) -> str:
    return _FOLDABLE.sub(lambda match: _FOLDED[match.group()], text)


def _fold(text: str) -> str:
    """NFKC, then typographic quotes and dashes to ASCII and invisible characters removed."""
    return _fold_marks(unicodedata.normalize("NFKC", text))


def normalize_text(text: str) -> str:
    """Unicode NFKC, quotes and dashes folded to ASCII, invisible characters dropped, whitespace collapsed, casefolded."""
    return " ".join(_fold(text).split()).casefold()  # str.split() splits on all Unicode whitespace


def content_hash(text: str) -> str:
    """SHA-256 (hex) of ``normalize_text(text)``: the exact-duplicate key stored with every article."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def narrative_words(text: str) -> list[str]:
    """The normalised words outside quotations: what ``NearDuplicateIndex`` compares.

    Quotations are what independent reports legitimately share word for word (a statement, a tweet); a copy
    shares the narrative around them too.
    """
    return _narrative_bytes(text).decode("utf-8").split()


def _word_bytes(folded: str) -> bytes:
    return folded.casefold().encode("utf-8").translate(_TO_SPACE)


def _narrative_bytes(text: str) -> bytes:
    return _word_bytes(_fold_marks(_QUOTATION.sub("\n", unicodedata.normalize("NFKC", text))))


# --- constants (see docs/benchmarks/dedupe.md for the measurements) -----------------------------------------

# Word 5-grams. Measured (bench/dedupe.py) on 61 real articles (extraction ground truth) and same-story pairs
# of ECB+, AllSides and the seed pair: with 5% of words replaced a copy keeps containment >= 0.74 (3-grams
# 0.83, 4-grams 0.79, 6-grams 0.69), while the seed pair scores 0.24 / 0.17 / 0.13 / 0.09 with 3/4/5/6-grams.
# 5 leaves the widest gap between the two; 6 loses more to edits than it gains.
SHINGLE_SIZE = 5

# Containment at or above which a text is a copy. Synthetic copies of real articles (5-grams, exact):
# 5% of words replaced min 0.74; intro added / chrome appended / trimmed to 60% or 30%: 1.0; intro + 70% +
# 3% edits + chrome at once: median 0.72, p5 0.58 (a harsh case: edits spread uniformly). Independent
# reports: the seed pair 0.13; AllSides leads quoting one tweet or statement 0.51-0.62 before quotations
# were left out, <= 0.30 after; ECB+ outlets' own rewrites of one wire story 0.40-0.60 (e.g. two Oscar-host
# reports sharing a press release 0.59), while copies of one AP/AFP text with light edits sit at 0.65-1.0.
# 0.65 is the lowest value that keeps every independent report we read below it.
CONTAINMENT_THRESHOLD = 0.65

# 128 MinHash values feed the LSH bands (64 bands x 2 rows); a signature costs 512 bytes per article.
NUM_PERM = 128

# LSH bands of 2 rows: a pair becomes a candidate with probability 1 - (1 - J^2)^bands. 64 bands find a copy
# trimmed to 30% (Jaccard ~0.27) 99% of the time and pairs at Jaccard 0.4 always, while unrelated texts
# (Jaccard < 0.02) almost never collide; candidates are verified exactly, so a wide net only costs time.
LSH_ROWS = 2
LSH_BANDS = 64

# Below this many narrative words containment is not trusted: a 30-word lead shares most of its shingles
# with every report built on the same statement, and one changed word moves the score by 0.2. Such texts
# are linked only when their words are identical (after normalisation). Measured: AllSides headline+lead
# items (about 90 words) that quote one tweet fall under 40 narrative words once the quote is left out.
MIN_WORDS = 40

# Fixed seed for the permutations: the same text gets the same signature in every process and run.
PERMUTATION_SEED = 20250321

_U64 = np.uint64
_MIX_MULTIPLIER = _U64(0x9E3779B97F4A7C15)  # golden-ratio constant, combines word hashes into a shingle hash
_HASH_BASE_INT = 0x100000001B3  # FNV-1a 64-bit prime: odd, so invertible modulo 2^64
_HASH_BASE = _U64(_HASH_BASE_INT)
_HASH_BASE_INVERSE = _U64(pow(_HASH_BASE_INT, -1, 2**64))

Signature = npt.NDArray[np.uint32]
Shingles = npt.NDArray[np.uint32]
_NO_SHINGLES: Shingles = np.zeros(0, dtype=np.uint32)


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    published: datetime | None
    sequence: int  # insertion order: breaks ties between equal (or missing) dates
    words_key: str  # hash of the normalised word sequence: exact-duplicate lookup for any length
    signature: Signature | None  # None for short texts (exact matching only)
    shingles: Shingles  # sorted distinct shingle hashes (empty for short texts)
    shingle_count: int

    def order(self) -> tuple[bool, datetime, int]:
        """Earliest published first; undated after dated ones; ties go to the first added."""
        return (self.published is None, self.published or datetime.min.replace(tzinfo=UTC), self.sequence)


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the index compares of one text (``NearDuplicateIndex.sketch``): pure, picklable."""

    words_key: str
    signature: Signature | None
    shingles: Shingles
    shingle_count: int


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _splitmix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Finaliser of SplitMix64: spreads structured 64-bit values over all bits (uint64 arithmetic wraps)."""
    values = (values ^ (values >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> _U64(27))) * _U64(0x94D049BB133111EB)
    return values ^ (values >> _U64(31))


def _power_table(base: np.uint64, length: int) -> npt.NDArray[np.uint64]:
    table = np.empty(length, dtype=np.uint64)
    table[0] = 1
    with np.errstate(over="ignore"):
        np.cumprod(np.full(length - 1, base, dtype=np.uint64), out=table[1:])
    return table


# Powers of the hash base for texts up to 64 KiB (1 MiB of constants): a 5,000-character article would
# otherwise spend a third of its hashing time recomputing them. Longer texts compute their own.
_POWERS_LENGTH = 1 << 16
_POWERS = _power_table(_HASH_BASE, _POWERS_LENGTH)
_INVERSE_POWERS = _power_table(_HASH_BASE_INVERSE, _POWERS_LENGTH)


def _powers(length: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    if length <= _POWERS_LENGTH:
        return _POWERS[:length], _INVERSE_POWERS[:length]
    return _power_table(_HASH_BASE, length), _power_table(_HASH_BASE_INVERSE, length)


def _word_hashes(data: bytes) -> npt.NDArray[np.uint64]:
    """A 64-bit polynomial hash of every space-separated word of ``data``, computed with array arithmetic.

    With prefix sums P[i] = sum(byte[j] * M^j for j < i), the word data[s:e] hashes to (P[e] - P[s]) * M^-s,
    which is sum(byte[s + j] * M^j): the same for the same word wherever it occurs (M is odd, so M^-1 exists
    modulo 2^64). One pass of numpy instead of a Python call per word.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    in_word = np.empty(len(raw) + 2, dtype=bool)
    in_word[0] = in_word[-1] = False
    np.not_equal(raw, _SPACE, out=in_word[1:-1])
    edges = np.flatnonzero(in_word[1:] != in_word[:-1])
    starts, ends = edges[0::2], edges[1::2]
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64)
    powers, inverse = _powers(len(raw))
    with np.errstate(over="ignore"):  # arithmetic modulo 2^64 on purpose
        prefix = np.zeros(len(raw) + 1, dtype=np.uint64)
        np.cumsum(raw * powers, out=prefix[1:])
        hashes: npt.NDArray[np.uint64] = (prefix[ends] - prefix[starts]) * inverse[starts]
    return hashes


class NearDuplicateIndex:
    """Finds the earliest original of a syndicated copy among the texts added so far.

    ``threshold`` is the estimated containment (overlap coefficient of word shingles) at which two texts
    count as copies of one another. Keys are the caller's (article ids as strings). Not thread-safe.
    """

    def __init__(
        self,
        *,
        threshold: float = CONTAINMENT_THRESHOLD,
        num_perm: int = NUM_PERM,
        shingle_size: int = SHINGLE_SIZE,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if shingle_size < 1:
            raise ValueError("shingle_size must be at least 1")
        if num_perm < 2 * LSH_ROWS:
            raise ValueError(f"num_perm must be at least {2 * LSH_ROWS}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        rng = np.random.default_rng(PERMUTATION_SEED)
        # Affine maps x -> a*x + b (mod 2^32) with odd a are permutations of the 32-bit hash space; the
        # shingle hashes are SplitMix-mixed first, so these cheap maps behave as independent permutations.
        self._mult = (rng.integers(0, 2**32, num_perm, dtype=np.uint64) | _U64(1)).astype(np.uint32)
        self._add = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)
        bands = min(LSH_BANDS, num_perm // LSH_ROWS)
        # Imported here: datasketch pulls in scipy, a second of start-up that commands without an index skip.
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(num_perm=num_perm, params=(bands, LSH_ROWS))
        self._entries: dict[str, _Entry] = {}
        self._by_words: dict[str, list[str]] = {}
        self._sequence = 0
        # Intake asks find_original(text) and then add(key, text) for each article: the second call reuses
        # the first one's sketch (a third of the index's cost per article) instead of hashing the text again.
        self._last_sketch: tuple[str, Sketch] | None = None
        # ... and then similar(text): the LSH candidates of that sketch, kept until the index changes
        self._last_candidates: tuple[Sketch, list[str]] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def add(self, key: str, text: str, published: datetime | None) -> None:
        """Index ``text`` under ``key`` (replacing what ``key`` held before)."""
        self._last_candidates = None
        if key in self._entries:
            self.remove(key)
        sketch = self._sketch(text)
        self._sequence += 1
        entry = _Entry(
            key, _as_utc(published), self._sequence, sketch.words_key, sketch.signature, sketch.shingles, sketch.shingle_count
        )
        self._entries[key] = entry
        if sketch.shingle_count == 0:
            return  # no words: nothing can be a copy of it
        self._by_words.setdefault(entry.words_key, []).append(key)
        if entry.signature is not None:
            self._lsh.insert(key, self._lean(entry.signature), check_duplication=False)

    def remove(self, key: str) -> None:
        """Forget ``key``; unknown keys are ignored, so removing twice is harmless."""
        self._last_candidates = None
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        same_words = self._by_words.get(entry.words_key)
        if same_words is not None and key in same_words:
            same_words.remove(key)
            if not same_words:
                del self._by_words[entry.words_key]
        if entry.signature is not None and entry.shingle_count > 0:
            self._lsh.remove(key)

    def find_original(self, text: str, published: datetime | None) -> str | None:
        """Key of the earliest indexed text that ``text`` is a copy of (or that is a copy of it).

        "Earliest" is by ``published``, ties (and undated texts) by the order they were added. Returns None
        when nothing matches, or when ``text`` itself was published strictly before every match: then it is
        the original, and ``duplicates`` lists the later copies a caller may want to re-link.
        """
        matches = self._matching_entries(text)
        if not matches:
            return None
        earliest = min(matches, key=_Entry.order)
        when = _as_utc(published)
        if when is not None and earliest.published is not None and when < earliest.published:
            return None
        return earliest.key

    def duplicates(self, text: str) -> list[str]:
        """Keys of every indexed near-duplicate of ``text``, earliest first."""
        return [entry.key for entry in sorted(self._matching_entries(text), key=_Entry.order)]

    def similar(self, text: str, min_containment: float) -> list[tuple[str, float]]:
        """Keys of indexed texts sharing at least ``min_containment`` of their shingles with ``text``, each with
        the exact containment, highest first. For partial reuse below the copy threshold (rewrites): the LSH
        net finds pairs from Jaccard ~0.2 on (``LSH_BANDS``), so very low values miss candidates."""
        sketch = self._sketch(text)
        if sketch.shingle_count == 0 or sketch.signature is None:
            return [(key, 1.0) for key in self._by_words.get(sketch.words_key, ())]
        found = {key: 1.0 for key in self._by_words.get(sketch.words_key, ())}
        for key in self._candidates(sketch):
            if key not in found:
                score = self._containment(sketch, self._entries[key])
                if score >= min_containment:
                    found[key] = score
        return sorted(found.items(), key=lambda item: (-item[1], self._entries[item[0]].sequence))

    def sketch(self, text: str) -> Sketch:
        """The sketch of ``text`` under this index's parameters (a pure function of the text)."""
        return self._new_sketch(text)

    def prime(self, text: str, sketch: Sketch) -> None:
        """Take ``sketch`` (made from ``text`` with these parameters, e.g. in another process) as the sketch of
        ``text`` for the next calls, instead of computing it again."""
        self._last_sketch = (text, sketch)

    # --- internals ------------------------------------------------------------------------------------

    def _matching_entries(self, text: str) -> list[_Entry]:
        sketch = self._sketch(text)
        if sketch.shingle_count == 0:
            return []
        found = {key: self._entries[key] for key in self._by_words.get(sketch.words_key, ())}
        if sketch.signature is not None:
            for key in self._candidates(sketch):
                entry = self._entries[key]
                if key not in found and self._containment(sketch, entry) >= self.threshold:
                    found[key] = entry
        return list(found.values())

    def _candidates(self, sketch: Sketch) -> list[str]:
        """The LSH candidates of a long text's sketch (datasketch's query: ~0.1 ms in Python, once per text)."""
        last = self._last_candidates
        if last is not None and last[0] is sketch:
            return last[1]
        assert sketch.signature is not None
        found = list(self._lsh.query(self._lean(sketch.signature)))
        self._last_candidates = (sketch, found)
        return found

    def _containment(self, sketch: Sketch, entry: _Entry) -> float:
        """Exact overlap coefficient of the two shingle sets (sorted, distinct: one merge, ~20 us)."""
        shared = np.intersect1d(sketch.shingles, entry.shingles, assume_unique=True).size
        return shared / min(len(sketch.shingles), len(entry.shingles))

    def _lean(self, signature: Signature) -> LeanMinHash:
        from datasketch import LeanMinHash

        return LeanMinHash(seed=PERMUTATION_SEED, hashvalues=signature, scheme="affine32")

    def _sketch(self, text: str) -> Sketch:
        last = self._last_sketch
        if last is not None and last[0] == text:
            return last[1]
        sketch = self._new_sketch(text)
        self._last_sketch = (text, sketch)
        return sketch

    def _new_sketch(self, text: str) -> Sketch:
        composed = unicodedata.normalize("NFKC", text)
        words = _word_bytes(_fold_marks(composed)).split()
        words_key = hashlib.blake2b(b" ".join(words), digest_size=16).hexdigest()
        if not words:
            return Sketch(words_key, None, _NO_SHINGLES, 0)
        narrative = _word_hashes(_word_bytes(_fold_marks(_QUOTATION.sub("\n", composed))))
        if len(narrative) < MIN_WORDS:
            return Sketch(words_key, None, _NO_SHINGLES, len(words))
        shingles: Shingles = np.unique(self._shingle_hashes(narrative).astype(np.uint32))
        permuted = np.empty((len(shingles), self.num_perm), dtype=np.uint32)
        with np.errstate(over="ignore"):  # modular arithmetic on purpose
            np.multiply(shingles[:, None], self._mult[None, :], out=permuted)
            np.add(permuted, self._add[None, :], out=permuted)
        signature: Signature = permuted.min(axis=0)
        return Sketch(words_key, signature, shingles, len(shingles))

    def _shingle_hashes(self, word_hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        """64-bit hashes of the word ``shingle_size``-grams (the whole text when it is shorter)."""
        size = min(self.shingle_size, len(word_hashes))
        count = len(word_hashes) - size + 1
        with np.errstate(over="ignore"):
            combined = word_hashes[:count].copy()
            for offset in range(1, size):
                combined = combined * _MIX_MULTIPLIER + word_hashes[offset : offset + count]
            mixed: npt.NDArray[np.uint64] = _splitmix64(combined)
        return mixed
