from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer

# Tests fetch from 127.0.0.1, which newsloom refuses by default.
os.environ.setdefault("NEWSLOOM_ALLOW_PRIVATE_NETWORKS", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def seeds_dir() -> Path:
    """The seed pair beside the checkout; the acceptance tests read it by path and never copy it."""
    if not (SEEDS / "gold.json").is_file():
        pytest.skip(f"seed documents not found at {SEEDS}")
    return SEEDS
