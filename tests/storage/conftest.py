"""The storage contract suite runs every test against SQLite and PostgreSQL.

PostgreSQL is ``$NEWSLOOM_TEST_PG_URL`` (default: user postgres on 127.0.0.1:5432, database ``test``). A run
works in schemas of its own (random names, selected through ``search_path`` in the URL) and drops them
afterwards, so concurrent runs never see each other's tables. When no server answers, the PostgreSQL half is
skipped with a message saying so.

Fixtures: ``storage`` is an open storage with empty tables (the database is migrated once per run, then
emptied before each test: migrating per test made the suite five times slower); ``database_url`` is a
brand-new, never-opened database, for tests of opening and migrating.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from newsloom.storage import Storage, open_storage
from newsloom.storage.schema import metadata

PG_URL = os.environ.get("NEWSLOOM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_PROBE_TIMEOUT_S = 3

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@functools.cache
def postgres_unreachable(url: str = PG_URL) -> str | None:
    """Why the PostgreSQL server at ``url`` cannot be used, or None when it answers."""
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=PG_PROBE_TIMEOUT_S) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"PostgreSQL not reachable at {url} ({reason}); PostgreSQL tests skipped"
    return None


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with every connection's search_path set to ``schema`` (a libpq ``options`` parameter)."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_pg_schema(prefix: str = "newsloom_test") -> Iterator[str]:
    """A PostgreSQL URL whose connections all live in a new, empty schema that is dropped afterwards.

    Every suite that needs PostgreSQL isolates itself this way (skipping with the reason when no server
    answers), so concurrent runs never see each other's rows.
    """
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq_url(PG_URL), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(PG_URL, schema)
    finally:
        with psycopg.connect(_libpq_url(PG_URL), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that does not exist yet (SQLite: not even its directory)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'newsloom.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture(scope="session")
def migrated_pg_url() -> Iterator[str]:
    with fresh_pg_schema() as url:
        open_storage(url).close()
        yield url


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "newsloom.db"
    open_storage(f"sqlite:///{path}").close()  # closing the last connection folds the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_cleaner(migrated_pg_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated_pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    # DELETE, not TRUNCATE: on a few rows it is ~10x faster (TRUNCATE swaps every table and index file).
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(params=ENGINES)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """An open, migrated storage with empty tables."""
    if request.param == "sqlite":
        path = tmp_path / "newsloom.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("migrated_pg_url")
        _empty_tables(request.getfixturevalue("pg_cleaner"))
    opened = open_storage(url)
    try:
        yield opened
    finally:
        opened.close()
