"""SQL of the originality labels, for ``SqlStorage`` (one code path for SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa

from newsloom.storage.originality_schema import article_originality
from newsloom.storage.schema import article_sources, articles
from newsloom.stories.originality import KINDS, OriginalityKind, OriginalityLabel

if TYPE_CHECKING:
    from newsloom.storage.sql import SqlStorage

IN_CHUNK = 500


def set_originality(storage: SqlStorage, labels: Mapping[int, OriginalityLabel]) -> None:
    if not labels:
        return
    for label in labels.values():
        if label.kind not in KINDS:
            raise ValueError(f"unknown originality kind {label.kind!r}")
    ids = list(labels)
    with storage.connection("storing originality labels", write=True) as connection:
        storage._require_articles(connection, ids)
        rows = [
            {"article_id": i, "kind": labels[i].kind, "wire": labels[i].wire, "copied_from": labels[i].copied_from}
            for i in ids
        ]
        statement = storage._insert(article_originality)
        statement = statement.on_conflict_do_update(
            index_elements=[article_originality.c.article_id],
            set_={name: statement.excluded[name] for name in ("kind", "wire", "copied_from")},
        )
        connection.execute(statement, rows)


def get_originality(storage: SqlStorage, article_ids: Iterable[int]) -> dict[int, OriginalityLabel]:
    wanted = list(dict.fromkeys(article_ids))
    found: dict[int, OriginalityLabel] = {}
    with storage.connection("reading originality labels") as connection:
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            for row in connection.execute(
                sa.select(article_originality).where(article_originality.c.article_id.in_(chunk))
            ).mappings():
                found[row["article_id"]] = OriginalityLabel(
                    cast(OriginalityKind, row["kind"]), row["wire"], row["copied_from"]
                )
    return found


def originality_by_source(
    storage: SqlStorage, *, since: datetime, until: datetime | None = None
) -> dict[int, list[tuple[OriginalityKind, str | None, int]]]:
    count = sa.func.count().label("n")
    statement = (
        sa.select(article_sources.c.source_id, article_originality.c.kind, article_originality.c.wire, count)
        .select_from(
            article_originality.join(articles, articles.c.id == article_originality.c.article_id).join(
                article_sources, article_sources.c.article_id == articles.c.id
            )
        )
        .where(articles.c.dated_at >= since)
        .group_by(article_sources.c.source_id, article_originality.c.kind, article_originality.c.wire)
        .order_by(article_sources.c.source_id, article_originality.c.kind, article_originality.c.wire)
    )
    if until is not None:
        statement = statement.where(articles.c.dated_at < until)
    out: dict[int, list[tuple[OriginalityKind, str | None, int]]] = {}
    with storage.connection("reading originality by source") as connection:
        for source_id, kind, wire, n in connection.execute(statement):
            out.setdefault(int(source_id), []).append((cast(OriginalityKind, kind), wire, int(n)))
    return out
