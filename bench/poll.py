"""Polling throughput: newsloom against lemon24/reader and plain trafilatura, in the same run.

    .venv/bin/python bench/poll.py [--feeds 200] [--items 10] [--hosts 100] [--peers-venv bench/.venv-peers]

A loopback server (its own process, asyncio, pre-built responses with ETag and 304) serves ``--feeds`` feeds
of ``--items`` items each, spread over ``--hosts`` host addresses 127.0.0.2, 127.0.0.3, ... so that the
per-host politeness of a real deployment does not turn the benchmark into a measure of the per-host delay.
newsloom runs with ``per_host_delay_s=0`` (printed), its other settings at their defaults (16 requests at
once overall, 2 per host, robots.txt honoured for pages). Two kinds of feed:

* full-text: every item carries its article in <content:encoded> (no page to fetch);
* summary-only: a two-sentence teaser; the article is on the item's page, which must be fetched and
  extracted (pages are news-like HTML with navigation, asides and footers).

Measured, each on a fresh database:
1. full-text feeds, first poll and re-poll (every feed answers 304): newsloom ``Service.update`` vs reader
   ``update_feeds(workers=16)`` (installed in its own venv, created here with pip on first use);
   newsloom stores, dedupes and clusters every item; reader stores the entries;
2. summary-only feeds, first poll with page fetches, extraction and stories included, against plain
   ``trafilatura.extract`` over the same pages in this process (the work a poller cannot avoid).

Prints feeds/s and items/s for each side and the ratios. Absolute numbers drift on a shared machine; the
ratios are the result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PEERS_VENV = BENCH / ".venv-peers"
PEER_PACKAGES = ["reader>=3.12", "sgmllib3k"]  # reader's vendored feedparser imports sgmllib

# -- generated news ------------------------------------------------------------------------------------------

WORDS = ["council", "budget", "harbour", "bridge", "railway", "election", "reform", "tariff", "vaccine", "hospital", "school", "river", "police", "court", "minister", "mayor", "union", "farmers", "workers", "residents", "officials", "committee", "report", "million", "plan", "debate", "vote", "week", "month", "year", "city", "region", "province", "coast", "border", "market", "prices", "energy", "water", "housing", "transport", "strike"]
NAMES = ["Kalo", "Mertan", "Visor", "Delpa", "Runek", "Braol", "Zenfi", "Gartu", "Solvi", "Tamer", "Oriel"]


def article_text(rng: random.Random, paragraphs: int = 7) -> tuple[str, list[str]]:
    place, person = rng.choice(NAMES) + "ville", rng.choice(NAMES) + " " + rng.choice(NAMES)
    noun = rng.choice(WORDS)
    title = f"{person} defends the {noun} plan in {place} as the {rng.choice(WORDS)} vote nears"
    body = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(3, 5)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(12, 22))]
            sentences.append(f"{person.split()[0]} said the {' '.join(words)} in {place} would cost {rng.randint(2, 900)} million.")
        body.append(" ".join(sentences))
    return title, body


def build_site(feeds: int, items: int, hosts: int, port: int, seed: int) -> dict[str, dict[str, bytes]]:
    """host -> path -> body. Feeds 0..n/2-1 are full-text, the others summary-only."""
    rng = random.Random(seed)
    site: dict[str, dict[str, bytes]] = {}
    start = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    for f in range(feeds):
        host = f"127.0.0.{2 + f % hosts}"
        base = f"http://{host}:{port}"
        full = f < feeds // 2
        entries = []
        for i in range(items):
            title, body = article_text(rng)
            link = f"{base}/f{f}/a{i}.html"
            when = format_datetime(start + timedelta(minutes=37 * i + f))
            paragraphs = "".join(f"<p>{escape(p)}</p>" for p in body)
            if full:
                content = f"<description>{escape(body[0][:200])}</description><content:encoded><![CDATA[{paragraphs}]]></content:encoded>"
            else:
                content = f"<description>{escape(body[0][:160])}…</description>"
                site.setdefault(host, {})[f"/f{f}/a{i}.html"] = page_html(title, paragraphs, f).encode()
            entries.append(
                f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid><pubDate>{when}</pubDate>{content}</item>"
            )
        feed = (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
            f"<channel><title>Outlet {f}</title><link>{base}/</link><description>News</description>{''.join(entries)}</channel></rss>"
        )
        site.setdefault(host, {})[f"/f{f}.xml"] = feed.encode()
    return site


def page_html(title: str, paragraphs: str, outlet: int) -> str:
    nav = "".join(f"<li><a href='/section/{w}'>{w.title()}</a></li>" for w in WORDS[:12])
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)} | Outlet {outlet}</title>"
        f"<meta property='og:site_name' content='Outlet {outlet}'><meta name='author' content='Staff'>"
        "<meta property='article:published_time' content='2026-11-30T08:00:00Z'></head><body>"
        f"<header><nav><ul>{nav}</ul></nav><div class='promo'>Subscribe now for full access</div></header>"
        f"<main><article><h1>{escape(title)}</h1><p class='byline'>By Staff</p>{paragraphs}</article>"
        "<aside><h2>Most read</h2><ul><li><a href='/x'>Another story</a></li><li><a href='/y'>And one more</a></li></ul></aside>"
        "</main><footer><p>© Outlet. All rights reserved.</p><a href='/privacy'>Privacy</a></footer></body></html>"
    )


def feed_urls(feeds: int, hosts: int, port: int) -> tuple[list[str], list[str]]:
    urls = [f"http://127.0.0.{2 + f % hosts}:{port}/f{f}.xml" for f in range(feeds)]
    return urls[: feeds // 2], urls[feeds // 2 :]


# -- the server (a process of its own) ---------------------------------------------------------------------------


def serve(feeds: int, items: int, hosts: int, port: int, seed: int) -> None:
    site = build_site(feeds, items, hosts, port, seed)
    etags = {(h, p): '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for h, paths in site.items() for p, b in paths.items()}
    modified = "Mon, 30 Nov 2026 06:00:00 GMT"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1].split("?")[0]
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = site.get(host, {}).get(path)
                if body is None:
                    status, body, extra = "404 Not Found", b"not found", ""
                elif headers.get("if-none-match") == etags[(host, path)]:
                    status, body, extra = "304 Not Modified", b"", f"ETag: {etags[(host, path)]}\r\n"
                else:
                    kind = "application/rss+xml" if path.endswith(".xml") else "text/html; charset=utf-8"
                    extra = f"Content-Type: {kind}\r\nETag: {etags[(host, path)]}\r\nLast-Modified: {modified}\r\n"
                    status = "200 OK"
                writer.write(f"HTTP/1.1 {status}\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, f"127.0.0.{2 + h}", port, backlog=512) for h in range(hosts)]
        print("ready", flush=True)
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def free_port(hosts: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
            port = probe.getsockname()[1]
        try:
            for h in range(hosts):
                with socket.socket() as s:
                    s.bind((f"127.0.0.{2 + h}", port))
            return port
        except OSError:
            continue
    raise SystemExit("no port free on every bench address")


# -- the sides ---------------------------------------------------------------------------------------------------


def newsloom_settings(data_dir: str, **overrides: object):  # type: ignore[no-untyped-def]
    from newsloom.settings import load_settings

    return load_settings(env={}, data_dir=data_dir, allow_private_networks=True, per_host_delay_s=0.0, **overrides)


def time_newsloom(urls: list[str], data_dir: str, **overrides: object) -> tuple[float, float, int]:
    """(first poll s, re-poll s, articles stored) on a fresh database."""
    from newsloom.service import Service
    from newsloom.types import OpmlOutline

    with Service(newsloom_settings(data_dir, **overrides)) as svc:
        svc.subscribe(OpmlOutline(xml_url=u) for u in urls)
        # Not part of a poll: the story indexes of an empty database, and the imports a running `newsloom run`
        # has made long before (reader's are made by add_feed, before its timing starts, too).
        _ = svc.intake
        for module in ("newsloom.ingest.pipeline", "newsloom.ingest.workpool"):  # the latter: not in old checkouts
            with contextlib.suppress(ImportError):
                importlib.import_module(module)

        started = time.perf_counter()
        first = svc.update(all_sources=True)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = svc.update(all_sources=True)
        again_s = time.perf_counter() - started
        failed = [o for o in first + again if o.status == "error"]
        if failed:
            raise SystemExit(f"newsloom: {len(failed)} polls failed, e.g. {failed[0].source.url}: {failed[0].error}")
        if sum(o.status == "not-modified" for o in again) != len(urls):
            raise SystemExit("newsloom: the re-poll was not all 304s")
        return first_s, again_s, svc.storage.count_articles()


READER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from reader import make_reader
    urls, db = json.loads(sys.argv[1]), sys.argv[2]
    reader = make_reader(db)
    for url in urls:
        reader.add_feed(url)
    started = time.perf_counter()
    reader.update_feeds(workers=16, scheduled=False)
    first = time.perf_counter() - started
    started = time.perf_counter()
    reader.update_feeds(workers=16, scheduled=False)
    again = time.perf_counter() - started
    entries = reader.get_entry_counts().total
    errors = sum(1 for f in reader.get_feeds() if f.last_exception)
    print(json.dumps({"first": first, "again": again, "entries": entries, "errors": errors}))
    """
)


def peers_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with {', '.join(PEER_PACKAGES)} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def time_reader(python: Path, urls: list[str], workdir: str) -> dict[str, float]:
    db = os.path.join(workdir, "reader.sqlite")
    out = subprocess.run([str(python), "-c", READER_SCRIPT, json.dumps(urls), db], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"reader failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise SystemExit(f"reader: {result['errors']} feeds failed")
    return result


def time_trafilatura(pages: list[bytes]) -> float:
    import trafilatura

    started = time.perf_counter()
    for page in pages:
        trafilatura.extract(page.decode("utf-8"))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200, help="feeds in all; half full-text, half summary-only")
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--hosts", type=int, default=100, help="host addresses the feeds are spread over")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--peers-venv", type=Path, default=PEERS_VENV)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.feeds, args.items, args.hosts, args.port, args.seed)
        return 0

    python = peers_python(args.peers_venv)
    port = free_port(args.hosts)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", f"--feeds={args.feeds}", f"--items={args.items}",
         f"--hosts={args.hosts}", f"--seed={args.seed}", f"--port={port}"],
        stdout=subprocess.PIPE, text=True,
    )
    workdir = tempfile.mkdtemp(prefix="newsloom-bench-poll-")
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        full_urls, summary_urls = feed_urls(args.feeds, args.hosts, port)
        site = build_site(args.feeds, args.items, args.hosts, port, args.seed)
        pages = [body for paths in site.values() for path, body in paths.items() if path.endswith(".html")]
        n_full, n_summary = len(full_urls), len(summary_urls)
        print(f"{n_full} full-text + {n_summary} summary-only feeds x {args.items} items on {args.hosts} hosts; "
              f"newsloom per_host_delay_s=0, other politeness defaults; reader update_feeds(workers=16)")

        reader = time_reader(python, full_urls, workdir)
        nl_first, nl_again, nl_articles = time_newsloom(full_urls, os.path.join(workdir, "nl-full"))
        expected = n_full * args.items
        if nl_articles != expected or reader["entries"] != expected:
            raise SystemExit(f"stored {nl_articles} (newsloom) / {reader['entries']} (reader) of {expected} items")
        traf_s = time_trafilatura(pages)
        sm_first, sm_again, sm_articles = time_newsloom(summary_urls, os.path.join(workdir, "nl-summary"))
        if sm_articles != len(pages):
            raise SystemExit(f"newsloom stored {sm_articles} of {len(pages)} summary items")

        def row(name: str, seconds: float, feeds: int, items: int) -> str:
            return f"  {name:<52} {seconds:7.2f} s  {feeds / seconds:8.1f} feeds/s  {items / seconds:8.1f} items/s"

        print("full-text feeds, first poll (newsloom: store, dedupe, stories; no page to fetch)")
        print(row("newsloom", nl_first, n_full, expected))
        print(row("reader update_feeds(workers=16)", reader["first"], n_full, expected))
        print(f"  ratio newsloom/reader: {reader['first'] / nl_first:.2f}x   (target >= 1x)")
        print("full-text feeds, re-poll (every feed answers 304)")
        print(row("newsloom", nl_again, n_full, 0).rsplit("  ", 1)[0])
        print(row("reader update_feeds(workers=16)", reader["again"], n_full, 0).rsplit("  ", 1)[0])
        print(f"  ratio newsloom/reader: {reader['again'] / nl_again:.2f}x   (target >= 3x)")
        print("summary-only feeds, first poll (page fetch + extraction + stories)")
        print(row("newsloom", sm_first, n_summary, len(pages)))
        print(row("plain trafilatura.extract over the same pages", traf_s, n_summary, len(pages)))
        print(f"  ratio newsloom/trafilatura: {traf_s / sm_first:.2f}x   (target >= 0.8x)")
        print(f"  (its re-poll: {sm_again:.2f} s, {n_summary / sm_again:.1f} feeds/s)")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
