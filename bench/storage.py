"""Storage overhead against the bare database driver, on SQLite and PostgreSQL.

Prints ratios measured in the same run, so machine speed cancels out:

* ingest: ``Storage.add_article`` (dedupe look-ups, source link, full-text index, one transaction each) vs the
  driver inserting the same columns into a plain table with a unique URL, one commit each;
* re-ingest: ``add_article`` of articles already stored (the idempotent path every poll takes) vs the same
  reference insert;
* search: ``Storage.search`` (FTS5 / tsvector, best 20) vs the driver's ``LIKE '%word%'`` scan (first 20);
* listing: ``Storage.list_articles`` (newest 50, with sources) vs the driver's ``ORDER BY ... LIMIT 50``.

Articles come from a JSON Lines file with ``title`` and ``text`` (e.g. ../shared/data/clustering/allsides-dev.jsonl);
without one, synthetic articles are generated.

Usage: .venv/bin/python bench/storage.py [DATA.jsonl] [--articles 2000] [--queries 50] [--engine both]
       [--pg-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from newsloom.storage import Storage, open_storage
from newsloom.types import NewArticle

T0 = datetime(2024, 1, 1, tzinfo=UTC)
REFERENCE_TABLE = """CREATE TABLE ref_articles (id SERIAL PRIMARY KEY, canonical_url TEXT UNIQUE NOT NULL,
    title TEXT, text TEXT NOT NULL, content_hash TEXT NOT NULL, published_at TEXT NOT NULL)"""


def load_articles(path: str | None, count: int) -> list[NewArticle]:
    rows: list[tuple[str, str]] = []
    if path:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                rows.append((record.get("title") or "", record.get("text") or ""))
                if len(rows) >= count:
                    break
    rng = random.Random(7)
    vocabulary = [f"word{n}" for n in range(5000)]
    while len(rows) < count:
        rows.append((" ".join(rng.choices(vocabulary, k=8)), " ".join(rng.choices(vocabulary, k=400))))
    return [
        NewArticle(
            canonical_url=f"https://bench.example/{n}",
            title=title,
            text=text,
            content_hash=hashlib.sha1(f"{n}:{text}".encode()).hexdigest(),
            published_at=T0 + timedelta(minutes=n),
        )
        for n, (title, text) in enumerate(rows)
    ]


def query_words(articles: list[NewArticle], count: int) -> list[str]:
    rng = random.Random(11)
    words = [w for a in articles for w in re.findall(r"\w{5,}", a.title or "")]
    return rng.sample(words, min(count, len(words)))


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


class Reference:
    """The bare driver doing the same work without newsloom's logic."""

    def __init__(self, connect: Callable[[], object], placeholder: str, like: str) -> None:
        self.connection = connect()
        self.p = placeholder
        self.like = like
        self.execute(REFERENCE_TABLE if placeholder == "%s" else REFERENCE_TABLE.replace("SERIAL", "INTEGER"))
        self.commit()

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        cursor = self.connection.execute(sql, params)  # type: ignore[attr-defined]
        return list(cursor.fetchall()) if cursor.description else []

    def commit(self) -> None:
        self.connection.commit()  # type: ignore[attr-defined]

    def ingest(self, articles: list[NewArticle]) -> None:
        p = self.p
        sql = (f"INSERT INTO ref_articles (canonical_url, title, text, content_hash, published_at) "
               f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (canonical_url) DO NOTHING")
        for a in articles:
            self.execute(sql, (a.canonical_url, a.title, a.text, a.content_hash, str(a.published_at)))
            self.commit()

    def search(self, words: list[str]) -> None:
        for word in words:
            self.execute(f"SELECT * FROM ref_articles WHERE title {self.like} {self.p} OR text {self.like} {self.p} "
                         "LIMIT 20", (f"%{word}%", f"%{word}%"))
        self.commit()

    def listing(self, pages: int) -> None:
        for page in range(pages):
            self.execute(f"SELECT * FROM ref_articles ORDER BY published_at DESC, id DESC LIMIT 50 OFFSET {page * 50}")
        self.commit()


def with_newsloom(storage: Storage, articles: list[NewArticle], words: list[str], pages: int) -> dict[str, float]:
    source, _ = storage.add_source("https://bench.example/feed", now=T0)

    def ingest() -> None:
        for a in articles:
            storage.add_article(a, source_id=source.id, now=T0 + timedelta(days=30))

    def search() -> None:
        for word in words:
            storage.search(word)

    def listing() -> None:
        for page in range(pages):
            storage.list_articles(limit=50, offset=page * 50)

    return {"ingest": timed(ingest), "re-ingest": timed(ingest), "search": timed(search), "listing": timed(listing)}


def with_reference(reference: Reference, articles: list[NewArticle], words: list[str], pages: int) -> dict[str, float]:
    ingest = timed(lambda: reference.ingest(articles))
    return {"ingest": ingest, "re-ingest": timed(lambda: reference.ingest(articles)),
            "search": timed(lambda: reference.search(words)), "listing": timed(lambda: reference.listing(pages))}


@contextmanager
def sqlite_pair() -> Iterator[tuple[Storage, Reference]]:
    with tempfile.TemporaryDirectory() as tmp:
        storage = open_storage(f"sqlite:///{Path(tmp) / 'newsloom.db'}")

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(Path(tmp) / "reference.db")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # as newsloom's connections
            return connection

        reference = Reference(connect, "?", "LIKE")
        try:
            yield storage, reference
        finally:
            storage.close()
            reference.connection.close()  # type: ignore[attr-defined]


@contextmanager
def postgres_pair(url: str) -> Iterator[tuple[Storage, Reference]]:
    schema = f"newsloom_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in url else "?"
        storage = open_storage(f"{url}{separator}options=-csearch_path%3D{schema}")
        reference = Reference(lambda: psycopg.connect(url, options=f"-csearch_path={schema}"), "%s", "ILIKE")
        try:
            yield storage, reference
        finally:
            storage.close()
            reference.connection.close()  # type: ignore[attr-defined]
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", help="JSON Lines file with title and text per line")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    articles = load_articles(args.data, args.articles)
    words = query_words(articles, args.queries)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    print(f"{len(articles)} articles, {len(words)} one-word queries, {args.pages} listing pages")
    for engine in engines:
        pair = sqlite_pair() if engine == "sqlite" else postgres_pair(args.pg_url)
        with pair as (storage, reference):
            ours = with_newsloom(storage, articles, words, args.pages)
            theirs = with_reference(reference, articles, words, args.pages)
        print(f"\n{engine}:")
        print(f"  {'what':<10} {'reference':>14} {'newsloom':>14} {'ratio':>7}")
        for what, count in (("ingest", len(articles)), ("re-ingest", len(articles)), ("search", len(words)),
                            ("listing", args.pages)):
            ref_ms, our_ms = theirs[what] / count * 1000, ours[what] / count * 1000
            print(f"  {what:<10} {ref_ms:>11.3f} ms {our_ms:>11.3f} ms {ours[what] / theirs[what]:>7.2f}")


if __name__ == "__main__":
    main()
