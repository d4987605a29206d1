"""The ``newsloom cluster FILE.jsonl`` semantics: records in, (id, story id) pairs out, online.

The engine itself lives in ``stories.engine`` (with ``state``, ``scoring`` and ``packing``); its names are
re-exported here, where callers have always imported them from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from newsloom.errors import InputError
from newsloom.stories.engine import StoryEngine
from newsloom.stories.state import DAY_S, timestamp
from newsloom.stories.storymodel import Assignment, ClusterDoc, EngineConfig

__all__ = [
    "Assignment",
    "ClusterDoc",
    "DateProblem",
    "EngineConfig",
    "StoryEngine",
    "cluster_file",
    "cluster_records",
    "implausible_dates",
    "records_to_docs",
    "stream_positions",
]

#: a date this far from the median date of a file is a typo or a placeholder (1970-01-01, 2099-01-01), not
#: when a report of this stream came out: as a date it would close every open story (the stream clock
#: never goes back) or sort the report away from its story
DATE_OUTLIER_DAYS = 20 * 365.25
#: a date later than now by more than this is in the future (time zones and clock skew allowed)
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DateProblem:
    """A record whose date is not taken: it is clustered as an undated record (where the file puts it)."""

    id: str
    date: datetime
    reason: str

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


def implausible_dates(docs: list[ClusterDoc], now: datetime | None = None) -> list[DateProblem]:
    """Records dated in the future (after ``now``, when given) or decades from the file's median date."""
    stamps = sorted(stamp for doc in docs if (stamp := timestamp(doc.date)) is not None)
    median = stamps[len(stamps) // 2] if stamps else None
    limit = None if now is None else timestamp(now + FUTURE_SLACK)
    problems: list[DateProblem] = []
    for doc in docs:
        stamp = timestamp(doc.date)
        if stamp is None or doc.date is None:
            continue
        if limit is not None and stamp > limit:
            problems.append(DateProblem(doc.id, doc.date, "in the future"))
        elif median is not None and abs(stamp - median) > DATE_OUTLIER_DAYS * DAY_S:
            problems.append(DateProblem(doc.id, doc.date, "decades from the file's other dates"))
    return problems


def cluster_file(
    records: Iterable[Mapping[str, object]], config: EngineConfig = EngineConfig(), *, now: datetime | None = None
) -> tuple[list[tuple[str, str]], list[DateProblem]]:
    """Cluster a file's records online: (id, final story id) per record in INPUT order, merges resolved,
    and the records whose implausible dates (``implausible_dates``) were set aside."""
    docs = records_to_docs(records)
    problems = implausible_dates(docs, now)
    if problems:
        dropped = {problem.id for problem in problems}
        docs = [replace(doc, date=None) if doc.id in dropped else doc for doc in docs]
    engine = StoryEngine(config)
    story_of: dict[int, str] = {}
    for position in stream_positions(docs):
        story_of[position] = engine.add(docs[position]).story_id
    return [(doc.id, engine.resolve(story_of[position])) for position, doc in enumerate(docs)], problems


def cluster_records(
    records: Iterable[Mapping[str, object]], config: EngineConfig = EngineConfig(), *, now: datetime | None = None
) -> list[tuple[str, str]]:
    """Cluster a file's records online; (id, final story id) per record in INPUT order, merges resolved."""
    return cluster_file(records, config, now=now)[0]
