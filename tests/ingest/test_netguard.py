"""SSRF guard: odd IP spellings, internal ranges, schemes, and refusal before any connection is made."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpcore
import pytest

from newsloom.errors import BlockedAddressError, FetchError
from newsloom.ingest.netguard import AddressPolicy, GuardedNetworkBackend, parse_ip_literal, resolve_checked
from tests.ingest.test_fetch import fetch_one, make_settings, run
from tests.loopback import LoopbackServer

STRICT = AddressPolicy(allow_private=False)


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("[fe80::1%25eth0]", "fe80::1"),
        ("0", "0.0.0.0"),
    ],
)
def test_parse_ip_literal_reads_every_spelling(spelling: str, address: str) -> None:
    assert parse_ip_literal(spelling) == ipaddress.ip_address(address)


@pytest.mark.parametrize("name", ["example.com", "0x7g.1", "1.2.3.4.5", "256.1.1.1", "", "08.0.0.1"])
def test_names_are_not_ip_literals(name: str) -> None:
    assert parse_ip_literal(name) is None


@pytest.mark.parametrize(
    ("ip", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoint
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 wrapping 169.254.169.254
    ],
)
def test_internal_addresses_are_blocked(ip: str, why: str) -> None:
    reason = STRICT.blocked_reason(ip)
    assert reason is not None and why in reason


@pytest.mark.parametrize("ip", ["fec0::1", "fec0:0:0:ffff::1", "feff:ffff::1", "[fed0::1]"])
def test_deprecated_ipv6_site_local_addresses_are_blocked(ip: str) -> None:
    # fec0::/10 (RFC 3879) is still routed inside some sites; Python's is_global is True for it
    assert STRICT.blocked_reason(ip) == f"address {ipaddress.ip_address(ip.strip('[]'))} is site-local"
    with pytest.raises(BlockedAddressError):
        STRICT.check_url(f"http://[{ip.strip('[]')}]/feed")
    assert AddressPolicy(allow_private=True).blocked_reason(ip) is None


@pytest.mark.parametrize("ip", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "2001:4860::8888"])
def test_public_addresses_pass(ip: str) -> None:
    STRICT.check_address(ip, "http://x/")


def test_extra_blocked_applies_even_when_private_is_allowed() -> None:
    policy = AddressPolicy(allow_private=True, extra_blocked=["127.0.0.2/32", "fd00::/8"])
    policy.check_address("127.0.0.1", "http://x/")
    with pytest.raises(BlockedAddressError):
        policy.check_address("127.0.0.2", "http://x/")
    with pytest.raises(BlockedAddressError):
        policy.check_address("::ffff:127.0.0.2", "http://x/")
    with pytest.raises(BlockedAddressError):
        policy.check_address("fd12::1", "http://x/")


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/", "gopher://example.com/", "javascript:alert(1)", "//example.com/"],
)
def test_non_http_schemes_are_blocked(url: str) -> None:
    with pytest.raises(BlockedAddressError, match="scheme"):
        STRICT.check_url(url)


def test_credentials_and_local_names_are_blocked() -> None:
    with pytest.raises(BlockedAddressError, match="credentials"):
        STRICT.check_url("http://trusted.example@evil.example/")
    for url in ("http://localhost/", "http://LOCALHOST./x", "http://api.localhost:8080/"):
        with pytest.raises(BlockedAddressError):
            STRICT.check_url(url)
    STRICT.check_url("https://example.com/news")


def test_from_settings() -> None:
    assert AddressPolicy.from_settings(make_settings(allow_private_networks=False)).allow_private is False
    assert AddressPolicy.from_settings(make_settings(allow_private_networks=True)).allow_private is True


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "127.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
        "[::]",
    ],
)
def test_default_policy_refuses_loopback_before_connecting(loopback: LoopbackServer, host: str) -> None:
    loopback.add("/", "should never be served")
    settings = make_settings(allow_private_networks=False)

    with pytest.raises(BlockedAddressError):
        run(fetch_one(f"http://{host}:{loopback.port}/", settings))

    assert loopback.requests == []


def test_name_resolving_to_blocked_address_is_refused_after_dns(loopback: LoopbackServer) -> None:
    # allow_private passes the URL text check, so only the post-resolution check can stop "localhost".
    loopback.add("/", "should never be served")
    policy = AddressPolicy(allow_private=True, extra_blocked=["127.0.0.0/8", "::1/128"])

    with pytest.raises(BlockedAddressError) as caught:
        run(fetch_one(f"http://localhost:{loopback.port}/", policy=policy))

    assert caught.value.url == f"http://localhost:{loopback.port}/"
    assert loopback.requests == []


def test_resolve_checked() -> None:
    open_policy = AddressPolicy(allow_private=True)
    assert run(resolve_checked("127.0.0.1", 80, open_policy, "http://127.0.0.1/")) == ["127.0.0.1"]
    assert run(resolve_checked("0x7f.1", 80, open_policy, "http://0x7f.1/")) == ["127.0.0.1"]
    resolved = run(resolve_checked("localhost", 80, open_policy, "http://localhost/"))
    assert resolved and all(ipaddress.ip_address(a).is_loopback for a in resolved)
    with pytest.raises(BlockedAddressError):
        run(resolve_checked("localhost", 80, STRICT, "http://localhost/"))
    with pytest.raises(FetchError, match="DNS lookup"):
        run(resolve_checked("no-such-host.invalid", 80, open_policy, "http://no-such-host.invalid/"))


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """A real backend that remembers which host each connection was opened to."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.hosts: list[str] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        self.hosts.append(host)
        return await self.inner.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                            socket_options=socket_options)


def test_backend_connects_to_the_checked_address_not_the_name(loopback: LoopbackServer) -> None:
    # The socket must go to the address that was checked; handing the name on would let a second DNS
    # answer (rebinding) pick a different, unchecked address.
    recorder = RecordingBackend()
    backend = GuardedNetworkBackend(AddressPolicy(allow_private=True), inner=recorder)

    async def connect() -> None:
        stream = await backend.connect_tcp("localhost", loopback.port, timeout=2)
        await stream.aclose()

    run(connect())

    assert recorder.hosts and all(parse_ip_literal(h) is not None for h in recorder.hosts)
    assert recorder.hosts[-1] == "127.0.0.1"
