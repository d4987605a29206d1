"""Crash safety: ``newsloom ingest FOLDER`` is SIGKILLed at random moments, restarted, and checked each time.

The corpus is made here: outlets (one folder each) covering the same events, with syndicated copies (near
copies with a republishing note, stored as their own record and linked to the original; exact copies, which
storage folds into the original by content hash) and events told from two angles, so that stories form and
then merge. The real CLI runs in a subprocess over a real SQLite file (WAL) or a PostgreSQL schema.

Each kill freezes the process first (SIGSTOP), asks the database whether the process holds a write
transaction at that moment (the SQLite write lock, or an open PostgreSQL transaction), and then sends SIGKILL:
so a run can say how many kills landed mid-write. After every kill the database must pass its integrity
checks and hold every stored article once, with consistent stories; after the final, uninterrupted run every
file's article is there exactly once and has a story, and ingesting the folder again stores nothing.

``bench/crash.py`` drives the same loop 50 times on a larger corpus.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# --- the corpus -----------------------------------------------------------------------------------------

SYLLABLES = ["ka", "lo", "mer", "tan", "vi", "sor", "del", "pa", "ru", "nek", "bra", "ol", "zen", "fi", "gar", "tu"]
NOUNS = ["bridge", "budget", "treaty", "factory", "railway", "election", "reform", "harbour", "tariff", "vaccine"]
VERBS = ["approves", "rejects", "announces", "delays", "opens", "closes", "expands", "investigates"]
FILLER = ["officials", "said", "the", "plan", "would", "cost", "about", "million", "according", "to", "reports",
          "residents", "expected", "decision", "next", "week", "after", "months", "of", "debate", "council"]
#: Event sentences an outlet takes into its article; its own sentences make every article's text distinct.
EVENT_SENTENCES_PER_ARTICLE = 5
OWN_SENTENCES_PER_ARTICLE = 3


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


@dataclass(frozen=True)
class Event:
    headline: str
    angles: tuple[tuple[str, ...], tuple[str, ...]]  # two sentence pools telling the event from two sides


def _event(rng: random.Random) -> Event:
    a, b, place = _name(rng), _name(rng), _name(rng)
    noun, verb, figure = rng.choice(NOUNS), rng.choice(VERBS), rng.randint(12, 990)
    first = (
        f"{a} {verb} the {noun} in {place} on Tuesday, a decision worth {figure} million that {b} had opposed.",
        f"The {noun} in {place} has divided {a} and {b} for months, and {figure} million is at stake.",
        f"{b} said the {noun} would hurt {place}, while {a} argued it was the only way forward.",
        f"Residents of {place} gathered outside as {a} presented the {noun} plan to reporters.",
        f"Analysts expect the {noun} to reach {place} within two years if {a} keeps its majority.",
        f"{a} first proposed the {noun} for {place} in spring; {b} called a vote against it.",
    )
    second = (
        f"The vote on the {noun} in {place} ended {figure} to {figure // 3}, officials from {a} said.",
        f"Critics in {place} warned that {a} had underestimated the cost of the {noun} by far.",
        f"{b} promised to challenge the {place} {noun} decision in court before the summer.",
        f"Shops in {place} closed early on Tuesday as crowds followed the {noun} debate.",
        f"A spokesperson for {b} called the {figure} million {noun} a gift to {a}'s allies in {place}.",
        f"Engineers hired by {place} said the {noun} could be finished sooner than {a} claims.",
    )
    return Event(f"{a} {verb} {place} {noun}", (first, second))


@dataclass
class Corpus:
    """The generated folder: ``expected`` maps each file's URI to the URI of the article that must hold it."""

    root: Path
    expected: dict[str, str] = field(default_factory=dict)  # file URI -> stored article's canonical URL
    near_copies: int = 0
    exact_copies: int = 0

    @property
    def stored_urls(self) -> set[str]:
        return set(self.expected.values())


def _article_text(outlet: str, author: str, when: datetime, title: str, paragraphs: Sequence[str]) -> str:
    head = [outlet, f"By {author}", when.strftime("%d %B %Y %H:%M UTC"), title, ""]
    return "\n".join(head) + "\n" + "\n\n".join(paragraphs) + "\n"


def make_corpus(
    root: Path, *, outlets: int, events: int, coverage: float = 0.6, seed: int = 7, now: datetime | None = None
) -> Corpus:
    """Write ``outlets`` folders of .txt articles on ``events`` events; deterministic for a seed.

    Each outlet covers about ``coverage`` of the events. Its first articles on an event use one angle, so
    two stories may start for one event, and its later ones mix both angles (which can merge them). About one
    article in eight republishes an earlier outlet's article instead: mostly with a note added (a near copy,
    its own record linked to the original), sometimes verbatim (an exact copy, folded into the original).
    Dates fall within the last two days, inside any story window.
    """
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    corpus = Corpus(root)
    pool = [_event(rng) for _ in range(events)]
    written: list[tuple[str, str, str, datetime]] = []  # (uri, outlet name, paragraphs text, date) of originals
    for outlet in range(outlets):
        name = f"{_name(rng)} Daily News"
        folder = root / f"outlet-{outlet:03d}"
        folder.mkdir(parents=True)
        for number, event in enumerate(pool):
            if rng.random() > coverage:
                continue
            path = folder / f"e{number:04d}.txt"
            uri = path.resolve().as_uri()
            when = now - timedelta(minutes=rng.randint(10, 2 * 24 * 60))
            others = [entry for entry in written if entry[1] != name]  # a copy in its own folder would recur
            if others and rng.random() < 1 / 8:
                original_uri, original_outlet, body, original_when = rng.choice(others)
                if rng.random() < 0.25:
                    corpus.exact_copies += 1
                    path.write_text(_article_text(name, _name(rng), original_when, event.headline, body.split("\n\n")))
                    corpus.expected[uri] = corpus.expected[original_uri]
                    continue
                corpus.near_copies += 1
                note = f"This story was first published by {original_outlet} and is republished with permission."
                path.write_text(_article_text(name, _name(rng), when, event.headline, [*body.split("\n\n"), note]))
                corpus.expected[uri] = uri
                continue
            angle = event.angles[0] if outlet < outlets // 3 else event.angles[outlet % 2]
            sentences = rng.sample(angle, EVENT_SENTENCES_PER_ARTICLE - 2)
            if outlet >= outlets // 2:  # later outlets bridge the two angles
                sentences += rng.sample(event.angles[1 - outlet % 2], 2)
            else:
                sentences += rng.sample([s for s in angle if s not in sentences], 2)
            own = [
                f"{name} reporter {outlet}-{number}-{k}: " + " ".join(rng.choice(FILLER) for _ in range(16)) + "."
                for k in range(OWN_SENTENCES_PER_ARTICLE)
            ]
            paragraphs = sentences + own
            rng.shuffle(paragraphs)
            title = f"{event.headline} as {rng.choice(FILLER)} {rng.choice(FILLER)} wait for outlet {outlet}"
            path.write_text(_article_text(name, _name(rng), when, title, paragraphs))
            corpus.expected[uri] = uri
            written.append((uri, name, "\n\n".join(paragraphs), when))
    return corpus


# --- running the CLI --------------------------------------------------------------------------------------

NEWSLOOM = [sys.executable, "-m", "newsloom.cli"]


def cli_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSLOOM_")}
    env["NEWSLOOM_DATA_DIR"] = str(data_dir)
    if database_url:
        env["NEWSLOOM_DATABASE_URL"] = database_url
    return env


def start_ingest(folder: Path, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [*NEWSLOOM, "ingest", str(folder)], env=dict(env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_ingest(folder: Path, env: Mapping[str, str], timeout_s: float) -> str:
    """Run ``newsloom ingest`` to the end; its output (the last line is the summary)."""
    done = subprocess.run(
        [*NEWSLOOM, "ingest", str(folder)], env=dict(env), capture_output=True, timeout=timeout_s, check=False
    )
    output = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    assert done.returncode == 0, f"ingest failed ({done.returncode}):\n{output[-3000:]}"
    return output


# --- telling whether a frozen process is mid-write --------------------------------------------------------


def sqlite_write_locked(db_path: Path) -> bool | None:
    """Whether another process holds the write lock of this SQLite file (None: no database file yet).

    Opened read-only with no busy timeout: ``BEGIN IMMEDIATE`` fails at once with "database is locked" exactly
    when a writer's transaction is open. The probe never writes (it rolls back at once).
    """
    if not db_path.exists():
        return None
    try:
        probe = sqlite3.connect(f"file:{db_path}?mode=rw", uri=True, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        return None
    finally:
        probe.close()


def postgres_in_transaction(libpq_url: str, pid_of_client: int) -> bool | None:
    """Whether the frozen client holds an open PostgreSQL transaction (any of its backends)."""
    import psycopg

    del pid_of_client  # backends do not know client pids over TCP; the test's schema has no other client
    schema = _search_path(libpq_url)
    try:
        with psycopg.connect(_without_options(libpq_url), autocommit=True, connect_timeout=3) as probe:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend' AND application_name = %s",
                (f"newsloom-crash-{schema}",),
            ).fetchone()
    except psycopg.Error:
        return None
    return bool(row and row[0])


def _search_path(url: str) -> str:
    from sqlalchemy.engine import make_url

    options = str(make_url(url).query.get("options", ""))
    return options.rsplit("=", 1)[-1] if "search_path" in options else ""


def _without_options(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).difference_update_query(["options", "application_name"]).render_as_string(
        hide_password=False
    )


@dataclass
class KillRecord:
    delay_s: float
    phase: str  # "no-database", "mid-write", "between-writes", "exited"
    articles_before: int | None


def kill_at(process: subprocess.Popen[bytes], probe: Any) -> str:
    """Freeze the process, classify the moment with ``probe()``, SIGKILL it; returns the phase."""
    if process.poll() is not None:
        return "exited"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGSTOP)
    try:
        state = probe()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    if state is None:
        return "no-database"
    return "mid-write" if state else "between-writes"


# --- checks -----------------------------------------------------------------------------------------------


def sqlite_rows(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query against the SQLite file (a new connection, as a restarted process would open)."""
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return list(connection.execute(sql))
    finally:
        connection.close()


STORY_CHECKS = {
    "articles of a story count differs from its article_count": (
        "SELECT s.id, s.article_count, count(a.id) FROM stories s LEFT JOIN articles a ON a.story_id = s.id "
        "GROUP BY s.id, s.article_count HAVING s.article_count <> count(a.id)"
    ),
    "article points at a missing story": (
        "SELECT a.id, a.story_id FROM articles a LEFT JOIN stories s ON s.id = a.story_id "
        "WHERE a.story_id IS NOT NULL AND s.id IS NULL"
    ),
    "article points at a merged-away story": (
        "SELECT a.id, a.story_id FROM articles a JOIN story_redirects r ON r.old_id = a.story_id"
    ),
    "redirect leads to a missing story": (
        "SELECT r.old_id, r.new_id FROM story_redirects r LEFT JOIN stories s ON s.id = r.new_id WHERE s.id IS NULL"
    ),
    "merged-away story still exists": "SELECT r.old_id FROM story_redirects r JOIN stories s ON s.id = r.old_id",
    "negative story counts": (
        "SELECT id FROM stories WHERE article_count < 0 OR outlet_count < 0 OR original_count < 0 "
        "OR syndicated_count < 0"
    ),
    "story without articles": "SELECT id FROM stories WHERE article_count = 0",
    "two articles with one canonical URL": (
        "SELECT canonical_url, count(*) FROM articles GROUP BY canonical_url HAVING count(*) > 1"
    ),
    "two articles with one content hash": (
        "SELECT content_hash, count(*) FROM articles GROUP BY content_hash HAVING count(*) > 1"
    ),
    "syndicated copy points at a missing original": (
        "SELECT c.id FROM articles c LEFT JOIN articles o ON o.id = c.original_id "
        "WHERE c.original_id IS NOT NULL AND o.id IS NULL"
    ),
}

FINAL_CHECKS = {
    "article without a story after a completed run": "SELECT id, canonical_url FROM articles WHERE story_id IS NULL",
    "syndicated copy outside its original's story": (
        "SELECT c.id, c.story_id, o.story_id FROM articles c JOIN articles o ON o.id = c.original_id "
        "WHERE c.story_id <> o.story_id"
    ),
}


@dataclass
class DatabaseState:
    articles: dict[str, int]  # canonical URL -> rows with it
    stories: int
    redirects: int
    copies: int


def check_sqlite(db_path: Path, corpus: Corpus, *, final: bool) -> DatabaseState:
    """Integrity, foreign keys, exactly-once and story consistency of the SQLite file; raises AssertionError."""
    assert sqlite_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    assert sqlite_rows(db_path, "PRAGMA foreign_key_check") == []
    return check_rows(lambda sql: sqlite_rows(db_path, sql), corpus, final=final)


def check_rows(rows: Any, corpus: Corpus, *, final: bool) -> DatabaseState:
    tables = {row[0] for row in rows(_TABLES_SQL)}
    if "articles" not in tables:  # killed before the first migration committed
        assert not final, "no articles table after a completed run"
        return DatabaseState({}, 0, 0, 0)
    problems = {name: found for name, sql in STORY_CHECKS.items() if (found := rows(sql)[:5])}
    if final:
        problems |= {name: found for name, sql in FINAL_CHECKS.items() if (found := rows(sql)[:5])}
    assert not problems, problems
    stored: dict[str, int] = {}
    for (url,) in rows("SELECT canonical_url FROM articles"):
        stored[url] = stored.get(url, 0) + 1
    unknown = set(stored) - corpus.stored_urls
    assert not unknown, f"articles that no file should have made: {sorted(unknown)[:5]}"
    if final:
        missing = corpus.stored_urls - set(stored)
        assert not missing, f"{len(missing)} files' articles missing after a completed run: {sorted(missing)[:5]}"
    stories = int(rows("SELECT count(*) FROM stories")[0][0])
    redirects = int(rows("SELECT count(*) FROM story_redirects")[0][0])
    copies = int(rows("SELECT count(*) FROM articles WHERE original_id IS NOT NULL")[0][0])
    return DatabaseState(stored, stories, redirects, copies)


_TABLES_SQL = (
    "SELECT name FROM sqlite_master WHERE type = 'table'"
)
_PG_TABLES_SQL = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"


# --- the loop ---------------------------------------------------------------------------------------------


@dataclass
class CrashRun:
    kills: list[KillRecord] = field(default_factory=list)
    checks_passed: int = 0
    final_output: str = ""
    rerun_output: str = ""
    final_state: DatabaseState | None = None
    seconds: float = 0.0

    def phases(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kill in self.kills:
            counts[kill.phase] = counts.get(kill.phase, 0) + 1
        return counts


def crash_loop(
    corpus: Corpus,
    work: Path,
    *,
    kills: int,
    max_delay_s: float,
    seed: int,
    database_url: str | None = None,
    run_timeout_s: float = 600.0,
) -> CrashRun:
    """Kill ``newsloom ingest`` ``kills`` times after random delays in [0, ``max_delay_s``), checking the database
    after each kill; then let one run finish, check, and ingest again (which must store nothing)."""
    rng = random.Random(seed)
    data_dir = work / "data"
    db_path = data_dir / "newsloom.db"
    env = cli_env(data_dir, database_url)
    log = work / "ingest.log"
    run = CrashRun()
    begun = time.monotonic()
    probe: Any
    check: Any
    if database_url is None:
        probe = lambda: sqlite_write_locked(db_path)  # noqa: E731 - a one-line probe reads best inline
        check = lambda final: check_sqlite(db_path, corpus, final=final)  # noqa: E731
    else:
        pg = PostgresChecker(database_url)
        probe = pg.in_transaction
        check = lambda final: pg.check(corpus, final=final)  # noqa: E731
    for _ in range(kills):
        before = check(False)
        process = start_ingest(corpus.root, env, log)
        delay = rng.uniform(0.0, max_delay_s)
        time.sleep(delay)
        run.kills.append(KillRecord(delay, kill_at(process, probe), len(before.articles)))
        check(False)
        run.checks_passed += 1
    run.final_output = run_ingest(corpus.root, env, run_timeout_s)
    run.final_state = check(True)
    run.checks_passed += 1
    run.rerun_output = run_ingest(corpus.root, env, run_timeout_s)
    after = check(True)
    run.checks_passed += 1
    assert after.articles == run.final_state.articles
    run.seconds = time.monotonic() - begun
    return run


def summary_line(output: str) -> str:
    lines = [line for line in output.splitlines() if " stored, " in line]
    assert lines, f"no summary line in the ingest output:\n{output[-2000:]}"
    return lines[-1]


class PostgresChecker:
    """Checks and the mid-write probe for one PostgreSQL schema (selected by ``search_path`` in the URL)."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.application = f"newsloom-crash-{_search_path(self.url)}"

    def in_transaction(self) -> bool | None:
        return postgres_in_transaction(self.url, 0)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=5) as connection:
            return list(connection.execute(sql))  # type: ignore[arg-type]

    def check(self, corpus: Corpus, *, final: bool) -> DatabaseState:
        # PostgreSQL has no file to corrupt; its integrity check is that the constraints hold, so the foreign
        # keys are checked by query (they are enforced anyway) and the rest is the shared row checks.
        orphans = self.rows(
            "SELECT a.article_id FROM article_sources a LEFT JOIN articles b ON b.id = a.article_id WHERE b.id IS NULL"
        ) if "article_sources" in {r[0] for r in self.rows(_PG_TABLES_SQL)} else []
        assert orphans == []
        return check_rows(self._rows_or_tables, corpus, final=final)

    def _rows_or_tables(self, sql: str) -> list[tuple[Any, ...]]:
        return self.rows(_PG_TABLES_SQL if sql == _TABLES_SQL else sql)


def with_application_name(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)


# --- CI tests ---------------------------------------------------------------------------------------------

#: CI sizes: 8 kills over a corpus that takes a few seconds to ingest (the bench runs 50 over a larger one).
CI_OUTLETS = 12
CI_EVENTS = 25
CI_KILLS = 8


def test_corpus_makes_copies_and_merges(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", outlets=CI_OUTLETS, events=CI_EVENTS)
    assert len(corpus.expected) > 150
    assert corpus.near_copies > 5 and corpus.exact_copies > 0
