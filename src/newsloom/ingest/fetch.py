"""Polite, safe HTTP: one ``Fetcher.fetch(url)`` -> ``FetchResult`` or a ``FetchError`` subclass, nothing else.

What "polite" and "safe" mean here, and where each is enforced:

* every address is checked (netguard.py) on the URL text, after DNS resolution and at every redirect hop,
  which is why redirects are followed here, one hop at a time, rather than by httpx;
* per-host concurrency, delay between requests and a global cap (politeness.py), taken per hop;
* robots.txt for article pages (robots.py), fetched once per host and cached for a day;
* caps on time (connect, read, and a total per fetch) and on size, counted on DECOMPRESSED bytes: bodies
  are read raw and decoded here in bounded pieces, so a 10 KB gzip or brotli bomb stops at the limit
  instead of inflating in memory first;
* conditional GET (ETag / Last-Modified -> 304 -> ``not_modified=True``) and Retry-After on 429/503.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Protocol

import brotli
import httpx

from newsloom.errors import (
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    RobotsDisallowedError,
    TooLargeError,
    TooManyRedirectsError,
)
from newsloom.ingest.netguard import AddressPolicy, GuardedTransport
from newsloom.ingest.politeness import HostLimiter, LocalHostLimiter
from newsloom.ingest.robots import (
    ALLOW_ALL,
    DISALLOW_ALL,
    MAX_ROBOTS_BYTES,
    RobotsRules,
    parse_robots,
    product_token,
)
from newsloom.settings import Settings
from newsloom.types import FetchResult

__all__ = [
    "Fetcher",
    "fetch_sync",
    "parse_content_type",
    "parse_retry_after",
]

# What a browser-like reader asks for when the caller does not say (feeds pass their own Accept).
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Only encodings decoded below with a bounded output; zstd is not advertised because it is not decoded here.
ACCEPT_ENCODING = "gzip, deflate, br"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
# Decoders hand out at most this many bytes at a time, so the size limit is checked at least every 64 KiB
# of decompressed output however small the compressed input was.
DECODE_CHUNK = 64 * 1024
# A body with more compressed than decompressed bytes is possible (incompressible data) but not by much;
# twice the limit leaves room for that while still stopping endless streams of empty deflate blocks.
RAW_TO_DECODED_SLACK = 2
# Stacked encodings ("gzip, br") are legal but rare; more than this is an attack, not a server.
MAX_STACKED_ENCODINGS = 3
# RFC 9309 §2.4: a cached robots.txt should not be used for more than 24 hours.
ROBOTS_TTL_S = 24 * 3600.0
# A robots.txt that failed with 5xx/unreachable disallows everything "for now": retry it after 10 minutes,
# a few poll cycles of a busy feed, rather than blocking a host's articles for a day.
ROBOTS_FAILURE_TTL_S = 600.0
# Hosts whose robots.txt is remembered; oldest entries are dropped first beyond this.
ROBOTS_CACHE_HOSTS = 4096
# Readable reasons are stored in the source's fetch state; keep them short.
MAX_REASON_CHARS = 200
# Retry-After values beyond a year are clamped to it: no server means longer, and the scheduler caps any delay
# at max_backoff_s anyway; the clamp only keeps absurd values (400 digits) a finite number.
MAX_RETRY_AFTER_S = 365 * 24 * 3600


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date. None if absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():  # str.isdigit() is also true for "²" and other non-ASCII digits
        # a 400-digit value overflows float(); anything past a year is clamped (backoff caps it lower anyway)
        digits = text.lstrip("0")
        if len(digits) > len(str(MAX_RETRY_AFTER_S)):
            return float(MAX_RETRY_AFTER_S)
        return float(min(int(digits or "0"), MAX_RETRY_AFTER_S))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; parsedate gives a naive time for "-0000"
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type lower-cased, charset as sent lower-cased) from a Content-Type header."""
    if not value:
        return None, None
    media, *params = value.split(";")
    media_type = media.strip().lower() or None
    charset = None
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "charset":
            charset = raw.strip().strip("\"'").strip().lower() or None
    return media_type, charset


# ---------------------------------------------------------------------------------------------------------
# Content-Encoding decoders with bounded output


class _Decoder(Protocol):
    name: str

    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _Identity:
    name = "identity"

    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), DECODE_CHUNK):
            yield data[start : start + DECODE_CHUNK]

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (several members allowed) or deflate (zlib-wrapped or raw, as servers send both)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._gzip = name == "gzip"
        self._decomp: Any = None  # zlib.decompressobj once the format is known
        self._head = b""
        self._passthrough = False
        self._done = False

    def _start(self, data: bytes) -> None:
        if self._gzip:
            if not data.startswith(b"\x1f\x8b"):
                self._passthrough = True  # labelled gzip but sent plain: a common server mistake
            self._decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            cmf, flg = data[0], data[1]
            is_zlib = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self._decomp = zlib.decompressobj(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._decomp is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._start(data)
        if self._passthrough:
            yield from _Identity().feed(data)
            return
        pending = data
        while not self._done:
            if self._decomp.eof:
                if not pending:
                    return
                if not (self._gzip and pending.startswith(b"\x1f")):
                    self._done = True  # trailing bytes after the stream are ignored, as browsers do
                    return
                self._decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)  # next gzip member
            out = self._decomp.decompress(pending, DECODE_CHUNK)
            if out:
                yield out
            pending = self._decomp.unused_data if self._decomp.eof else self._decomp.unconsumed_tail
            if not pending and (self._decomp.eof or len(out) < DECODE_CHUNK):
                return

    def finish(self) -> Iterator[bytes]:
        if self._decomp is None:
            if self._head:  # a one-byte body: too short to be compressed
                yield self._head
            return
        if not self._passthrough and not self._done and not self._decomp.eof:
            rest = self._decomp.flush()  # a truncated stream: keep what decoded, as browsers do
            if rest:
                yield from _Identity().feed(rest)


class _Brotli:
    name = "br"

    def __init__(self) -> None:
        self._decomp = brotli.Decompressor()
        # brotli >= 1.2 can cap each call's output; older versions decode a whole input chunk at once
        self._bounded = hasattr(self._decomp, "can_accept_more_data")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._bounded:
            yield from _Identity().feed(self._decomp.process(data))
            return
        out = self._decomp.process(data, output_buffer_limit=DECODE_CHUNK)
        if out:
            yield out
        while not self._decomp.can_accept_more_data():
            out = self._decomp.process(b"", output_buffer_limit=DECODE_CHUNK)
            if not out:
                return
            yield out

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Chain:
    """Decoders applied in reverse order of the Content-Encoding list, each bounded."""

    def __init__(self, decoders: list[_Decoder]) -> None:
        self._decoders = decoders
        self.name = ", ".join(d.name for d in decoders)

    def feed(self, data: bytes) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter((data,))
        for decoder in self._decoders:
            pieces = _pipe(decoder, pieces)
        return pieces

    def finish(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self._decoders):
            pieces = decoder.finish()
            for later in self._decoders[index + 1 :]:
                pieces = _pipe(later, pieces)
            yield from pieces


def _pipe(decoder: _Decoder, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)


def _decoder_for(content_encoding: str | None, url: str) -> _Decoder:
    names = [n.strip().lower() for n in (content_encoding or "").split(",") if n.strip()]
    names = [n for n in names if n != "identity"]
    if len(names) > MAX_STACKED_ENCODINGS:
        raise FetchError(url, f"too many stacked content encodings ({len(names)})")
    decoders: list[_Decoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            decoders.append(_Zlib("gzip"))
        elif name == "deflate":
            decoders.append(_Zlib("deflate"))
        elif name == "br":
            decoders.append(_Brotli())
        else:
            raise FetchError(url, f"unsupported content encoding {name[:40]!r}")
    if not decoders:
        return _Identity()
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)


# ---------------------------------------------------------------------------------------------------------
# The fetcher


@dataclass(frozen=True, slots=True)
class _Redirect:
    location: str


@dataclass(frozen=True, slots=True)
class _RobotsEntry:
    rules: RobotsRules
    expires_at: float


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def _status_reason(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _wrap_error(exc: BaseException, url: str) -> FetchError:
    """Turn any library or OS error into a FetchError subclass with a short readable reason."""
    if isinstance(exc, FetchError):
        if exc.url == url:
            return exc
        # errors raised below the transport (address checks) only know host:port; name the URL instead
        return type(exc)(url, exc.reason, status=exc.status, retry_after=exc.retry_after)
    if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:  # anyio task groups wrap errors
        return _wrap_error(exc.exceptions[0], url)
    detail = _short(str(exc)) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return FetchTimeoutError(url, "took longer than the total time allowed")
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchTimeoutError(url, "connection timed out")
    if isinstance(exc, httpx.ReadTimeout):
        return FetchTimeoutError(url, "read timed out")
    if isinstance(exc, httpx.WriteTimeout):
        return FetchTimeoutError(url, "sending the request timed out")
    if isinstance(exc, httpx.PoolTimeout):
        return FetchTimeoutError(url, "no connection free in time")
    lowered = detail.lower()
    if isinstance(exc, ssl.SSLError) or "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return FetchError(url, _short(f"TLS error: {detail}"))
    if isinstance(exc, httpx.ConnectError):
        return FetchError(url, _short(f"connection failed: {detail}"))
    if isinstance(exc, httpx.RemoteProtocolError):
        if "buffer too long" in lowered:  # h11's words for a header block over its size cap
            return FetchError(url, "malformed response: headers too large")
        return FetchError(url, _short(f"malformed response: {detail}"))
    if isinstance(exc, httpx.ReadError):
        return FetchError(url, "connection lost while reading")
    if isinstance(exc, httpx.WriteError):
        return FetchError(url, "connection lost while sending")
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError, ValueError)):
        return FetchError(url, _short(f"invalid URL: {detail}"))
    if isinstance(exc, (zlib.error, brotli.error)):
        return FetchError(url, "corrupt compressed body")
    if isinstance(exc, OSError):
        return FetchError(url, _short(f"network error: {exc.strerror or detail}"))
    return FetchError(url, _short(f"{type(exc).__name__}: {detail}"))


class Fetcher:
    """Fetch URLs politely and safely. Use as ``async with Fetcher(settings) as f: await f.fetch(url)``.

    One Fetcher holds one connection pool and one robots.txt cache; share it across the fetches of a run.
    It belongs to the event loop it is first used in.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        limiter: HostLimiter | None = None,
        address_policy: AddressPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.limiter: HostLimiter = limiter or LocalHostLimiter(
            settings.per_host_concurrency, settings.per_host_delay_s, settings.max_concurrency
        )
        self.policy = address_policy or AddressPolicy.from_settings(settings)
        self._robots_token = product_token(settings.user_agent)
        self._robots: dict[str, _RobotsEntry] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        limits = httpx.Limits(
            max_connections=settings.max_concurrency,
            max_keepalive_connections=settings.max_concurrency,
            keepalive_expiry=30.0,
        )
        timeout = httpx.Timeout(
            connect=settings.connect_timeout_s,
            read=settings.read_timeout_s,
            write=settings.read_timeout_s,
            pool=settings.total_timeout_s,
        )
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(self.policy, limits=limits),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,  # never route through an environment proxy: it would bypass the address checks
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        robots: bool = False,
    ) -> FetchResult:
        """GET ``url``, following redirects. ``robots=True`` (article pages) honours robots.txt first.

        Raises a ``FetchError`` subclass for every failure, including 4xx/5xx (``HTTPStatusError`` with
        ``status`` and, for 429/503, ``retry_after`` in seconds).
        """
        headers = {"Accept": accept or DEFAULT_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return await self._get(url, headers, robots=robots and self.settings.respect_robots)

    async def _get(
        self, url: str, headers: dict[str, str], *, robots: bool, max_bytes: int | None = None
    ) -> FetchResult:
        limit = self.settings.max_body_bytes if max_bytes is None else max_bytes
        truncate = max_bytes is not None
        # The total time bound counts time spent on the network (all hops), not time queued for a
        # politeness slot: a page queued behind twenty others on the same host has not timed out.
        remaining = self.settings.total_timeout_s
        seen: set[str] = set()
        current = url
        for hop in range(self.settings.max_redirects + 1):
            try:
                self.policy.check_url(current)
                normalized = str(httpx.URL(current))
                host = httpx.URL(current).host
            except Exception as exc:
                raise _wrap_error(exc, current) from exc
            if normalized in seen:
                raise TooManyRedirectsError(url, _short(f"redirect loop back to {current}"))
            seen.add(normalized)
            if robots:
                await self._check_robots(current)
            if remaining <= 0:
                raise FetchTimeoutError(url, "took longer than the total time allowed")
            async with self.limiter.slot(host):
                started = time.monotonic()
                try:
                    async with asyncio.timeout(remaining):
                        outcome = await self._request_once(url, current, headers, limit, truncate)
                except FetchError:
                    raise
                except Exception as exc:
                    raise _wrap_error(exc, current) from exc
                finally:
                    remaining -= time.monotonic() - started
            if isinstance(outcome, FetchResult):
                return outcome
            if hop == self.settings.max_redirects:
                break
            try:
                current = str(httpx.URL(current).join(outcome.location))
            except Exception as exc:
                raise FetchError(url, _short(f"invalid redirect location {outcome.location!r}")) from exc
        raise TooManyRedirectsError(url, f"more than {self.settings.max_redirects} redirects")

    async def _request_once(
        self, original_url: str, url: str, headers: dict[str, str], limit: int, truncate: bool
    ) -> FetchResult | _Redirect:
        request = self._client.build_request("GET", url, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
        except Exception as exc:
            raise _wrap_error(exc, url) from exc
        try:
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("location", "").strip()
                if location:
                    return _Redirect(location)
                raise HTTPStatusError(url, f"{_status_reason(status)} without a Location", status=status)
            if status == 304:
                return self._result(original_url, url, response, b"", not_modified=True, sent=headers)
            if status >= 300:
                retry_after = (
                    parse_retry_after(response.headers.get("retry-after"))
                    if status in RETRY_AFTER_STATUSES
                    else None
                )
                raise HTTPStatusError(url, _status_reason(status), status=status, retry_after=retry_after)
            body = await self._read_body(url, response, limit, truncate)
            return self._result(original_url, url, response, body, not_modified=False, sent=headers)
        except FetchError:
            raise
        except Exception as exc:
            raise _wrap_error(exc, url) from exc
        finally:
            await response.aclose()

    async def _read_body(self, url: str, response: httpx.Response, limit: int, truncate: bool) -> bytes:
        declared = response.headers.get("content-length", "").strip()
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise TooLargeError(
                url, f"body of {int(declared)} bytes is over the {limit}-byte limit", status=response.status_code
            )
        decoder = _decoder_for(response.headers.get("content-encoding"), url)
        raw_limit = limit * RAW_TO_DECODED_SLACK
        raw_seen = 0
        size = 0
        pieces: list[bytes] = []

        def take(chunks: Iterator[bytes]) -> bool:
            """Keep decoded pieces; False once the limit is reached (truncate) or raise (no truncate)."""
            nonlocal size
            for piece in chunks:
                if size + len(piece) > limit:
                    if truncate:
                        pieces.append(piece[: limit - size])
                        size = limit
                        return False
                    raise TooLargeError(
                        url,
                        f"body is over the {limit}-byte limit after decoding ({decoder.name})",
                        status=response.status_code,
                    )
                pieces.append(piece)
                size += len(piece)
            return True

        async for raw in response.aiter_raw():
            raw_seen += len(raw)
            if raw_seen > raw_limit:
                if truncate:
                    break
                raise TooLargeError(url, f"body is over the {limit}-byte limit", status=response.status_code)
            if not take(decoder.feed(raw)):
                return b"".join(pieces)
        take(decoder.finish())
        return b"".join(pieces)

    def _result(
        self,
        original_url: str,
        url: str,
        response: httpx.Response,
        body: bytes,
        *,
        not_modified: bool,
        sent: dict[str, str],
    ) -> FetchResult:
        media_type, charset = parse_content_type(response.headers.get("content-type"))
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        if not_modified:  # a 304 need not repeat the validators; keep the ones that still hold
            etag = etag or sent.get("If-None-Match")
            last_modified = last_modified or sent.get("If-Modified-Since")
        return FetchResult(
            url=original_url,
            final_url=url,
            status=response.status_code,
            content=body,
            content_type=media_type,
            encoding=charset,
            etag=etag,
            last_modified=last_modified,
            not_modified=not_modified,
            fetched_at=datetime.now(UTC),
            headers=tuple((name.lower(), value) for name, value in response.headers.multi_items()),
        )

    # --- robots.txt -----------------------------------------------------------------------------------------

    async def _check_robots(self, url: str) -> None:
        rules = await self._robots_for(url)
        if not rules.allows(self._robots_token, url):
            raise RobotsDisallowedError(url, "robots.txt disallows this page")

    async def _robots_for(self, url: str) -> RobotsRules:
        parsed = httpx.URL(url)
        origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:  # one robots.txt request per host even when many pages of it are fetched at once
            entry = self._robots.get(origin)
            if entry is not None and entry.expires_at > time.monotonic():
                return entry.rules
            rules, ttl = await self._load_robots(origin + "/robots.txt")
            self._robots.pop(origin, None)
            self._robots[origin] = _RobotsEntry(rules, time.monotonic() + ttl)
            while len(self._robots) > ROBOTS_CACHE_HOSTS:
                oldest = next(iter(self._robots))
                del self._robots[oldest]
                self._robots_locks.pop(oldest, None)
            return rules

    async def _load_robots(self, robots_url: str) -> tuple[RobotsRules, float]:
        """RFC 9309 §2.3.1: 4xx means no restrictions; 5xx or unreachable means full disallow for now."""
        try:
            result = await self._get(
                robots_url, {"Accept": "text/plain,*/*;q=0.5"}, robots=False, max_bytes=MAX_ROBOTS_BYTES
            )
        except HTTPStatusError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                return ALLOW_ALL, ROBOTS_TTL_S
            return DISALLOW_ALL, ROBOTS_FAILURE_TTL_S
        except TooManyRedirectsError:
            return ALLOW_ALL, ROBOTS_TTL_S  # RFC 9309 §2.3.1.2: too many redirects may be treated as 404
        except FetchError:
            return DISALLOW_ALL, ROBOTS_FAILURE_TTL_S
        return parse_robots(result.content), ROBOTS_TTL_S


def fetch_sync(url: str, settings: Settings, **kwargs: Any) -> FetchResult:
    """Run one fetch to completion with ``asyncio.run`` (for the CLI and scripts; not inside a running loop).

    ``limiter`` and ``address_policy`` go to the Fetcher; the other keyword arguments to ``Fetcher.fetch``.
    """
    limiter = kwargs.pop("limiter", None)
    policy = kwargs.pop("address_policy", None)

    async def run() -> FetchResult:
        async with Fetcher(settings, limiter=limiter, address_policy=policy) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(run())

