"""Alembic environment: migrates the connection that ``newsloom.storage.engine.migrate`` passes in.

There is no alembic.ini and no offline (SQL script) mode: newsloom migrates automatically on open.
To write a new revision, declare the change in ``schema.py`` and add a file under ``versions/`` by hand
(or with ``alembic.command.revision(newsloom.storage.engine.alembic_config(), "message")``).
"""

from __future__ import annotations

from alembic import context

from newsloom.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("newsloom migrations run through newsloom.storage.engine.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead, so later revisions work on both.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
