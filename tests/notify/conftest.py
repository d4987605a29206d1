"""Notification tests run on SQLite and PostgreSQL through the storage suite's fixtures."""

from __future__ import annotations

from tests.storage.conftest import (  # noqa: F401  (fixtures)
    database_url,
    migrated_pg_url,
    migrated_sqlite_file,
    pg_cleaner,
    pg_schema_url,
    storage,
)
from tests.workers.conftest import redis_space  # noqa: F401  (fixture)
