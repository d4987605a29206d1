"""Polite, safe HTTP: one ``Fetcher.fetch(url)`` -> ``FetchResult`` or a ``FetchError`` subclass, nothing else.

What "polite" and "safe" mean here, and where each is enforced:

* every address is checked (netguard.py) on the URL text, after DNS resolution and at every redirect hop,
  which is why redirects are followed here, one hop at a time, rather than by httpx;
* per-host concurrency, delay between requests and a global cap (politeness.py), taken per hop;
* robots.txt for article pages (robots.py), fetched once per host and cached for a day;
* caps on time (connect, read, and a total per fetch) and on size, counted on DECOMPRESSED bytes: bodies
  are read raw and decoded in bounded pieces (decode.py), so a 10 KB gzip or brotli bomb stops at the limit
  instead of inflating in memory first;
* conditional GET (ETag / Last-Modified -> 304 -> ``not_modified=True``) and Retry-After on 429/503
  (httpheaders.py reads the headers).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any

import httpx

from newsloom.errors import (
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    RobotsDisallowedError,
    TooLargeError,
    TooManyRedirectsError,
)
from newsloom.ingest.decode import ACCEPT_ENCODING, DECODE_ERRORS, decoder_for
from newsloom.ingest.httpheaders import MAX_RETRY_AFTER_S, parse_content_type, parse_retry_after
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

# The header parsers live in httpheaders.py; they stay importable from here, where callers first looked.
__all__ = [
    "MAX_RETRY_AFTER_S",
    "Fetcher",
    "fetch_sync",
    "parse_content_type",
    "parse_retry_after",
]

# What a browser-like reader asks for when the caller does not say (feeds pass their own Accept).
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
# A body with more compressed than decompressed bytes is possible (incompressible data) but not by much;
# twice the limit leaves room for that while still stopping endless streams of empty deflate blocks.
RAW_TO_DECODED_SLACK = 2
# RFC 9309 §2.4: a cached robots.txt should not be used for more than 24 hours.
ROBOTS_TTL_S = 24 * 3600.0
# A robots.txt that failed with 5xx/unreachable disallows everything "for now": retry it after 10 minutes,
# a few poll cycles of a busy feed, rather than blocking a host's articles for a day.
ROBOTS_FAILURE_TTL_S = 600.0
# Hosts whose robots.txt is remembered; oldest entries are dropped first beyond this.
ROBOTS_CACHE_HOSTS = 4096
# Readable reasons are stored in the source's fetch state; keep them short.
MAX_REASON_CHARS = 200


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
    if isinstance(exc, DECODE_ERRORS):
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

    async def post_form(self, url: str, form: dict[str, str]) -> int:
        """POST a form and return the status code (WebSub subscription requests); the body is not read.

        The same address checks (the hub's URL comes from a feed), per-host slot and time limit as a GET;
        redirects are not followed (a hub answers 202 Accepted, or an error). ``FetchError`` on failure.
        """
        try:
            self.policy.check_url(url)
            host = httpx.URL(url).host
        except Exception as exc:
            raise _wrap_error(exc, url) from exc
        async with self.limiter.slot(host):
            try:
                async with asyncio.timeout(self.settings.total_timeout_s):
                    request = self._client.build_request("POST", url, data=form)
                    response = await self._client.send(request, stream=True)
                    await response.aclose()
            except Exception as exc:
                raise _wrap_error(exc, url) from exc
        return response.status_code

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
        decoder = decoder_for(response.headers.get("content-encoding"), url)
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

