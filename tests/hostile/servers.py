"""Hostile servers for the loopback fixture: raw handlers that misbehave on purpose, and a TLS server.

Each ``HostileCase`` installs one misbehaving route on a ``LoopbackServer`` and says what newsloom must make
of it (the fetch error's words). The same cases run in CI (``test_hostile_service.py``, small limits) and in
``bench/hostile.py`` (time and peak memory per case).
"""

from __future__ import annotations

import gzip
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli

from tests.loopback import LoopbackServer

#: Decompressed size of the bombs: 64 MiB of zeros packs into ~64 KB of gzip and ~60 bytes of brotli. A
#: fetch that inflated a bomb before checking its size would need hundreds of times the body limit.
BOMB_BYTES = 64 * 1024 * 1024
#: A drip sends one byte per this many seconds: slower than any real server, faster than the read timeout.
DRIP_INTERVAL_S = 0.25
#: How long a drip or stall handler keeps going before giving up on its own (the client leaves long before).
HANDLER_LIFETIME_S = 30.0

PARAGRAPH = (
    "The city council voted on Tuesday to approve the new harbour bridge after a debate that lasted more "
    "than six hours, with members of both parties raising questions about cost, timing and the tender. "
)


def good_feed(base: str, prefix: str = "good") -> bytes:
    """An RSS feed whose items carry their full text (no page fetch needed), as a healthy source."""
    body = "".join(f"<p>{PARAGRAPH} Paragraph {i}.</p>" for i in range(8))
    items = "".join(
        f"<item><title>Council story {i}</title><link>{base}/{prefix}/{i}</link><guid>{base}/{prefix}/{i}</guid>"
        f"<pubDate>Tue, 18 Mar 2025 1{i}:00:00 GMT</pubDate><description><![CDATA[{body} Story {i}.]]></description></item>"
        for i in range(3)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Good Times</title>"
        f"<link>{base}/</link><description>News</description>{items}</channel></rss>"
    ).encode()


# --- raw handlers --------------------------------------------------------------------------------------------

Handler = Callable[[BaseHTTPRequestHandler], None]


def endless_body(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"<item>" + b"x" * 16378 + b"</item>"
    deadline = time.monotonic() + HANDLER_LIFETIME_S
    while time.monotonic() < deadline:  # until the client hangs up (BrokenPipe ends the handler)
        h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def endless_identity_body(h: BaseHTTPRequestHandler) -> None:
    """No Content-Length, no chunking: the body ends when the connection closes, i.e. never."""
    h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n")
    deadline = time.monotonic() + HANDLER_LIFETIME_S
    while time.monotonic() < deadline:
        h.wfile.write(b"<rss>" * 4096)
    h.close_connection = True


def _bomb(encoding: str, payload: bytes) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Encoding", encoding)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    return handler


_BOMBS: dict[str, bytes] = {}


def bomb_payload(kind: str) -> bytes:
    """The compressed bomb of ``kind`` ('gzip', 'br', 'gzip, br'), built once per process."""
    if kind not in _BOMBS:
        zeros = b"\0" * BOMB_BYTES
        if kind == "gzip":
            _BOMBS[kind] = gzip.compress(zeros, compresslevel=9)
        elif kind == "br":
            _BOMBS[kind] = brotli.compress(zeros, quality=5)
        else:
            _BOMBS[kind] = brotli.compress(bomb_payload("gzip"))
    return _BOMBS[kind]


def body_drip(h: BaseHTTPRequestHandler) -> None:
    """Slowloris on the body: one byte per DRIP_INTERVAL_S, never tripping the read timeout."""
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    deadline = time.monotonic() + HANDLER_LIFETIME_S
    while time.monotonic() < deadline:
        h.wfile.write(b"<")
        h.wfile.flush()
        time.sleep(DRIP_INTERVAL_S)


def header_drip(h: BaseHTTPRequestHandler) -> None:
    """Slowloris on the headers: the header block never ends."""
    h.wfile.write(b"HTTP/1.1 200 OK\r\n")
    deadline = time.monotonic() + HANDLER_LIFETIME_S
    i = 0
    while time.monotonic() < deadline:
        h.wfile.write(b"X-Slow-%d: %s\r\n" % (i, b"x"))
        h.wfile.flush()
        i += 1
        time.sleep(DRIP_INTERVAL_S)


def status_line_drip(h: BaseHTTPRequestHandler) -> None:
    """Slowloris before anything: the status line itself arrives one byte at a time."""
    deadline = time.monotonic() + HANDLER_LIFETIME_S
    for byte in iter(lambda: b"H", None):
        if time.monotonic() > deadline:
            break
        h.wfile.write(byte)
        h.wfile.flush()
        time.sleep(DRIP_INTERVAL_S)


def silent(h: BaseHTTPRequestHandler) -> None:
    """Accepts the request and never answers."""
    time.sleep(HANDLER_LIFETIME_S)


def huge_headers(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    for i in range(2000):
        h.send_header(f"X-Filler-{i}", "x" * 1000)
    h.send_header("Content-Length", "2")
    h.end_headers()
    h.wfile.write(b"ok")


def one_huge_header(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Set-Cookie", "a=" + "x" * 2_000_000)
    h.send_header("Content-Length", "2")
    h.end_headers()
    h.wfile.write(b"ok")


def not_http(h: BaseHTTPRequestHandler) -> None:
    h.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n")
    h.wfile.flush()
    h.close_connection = True


def empty_reply(h: BaseHTTPRequestHandler) -> None:
    h.close_connection = True  # close without a byte


def many_informational(h: BaseHTTPRequestHandler) -> None:
    """An endless stream of 1xx interim responses, never a final one."""
    deadline = time.monotonic() + HANDLER_LIFETIME_S
    while time.monotonic() < deadline:
        h.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </x.css>; rel=preload\r\n\r\n")
        h.wfile.flush()
        time.sleep(0.01)


def _status(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handler


# --- the cases -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostileCase:
    """One misbehaving feed URL: ``install`` adds its route(s) and returns the URL to subscribe."""

    name: str
    install: Callable[[LoopbackServer], str]
    #: words that must appear in the source's last_error (lower-cased)
    expect: tuple[str, ...]
    #: the least time the server asks us to wait (Retry-After), in seconds
    min_backoff_s: float = 0.0


def _route(path: str, handler: Handler) -> Callable[[LoopbackServer], str]:
    return lambda server: server.add_raw(path, handler)


def _redirect_loop(server: LoopbackServer) -> str:
    server.add("/loop-a", status=302, headers={"Location": "/loop-b"})
    server.add("/loop-b", status=301, headers={"Location": "/loop-a"})
    return server.url("/loop-a")


def _long_redirect_chain(server: LoopbackServer) -> str:
    for i in range(50):  # every hop a new URL, so only the hop limit stops it
        server.add(f"/hop{i}", status=307, headers={"Location": f"/hop{i + 1}"})
    return server.url("/hop0")


def _redirect_to(path: str, location: str) -> Callable[[LoopbackServer], str]:
    return lambda server: server.add(path, status=302, headers={"Location": location})


def _later(seconds: int) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


HOSTILE_CASES: tuple[HostileCase, ...] = (
    HostileCase("endless-chunked-body", _route("/endless", endless_body), ("limit",)),
    HostileCase("endless-unframed-body", _route("/endless-raw", endless_identity_body), ("limit",)),
    HostileCase("gzip-bomb", lambda s: s.add_raw("/gzip-bomb", _bomb("gzip", bomb_payload("gzip"))), ("limit", "gzip")),
    HostileCase("brotli-bomb", lambda s: s.add_raw("/br-bomb", _bomb("br", bomb_payload("br"))), ("limit", "br")),
    HostileCase("stacked-bomb", lambda s: s.add_raw("/stacked-bomb", _bomb("gzip, br", bomb_payload("gzip, br"))), ("limit",)),
    HostileCase("body-drip", _route("/body-drip", body_drip), ("time",)),
    HostileCase("header-drip", _route("/header-drip", header_drip), ("time",)),
    HostileCase("status-line-drip", _route("/status-drip", status_line_drip), ("time",)),
    HostileCase("silent-server", _route("/silent", silent), ("timed out",)),
    HostileCase("endless-1xx", _route("/hints", many_informational), ("time",)),
    HostileCase("redirect-loop", _redirect_loop, ("redirect loop",)),
    HostileCase("long-redirect-chain", _long_redirect_chain, ("redirects",)),
    HostileCase("redirect-to-file", _redirect_to("/to-file", "file:///etc/passwd"), ("scheme",)),
    HostileCase("redirect-to-gopher", _redirect_to("/to-gopher", "gopher://127.0.0.1:6379/_INFO"), ("scheme",)),
    HostileCase("redirect-with-credentials", _redirect_to("/to-creds", "http://admin:admin@127.0.0.1/"), ("credentials",)),
    HostileCase("huge-headers", _route("/huge-headers", huge_headers), ("headers too large",)),
    HostileCase("one-huge-header", _route("/huge-header", one_huge_header), ("malformed",)),
    HostileCase("not-http", _route("/ssh", not_http), ("malformed",)),
    HostileCase("empty-reply", _route("/empty", empty_reply), ("malformed",)),
    HostileCase("http-500", _route("/500", _status(500, body=b"<h1>oops</h1>")), ("500",)),
    HostileCase("http-429-retry-after", _route("/429", _status(429, {"Retry-After": "7200"})), ("429",), 7200),
    HostileCase("http-503-retry-after-date", lambda s: s.add_raw("/503", _status(503, {"Retry-After": _later(5400)})), ("503",), 5000),
    HostileCase("not-a-feed", lambda s: s.add("/page", "<!DOCTYPE html><html><body><p>hi</p></body></html>", headers={"Content-Type": "application/rss+xml"}), ("html",)),
    HostileCase("billion-laughs", lambda s: s.add("/lol", b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]><rss version="2.0"><channel><title>&h;</title></channel></rss>'), ("not a feed", "malformed", "no usable")),
)


# --- TLS ---------------------------------------------------------------------------------------------------------


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def make_self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (P-256: generated in milliseconds)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


@contextmanager
def tls_server(cert: Path, key: Path, body: bytes) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 with the given certificate, serving ``body`` on every path; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class TLSServer(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self):  # type: ignore[no-untyped-def]
            sock, addr = super().get_request()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            # handshake in the handler thread (do_handshake_on_connect), so a bad client cannot block accept()
            return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

        def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
            pass  # failed handshakes are the point of these tests

    server = TLSServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# --- a second loopback address -------------------------------------------------------------------------------------


@contextmanager
def redirector(host: str, location: str) -> Iterator[tuple[str, list[str]]]:
    """A server on ``host`` (e.g. 127.0.0.2) answering every GET with a 302 to ``location``.

    Yields (its base URL, the paths it was asked for). Linux routes all of 127.0.0.0/8 to loopback, so a
    second address gives an "allowed" server next to the "internal" one without any real network.
    """
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(302)
            # raw UTF-8 bytes on the wire, as real servers send non-ASCII Locations (send_header is latin-1)
            self.send_header("Location", location.encode("utf-8").decode("latin-1"))
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
