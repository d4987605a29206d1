"""The plumbing of the stores that sit beside ``SqlStorage`` on its engine (accounts, the apps' APIs).

Each such store takes pooled connections of its own, one transaction per call; on SQLite a writing call takes
the write lock up front (``BEGIN IMMEDIATE``) so that it waits for the lock instead of failing halfway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Self

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from newsloom.errors import StorageError
from newsloom.storage.engine import SQLITE_BEGIN_OPTION, wrap_errors


class SqlEngineStore:
    """A store on a SQLAlchemy engine. Thread-safe: each call takes a pooled connection."""

    needs: ClassVar[str] = "this storage"  # what the error of ``for_storage`` says needs a SQL storage

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    @classmethod
    def for_storage(cls, storage: object) -> Self:
        """The store sharing an open ``SqlStorage``'s engine."""
        engine = getattr(storage, "engine", None)
        if not isinstance(engine, sa.Engine):
            raise StorageError(f"{cls.needs} needs a SQL storage (SQLite or PostgreSQL)")
        return cls(engine)

    @contextmanager
    def _connect(self, action: str, *, write: bool = False) -> Iterator[sa.Connection]:
        with wrap_errors(action), self._engine.connect() as connection:
            if write and self._dialect == "sqlite":
                connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            with connection.begin():
                yield connection

    def _insert(self, table: sa.Table) -> Any:
        return (sqlite.insert if self._dialect == "sqlite" else postgresql.insert)(table)
