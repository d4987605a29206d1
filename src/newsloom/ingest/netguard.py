"""SSRF guard: which URLs and addresses newsloom may connect to, checked before AND after DNS resolution.

A URL typed by a user (or found in a feed) must not reach the machine newsloom runs on or its private
network. Checking the URL text is not enough: a public-looking name can resolve to 127.0.0.1, a redirect can
point anywhere, and a name can resolve differently on the second lookup (DNS rebinding). So the fetcher
resolves names itself (:func:`resolve_checked`), checks every address, and connects to the checked address
(:class:`GuardedNetworkBackend`, plugged into httpcore), never to the name.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from newsloom.errors import BlockedAddressError, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Names that always mean "this machine" (RFC 6761 §6.3) are refused without asking DNS.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")

# NAT64 well-known prefix (RFC 6052): 64:ff9b::a.b.c.d reaches the IPv4 address a.b.c.d.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host string denotes as an IP literal, in any spelling a resolver accepts, else None.

    Besides dotted quads and IPv6 (with or without brackets and zone), this reads the legacy inet_aton
    forms that browsers and glibc still accept: ``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``.
    """
    text = host.strip().rstrip(".").lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text:  # IPv6 zone id (fe80::1%eth0, or %25 when percent-encoded in a URL)
        text = text.split("%", 1)[0]
    if not text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    return _parse_inet_aton(text)


def _parse_inet_aton(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        try:
            if part.startswith(("0x", "0X")):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                if not part.isdigit():
                    return None
                numbers.append(int(part, 10))
        except ValueError:
            return None
    # a.b.c.d, a.b.c (c is 16 bits), a.b (b is 24 bits), a (32 bits)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, n in enumerate(head):
        value |= n << (24 - 8 * index)
    return ipaddress.IPv4Address(value)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to (mapped, 6to4, Teredo client, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _why_internal(ip: IPAddress) -> str | None:
    """A short word for why this address is not on the public internet, or None if it is."""
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    # fec0::/10 was deprecated by RFC 3879 but routers may still route it inside a site, and Python counts
    # it as global (it is outside the IANA special-purpose registry), so it is checked by name
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:  # e.g. 100.64.0.0/10 carrier-grade NAT
        return "non-public"
    return None


class AddressPolicy:
    """Decides which URLs and addresses may be fetched.

    ``allow_private`` lets loopback and private networks through (tests, intranet deployments);
    ``extra_blocked`` CIDRs are refused whatever ``allow_private`` says.
    """

    def __init__(self, allow_private: bool, extra_blocked: Sequence[str] = ()) -> None:
        self.allow_private = allow_private
        try:
            self.extra_blocked: tuple[Network, ...] = tuple(
                ipaddress.ip_network(cidr, strict=False) for cidr in extra_blocked
            )
        except ValueError as exc:
            raise ValueError(f"invalid blocked network: {exc}") from exc

    @classmethod
    def from_settings(cls, settings: Any) -> AddressPolicy:
        return cls(allow_private=bool(settings.allow_private_networks))

    def check_url(self, url: str) -> None:
        """Refuse non-HTTP schemes and hosts that are internal IP literals or local names, before any I/O."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise FetchError(url, f"invalid URL: {exc}") from exc
        try:
            parts.port  # noqa: B018  (raises ValueError for a port outside 0..65535)
        except ValueError as exc:
            raise FetchError(url, f"invalid URL: {exc}") from exc
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise BlockedAddressError(url, f"scheme {scheme or '(none)'!r} is not allowed; only http and https")
        host = parts.hostname or ""
        if not host:
            raise FetchError(url, "invalid URL: no host")
        if parts.username is not None or parts.password is not None:
            # userinfo is a classic way to disguise the real host (http://trusted.com@evil/); feeds never need it
            raise BlockedAddressError(url, "credentials in URLs are not allowed")
        ip = parse_ip_literal(host)
        if ip is not None:
            self.check_address(str(ip), url)
            return
        name = host.rstrip(".").lower()
        if not self.allow_private and (name in _LOCAL_NAMES or name.endswith(".localhost")):
            raise BlockedAddressError(url, f"host {name} is this machine")

    def blocked_reason(self, ip: str) -> str | None:
        """Why ``ip`` is refused under this policy, or None if it may be connected to."""
        address = parse_ip_literal(ip)
        if address is None:
            return f"{ip!r} is not an IP address"
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded is not None:  # the tunnelled IPv4 address says more about where this really goes
                candidates.insert(0, embedded)
        for candidate in candidates:
            for network in self.extra_blocked:
                if candidate.version == network.version and candidate in network:
                    return f"address {address} is in blocked network {network}"
            if not self.allow_private:
                why = _why_internal(candidate)
                if why is not None:
                    return f"address {address} is {why}"
        return None

    def check_address(self, ip: str, url: str) -> None:
        reason = self.blocked_reason(ip)
        if reason is not None:
            raise BlockedAddressError(url, reason)


async def resolve_checked(host: str, port: int, policy: AddressPolicy, url: str) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing the whole name if ANY address is blocked.

    Refusing when one of several addresses is internal (rather than dropping it) closes the trick of
    publishing one public and one private record and hoping the connection picks the private one.
    """
    literal = parse_ip_literal(host)
    if literal is not None:
        policy.check_address(str(literal), url)
        return [str(literal)]
    if not policy.allow_private:
        name = host.rstrip(".").lower()
        if name in _LOCAL_NAMES or name.endswith(".localhost"):
            raise BlockedAddressError(url, f"host {name} is this machine")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError(url, f"DNS lookup of {host} failed: {_short(exc)}") from exc
    addresses = _unique(str(info[4][0]) for info in infos)
    if not addresses:
        raise FetchError(url, f"DNS lookup of {host} returned no address")
    for address in addresses:
        policy.check_address(address, url)
    return addresses


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _short(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)[:200]


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore backend that resolves the name itself, checks every address, and connects to a checked one.

    httpcore still sends the original host name for TLS (SNI and certificate checks) and the Host header,
    so only the address the socket goes to changes. Unix sockets are refused outright.
    """

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        where = f"{host}:{port}"
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_checked(host, port, self._policy, where)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"DNS lookup of {host} timed out") from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # resolve_checked never returns an empty list
        raise last_error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError(path, "unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The verifying TLS context of every fetcher in this process (an SSLContext is safe to share).

    Building one loads the whole CA bundle, 30-100 ms here; each poll and each ``newsloom add`` built two.
    """
    context: ssl.SSLContext = httpx.create_ssl_context(trust_env=False)
    return context


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx transport whose connections all go through :class:`GuardedNetworkBackend`; never uses a proxy."""

    def __init__(self, policy: AddressPolicy, *, limits: httpx.Limits, http2: bool = False) -> None:
        ssl_context = shared_ssl_context()
        super().__init__(verify=ssl_context, trust_env=False, limits=limits, http2=http2)
        # httpx (0.28) has no public hook for the network backend, so we swap the pool it built for one with
        # the same settings and our backend. ``_pool`` is the attribute every handle_async_request goes through.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=GuardedNetworkBackend(policy),
        )
