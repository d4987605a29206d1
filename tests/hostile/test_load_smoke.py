"""A short run of bench/load.py in CI: 30 concurrent readers for 5 s against ``newsloom serve`` on SQLite while
another process ingests articles; no request may fail (issue 7; the full run, 200 readers for 60 s, is in
docs/reliability-web.md).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

LOAD_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", LOAD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_concurrent_readers_during_ingestion_see_no_errors(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    args = bench.build_parser().parse_args(["--articles", "500", "--readers", "30", "--seconds", "5",
                                            "--ingest-every", "0.5", "--ingest-batch", "3", "--warmup", "0",
                                            "--data-dir", str(tmp_path / "data")])  # fmt: skip
    status = bench.run(args)
    out = capfd.readouterr().out
    assert status == 0, out
    # bench/load.py drives the readers with wrk and prints one row per run: name, requests, req/s, p50, p99, errors
    summary = re.search(r"^reader mix\s+(\d+)\s+\S+\s+\S+\s+\S+\s+(\d+)\s*$", out, flags=re.M)
    assert summary is not None, out
    assert int(summary.group(1)) >= 30 and summary.group(2) == "0", out  # every reader got answers, none failed
    assert re.search(r"ingester: \d+ rounds, [1-9]\d* articles stored", out), out  # writes really ran meanwhile
