"""Implausible dates in a clustered file: in the future, or decades from the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from newsloom.stories.cluster import cluster_file, implausible_dates
from newsloom.stories.storymodel import ClusterDoc


def _doc(doc_id: str, when: str | None) -> ClusterDoc:
    return ClusterDoc(id=doc_id, title=None, text="x", date=None if when is None else datetime.fromisoformat(when))


def test_implausible_dates_names_future_and_far_off_records() -> None:
    docs = [_doc("a", "2016-01-01T00:00:00+00:00"), _doc("b", "2016-01-05T00:00:00+00:00"), _doc("u", None)]
    docs += [_doc("future", "2030-01-01T00:00:00+00:00"), _doc("epoch", "1970-01-01T00:00:00+00:00")]
    now = datetime(2026, 12, 4, tzinfo=UTC)
    found = {problem.id: problem.reason for problem in implausible_dates(docs, now)}
    assert found == {"future": "in the future", "epoch": "decades from the file's other dates"}
    # without a clock, only the distance from the file's other dates is judged
    assert [problem.id for problem in implausible_dates(docs)] == ["epoch"]
    assert implausible_dates([]) == []


def test_cluster_file_places_every_record_once() -> None:
    placed, problems = cluster_file([], now=datetime(2026, 1, 1, tzinfo=UTC))
    assert placed == [] and problems == []
