"""Start-up time of the ``newsloom`` command against ``python -c pass``, in the same run.

    .venv/bin/python bench/startup.py [--runs 15]

Each command runs ``--runs`` times as a fresh process (interleaved with the reference so that load from other
processes hits both alike); the best and median wall times are printed, with the difference to the bare
interpreter. Measured:

* ``newsloom --help``;
* ``newsloom add URL`` of a feed not subscribed yet, on an initialised SQLite database, the feed served by a
  loopback server in this process (a new URL each run, so every run fetches, parses and stores);
* ``newsloom add URL`` of a feed already subscribed (a subscription script run twice).

Bytecode is compiled first (``compileall``) and PYTHONDONTWRITEBYTECODE is dropped for the children: an
installed package has its .pyc files, and without them every run would re-compile newsloom's modules.
Target: 0.3 s or less for each command.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 0.3
FEED = (
    b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Valley Post</title>"
    b"<link>http://example.org/</link><description>News</description><item><title>A story</title>"
    b"<link>http://example.org/a</link><description>Teaser.</description></item></channel></rss>"
)


def start_server() -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {len(FEED)}\r\n\r\n"
            self.wfile.write(head.encode() + FEED)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"{' '.join(argv)} failed: {result.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    compileall.compile_dir(str(REPO / "src"), quiet=1)
    newsloom = str(Path(sys.executable).parent / "newsloom")
    server = start_server()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="newsloom-bench-startup-") as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLOOM_") and k != "PYTHONDONTWRITEBYTECODE"}
        env.update(NEWSLOOM_DATA_DIR=data, NEWSLOOM_ALLOW_PRIVATE_NETWORKS="1")
        wall([newsloom, "init"], env)
        wall([newsloom, "add", f"{base}/known.xml"], env)
        commands = {
            "python -c pass": lambda i: [sys.executable, "-c", "pass"],
            "newsloom --help": lambda i: [newsloom, "--help"],
            "newsloom add URL (new feed)": lambda i: [newsloom, "add", f"{base}/feed{i}.xml"],
            "newsloom add URL (already subscribed)": lambda i: [newsloom, "add", f"{base}/known.xml"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(args.runs):
            for name, command in commands.items():
                times[name].append(wall(command(i), env))
    server.shutdown()
    reference = min(times["python -c pass"])
    print(f"{args.runs} runs each, interleaved; best / median wall time; target <= {TARGET_S} s")
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        extra = "" if name.startswith("python") else f"  (+{best - reference:.3f} s over python; {'meets' if best <= TARGET_S else 'misses'} target)"
        print(f"  {name:<40} {best:6.3f} s / {median:6.3f} s{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
