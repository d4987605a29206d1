"""GroupCommit: items from many threads are processed in batches, each caller gets its own result."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from newsloom.ingest.groupcommit import GroupCommit


def test_callers_get_their_own_results_and_bursts_share_batches() -> None:
    batches: list[int] = []
    gate = threading.Event()

    def process(items: Sequence[int]) -> list[int]:
        gate.wait(5)  # the first batch waits, so the rest of the burst queues up behind it
        batches.append(len(items))
        return [i * 2 for i in items]

    group: GroupCommit[int, int] = GroupCommit(process, name="test-group", max_batch=16)
    with ThreadPoolExecutor(max_workers=40) as pool:
        futures = list(pool.map(group.submit, range(40)))
        gate.set()
        assert [f.result(timeout=5) for f in futures] == [i * 2 for i in range(40)]
    assert sum(batches) == 40 and max(batches) <= 16 and len(batches) < 40


def test_a_failing_batch_fails_its_callers_only() -> None:
    def process(items: Sequence[int]) -> list[int]:
        if 13 in items:
            raise ValueError("unlucky")
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(process, name="test-group")
    with pytest.raises(ValueError, match="unlucky"):
        group.submit(13).result(timeout=5)
    assert group.submit(1).result(timeout=5) == 1
