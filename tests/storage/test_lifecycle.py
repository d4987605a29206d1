"""Storage contract: opening, migrations, errors, transactions, UTC and threads (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib
import pkgutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import newsloom.storage
from newsloom.errors import NotFoundError, StorageError
from newsloom.storage import Storage, open_storage, search
from newsloom.storage.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    alembic_config,
    create_engine,
    current_revision,
    head_revision,
    migrate,
    normalize_url,
    scanned_head_revision,
)
from newsloom.storage.schema import metadata
from tests.storage.conftest import postgres_unreachable
from tests.storage.helpers import T0, article, at, story

# -- opening and migrating ---------------------------------------------------------------------------------


def test_open_creates_the_database_and_migrates(database_url: str) -> None:
    storage = open_storage(database_url)
    try:
        assert storage.count_articles() == 0
        assert storage.list_sources() == []
    finally:
        storage.close()
    engine = create_engine(database_url)
    try:
        assert current_revision(engine) == head_revision() is not None
    finally:
        engine.dispose()


def test_scanned_head_is_alembics_head() -> None:
    """The start-up shortcut reads the scripts without Alembic; it must name the head Alembic would."""
    assert scanned_head_revision() == head_revision() is not None


def test_a_database_behind_the_head_is_migrated_on_open(database_url: str) -> None:
    storage = open_storage(database_url)
    storage.close()
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "-1")
        assert current_revision(engine) != head_revision()
    finally:
        engine.dispose()
    open_storage(database_url).close()
    engine = create_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_migrations_run_twice_are_a_no_op(database_url: str) -> None:
    storage = open_storage(database_url)
    stored, _ = storage.add_article(article(1), now=T0)
    storage.close()
    engine = create_engine(database_url)
    try:
        migrate(engine)
        migrate(engine, revision=str(head_revision()))  # the full Alembic path, not the up-to-date shortcut
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    again = open_storage(database_url)
    try:
        assert again.get_article(stored.id) == stored
        assert [x.id for x in again.search("headline")] == [stored.id]
    finally:
        again.close()


def _import_table_modules() -> None:
    """Import every ``newsloom.storage.*schema`` module, so ``metadata`` holds all declared tables."""
    for module in pkgutil.iter_modules(newsloom.storage.__path__):
        if module.name.endswith("schema"):
            importlib.import_module(f"newsloom.storage.{module.name}")


def test_schema_modules_match_the_migrations(database_url: str) -> None:
    _import_table_modules()
    open_storage(database_url).close()
    engine = create_engine(database_url)

    def declared(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        return not (name and (search.is_search_object(name) or name == "alembic_version"))

    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": declared})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    open_storage(database_url).close()
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert current_revision(engine) is None
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    storage = open_storage(database_url)
    try:
        storage.add_article(article(1, title="Back again"), now=T0)
        assert len(storage.search("again")) == 1
    finally:
        storage.close()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "newsloom.db"
    open_storage(f"sqlite:///{path}").close()
    assert path.is_file()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_in_memory_sqlite_works_in_one_thread() -> None:
    storage = open_storage("sqlite://")
    try:
        storage.add_article(article(1), now=T0)
        assert storage.count_articles() == 1
        assert len(storage.search("headline")) == 1
    finally:
        storage.close()


def test_postgres_urls_map_to_psycopg_3() -> None:
    assert normalize_url("postgresql://u@db.example/news").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u:pw@db.example:5433/news").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@db.example/news").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_unreachable_postgres_is_reported_clearly() -> None:
    reason = postgres_unreachable("postgresql://postgres@127.0.0.1:1/test")
    assert reason is not None and "PostgreSQL not reachable" in reason and "skipped" in reason


# -- errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["nosuchdb://x/y", "not a url", "mysql://u@127.0.0.1/x", "postgresql://postgres@127.0.0.1:1/test"],
)
def test_unusable_urls_raise_storage_error(url: str) -> None:
    with pytest.raises(StorageError):
        open_storage(url)


def test_sqlite_path_that_cannot_be_created_raises_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError):
        open_storage(f"sqlite:///{blocker / 'sub' / 'newsloom.db'}")


def test_sqlite_file_that_is_not_a_database_raises_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError) as caught:
        open_storage(f"sqlite:///{path}")
    assert caught.value.__cause__ is not None


def test_closed_storage_raises_storage_error(storage: Storage) -> None:
    storage.close()
    with pytest.raises(StorageError, match="closed"):
        storage.count_articles()
    with pytest.raises(StorageError):
        storage.add_source("https://a.example/", now=T0)
    storage.close()  # twice is fine


def test_naive_datetimes_are_refused(storage: Storage) -> None:
    with pytest.raises(StorageError, match="naive"):
        storage.add_source("https://a.example/", now=datetime(2024, 1, 1))
    assert storage.list_sources() == []


# -- time --------------------------------------------------------------------------------------------------


def test_times_come_back_aware_utc_to_the_microsecond(storage: Storage) -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2024, 3, 1, 17, 30, 0, 123456, tzinfo=kolkata)
    source, _ = storage.add_source("https://a.example/", now=local)
    updated = storage.update_source(source.id, next_poll_at=local + timedelta(hours=1))
    for value in (source.created_at, updated.next_poll_at):
        assert value is not None and value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert source.created_at == local and source.created_at.hour == 12
    assert storage.get_source(source.id).created_at == datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    stored, _ = storage.add_article(article(1, published_at=local), now=at(24))
    assert storage.get_article(stored.id).published_at == local
    storage.save_story(story("s", first_seen=local, last_seen=local), now=local)
    assert storage.get_story("s").first_seen == local
    # Comparisons happen in UTC too: a due time given in another zone selects the same sources.
    assert storage.due_sources(local + timedelta(hours=1)) == [storage.get_source(source.id)]
    assert storage.due_sources(local + timedelta(minutes=59)) == []


# -- transactions ------------------------------------------------------------------------------------------


def test_transaction_commits_as_one(storage: Storage) -> None:
    with storage.transaction():
        source, _ = storage.add_source("https://a.example/", now=T0)
        stored, _ = storage.add_article(article(1), source_id=source.id, now=T0)
        assert storage.count_articles() == 1  # reads inside see the transaction's writes
    assert storage.get_article(stored.id).source_ids == (source.id,)


def test_transaction_rolls_back_on_exception(storage: Storage) -> None:
    storage.add_source("https://kept.example/", now=T0)
    with pytest.raises(RuntimeError), storage.transaction():
        storage.add_source("https://gone.example/", now=T0)
        storage.add_article(article(1), now=T0)
        storage.save_story(story("s"), now=T0)
        raise RuntimeError("boom")
    assert [s.url for s in storage.list_sources()] == ["https://kept.example/"]
    assert storage.count_articles() == 0
    with pytest.raises(NotFoundError):
        storage.get_story("s")


def test_nested_transactions_join_the_outer_one(storage: Storage) -> None:
    with pytest.raises(NotFoundError), storage.transaction():
        storage.add_article(article(1), now=T0)
        with storage.transaction():
            storage.add_article(article(2), now=T0)
        storage.get_article(999_999)  # NotFoundError inside the block rolls everything back
    assert storage.count_articles() == 0
    with storage.transaction(), storage.transaction():
        storage.add_article(article(3), now=T0)
    assert storage.count_articles() == 1


def test_a_failed_call_inside_a_transaction_rolls_it_back(storage: Storage) -> None:
    storage.add_source("https://a.example/", now=T0)
    b, _ = storage.add_source("https://b.example/", now=T0)
    with pytest.raises(StorageError), storage.transaction():
        storage.add_article(article(1), now=T0)
        storage.update_source(b.id, url="https://a.example/")  # unique violation
    assert storage.count_articles() == 0
    assert storage.count_articles() == 0  # and the storage is still usable


def test_other_threads_do_not_see_uncommitted_writes(storage: Storage) -> None:
    inside = threading.Event()
    release = threading.Event()
    counts: list[int] = []

    def writer() -> None:
        with storage.transaction():
            storage.add_article(article(1), now=T0)
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(10)
        counts.append(storage.count_articles())
    finally:
        release.set()
        thread.join(10)
    counts.append(storage.count_articles())
    assert counts == [0, 1]


# -- threads -----------------------------------------------------------------------------------------------

WRITER_THREADS = 4
ARTICLES_PER_THREAD = 12


def test_concurrent_ingest_of_the_same_articles_stores_each_once(storage: Storage) -> None:
    sources = [storage.add_source(f"https://s{n}.example/", now=T0)[0] for n in range(WRITER_THREADS)]
    errors: list[BaseException] = []
    created: list[bool] = []
    lock = threading.Lock()

    def ingest(source_id: int) -> None:
        try:
            for n in range(ARTICLES_PER_THREAD):
                _, was_created = storage.add_article(article(n), source_id=source_id, now=T0)
                with lock:
                    created.append(was_created)
        except BaseException as exc:  # collected and asserted in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(s.id,)) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert storage.count_articles() == ARTICLES_PER_THREAD
    assert created.count(True) == ARTICLES_PER_THREAD
    for stored in storage.list_articles(limit=100):
        assert sorted(stored.source_ids) == sorted(s.id for s in sources)
