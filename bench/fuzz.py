"""Long fuzz runs of every parser of untrusted input: counts, time, failures.

Two engines, each input bounded in time by a SIGALRM timer (``--seconds-per-input``):

* ``hypothesis``: the structure-aware generators of tests/hostile/generators.py (near-valid feeds, OPML,
  pages, texts, JSON Lines, comparison inputs, mutated), driven by random buffers through hypothesis'
  ``fuzz_one_input``: no shrinking, one generated input per buffer;
* ``atheris`` (coverage-guided libFuzzer, if installed): raw bytes straight into each byte parser, plus the
  same structure-aware generators fed by atheris' mutated buffers (``--atheris-mode structured``).

The property is the CI one (tests/hostile/guard.py): a parser returns or raises a NewsloomError subclass.
Known, reported bugs (guard.KNOWN_BUGS) are counted apart. Prints, per parser: inputs, seconds, inputs/s,
NewsloomErrors, known-bug hits, new failures (type, message, one reproducer), and the speed ratio against
a reference (``json.loads`` of the same number of small documents) measured in the same run.

Usage (low priority, it is long):
  nice -n 19 .venv/bin/python bench/fuzz.py --count 100000 --parser parse_feed --parser parse_opml
  nice -n 19 .venv/bin/python bench/fuzz.py --engine atheris --count 100000 --parser parse_feed
  .venv/bin/python bench/fuzz.py --list
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.hostile holds the generators shared with CI

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# An atheris child instruments newsloom's code as it is imported (coverage guidance); instrumenting after
# the fact (atheris.instrument_all) takes minutes on this machine.
if "--atheris-child" in sys.argv:
    import atheris

    _instrumentation: contextlib.AbstractContextManager[object] = atheris.instrument_imports(include=["newsloom"])
else:
    _instrumentation = contextlib.nullcontext()

with _instrumentation:
    from tests.hostile import generators as gen
    from tests.hostile.guard import InputTookTooLong, is_known_bug, time_bound

    from newsloom.errors import NewsloomError
    from newsloom.ingest.extract import extract_html, extract_text
    from newsloom.ingest.feeds import parse_feed
    from newsloom.ingest.jsonfeed import parse_json_feed
    from newsloom.ingest.opml import parse_opml
    from newsloom.ingest.plaintext import parse_plain_text
    from newsloom.service import read_jsonl
    from newsloom.stories.cluster import cluster_records
    from newsloom.stories.compare import compare_articles, comparison_to_dict

#: Bytes per random buffer handed to hypothesis: enough choices for the largest generated documents.
BUFFER_BYTES = 8192
#: Memory cap of a fuzzing process: a parser that balloons fails with MemoryError (a finding) instead of
#: taking the shared machine down. Parsing a 64 KiB input needs well under 500 MB.
ADDRESS_SPACE_LIMIT = 4 * 1024**3


@dataclass
class Tally:
    parser: str
    inputs: int = 0
    seconds: float = 0.0
    newsloom_errors: int = 0
    known: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # "Type: message" -> repr of one input
    failure_counts: Counter[str] = field(default_factory=Counter)
    slowest_s: float = 0.0

    def record(self, parser: str, run: Callable[[], object], sample: Callable[[], str], bound_s: float) -> None:
        self.inputs += 1
        started = time.monotonic()
        try:
            with time_bound(bound_s):
                run()
        except NewsloomError:
            self.newsloom_errors += 1
        except InputTookTooLong as exc:
            self._fail(f"hang: {exc}", sample)
        except Exception as exc:  # the finding
            key = f"{type(exc).__name__}: {str(exc)[:120]}"
            if is_known_bug(parser, exc):
                self.known[key] += 1
            else:
                self._fail(key, sample)
        finally:
            elapsed = time.monotonic() - started
            self.seconds += elapsed
            self.slowest_s = max(self.slowest_s, elapsed)

    def _fail(self, key: str, sample: Callable[[], str]) -> None:
        self.failure_counts[key] += 1
        if key not in self.failures:
            self.failures[key] = sample()[:2000]

    def as_dict(self) -> dict[str, Any]:
        return {
            "parser": self.parser, "inputs": self.inputs, "seconds": round(self.seconds, 2),
            "newsloom_errors": self.newsloom_errors, "known_bug_hits": dict(self.known),
            "failures": {k: {"count": self.failure_counts[k], "input": v} for k, v in self.failures.items()},
            "slowest_input_s": round(self.slowest_s, 3),
        }


# --- targets: (strategy for structured inputs, run one input, raw-bytes adapter) -----------------------------------


def _cluster(data: bytes) -> object:
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as fh:
        fh.write(data)
        fh.flush()
        return cluster_records(read_jsonl(fh.name))


def _compare(inputs: list[Any]) -> object:
    return comparison_to_dict(compare_articles(inputs))


@dataclass(frozen=True)
class Target:
    strategy: st.SearchStrategy[Any]
    run: Callable[[Any], object]
    raw: Callable[[bytes], object] | None  # how atheris' raw bytes are fed, None if not a byte parser


TARGETS: dict[str, Target] = {
    "parse_feed": Target(
        st.tuples(gen.feed_bytes(), gen.content_types, st.one_of(st.none(), gen.url_values)),
        lambda a: parse_feed(a[0], content_type=a[1], url=a[2]),
        lambda b: parse_feed(b),
    ),
    "parse_json_feed": Target(gen.json_feed_document(), parse_json_feed, parse_json_feed),
    "parse_opml": Target(gen.opml_bytes(), parse_opml, parse_opml),
    "extract_html": Target(gen.html_input(), lambda a: extract_html(a[0], encoding=a[1], url=a[2]), extract_html),
    "extract_text": Target(
        st.one_of(gen.plain_text(), st.text(max_size=2000)),
        lambda t: (extract_text(t), parse_plain_text(t)),
        lambda b: extract_text(b.decode("utf-8", "replace")),
    ),
    "cluster": Target(gen.jsonl_bytes(), _cluster, _cluster),
    "compare": Target(gen.compare_inputs(), _compare, None),
}


def _hypothesis_driver(tally: Tally, target: Target, bound_s: float) -> Callable[[bytes], object]:
    """A hypothesis test whose ``fuzz_one_input`` turns one buffer into one generated input and tallies it."""

    @settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def one(value: Any) -> None:
        tally.record(tally.parser, lambda: target.run(value), lambda: repr(value), bound_s)

    return one.hypothesis.fuzz_one_input  # type: ignore[attr-defined, no-any-return]


def run_hypothesis(name: str, count: int, bound_s: float, seed: int) -> Tally:
    tally = Tally(name)
    fuzz = _hypothesis_driver(tally, TARGETS[name], bound_s)
    rng = random.Random(seed)
    while tally.inputs < count:
        before = tally.inputs
        fuzz(rng.randbytes(BUFFER_BYTES))
        if tally.inputs == before:  # the buffer was rejected by the strategy (rare): count it as not run
            continue
    return tally


# --- atheris (in a child process: libFuzzer owns the process and exits it) -----------------------------------------


def atheris_child(name: str, count: int, bound_s: float, mode: str, out: Path) -> None:
    target = TARGETS[name]
    tally = Tally(name)
    started = time.monotonic()

    def flush() -> None:
        data = tally.as_dict()
        data["wall_seconds"] = round(time.monotonic() - started, 2)
        data["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out.write_text(json.dumps(data, indent=1))

    if mode == "structured" or target.raw is None:
        structured = _hypothesis_driver(tally, target, bound_s)

        def test_one(data: bytes) -> None:
            structured(data)
            if tally.inputs % 1000 == 0:
                flush()
            if tally.inputs >= count:
                flush()
                os._exit(0)
    else:
        raw = target.raw

        def test_one(data: bytes) -> None:
            tally.record(name, lambda: raw(data), lambda: repr(data), bound_s)
            if tally.inputs % 1000 == 0:
                flush()
            if tally.inputs >= count:
                flush()
                os._exit(0)

    atheris.Setup([sys.argv[0], "-rss_limit_mb=4096", f"-max_len={BUFFER_BYTES}"], test_one)
    atheris.Fuzz()


def run_atheris(name: str, count: int, bound_s: float, mode: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "tally.json"
        cmd = [sys.executable, __file__, "--atheris-child", name, "--count", str(count),
               "--seconds-per-input", str(bound_s), "--atheris-mode", mode, "--out", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if not out.exists():
            return {"parser": name, "error": f"atheris child exited {proc.returncode}: {proc.stderr[-2000:]}"}
        data: dict[str, Any] = json.loads(out.read_text())
        data["engine"] = f"atheris-{mode}"
        return data


# --- reference and report ------------------------------------------------------------------------------------------


def reference_rate(n: int = 20000) -> float:
    """json.loads of small documents per second on this machine now: the yardstick for inputs/s."""
    docs = [json.dumps({"id": i, "text": "word " * (i % 50)}) for i in range(n)]
    started = time.perf_counter()
    for doc in docs:
        json.loads(doc)
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parser", action="append", choices=sorted(TARGETS), help="parser to fuzz (repeatable; default all)")
    parser.add_argument("--count", type=int, default=100_000, help="inputs per parser")
    parser.add_argument("--engine", choices=["hypothesis", "atheris", "both"], default="hypothesis")
    parser.add_argument("--atheris-mode", choices=["raw", "structured"], default="raw")
    parser.add_argument("--seconds-per-input", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--atheris-child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    if args.atheris_child:
        atheris_child(args.atheris_child, args.count, args.seconds_per_input, args.atheris_mode, args.out)
        return
    if args.list:
        print("\n".join(sorted(TARGETS)))
        return

    names = args.parser or sorted(TARGETS)
    reference = reference_rate()
    print(f"reference: json.loads {reference:,.0f} docs/s")
    results: list[dict[str, Any]] = []
    for name in names:
        engines = ["hypothesis", "atheris"] if args.engine == "both" else [args.engine]
        for engine in engines:
            if engine == "hypothesis":
                started = time.monotonic()
                data = run_hypothesis(name, args.count, args.seconds_per_input, args.seed).as_dict()
                data["wall_seconds"] = round(time.monotonic() - started, 2)
                data["engine"] = "hypothesis"
            else:
                data = run_atheris(name, args.count, args.seconds_per_input, args.atheris_mode)
            results.append(data)
            if "error" in data:
                print(f"{name:16} {data.get('engine', engine):20} ERROR {data['error']}")
                continue
            rate = data["inputs"] / data["wall_seconds"] if data["wall_seconds"] else float("inf")
            print(
                f"{name:16} {data['engine']:20} inputs={data['inputs']:>8,} wall={data['wall_seconds']:>8.1f}s "
                f"rate={rate:>8.0f}/s ratio_vs_json={rate / reference:.5f} newsloom_errors={data['newsloom_errors']:>7,} "
                f"known_bug_hits={sum(data['known_bug_hits'].values()):>5} NEW_FAILURES={sum(f['count'] for f in data['failures'].values())} "
                f"slowest={data['slowest_input_s']}s"
            )
            for key, failure in data["failures"].items():
                print(f"    FAIL x{failure['count']}: {key}\n        input: {failure['input'][:400]}")
            for key, hits in data["known_bug_hits"].items():
                print(f"    known x{hits}: {key}")
    if args.json:
        args.json.write_text(json.dumps({"reference_json_loads_per_s": reference, "results": results}, indent=1))


if __name__ == "__main__":
    main()
