"""Fetcher overhead against plain httpx, on a loopback server started here (never the internet).

Prints two ratios measured in the same run, so machine speed cancels out:

* requests: N sequential GETs of a gzip'd page through ``Fetcher`` (address checks, own DNS step, politeness
  slot, manual redirects, bounded decoding) vs ``httpx.AsyncClient`` doing the same GETs;
* decoding: the bounded streaming decoder (64 KiB pieces) vs one-shot ``zlib.decompress`` of the same body.

Usage: .venv/bin/python bench/fetch.py [--requests 300] [--page-kb 60] [--decode-mb 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from newsloom.ingest.decode import decoder_for
from newsloom.ingest.fetch import Fetcher
from newsloom.settings import load_settings


def start_server(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            # one write for head and body: separate small writes meet delayed ACKs and cost ~40 ms each,
            # which would hide the client's own cost
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            self.wfile.write(head + body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def with_fetcher(url: str, n: int) -> float:
    settings = load_settings(env={}, allow_private_networks=True, per_host_delay_s=0.0)
    async with Fetcher(settings) as fetcher:
        await fetcher.fetch(url)  # warm the connection pool, as in the reference
        started = time.perf_counter()
        for _ in range(n):
            await fetcher.fetch(url)
        return time.perf_counter() - started


async def with_httpx(url: str, n: int) -> float:
    async with httpx.AsyncClient(trust_env=False) as client:
        await client.get(url)
        started = time.perf_counter()
        for _ in range(n):
            (await client.get(url)).raise_for_status()
        return time.perf_counter() - started


def decode_bounded(body: bytes) -> int:
    decoder = decoder_for("gzip", "bench")
    pieces: list[bytes] = []
    for start in range(0, len(body), 64 * 1024):  # network-sized raw chunks
        pieces.extend(decoder.feed(body[start : start + 64 * 1024]))
    pieces.extend(decoder.finish())
    return len(b"".join(pieces))  # the Fetcher joins its pieces too


def best_of(runs: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--page-kb", type=int, default=60)
    parser.add_argument("--decode-mb", type=int, default=20)
    args = parser.parse_args()

    page = (b"<p>The council voted 7 to 2 on Tuesday to approve the budget.</p>\n" * 2000)[: args.page_kb * 1024]
    server = start_server(gzip.compress(page))
    url = f"http://127.0.0.1:{server.server_address[1]}/article"
    try:
        reference = best_of(3, lambda: asyncio.run(with_httpx(url, args.requests)))
        ours = best_of(3, lambda: asyncio.run(with_fetcher(url, args.requests)))
    finally:
        server.shutdown()
    print(f"requests: {args.requests} GETs of a {args.page_kb} KB gzip page over loopback")
    print(f"  httpx.AsyncClient  {reference * 1000 / args.requests:7.2f} ms/request")
    print(f"  newsloom Fetcher   {ours * 1000 / args.requests:7.2f} ms/request")
    print(f"  ratio Fetcher/httpx: {ours / reference:.2f}")

    data = gzip.compress(page * max(1, args.decode_mb * 1024 // args.page_kb))
    one_shot = best_of(3, lambda: _timed(lambda: len(zlib.decompress(data, 16 + zlib.MAX_WBITS))))
    bounded = best_of(3, lambda: _timed(lambda: decode_bounded(data)))
    print(f"decoding: {len(data) // 1024} KB gzip -> {args.decode_mb} MB")
    print(f"  zlib one-shot      {one_shot * 1000:7.1f} ms")
    print(f"  bounded streaming  {bounded * 1000:7.1f} ms")
    print(f"  ratio bounded/one-shot: {bounded / one_shot:.2f}")


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
