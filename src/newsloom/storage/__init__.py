"""Storage: SQLite (default) or PostgreSQL behind one Protocol, migrated automatically on open.

>>> storage = open_storage("sqlite:////tmp/newsloom-example/newsloom.db")
>>> storage.count_articles()
0
>>> storage.close()
"""

from __future__ import annotations

from newsloom.errors import StorageError
from newsloom.storage.base import Storage
from newsloom.storage.engine import create_engine, migrate
from newsloom.storage.sql import SqlStorage

__all__ = ["SqlStorage", "Storage", "open_storage"]


def open_storage(url: str) -> Storage:
    """Open the database at ``url`` and bring its schema up to date.

    ``sqlite:///path/to/newsloom.db`` (the directory is created), ``sqlite://`` (in memory, one thread),
    or ``postgresql://user@host/db`` (psycopg 3, pooled). Raises ``StorageError`` when the URL is unusable,
    the server does not answer or the migration fails.
    """
    engine = create_engine(url)
    try:
        migrate(engine)
    except StorageError:
        engine.dispose()
        raise
    return SqlStorage(engine)
