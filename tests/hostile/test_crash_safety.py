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
import functools
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.storage.conftest import fresh_pg_schema

# --- the corpus -----------------------------------------------------------------------------------------

SYLLABLES = ["ka", "lo", "mer", "tan", "vi", "sor", "del", "pa", "ru", "nek", "bra", "ol", "zen", "fi", "gar", "tu"]
NOUNS = ["bridge", "budget", "treaty", "factory", "railway", "election", "reform", "harbour", "tariff", "vaccine"]
VERBS = ["approves", "rejects", "announces", "delays", "opens", "closes", "expands", "investigates"]
FILLER = ["officials", "said", "the", "plan", "would", "cost", "about", "million", "according", "to", "reports",
          "residents", "expected", "decision", "next", "week", "after", "months", "of", "debate", "council"]
#: Event sentences an outlet takes into its article; its own sentences make every article's text distinct.
EVENT_SENTENCES_PER_ARTICLE = 5
OWN_SENTENCES_PER_ARTICLE = 3
#: Share of articles that republish another outlet's article on the same event, and the share of those that
#: are verbatim (the rest add a note): enough of both kinds in a corpus of 50 files.
COPY_SHARE = 0.2
EXACT_COPY_SHARE = 0.3
#: Sentences of the other angle in a bridging article.
BRIDGING_SENTENCES = 2


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


@dataclass(frozen=True)
class Event:
    headline: str
    angles: tuple[tuple[str, ...], tuple[str, ...]]  # two sentence pools telling the event from two sides


def _event(rng: random.Random) -> Event:
    """An event told from two angles, each a pool of sentences over words of its own.

    Events share no words but common ones (as real events share few rare words), so each forms its own story;
    the two angles of one event share only its place and actors: an article of one angle may start a story of
    its own, and a later article mixing both angles links the two (a merge).
    """
    a, b, place = _name(rng), _name(rng), _name(rng)
    noun, verb = rng.choice(NOUNS), rng.choice(VERBS)
    angles = []
    for actor in (a, b):
        words = [_name(rng).lower() for _ in range(10)]
        angles.append(tuple(
            f"{actor} said the {noun} in {place} " + " ".join(rng.sample(words, 7)) + f" {rng.choice(FILLER)}."
            for _ in range(6)
        ))
    return Event(f"{a} {verb} {place} {noun}", (angles[0], angles[1]))


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

    Each outlet covers about ``coverage`` of the events (see ``_event`` for the two angles). A share
    ``COPY_SHARE`` of the articles republishes an earlier outlet's article on the same event instead: mostly
    with a note added (a near copy, its own record linked to the original), sometimes verbatim (an exact copy,
    which storage folds into the original by content hash). Dates fall within the last two days, inside any
    story window.
    """
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    corpus = Corpus(root)
    pool = [_event(rng) for _ in range(events)]
    # per event, the originals written so far: (uri, outlet name, title, paragraphs text, date)
    written: dict[int, list[tuple[str, str, str, str, datetime]]] = {number: [] for number in range(events)}
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
            # A copy replaces the outlet's own article on that event: each folder holds one article per event,
            # so no body line recurs in three files of a folder (which would strip it as site chrome).
            if written[number] and rng.random() < COPY_SHARE:
                original_uri, original_outlet, title, body, original_when = rng.choice(written[number])
                if rng.random() < EXACT_COPY_SHARE:
                    corpus.exact_copies += 1
                    path.write_text(_article_text(name, _name(rng), original_when, title, body.split("\n\n")))
                    corpus.expected[uri] = corpus.expected[original_uri]
                    continue
                corpus.near_copies += 1
                # unique per copy: a note that recurred in 3 files of a folder would be stripped as site chrome
                note = (
                    f"This story was first published by {original_outlet} on {original_when:%d %B at %H:%M} and is "
                    f"republished by {name} under licence {outlet}-{number}."
                )
                path.write_text(_article_text(name, _name(rng), when, title, [*body.split("\n\n"), note]))
                corpus.expected[uri] = uri
                continue
            # The first third of the outlets tells one angle, the second third the other (two stories may
            # start), the last third mixes both (which links them).
            third = min(2, 3 * outlet // outlets)
            angle = event.angles[third % 2]
            sentences = rng.sample(angle, EVENT_SENTENCES_PER_ARTICLE)
            if third == 2:
                sentences[:BRIDGING_SENTENCES] = rng.sample(event.angles[1], BRIDGING_SENTENCES)
            own = [
                f"{name} reporter {outlet}-{number}-{k}: " + " ".join(rng.choice(FILLER) for _ in range(16)) + "."
                for k in range(OWN_SENTENCES_PER_ARTICLE)
            ]
            paragraphs = sentences + own
            rng.shuffle(paragraphs)
            title = f"{event.headline} as {rng.choice(FILLER)} {rng.choice(FILLER)} wait for outlet {outlet}"
            path.write_text(_article_text(name, _name(rng), when, title, paragraphs))
            corpus.expected[uri] = uri
            written[number].append((uri, name, title, "\n\n".join(paragraphs), when))
    return corpus


# --- running the CLI --------------------------------------------------------------------------------------

NEWSLOOM = [sys.executable, "-m", "newsloom.cli"]


def cli_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a CLI run: this data directory (and database), no other NEWSLOOM_* setting."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSLOOM_")}
    env["NEWSLOOM_DATA_DIR"] = str(data_dir)
    if database_url:
        env["NEWSLOOM_DATABASE_URL"] = database_url
    return env


def start_ingest(folder: Path, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [*NEWSLOOM, "ingest", str(folder)], env=dict(env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so one killpg reaches everything it started
        )


def run_ingest(folder: Path, env: Mapping[str, str], timeout_s: float) -> str:
    """Run ``newsloom ingest`` to the end; its output (the summary line is the last of stdout)."""
    done = subprocess.run(
        [*NEWSLOOM, "ingest", str(folder)], env=dict(env), capture_output=True, timeout=timeout_s, check=False
    )
    output = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    assert done.returncode == 0, f"ingest failed ({done.returncode}):\n{output[-3000:]}"
    return output


def summary_counts(output: str) -> tuple[int, int, int]:
    """(stored, already stored, skipped) from the summary line of ``newsloom ingest``."""
    found = re.findall(r"(\d+) stored, (\d+) already stored, (\d+) skipped", output)
    assert found, f"no summary line in the ingest output:\n{output[-2000:]}"
    stored, unchanged, skipped = found[-1]
    return int(stored), int(unchanged), int(skipped)


# --- the databases: probe a frozen process, check after a kill --------------------------------------------

Rows = Callable[[str], list[tuple[Any, ...]]]

#: Phases a kill can land in (``KillRecord.phase``): before the process opened the database (imports, reading
#: the first file), while it created or migrated the schema, inside a write transaction, between transactions
#: (extracting the next file, rebuilding indexes, reading), or after it had already exited.
PHASES = ("starting", "migrating", "mid-write", "between-writes", "exited")

STORY_CHECKS = {
    "a story's article_count differs from the articles pointing at it": (
        "SELECT s.id, s.article_count, count(a.id) FROM stories s LEFT JOIN articles a ON a.story_id = s.id "
        "GROUP BY s.id, s.article_count HAVING s.article_count <> count(a.id)"
    ),
    "an article points at a story that does not exist": (
        "SELECT a.id, a.story_id FROM articles a LEFT JOIN stories s ON s.id = a.story_id "
        "WHERE a.story_id IS NOT NULL AND s.id IS NULL"
    ),
    "an article points at a merged-away story": (
        "SELECT a.id, a.story_id FROM articles a JOIN story_redirects r ON r.old_id = a.story_id"
    ),
    "a redirect leads to a story that does not exist": (
        "SELECT r.old_id, r.new_id FROM story_redirects r LEFT JOIN stories s ON s.id = r.new_id WHERE s.id IS NULL"
    ),
    "a merged-away story still exists": "SELECT r.old_id FROM story_redirects r JOIN stories s ON s.id = r.old_id",
    "negative story counts": (
        "SELECT id FROM stories WHERE article_count < 0 OR outlet_count < 0 OR original_count < 0 "
        "OR syndicated_count < 0"
    ),
    "a story without articles": "SELECT id FROM stories WHERE article_count = 0",
    "two articles with one canonical URL": (
        "SELECT canonical_url, count(*) FROM articles GROUP BY canonical_url HAVING count(*) > 1"
    ),
    "two articles with one content hash": (
        "SELECT content_hash, count(*) FROM articles GROUP BY content_hash HAVING count(*) > 1"
    ),
    "a syndicated copy points at a missing original": (
        "SELECT c.id FROM articles c LEFT JOIN articles o ON o.id = c.original_id "
        "WHERE c.original_id IS NOT NULL AND o.id IS NULL"
    ),
    # `newsloom ingest` stores and assigns each article in one transaction (Intake.accept), so even right
    # after a kill no article may be stored without its story.
    "an article without a story": "SELECT id, canonical_url FROM articles WHERE story_id IS NULL",
    "a syndicated copy outside its original's story": (
        "SELECT c.id, c.story_id, o.story_id FROM articles c JOIN articles o ON o.id = c.original_id "
        "WHERE c.story_id <> o.story_id"
    ),
    "an article without its file source link or FTS row is fine; a link to a missing article is not": (
        "SELECT l.article_id FROM article_sources l LEFT JOIN articles a ON a.id = l.article_id WHERE a.id IS NULL"
    ),
}


@dataclass(frozen=True)
class DatabaseState:
    """What a check saw: stored canonical URLs and story figures."""

    urls: frozenset[str] = frozenset()
    stories: int = 0
    redirects: int = 0
    copies: int = 0


def check_rows(rows: Rows, tables: set[str], corpus: Corpus, *, final: bool) -> DatabaseState:
    """The engine-independent checks; raises AssertionError naming every violated invariant."""
    if "articles" not in tables:  # killed before the first migration committed: nothing may be there
        assert not final, "no articles table after a completed run"
        return DatabaseState()
    problems = {name: found for name, sql in STORY_CHECKS.items() if (found := rows(sql)[:5])}
    assert not problems, problems
    urls = [row[0] for row in rows("SELECT canonical_url FROM articles")]
    unknown = set(urls) - corpus.stored_urls
    assert not unknown, f"articles that no file should have made: {sorted(unknown)[:5]}"
    if final:
        missing = corpus.stored_urls - set(urls)
        assert not missing, f"{len(missing)} files' articles missing after a completed run: {sorted(missing)[:5]}"
    return DatabaseState(
        urls=frozenset(urls),
        stories=int(rows("SELECT count(*) FROM stories")[0][0]),
        redirects=int(rows("SELECT count(*) FROM story_redirects")[0][0]),
        copies=int(rows("SELECT count(*) FROM articles WHERE original_id IS NOT NULL")[0][0]),
    )


def frozen_phase(target: SqliteTarget | PostgresTarget, pid: int) -> str:
    """Where the (frozen) ingest process ``pid`` is, as seen through ``target``'s database: see ``PHASES``."""
    if not target.opened_by(pid):
        return "starting"
    writing = target.writing()
    try:
        tables = target.tables()
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        # A frozen SQLite writer shuts readers out only before WAL is on: the database is being created.
        return "migrating"
    if "articles" not in tables:
        return "migrating" if writing else "starting"
    return "mid-write" if writing else "between-writes"


class SqliteTarget:
    """A SQLite file in WAL mode, as `newsloom` makes it in its data directory."""

    name = "sqlite"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "newsloom.db"
        self.database_url: str | None = None

    def _connect(self, *, timeout: float, read_only: bool) -> sqlite3.Connection:
        mode = "ro" if read_only else "rw"
        return sqlite3.connect(f"file:{self.path}?mode={mode}", uri=True, timeout=timeout, isolation_level=None)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        connection = self._connect(timeout=10, read_only=True)
        try:
            return list(connection.execute(sql))
        finally:
            connection.close()

    def tables(self) -> set[str]:
        if not self.path.exists():
            return set()
        return {row[0] for row in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def count_articles(self) -> int:
        try:
            return int(self.rows("SELECT count(*) FROM articles")[0][0])
        except sqlite3.Error:  # no database or no table yet
            return 0

    def writing(self) -> bool:
        """Whether some process holds the write lock (a write transaction is open), probed without waiting.

        ``BEGIN IMMEDIATE`` with no busy timeout fails at once with "database is locked" exactly when another
        connection's write transaction is open; the probe rolls back at once and never writes.
        """
        probe = self._connect(timeout=0, read_only=False)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return True
            raise
        finally:
            probe.close()

    def opened_by(self, pid: int) -> bool:
        """Whether process ``pid`` has the database file open (Linux /proc)."""
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if Path(os.readlink(fd)) == self.path.resolve():
                        return True
        return False

    def phase(self, pid: int) -> str:
        """Where the (frozen) ingest process ``pid`` is: see ``PHASES``."""
        return frozen_phase(self, pid)

    def check(self, corpus: Corpus, *, final: bool) -> DatabaseState:
        """SQLite's own checks (pages and indexes, foreign keys, the FTS5 index), then the shared ones."""
        if not self.path.exists():
            assert not final, "no database after a completed run"
            return DatabaseState()
        assert self.rows("PRAGMA integrity_check") == [("ok",)]
        assert self.rows("PRAGMA foreign_key_check") == []
        tables = self.tables()
        if "articles_fts" in tables:
            # FTS5's own check that the index matches the articles table; a command spelled as an INSERT
            # that writes nothing (it needs a writable connection; the killed process holds no lock).
            connection = self._connect(timeout=10, read_only=False)
            try:
                connection.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")
            finally:
                connection.close()
        return check_rows(self.rows, tables, corpus, final=final)


class PostgresTarget:
    """One PostgreSQL schema (selected by ``search_path`` in the URL); the CLI connects under a known
    application name so that the probe can find its sessions."""

    name = "postgresql"

    def __init__(self, schema_url: str) -> None:
        from sqlalchemy.engine import make_url

        url = make_url(schema_url.replace("postgresql+psycopg://", "postgresql://", 1))
        self.schema = str(url.query.get("options", "")).rsplit("=", 1)[-1]
        self.application = f"newsloom-crash-{self.schema}"[:63]
        self.database_url = url.update_query_dict({"application_name": self.application}).render_as_string(
            hide_password=False
        )
        self.libpq = url.render_as_string(hide_password=False)
        self.server = url.difference_update_query(["options"]).render_as_string(hide_password=False)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.libpq, connect_timeout=5) as connection:
            return list(connection.execute(sql))

    def tables(self) -> set[str]:
        return {
            row[0]
            for row in self.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        }

    def count_articles(self) -> int:
        if "articles" not in self.tables():
            return 0
        return int(self.rows("SELECT count(*) FROM articles")[0][0])

    def writing(self) -> bool:
        import psycopg

        with psycopg.connect(self.server, autocommit=True, connect_timeout=5) as probe:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND backend_xid IS NOT NULL",
                (self.application,),
            ).fetchone()
        return bool(row and row[0])

    def opened_by(self, pid: int) -> bool:
        """Whether the CLI has a session open (over TCP the server cannot see client pids: one client runs)."""
        import psycopg

        del pid
        with psycopg.connect(self.server, autocommit=True, connect_timeout=5) as probe:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (self.application,)
            ).fetchone()
        return bool(row and row[0])

    def phase(self, pid: int) -> str:
        return frozen_phase(self, pid)

    def wait_for_backends_gone(self, timeout_s: float = 10.0) -> None:
        """A killed client's backends notice the closed socket and roll back; wait until they are gone."""
        import psycopg

        deadline = time.monotonic() + timeout_s
        with psycopg.connect(self.server, autocommit=True, connect_timeout=5) as probe:
            while time.monotonic() < deadline:
                row = probe.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (self.application,)
                ).fetchone()
                if not row or not row[0]:
                    return
                time.sleep(0.05)

    def check(self, corpus: Corpus, *, final: bool) -> DatabaseState:
        """Index structure (amcheck, when the server has it) and the shared checks; foreign keys are
        enforced by the server, and an orphan link is among the shared checks."""
        self.wait_for_backends_gone()
        tables = self.tables()
        if "articles" in tables:
            self._check_indexes()
        return check_rows(self.rows, tables, corpus, final=final)

    def _check_indexes(self) -> None:
        import psycopg

        with psycopg.connect(self.libpq, autocommit=True, connect_timeout=5) as connection:
            found = connection.execute("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                       "WHERE extname = 'amcheck'").fetchone()
            if found is None:
                try:  # in the test's own schema, so it goes when the schema is dropped
                    connection.execute(f'CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA "{self.schema}"')
                except psycopg.Error:
                    return  # not installed on this server, or no right to create it: constraints still hold
                found = (self.schema,)
            indexes = connection.execute(
                "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'btree' "
                "AND c.relnamespace = current_schema()::regnamespace"
            ).fetchall()
            for (index,) in indexes:
                connection.execute(f'SELECT "{found[0]}".bt_index_check(%s::regclass, true)', (index,))


Target = SqliteTarget | PostgresTarget


# --- the loop ---------------------------------------------------------------------------------------------

#: How kills are timed. While the schema does not exist yet, every kill lands a random OPEN_JITTER_S after
#: the process opened the database (creating it and migrating take ~0.3 s). Then a share EARLY_SHARE are
#: "early": half of them
#: after a plain random delay within EARLY_WINDOW_S of the start (imports: 1.5 s on an idle core, 4 s on a busy
#: one), half a random OPEN_JITTER_S after the process opened the database (schema creation and migrations
#: take ~0.3 s, then the indexes are rebuilt). The other kills wait until the database holds a randomly drawn
#: number of articles (drawn over the whole corpus, in increasing order), then a random JITTER_S: so they
#: spread over the whole ingest whatever the speed of the machine.
EARLY_SHARE = 0.3
EARLY_WINDOW_S = 3.0
OPEN_JITTER_S = 0.5
#: Jitter after the target count is reached: about one article's work (extraction plus its write transaction,
#: 30-80 ms when measured), so the kill lands anywhere in the next article's processing.
JITTER_S = 0.15
#: How often the loop polls the article count while waiting for a target.
POLL_S = 0.02


@dataclass(frozen=True)
class KillRecord:
    delay_s: float  # from the start of the process
    phase: str  # one of PHASES
    articles_before: int
    articles_after: int


@dataclass
class CrashRun:
    kills: list[KillRecord] = field(default_factory=list)
    checks_passed: int = 0
    final_counts: tuple[int, int, int] = (0, 0, 0)  # the final run's (stored, already stored, skipped)
    rerun_counts: tuple[int, int, int] = (0, 0, 0)
    final_state: DatabaseState = DatabaseState()
    seconds: float = 0.0

    def phases(self) -> dict[str, int]:
        return {phase: sum(kill.phase == phase for kill in self.kills) for phase in PHASES}


def freeze_classify_kill(process: subprocess.Popen[bytes], target: Target) -> str:
    """SIGSTOP the process group, read the phase it is in, SIGKILL it; the phase (see ``PHASES``)."""
    if process.poll() is not None:
        return "exited"
    try:
        os.killpg(process.pid, signal.SIGSTOP)
    except ProcessLookupError:
        return "exited"
    try:
        phase = target.phase(process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    return phase


def _wait_for(process: subprocess.Popen[bytes], ready: Callable[[], bool], deadline: float) -> None:
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            return
        time.sleep(POLL_S)


def _has_articles(target: Target, articles: int) -> bool:
    return target.count_articles() >= articles


def crash_loop(
    corpus: Corpus, target: Target, work: Path, *, kills: int, seed: int, run_timeout_s: float = 600.0
) -> CrashRun:
    """Kill ``newsloom ingest`` ``kills`` times, checking the database after each kill; then let one run
    finish, check, and ingest once more (which must store nothing)."""
    rng = random.Random(seed)
    env = cli_env(target.data_dir if isinstance(target, SqliteTarget) else work / "data", target.database_url)
    log = work / "ingest.log"
    total = len(corpus.stored_urls)
    # Article counts at which the progress-timed kills land, in increasing order over the whole ingest.
    early = [rng.random() < EARLY_SHARE for _ in range(kills)]
    targets = iter(sorted(rng.randint(1, total - 1) for _ in range(kills - sum(early))))
    run = CrashRun()
    begun = time.monotonic()
    before = target.check(corpus, final=False)
    for is_early in early:
        started = time.monotonic()
        process = start_ingest(corpus.root, env, log)
        deadline = started + run_timeout_s
        # No schema yet (on PostgreSQL a killed migration leaves none): the first kill, and early ones, land
        # while the process creates it.
        if "articles" not in target.tables() and (is_early or not run.kills):
            _wait_for(process, functools.partial(target.opened_by, process.pid), deadline)
            time.sleep(rng.uniform(0.0, OPEN_JITTER_S))
            if not is_early:
                next(targets, None)  # this kill's article target is spent on the schema
        elif is_early and rng.random() < 0.5:
            time.sleep(rng.uniform(0.0, EARLY_WINDOW_S))
        elif is_early:
            _wait_for(process, functools.partial(target.opened_by, process.pid), deadline)
            time.sleep(rng.uniform(0.0, OPEN_JITTER_S))
        else:
            _wait_for(process, functools.partial(_has_articles, target, next(targets)), deadline)
            time.sleep(rng.uniform(0.0, JITTER_S))
        delay = time.monotonic() - started
        phase = freeze_classify_kill(process, target)
        after = target.check(corpus, final=False)
        assert before.urls <= after.urls, f"articles lost by a kill: {sorted(before.urls - after.urls)[:5]}"
        run.kills.append(KillRecord(delay, phase, len(before.urls), len(after.urls)))
        run.checks_passed += 1
        before = after
    run.final_counts = summary_counts(run_ingest(corpus.root, env, run_timeout_s))
    run.final_state = target.check(corpus, final=True)
    run.checks_passed += 1
    run.rerun_counts = summary_counts(run_ingest(corpus.root, env, run_timeout_s))
    again = target.check(corpus, final=True)
    run.checks_passed += 1
    assert run.rerun_counts[0] == 0, f"ingesting again stored {run.rerun_counts[0]} articles"
    assert again == run.final_state
    run.seconds = time.monotonic() - begun
    return run


# --- CI tests ---------------------------------------------------------------------------------------------

#: CI sizes: about 60 files, which one uninterrupted ingest stores in ~4 s on an idle core; 8 kills (the
#: bench runs 50 over a larger corpus). Each restart pays the CLI's start (~2 s), so this is most of the
#: file's ~60 s budget on a busy machine.
CI_OUTLETS = 6
CI_EVENTS = 16
CI_KILLS = 8
CI_SEED = 11
#: PostgreSQL is covered briefly: the same loop, 2 kills on ~15 files.
PG_OUTLETS = 3
PG_EVENTS = 8
PG_KILLS = 2


def test_corpus_has_copies_and_one_article_per_file(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", outlets=CI_OUTLETS, events=CI_EVENTS)
    files = sorted(p.resolve().as_uri() for p in corpus.root.rglob("*.txt"))
    assert files == sorted(corpus.expected)
    assert corpus.near_copies > 0 and corpus.exact_copies > 0
    assert len(corpus.stored_urls) == len(files) - corpus.exact_copies


def test_sqlite_survives_kill_9_during_ingest(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", outlets=CI_OUTLETS, events=CI_EVENTS)
    run = crash_loop(corpus, SqliteTarget(tmp_path / "data"), tmp_path, kills=CI_KILLS, seed=CI_SEED)
    print(f"kills by phase {run.phases()}; final run {run.final_counts}; {run.seconds:.1f} s")
    assert len(run.kills) == CI_KILLS
    assert run.final_state.urls == corpus.stored_urls  # every file's article, once (checked per URL)
    assert run.final_state.stories < len(corpus.stored_urls)  # articles of one event were grouped
    assert run.rerun_counts == (0, len(corpus.expected), 0)
    assert run.final_state.copies > 0


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    with fresh_pg_schema("newsloom_crash") as url:
        yield url


@pytest.mark.postgres
def test_postgresql_survives_kill_9_during_ingest(tmp_path: Path, pg_schema_url: str) -> None:
    corpus = make_corpus(tmp_path / "corpus", outlets=PG_OUTLETS, events=PG_EVENTS, seed=3)
    run = crash_loop(corpus, PostgresTarget(pg_schema_url), tmp_path, kills=PG_KILLS, seed=CI_SEED)
    print(f"kills by phase {run.phases()}; final run {run.final_counts}; {run.seconds:.1f} s")
    assert run.final_state.urls == corpus.stored_urls
    assert run.rerun_counts == (0, len(corpus.expected), 0)


def _partition(db_path: Path) -> list[list[str]]:
    """The stories of a database as sorted lists of canonical URLs (story ids aside)."""
    stories: dict[str, list[str]] = {}
    for url, story in SqliteTarget(db_path.parent).rows("SELECT canonical_url, story_id FROM articles"):
        stories.setdefault(story, []).append(url)
    return sorted(sorted(urls) for urls in stories.values())


def test_restart_gives_the_stories_of_an_uninterrupted_run(tmp_path: Path) -> None:
    """A restart (not even a crash) between two ingests must not change which articles share a story."""
    from newsloom.service import Service
    from newsloom.settings import load_settings

    corpus = make_corpus(tmp_path / "corpus", outlets=6, events=16, seed=1)
    folders = sorted(str(p) for p in corpus.root.iterdir())
    for name, batches in (("once", [folders]), ("restarted", [folders[:3], folders])):
        for batch in batches:  # each batch is one process's Service, as one `newsloom ingest` run
            with Service(load_settings(env={"NEWSLOOM_DATA_DIR": str(tmp_path / name)})) as svc:
                svc.ingest_paths(batch)
    assert _partition(tmp_path / "restarted" / "newsloom.db") == _partition(tmp_path / "once" / "newsloom.db")
