"""SSRF: every way we know to reach an internal address is refused by default, before any request is made.

Each URL points at the loopback test server's port, so a refusal that failed would show up as a request
there; the tests assert it saw none. The address-spelling unit cases live in tests/ingest/test_netguard.py;
this is the end-to-end list through ``fetch_sync`` with the default settings (``allow_private_networks``
False), plus redirects from an allowed server to an internal one.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from newsloom.errors import BlockedAddressError, FetchError
from newsloom.ingest.fetch import fetch_sync
from newsloom.ingest.netguard import AddressPolicy
from newsloom.settings import Settings, load_settings
from tests.hostile.servers import redirector
from tests.loopback import LoopbackServer

PORT = "{port}"  # replaced by the loopback server's port


def default_settings() -> Settings:
    # env={} ignores the test-wide NEWSLOOM_ALLOW_PRIVATE_NETWORKS=1: these are the shipped defaults,
    # with short timeouts so that a refusal that failed shows up as a request, not as a slow test.
    return load_settings(env={}, connect_timeout_s=1.0, read_timeout_s=1.0, total_timeout_s=2.0, per_host_delay_s=0.0)


# (id, URL template) refused as BlockedAddressError before any connection to the loopback server
BLOCKED_URLS = [
    # loopback, every IPv4 spelling inet_aton and browsers accept
    ("dotted", "http://127.0.0.1:{port}/"),
    ("other-loopback", "http://127.255.255.254:{port}/"),
    ("short-2", "http://127.1:{port}/"),
    ("short-3", "http://127.0.1:{port}/"),
    ("decimal", "http://2130706433:{port}/"),
    ("hex", "http://0x7f000001:{port}/"),
    ("hex-dotted", "http://0x7f.0x0.0x0.0x1:{port}/"),
    ("hex-upper", "http://0X7F.1:{port}/"),
    ("octal-dotted", "http://0177.0.0.01:{port}/"),
    ("octal-whole", "http://017700000001:{port}/"),
    ("zero-padded", "http://127.000.000.001:{port}/"),
    ("trailing-dot", "http://127.0.0.1.:{port}/"),
    ("fullwidth-digits", "http://１２７.０.０.１:{port}/"),
    # IPv6 forms of loopback and of IPv4 loopback
    ("v6-loopback", "http://[::1]:{port}/"),
    ("v6-loopback-long", "http://[0:0:0:0:0:0:0:1]:{port}/"),
    ("v6-loopback-zone", "http://[::1%25lo]:{port}/"),
    ("v4-mapped", "http://[::ffff:127.0.0.1]:{port}/"),
    ("v4-mapped-hex", "http://[::ffff:7f00:1]:{port}/"),
    ("v4-mapped-long", "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/"),
    ("v4-compatible", "http://[::127.0.0.1]:{port}/"),
    ("v4-translated", "http://[::ffff:0:7f00:1]:{port}/"),
    ("nat64", "http://[64:ff9b::7f00:1]:{port}/"),
    ("6to4", "http://[2002:7f00:1::]:{port}/"),
    ("teredo", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/"),
    # "any" addresses, which Linux connects to this machine
    ("zero", "http://0.0.0.0:{port}/"),
    ("zero-short", "http://0:{port}/"),
    ("v6-any", "http://[::]:{port}/"),
    # names of this machine
    ("localhost", "http://localhost:{port}/"),
    ("localhost-upper-dot", "http://LOCALHOST.:{port}/"),
    ("sub-localhost", "http://api.localhost:{port}/"),
    ("localhost-localdomain", "http://localhost.localdomain:{port}/"),
    ("ip6-localhost", "http://ip6-localhost:{port}/"),
    # credentials and @ tricks (the real host is after the last @)
    ("credentials", "http://user:pass@127.0.0.1:{port}/"),
    ("at-trick", "http://example.com@127.0.0.1:{port}/"),
    ("at-trick-public-looking", "http://news.example.org:443@127.0.0.1:{port}/"),
    ("backslash-at", "http://127.0.0.1:{port}\\@example.com/"),
    # private, shared and special ranges (no server there: refused before connecting, on the URL text)
    ("metadata", "http://169.254.169.254:{port}/latest/meta-data/"),
    ("metadata-decimal", "http://2852039166:{port}/"),
    ("metadata-hex", "http://0xa9fea9fe:{port}/"),
    ("metadata-octal", "http://0251.0376.0251.0376:{port}/"),
    ("metadata-short", "http://169.254.43518:{port}/"),
    ("metadata-v4-mapped", "http://[::ffff:169.254.169.254]:{port}/"),
    ("metadata-nat64", "http://[64:ff9b::a9fe:a9fe]:{port}/"),
    ("cgnat", "http://100.64.0.1:{port}/"),
    ("cgnat-top", "http://100.127.255.254:{port}/"),
    ("ten", "http://10.0.0.1:{port}/"),
    ("ten-octal", "http://012.0.0.1:{port}/"),
    ("ten-decimal", "http://167772161:{port}/"),
    ("172-16", "http://172.16.0.1:{port}/"),
    ("172-31", "http://172.31.255.254:{port}/"),
    ("192-168", "http://192.168.0.1:{port}/"),
    ("192-168-hex", "http://0xc0a80001:{port}/"),
    ("benchmark-198-18", "http://198.18.0.1:{port}/"),
    ("ula", "http://[fd12:3456:789a::1]:{port}/"),
    ("ula-fc", "http://[fc00::1]:{port}/"),
    ("v6-link-local", "http://[fe80::1]:{port}/"),
    ("v6-link-local-zone", "http://[fe80::1%25eth0]:{port}/"),
    ("multicast", "http://224.0.0.1:{port}/"),
    ("broadcast", "http://255.255.255.255:{port}/"),
    ("reserved-240", "http://240.0.0.1:{port}/"),
    # schemes other than http(s)
    ("file", "file:///etc/passwd"),
    ("file-host", "file://127.0.0.1/etc/passwd"),
    ("ftp", "ftp://127.0.0.1:{port}/"),
    ("gopher", "gopher://127.0.0.1:{port}/_GET%20/%20HTTP/1.0%0D%0A"),
    ("dict", "dict://127.0.0.1:{port}/info"),
    ("data", "data:text/html,<script>alert(1)</script>"),
    ("javascript", "javascript:alert(document.domain)"),
    ("ws", "ws://127.0.0.1:{port}/"),
    ("unix-socket", "http+unix://%2Fvar%2Frun%2Fdocker.sock/info"),
    ("scheme-relative", "//127.0.0.1:{port}/"),
]

# (id, URL template) that pass the text check and are refused once the host is normalised or resolved
RESOLVED_URLS = [
    ("ideographic-dots", "http://127。0。0。1:{port}/"),
    ("percent-encoded-host", "http://%31%32%37.0.0.1:{port}/"),
    ("circled-letters", "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:{port}/"),
]


def _etc_hosts_loopback_names() -> list[str]:
    """Names /etc/hosts maps to a loopback address (the machine's own name often is one)."""
    names: list[str] = []
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        return names
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            loopback = ipaddress.ip_address(fields[0].split("%")[0]).is_loopback
        except ValueError:
            continue
        if loopback:
            names.extend(n for n in fields[1:] if "localhost" not in n and n not in names)
    return names[:5]


def _assert_refused(url_template: str, loopback: LoopbackServer, error: type[FetchError]) -> FetchError:
    loopback.add("/", "internal data")
    url = url_template.replace(PORT, str(loopback.port))
    with pytest.raises(FetchError) as caught:
        fetch_sync(url, default_settings())
    assert isinstance(caught.value, error), f"{type(caught.value).__name__}: {caught.value.reason}"
    assert loopback.requests == []
    return caught.value


def test_the_list_is_long_enough() -> None:
    assert len(BLOCKED_URLS) + len(RESOLVED_URLS) >= 30


def test_default_settings_refuse_private_networks() -> None:
    assert default_settings().allow_private_networks is False


@pytest.mark.parametrize(("name", "url"), BLOCKED_URLS, ids=[n for n, _ in BLOCKED_URLS])
def test_internal_target_is_refused_without_a_request(name: str, url: str, loopback: LoopbackServer) -> None:
    _assert_refused(url, loopback, BlockedAddressError)


@pytest.mark.parametrize(("name", "url"), RESOLVED_URLS, ids=[n for n, _ in RESOLVED_URLS])
def test_disguised_host_is_refused_after_normalisation(name: str, url: str, loopback: LoopbackServer) -> None:
    # refused either as an internal address or as an invalid URL; never fetched
    _assert_refused(url, loopback, FetchError)


@pytest.mark.parametrize("name", _etc_hosts_loopback_names() or [pytest.param("-", marks=pytest.mark.skip("no such name"))])
def test_name_from_etc_hosts_that_maps_to_loopback(name: str, loopback: LoopbackServer) -> None:
    _assert_refused(f"http://{name}:{{port}}/", loopback, BlockedAddressError)


def test_ssrf_via_service_add_records_nothing(loopback: LoopbackServer, tmp_path: Path) -> None:
    # `newsloom add URL` with the default settings: refused, no source created, no request made
    from newsloom.service import Service

    loopback.add("/feed.xml", "<rss version='2.0'><channel><title>internal</title></channel></rss>")
    settings = load_settings(env={}, data_dir=str(tmp_path), connect_timeout_s=1.0, total_timeout_s=2.0)
    with Service(settings) as svc, pytest.raises(BlockedAddressError):
        svc.add(f"http://2130706433:{loopback.port}/feed.xml")
    assert loopback.requests == []


# --- redirects from an allowed server to an internal one ------------------------------------------------------------

#: 127.0.0.2 plays the allowed public server; 127.0.0.1 (the loopback fixture) is the internal target.
PUBLIC_HOST = "127.0.0.2"
INTERNAL = ["127.0.0.1/32", "::1/128"]

REDIRECT_TARGETS = [
    ("dotted", "http://127.0.0.1:{port}/secret"),
    ("decimal", "http://2130706433:{port}/secret"),
    ("hex", "http://0x7f.0.0.1:{port}/secret"),
    ("octal", "http://0177.0.0.1:{port}/secret"),
    ("short", "http://127.1:{port}/secret"),
    ("trailing-dot", "http://127.0.0.1.:{port}/secret"),
    ("v4-mapped", "http://[::ffff:127.0.0.1]:{port}/secret"),
    ("v6-loopback", "http://[::1]:{port}/secret"),
    ("localhost", "http://localhost:{port}/secret"),
    ("scheme-relative", "//127.0.0.1:{port}/secret"),
    ("ideographic-dots", "http://127。0。0。1:{port}/secret"),
    ("fullwidth", "http://１２７.０.０.１:{port}/secret"),
]


def _can_bind(host: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, 0))
        except OSError:
            return False
    return True


needs_second_loopback = pytest.mark.skipif(not _can_bind(PUBLIC_HOST), reason=f"cannot bind {PUBLIC_HOST}")


@needs_second_loopback
def test_redirect_setup_reaches_the_target_when_nothing_is_blocked(loopback: LoopbackServer) -> None:
    # the positive control: without the block, the same redirect does arrive, so "no request" below means refused
    loopback.add("/secret", "internal data")
    with redirector(PUBLIC_HOST, loopback.url("/secret")) as (public, seen):
        result = fetch_sync(public + "/feed", default_settings(), address_policy=AddressPolicy(allow_private=True))
    assert result.content == b"internal data"
    assert seen == ["/feed"] and len(loopback.hits("/secret")) == 1


@needs_second_loopback
@pytest.mark.parametrize(("name", "target"), REDIRECT_TARGETS, ids=[n for n, _ in REDIRECT_TARGETS])
def test_redirect_to_internal_address_is_refused(name: str, target: str, loopback: LoopbackServer) -> None:
    loopback.add("/secret", "internal data")
    location = target.replace(PORT, str(loopback.port))
    policy = AddressPolicy(allow_private=True, extra_blocked=INTERNAL)
    with redirector(PUBLIC_HOST, location) as (public, seen), pytest.raises(FetchError) as caught:
        fetch_sync(public + "/feed", default_settings(), address_policy=policy)
    assert seen == ["/feed"]  # the allowed server was asked...
    assert loopback.requests == []  # ...and the internal one never was
    # refused as internal, or (httpx rejects some spellings in a Location) as a malformed redirect
    assert isinstance(caught.value, BlockedAddressError) or "location" in caught.value.reason.lower(), caught.value.reason


@needs_second_loopback
def test_redirect_chain_into_internal_address_is_refused_at_any_hop(loopback: LoopbackServer) -> None:
    loopback.add("/secret", "internal data")
    policy = AddressPolicy(allow_private=True, extra_blocked=INTERNAL)
    with redirector(PUBLIC_HOST, loopback.url("/secret")) as (last_hop, seen_last), redirector(
        PUBLIC_HOST, last_hop + "/hop2"
    ) as (first_hop, seen_first), pytest.raises(BlockedAddressError):
        fetch_sync(first_hop + "/hop1", default_settings(), address_policy=policy)
    assert seen_first == ["/hop1"] and seen_last == ["/hop2"]
    assert loopback.requests == []


@needs_second_loopback
@pytest.mark.parametrize("location", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "http://u:p@127.0.0.2/"])
def test_redirect_to_forbidden_scheme_or_credentials(location: str, loopback: LoopbackServer) -> None:
    with redirector(PUBLIC_HOST, location) as (public, seen), pytest.raises(BlockedAddressError):
        fetch_sync(public + "/feed", default_settings(), address_policy=AddressPolicy(allow_private=True))
    assert seen == ["/feed"]
