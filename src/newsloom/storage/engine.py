"""Engines for SQLite and PostgreSQL, and Alembic migrations run on open.

SQLite gets WAL (readers never wait for the writer), foreign keys, a busy timeout, and explicit ``BEGIN``
statements so that transactions, savepoints and transactional DDL behave as on PostgreSQL. PostgreSQL
goes through psycopg 3 with a connection pool.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from newsloom.errors import StorageError

# Alembic (and psycopg, for SQLite databases) cost more start-up time than the rest of storage together, and
# an up-to-date database needs neither: they are imported only when a migration runs or PostgreSQL is used.
if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# How long a SQLite writer waits for another writer's lock before failing. Writes here are short (one
# article, one source update); 5 s rides out a burst of concurrent ingests without hiding a real deadlock.
SQLITE_BUSY_TIMEOUT_MS = 5000

# PostgreSQL pool: the web server and the in-process workers each hold at most a few connections at once;
# 5 kept open plus 10 on demand stays well under PostgreSQL's default max_connections of 100.
PG_POOL_SIZE = 5
PG_MAX_OVERFLOW = 10
PG_CONNECT_TIMEOUT_S = 10

# Arbitrary constant key for pg_advisory_xact_lock: two processes opening one database at once migrate in turn.
PG_MIGRATION_LOCK_KEY = 0x6E6C6D67  # "nlmg"

# Execution option read by the SQLite "begin" hook: write transactions start with BEGIN IMMEDIATE, so they take
# the write lock up front and wait (busy timeout) instead of failing on a lock upgrade halfway through.
SQLITE_BEGIN_OPTION = "newsloom_sqlite_begin"

ALEMBIC_VERSION_TABLE = "alembic_version"
# A migration script's own ids, as written in versions/*.py (``revision = "0002_accounts"``, maybe annotated).
_REVISION_LINE = re.compile(r"^revision(?:\s*:\s*[\w\[\], |]+)?\s*=\s*['\"]([^'\"]+)['\"]\s*$", re.MULTILINE)
_DOWN_REVISION_LINE = re.compile(
    r"^down_revision(?:\s*:\s*[\w\[\], |]+)?\s*=\s*(?:None|['\"]([^'\"]+)['\"])\s*$", re.MULTILINE
)


def driver_errors() -> tuple[type[Exception], ...]:
    """The driver exceptions to wrap: psycopg's only once it is loaded (before that none can be raised)."""
    psycopg = sys.modules.get("psycopg")
    base: tuple[type[Exception], ...] = (SQLAlchemyError, sqlite3.Error)
    return (*base, psycopg.Error) if psycopg is not None else base


def url_errors() -> tuple[type[Exception], ...]:
    """Also raised while parsing a URL (bad port) or creating the SQLite directory."""
    return (*driver_errors(), ValueError, OSError)


@contextmanager
def wrap_errors(action: str) -> Iterator[None]:
    """Turn driver and SQLAlchemy errors into ``StorageError`` (the original stays as ``__cause__``)."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, driver_errors()):
            raise
        message = str(getattr(exc, "orig", None) or exc).strip()
        detail = message.splitlines()[0] if message else type(exc).__name__
        raise StorageError(f"{action} failed: {detail}") from exc


def dialect_insert(dialect_name: str, table: sa.Table) -> Any:
    """INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (and RETURNING) for this engine."""
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    from sqlalchemy.dialects import postgresql  # ~40 ms to import: SQLite users never pay it

    return postgresql.insert(table)


def normalize_url(url: str) -> sa.URL:
    """Parse a database URL; ``postgresql://`` and ``postgres://`` are mapped to the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_memory(url: sa.URL) -> bool:
    return url.database in (None, "", ":memory:") or bool(url.query.get("mode") == "memory")


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if _is_memory(url):
        # One shared connection, or every pooled connection would see its own empty database.
        kwargs["poolclass"] = StaticPool
    elif url.database:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" hook issue BEGIN itself: pysqlite's implicit transactions skip DDL and
        # SAVEPOINT handling (see SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable across application crashes in WAL mode
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgres_engine(url: sa.URL) -> sa.Engine:
    return sa.create_engine(
        url,
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_MAX_OVERFLOW,
        pool_pre_ping=True,  # survive server restarts and idle connections cut by proxies
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
    )


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` (SQLite or PostgreSQL); raises ``StorageError`` for a URL that cannot be used."""
    try:
        parsed = normalize_url(url)
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        if parsed.get_backend_name() == "postgresql":
            return _postgres_engine(parsed)
    except Exception as exc:
        if not isinstance(exc, url_errors()):
            raise
        raise StorageError(f"cannot use database URL {_redacted(url)}: {exc}") from exc
    raise StorageError(f"unsupported database URL {_redacted(url)}: use sqlite:///path or postgresql://...")


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL has no password we could recognise; show its scheme only
        return url.split(":", 1)[0] + ":..."


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic configuration built in code (no alembic.ini); ``connection`` is what env.py migrates."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest revision in ``migrations/versions`` (read once per process: the files do not change)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@functools.cache
def scanned_head_revision() -> str | None:
    """``head_revision`` read from the scripts' ``revision =`` lines, without importing Alembic.

    None when the scan is not sure (a script without exactly one of each line, a merge revision, several
    heads): the caller then asks Alembic. A wrong answer could only make ``migrate`` skip a migration, so
    anything unusual gives up rather than guessing.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        own = _REVISION_LINE.findall(text)
        down = _DOWN_REVISION_LINE.findall(text)
        if len(own) != 1 or len(down) != 1:
            return None
        revisions.add(own[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` in one transaction; a no-op when it is already there."""
    if revision == "head" and current_revision(engine) == (scanned_head_revision() or head_revision()):
        return  # one SELECT instead of loading Alembic and every migration script on each open
    from alembic import command

    with wrap_errors("migrating the database"), engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_MIGRATION_LOCK_KEY)))
            command.upgrade(alembic_config(connection), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The Alembic revision the database is at (None for an empty database)."""
    with wrap_errors("reading the schema version"), engine.connect() as connection:
        if not sa.inspect(connection).has_table(ALEMBIC_VERSION_TABLE):
            return None
        versions = connection.execute(sa.text(f"SELECT version_num FROM {ALEMBIC_VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:  # branches stamped at once: only Alembic knows what that means; let it decide
        from alembic.runtime.migration import MigrationContext

        with wrap_errors("reading the schema version"), engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    return str(versions[0]) if versions else None
