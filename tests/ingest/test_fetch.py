"""Fetcher against the real loopback server: bodies, validators, encodings, statuses, redirects, odd servers."""

from __future__ import annotations

import asyncio
import gzip
import socket
import zlib
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar

import brotli
import pytest

from newsloom.errors import (
    BlockedAddressError,
    FetchError,
    HTTPStatusError,
    TooManyRedirectsError,
)
from newsloom.ingest.fetch import Fetcher, fetch_sync, parse_content_type, parse_retry_after
from newsloom.ingest.netguard import AddressPolicy
from newsloom.settings import Settings, load_settings
from newsloom.types import FetchResult
from tests.loopback import LoopbackServer

T = TypeVar("T")


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "allow_private_networks": True,
        "per_host_delay_s": 0.0,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 2.0,
        "total_timeout_s": 5.0,
    }
    values.update(overrides)
    return load_settings(env={}, **values)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def fetch_one(url: str, settings: Settings | None = None, policy: AddressPolicy | None = None,
                    **kwargs: Any) -> FetchResult:
    async with Fetcher(settings or make_settings(), address_policy=policy) as fetcher:
        return await fetcher.fetch(url, **kwargs)


# --- plain GET -----------------------------------------------------------------------------------------------


def test_body_type_charset_and_honest_user_agent(loopback: LoopbackServer) -> None:
    url = loopback.add("/a", "<p>hello</p>", headers={"Content-Type": "text/html; charset=ISO-8859-1", "X-Extra": "1"})
    settings = make_settings(user_agent="newsloom-test/9 (+https://example.org/bot)")

    result = run(fetch_one(url, settings, accept="text/html"))

    assert result.status == 200
    assert result.content == b"<p>hello</p>"
    assert result.url == url and result.final_url == url
    assert result.content_type == "text/html"
    assert result.encoding == "iso-8859-1"
    assert not result.not_modified
    assert ("x-extra", "1") in result.headers
    sent = loopback.hits("/a")[0].headers
    assert sent["user-agent"] == "newsloom-test/9 (+https://example.org/bot)"
    assert sent["accept"] == "text/html"
    assert set(sent["accept-encoding"].replace(" ", "").split(",")) == {"gzip", "deflate", "br"}


def test_wrong_or_missing_charset_is_only_reported(loopback: LoopbackServer) -> None:
    latin1 = "café".encode("latin-1")
    no_charset = loopback.add("/none", latin1, headers={"Content-Type": "text/plain"})
    wrong = loopback.add("/wrong", latin1, headers={"Content-Type": 'text/plain; charset="UTF-8"'})
    bogus = loopback.add("/bogus", latin1, headers={"Content-Type": "text/plain;charset=x-no-such-charset"})
    untyped = loopback.add("/untyped", latin1)

    results = [run(fetch_one(u)) for u in (no_charset, wrong, bogus, untyped)]

    assert [r.encoding for r in results] == [None, "utf-8", "x-no-such-charset", None]
    assert all(r.content == latin1 for r in results)  # bytes untouched: charset decoding is the parser's job
    assert results[3].content_type is None


def test_fetch_sync_runs_one_fetch(loopback: LoopbackServer) -> None:
    url = loopback.add("/sync", "ok")
    assert fetch_sync(url, make_settings()).content == b"ok"


# --- conditional GET -----------------------------------------------------------------------------------------


def _conditional(etag: str, last_modified: str):  # type: ignore[no-untyped-def]
    def handler(h: BaseHTTPRequestHandler) -> None:
        matches = h.headers.get("If-None-Match") == etag or h.headers.get("If-Modified-Since") == last_modified
        if matches:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.end_headers()
            return
        body = b"<rss/>"
        h.send_response(200)
        h.send_header("ETag", etag)
        h.send_header("Last-Modified", last_modified)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handler


def test_etag_round_trip_gives_not_modified(loopback: LoopbackServer) -> None:
    url = loopback.add_raw("/feed", _conditional('"v1"', "Wed, 01 Jan 2025 00:00:00 GMT"))

    first = run(fetch_one(url))
    again = run(fetch_one(url, etag=first.etag))

    assert first.status == 200 and first.etag == '"v1"' and first.content == b"<rss/>"
    assert again.not_modified and again.status == 304 and again.content == b""
    assert again.etag == '"v1"'
    assert loopback.hits("/feed")[1].headers["if-none-match"] == '"v1"'


def test_last_modified_round_trip_gives_not_modified(loopback: LoopbackServer) -> None:
    stamp = "Wed, 01 Jan 2025 00:00:00 GMT"
    url = loopback.add_raw("/feed", _conditional('"v2"', stamp))

    first = run(fetch_one(url))
    again = run(fetch_one(url, last_modified=first.last_modified))

    assert first.last_modified == stamp
    assert again.not_modified
    assert again.last_modified == stamp  # kept from the request when the 304 does not repeat it
    assert loopback.hits("/feed")[1].headers["if-modified-since"] == stamp


# --- content encodings -----------------------------------------------------------------------------------------

TEXT = ("Breaking: the council voted 7 to 2. " * 200).encode()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)[2:-4]),  # raw deflate, as some servers send it
        ("br", brotli.compress(TEXT)),
        ("gzip", gzip.compress(TEXT[:100]) + gzip.compress(TEXT[100:])),  # two gzip members
        ("gzip, br", brotli.compress(gzip.compress(TEXT))),  # stacked: gzip applied first
        ("identity", TEXT),
        ("gzip", TEXT),  # labelled gzip but sent plain
    ],
    ids=["gzip", "x-gzip", "zlib-deflate", "raw-deflate", "br", "gzip-members", "gzip+br", "identity", "mislabelled"],
)
def test_compressed_bodies_are_decoded(loopback: LoopbackServer, encoding: str, body: bytes) -> None:
    url = loopback.add("/enc", body, headers={"Content-Encoding": encoding, "Content-Type": "text/plain"})
    assert run(fetch_one(url)).content == TEXT


def test_unknown_encoding_and_corrupt_body_are_fetch_errors(loopback: LoopbackServer) -> None:
    zstd = loopback.add("/zstd", b"\x28\xb5\x2f\xfd junk", headers={"Content-Encoding": "zstd"})
    corrupt = loopback.add("/bad", b"\x1f\x8b\x08\x00garbage-garbage", headers={"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="unsupported content encoding") as unknown:
        run(fetch_one(zstd))
    with pytest.raises(FetchError, match="corrupt compressed body"):
        run(fetch_one(corrupt))
    assert type(unknown.value) is FetchError


# --- statuses and Retry-After -----------------------------------------------------------------------------------


def test_error_status_raises_http_status_error(loopback: LoopbackServer) -> None:
    url = loopback.add("/gone", "nope", status=404)
    with pytest.raises(HTTPStatusError) as caught:
        run(fetch_one(url))
    assert caught.value.status == 404
    assert caught.value.reason == "HTTP 404 Not Found"
    assert caught.value.retry_after is None


def test_retry_after_seconds_and_date(loopback: LoopbackServer) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    busy = loopback.add("/busy", "slow down", status=429, headers={"Retry-After": "120"})
    down = loopback.add("/down", "maintenance", status=503, headers={"Retry-After": later})

    with pytest.raises(HTTPStatusError) as too_many:
        run(fetch_one(busy))
    with pytest.raises(HTTPStatusError) as unavailable:
        run(fetch_one(down))

    assert too_many.value.status == 429 and too_many.value.retry_after == 120
    assert unavailable.value.status == 503
    assert unavailable.value.retry_after is not None and 80 <= unavailable.value.retry_after <= 91


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("0", now) == 0
    assert parse_retry_after(" 3600 ", now) == 3600
    assert parse_retry_after("Wed, 01 Jan 2025 12:05:00 GMT", now) == 300
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0  # in the past: retry now
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after(None, now) is None


def test_parse_content_type() -> None:
    assert parse_content_type("Application/RSS+XML; Charset='Windows-1252'") == ("application/rss+xml", "windows-1252")
    assert parse_content_type("text/html") == ("text/html", None)
    assert parse_content_type(None) == (None, None)


# --- redirects -------------------------------------------------------------------------------------------------


def test_redirect_chain_is_followed_with_relative_location(loopback: LoopbackServer) -> None:
    loopback.add("/old", status=301, headers={"Location": loopback.url("/middle")})
    loopback.add("/middle", status=302, headers={"Location": "final?x=1"})
    loopback.add("/final", "arrived")

    result = run(fetch_one(loopback.url("/old")))

    assert result.content == b"arrived"
    assert result.url == loopback.url("/old")
    assert result.final_url == loopback.url("/final?x=1")


def test_redirect_limit(loopback: LoopbackServer) -> None:
    for i in range(5):
        loopback.add(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    loopback.add("/r5", "end")

    assert run(fetch_one(loopback.url("/r0"), make_settings(max_redirects=5))).content == b"end"
    with pytest.raises(TooManyRedirectsError, match="more than 4 redirects"):
        run(fetch_one(loopback.url("/r0"), make_settings(max_redirects=4)))


def test_redirect_loop_is_detected(loopback: LoopbackServer) -> None:
    loopback.add("/ping", status=302, headers={"Location": "/pong"})
    loopback.add("/pong", status=307, headers={"Location": "/ping"})

    with pytest.raises(TooManyRedirectsError, match="loop"):
        run(fetch_one(loopback.url("/ping"), make_settings(max_redirects=20)))
    assert len(loopback.requests) == 2


def test_redirect_into_blocked_network_is_refused(loopback: LoopbackServer) -> None:
    policy = AddressPolicy(allow_private=True, extra_blocked=["127.0.0.2/32"])
    loopback.add("/jump", status=302, headers={"Location": f"http://127.0.0.2:{loopback.port}/secret"})
    loopback.add("/secret", "internal data")

    with pytest.raises(BlockedAddressError) as caught:
        run(fetch_one(loopback.url("/jump"), policy=policy))

    assert "127.0.0.2" in caught.value.reason
    assert loopback.hits("/secret") == []


def test_redirect_to_other_scheme_is_refused(loopback: LoopbackServer) -> None:
    loopback.add("/file", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(BlockedAddressError, match="scheme"):
        run(fetch_one(loopback.url("/file")))


def test_redirect_without_location_is_an_error(loopback: LoopbackServer) -> None:
    url = loopback.add("/nowhere", status=302)
    with pytest.raises(HTTPStatusError, match="without a Location"):
        run(fetch_one(url))


# --- odd servers -------------------------------------------------------------------------------------------------


def test_malformed_response_is_a_fetch_error(loopback: LoopbackServer) -> None:
    def garbage(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"this is not HTTP at all\r\n\r\n")
        h.wfile.flush()
        h.close_connection = True

    url = loopback.add_raw("/garbage", garbage)
    with pytest.raises(FetchError, match="malformed response") as caught:
        run(fetch_one(url))
    assert type(caught.value) is FetchError


def test_huge_headers_are_a_fetch_error(loopback: LoopbackServer) -> None:
    def huge(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        for i in range(400):
            h.send_header(f"X-Filler-{i}", "x" * 1000)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"ok")

    url = loopback.add_raw("/huge-headers", huge)
    with pytest.raises(FetchError, match="headers too large"):
        run(fetch_one(url))


def test_body_shorter_than_declared_is_a_fetch_error(loopback: LoopbackServer) -> None:
    def short(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
        h.wfile.flush()
        h.close_connection = True

    url = loopback.add_raw("/short", short)
    with pytest.raises(FetchError, match="malformed response"):
        run(fetch_one(url))


def test_tls_failure_is_a_fetch_error(loopback: LoopbackServer) -> None:
    # https:// to a plain-HTTP server: the handshake fails
    with pytest.raises(FetchError, match="TLS error"):
        run(fetch_one(f"https://127.0.0.1:{loopback.port}/"))


def test_connection_refused_is_a_fetch_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="connection failed"):
        run(fetch_one(f"http://127.0.0.1:{port}/"))


def test_invalid_url_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match="invalid URL"):
        run(fetch_one("http:///no-host"))
    with pytest.raises(FetchError):
        run(fetch_one("http://exa mple.com/"))
    with pytest.raises(FetchError, match="invalid URL"):
        run(fetch_one("http://127.0.0.1:99999/"))
    with pytest.raises(FetchError, match="invalid URL"):
        run(fetch_one("http://[::1:1/"))
