"""Feed parsing throughput: newsloom's parse_feed against plain feedparser.parse(bytes), in the same run.

    .venv/bin/python bench/feeds.py ../shared/data/feeds [--rounds 3]

Every feed file under DATA_DIR (recursively; MANIFEST.tsv skipped) is parsed ``rounds`` times by each side,
interleaved file by file so that load from other processes hits both alike. feedparser gets the same bytes
(gzip bodies decompressed first, since it cannot read them). Prints items/s for both and their ratio;
absolute numbers drift on shared machines, the ratio is what to compare.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import feedparser

from newsloom.errors import FeedParseError
from newsloom.ingest.feeds import parse_feed

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".json"}


def load(data_dir: Path) -> list[tuple[Path, bytes]]:
    files = sorted(p for p in data_dir.rglob("*") if p.is_file() and p.suffix in FEED_SUFFIXES)
    return [(p, p.read_bytes()) for p in files]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    documents = load(args.data_dir)
    if not documents:
        print(f"no feed files under {args.data_dir}", file=sys.stderr)
        return 2

    ours_s = theirs_s = 0.0
    ours_items = theirs_items = failures = 0
    per_file: list[tuple[float, float, str]] = []
    for path, content in documents:
        plain = gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content
        file_ours = file_theirs = 0.0
        for _ in range(args.rounds):
            start = time.perf_counter()
            try:
                ours_items += len(parse_feed(content, url=f"https://feeds.example/{path.name}").items)
            except FeedParseError:
                failures += 1
            file_ours += time.perf_counter() - start
            start = time.perf_counter()
            theirs_items += len(feedparser.parse(plain).entries)
            file_theirs += time.perf_counter() - start
        ours_s += file_ours
        theirs_s += file_theirs
        per_file.append(
            (file_ours / file_theirs if file_theirs else 0.0, file_ours, str(path.relative_to(args.data_dir)))
        )

    ours_rate = ours_items / ours_s
    theirs_rate = theirs_items / theirs_s
    print(f"files: {len(documents)}  rounds: {args.rounds}  parse failures: {failures // args.rounds}")
    print(f"newsloom parse_feed      : {ours_items:6d} items in {ours_s:7.2f} s = {ours_rate:8.0f} items/s")
    print(
        f"feedparser.parse(bytes)  : {theirs_items:6d} items in {theirs_s:7.2f} s = {theirs_rate:8.0f} items/s"
    )
    print(f"ratio (newsloom / feedparser items/s): {ours_rate / theirs_rate:.2f}")
    print("slowest relative to feedparser:")
    for ratio, seconds, name in sorted(per_file, reverse=True)[:5]:
        print(f"  {name:50s} {ratio:5.2f}x time  ({seconds / args.rounds * 1000:.0f} ms per parse)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
