"""A small static sentence-embedding model, loaded with numpy only.

The artefact in ``newsloom/data/embeddings/`` is built by ``scripts/build_static_model.py``: every entry of
a vocabulary (the ASCII word pieces of all-MiniLM-L6-v2's WordPiece vocabulary plus a few thousand frequent
English words that WordPiece would split) was run through the transformer once, reduced by whitened PCA
to 256 dimensions and weighted by how rare it is (SIF). Encoding a text is then a table look-up and a sum,
the model2vec recipe: no PyTorch, no download, thousands of documents a second on one core.

As a same-event signal it is weaker than TF-IDF cosine on its own (names and figures, which decide "same
event", blur into their word pieces) but adds to it; see docs/benchmarks/embed.md.

Tokenising mirrors BERT's uncased pre-processing (lower case, accents stripped) but keeps only runs of ASCII
letters and digits: punctuation carries nothing for "same event", and scripts other than Latin are outside
what this English model was built for. A word found whole in the vocabulary is one row; any other word is
split greedily, longest piece first, as WordPiece does.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import chain
from pathlib import Path

import numpy as np
import numpy.typing as npt

from newsloom.errors import InputError

VECTORS_FILE = "vectors.npz"
VOCAB_FILE = "vocab.txt"
META_FILE = "meta.json"
CONTINUATION_PREFIX = "##"

# BERT's WordPiece gives up on longer "words" (they are URLs, hashes or run-together junk) and so do we.
MAX_WORD_CHARS = 100
# Word -> rows memo per embedder. News vocabulary seen in a day is well under this; past it the memo is
# dropped and rebuilt, which costs speed only, never changes a result.
MAX_MEMO_WORDS = 200_000

_WORD_RE = re.compile(r"[a-z0-9]+")
# Unicode's combining-mark blocks. After NFD these are what separates "e" from "é"; removing them strips
# accents as BERT's uncased tokeniser does. Marks of other scripts need no care: only ASCII is kept anyway.
_COMBINING_MARKS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

FloatMatrix = npt.NDArray[np.float32]


def words_of(text: str) -> list[str]:
    """Lower-cased, accent-stripped runs of ASCII letters and digits: the units the vocabulary is keyed on."""
    lowered = text.lower()
    if not lowered.isascii():
        lowered = _COMBINING_MARKS_RE.sub("", unicodedata.normalize("NFD", lowered))
    return _WORD_RE.findall(lowered)


@dataclass(frozen=True)
class Vocabulary:
    """Token -> row maps: ``whole`` for entries that start a word, ``continuation`` for ``##`` pieces."""

    whole: dict[str, int]
    continuation: dict[str, int]

    @classmethod
    def from_tokens(cls, tokens: Sequence[str]) -> Vocabulary:
        whole: dict[str, int] = {}
        continuation: dict[str, int] = {}
        for row, token in enumerate(tokens):
            if token.startswith(CONTINUATION_PREFIX) and len(token) > len(CONTINUATION_PREFIX):
                continuation.setdefault(token[len(CONTINUATION_PREFIX) :], row)
            else:
                whole.setdefault(token, row)
        return cls(whole=whole, continuation=continuation)

    def rows_of_word(self, word: str) -> tuple[int, ...]:
        """The rows one word maps to: itself if known whole, else greedy longest-first pieces; () if unsplittable."""
        row = self.whole.get(word)
        if row is not None:
            return (row,)
        if len(word) > MAX_WORD_CHARS:
            return ()
        rows: list[int] = []
        start = 0
        table = self.whole
        while start < len(word):
            end = len(word)
            found: int | None = None
            while start < end:
                found = table.get(word[start:end])
                if found is not None:
                    break
                end -= 1
            if found is None:
                return ()  # BERT would emit [UNK]; an unknown word says nothing, so it adds nothing
            rows.append(found)
            start = end
            table = self.continuation
        return tuple(rows)


class StaticEmbedder:
    """Sum of per-token vectors, L2-normalised. Immutable apart from a memo that never changes results."""

    def __init__(self, vocabulary: Vocabulary, matrix: FloatMatrix, meta: dict[str, object]) -> None:
        if matrix.ndim != 2 or matrix.dtype != np.float32:
            raise ValueError("matrix must be a 2-D float32 array")
        self._vocabulary = vocabulary
        self._matrix = matrix
        self.meta = meta
        self._memo: dict[str, tuple[int, ...]] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> StaticEmbedder:
        """Load an artefact folder; the default is the one shipped inside the package."""
        folder = path if path is not None else _shipped_folder()
        try:
            tokens = (folder / VOCAB_FILE).read_text(encoding="utf-8").splitlines()
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            with np.load(folder / VECTORS_FILE, allow_pickle=False) as arrays:
                quantised = np.asarray(arrays["matrix"])
                scales = np.asarray(arrays["scales"], dtype=np.float32)
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"cannot load the embedding model from {folder}: {exc}") from exc
        if quantised.ndim != 2 or quantised.shape[0] != len(tokens) or scales.shape != (len(tokens),):
            raise InputError(
                f"embedding model in {folder} is inconsistent: {quantised.shape} matrix, "
                f"{scales.shape} scales, {len(tokens)} tokens"
            )
        # Stored int8 with one scale per row (size); widened once here so encoding is a plain gather-and-sum.
        matrix = quantised.astype(np.float32) * scales[:, None]
        return cls(Vocabulary.from_tokens(tokens), np.ascontiguousarray(matrix), dict(meta))

    @property
    def dim(self) -> int:
        return int(self._matrix.shape[1])

    def rows_of(self, text: str) -> list[int]:
        """Vocabulary rows of a text, in order (exposed for inspection and tests)."""
        words = words_of(text)
        memo = self._memo
        unseen = set(words).difference(memo)
        if unseen:
            if len(memo) + len(unseen) > MAX_MEMO_WORDS:
                memo.clear()
                unseen = set(words)
            for word in unseen:
                memo[word] = self._vocabulary.rows_of_word(word)
        try:
            # set difference and map/chain run in C: ~3x faster than a Python loop over the words
            return list(chain.from_iterable(map(memo.__getitem__, words)))
        except KeyError:  # another thread cleared the memo in between: same rows, computed directly
            return [row for word in words for row in self._vocabulary.rows_of_word(word)]

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """One L2-normalised float32 row per text; a text with no known word gets a zero row."""
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for index, text in enumerate(texts):
            rows = self.rows_of(text)
            if rows:
                out[index] = self._matrix[rows].sum(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


def _shipped_folder() -> Path:
    return Path(str(resources.files("newsloom") / "data" / "embeddings"))


def default_embedder() -> StaticEmbedder | None:
    """The shipped model, or None when the artefact is not installed (callers then skip the dense signal)."""
    folder = _shipped_folder()
    if not all((folder / name).is_file() for name in (VECTORS_FILE, VOCAB_FILE, META_FILE)):
        return None
    return StaticEmbedder.load(folder)
