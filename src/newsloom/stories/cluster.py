"""The ``newsloom cluster FILE.jsonl`` semantics: records in, (id, story id) pairs out, online.

The engine itself lives in ``stories.engine`` (with ``state``, ``scoring`` and ``packing``); its names are
re-exported here, where callers have always imported them from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from newsloom.errors import InputError
from newsloom.stories.engine import StoryEngine
from newsloom.stories.state import timestamp
from newsloom.stories.storymodel import Assignment, ClusterDoc, EngineConfig

__all__ = [
    "Assignment",
    "ClusterDoc",
    "EngineConfig",
    "StoryEngine",
    "cluster_records",
    "records_to_docs",
    "stream_positions",
]



def _parse_date(value: object, record_id: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InputError(f"record {record_id!r}: date {value!r} is not ISO 8601") from exc
    else:
        raise InputError(f"record {record_id!r}: date must be an ISO 8601 string")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def records_to_docs(records: Iterable[Mapping[str, object]]) -> list[ClusterDoc]:
    """Records (id, title, text, optional date and source) as docs; every other field is ignored."""
    docs: list[ClusterDoc] = []
    for position, record in enumerate(records):
        if "id" not in record or record["id"] is None:
            raise InputError(f"record {position + 1}: no id")
        record_id = str(record["id"])
        docs.append(
            ClusterDoc(
                id=record_id,
                title=_optional_str(record.get("title")),
                text=_optional_str(record.get("text")) or "",
                date=_parse_date(record.get("date"), record_id),
                source=_optional_str(record.get("source")),
            )
        )
    return docs


def stream_positions(docs: list[ClusterDoc]) -> list[int]:
    """Positions of ``docs`` in the order they are fed to the engine: by date, undated ones staying where
    the file put them.

    Each undated article takes the date of the closest dated article before it in the file (articles
    before the first dated one keep the very start), then a stable sort by that date: dated articles go
    in date order, and every undated one travels right behind the article it followed in the file.
    Without any dates this is the file order.
    """
    keys: list[float] = []
    carried = float("-inf")
    for doc in docs:
        stamp = timestamp(doc.date)
        if stamp is not None:
            carried = stamp
        keys.append(carried)
    return sorted(range(len(docs)), key=lambda i: keys[i])


def cluster_records(
    records: Iterable[Mapping[str, object]], config: EngineConfig = EngineConfig()
) -> list[tuple[str, str]]:
    """Cluster a file's records online; (id, final story id) per record in INPUT order, merges resolved."""
    docs = records_to_docs(records)
    engine = StoryEngine(config)
    story_of: dict[int, str] = {}
    for position in stream_positions(docs):
        story_of[position] = engine.add(docs[position]).story_id
    return [(doc.id, engine.resolve(story_of[position])) for position, doc in enumerate(docs)]
