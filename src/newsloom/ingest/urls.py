"""Canonical article URLs: one address per article, whatever link, campaign or AMP variant led to it.

The canonical URL is an identity key (``known_urls``, "already stored?"), never an address to fetch: AMP
and mobile variants are folded into the desktop page, tracking parameters and fragments are dropped, the
remaining query is sorted, and credentials are never kept.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from newsloom.errors import InputError

WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Host labels that only select a variant of the same site. Stripped from the front of the host while at
# least two labels remain, so "m.example.com" -> "example.com" but "amp.dev" and "m.com" stay as they are.
VARIANT_HOST_PREFIXES = ("www.", "amp.", "m.", "mobile.")

# Query parameters that identify a campaign, click or referrer and never the content. Compared
# case-insensitively. Anything starting with one of TRACKING_PARAM_PREFIXES goes too.
TRACKING_PARAMS = frozenset(
    {
        # ad and social click ids
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "igshid", "igsh", "li_fat_id", "epik", "s_cid",
        # newsletters and marketing automation (Mailchimp, HubSpot, Marketo, Vero)
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "vero_id", "vero_conv",
        # analytics cookies passed in links (Google, Adobe, AT Internet, comScore)
        "_ga", "_gl", "wt.mc_id", "wt_mc", "xtor", "at_medium", "at_campaign", "at_custom1",
        "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
        # outlets' own share and campaign tags (MSN ocid, NYT smid/smtyp, Guardian CMP/INTCMP, BBC ito ...)
        "ocid", "cmpid", "cmp", "intcmp", "icid", "smid", "smtyp", "ito", "sr_share", "share_id",
        "soc_src", "soc_trk", "guccounter", "guce_referrer", "guce_referrer_sig", "taid", "__twitter_impression",
        "ref", "ref_src", "ref_url", "referrer", "referer", "rss", "feedtype", "via", "fb_ref", "fb_source",
        "_amp", "amp_js_v", "usqp",
    }
)  # fmt: skip
TRACKING_PARAM_PREFIXES = ("utm_", "pk_", "mtm_", "ga_", "hmb_")

# Query parameters that ask for the AMP rendering: "?amp", "?amp=1", "?outputType=amp", "?output=amp".
AMP_FLAG_PARAMS = frozenset({"amp"})
AMP_VALUE_PARAMS = frozenset({"outputtype", "output", "format", "view"})

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# RFC 3986 unreserved characters: a percent-escape of one of these means the same URL as the character.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def canonical_url(url: str) -> str:
    """The identity of the page ``url`` points at; raises ``InputError`` unless it is http(s) with a host."""
    parts = _split_web_url(url)
    scheme = parts.scheme.lower()
    host = _canonical_host(parts)
    port = _port(parts, url)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_host(url: str) -> str:
    """The outlet's host name as canonical URLs carry it (lower case, no www./m./amp., no port)."""
    parts = _split_web_url(url)
    return _canonical_host(parts)


def _split_web_url(url: str) -> SplitResult:
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unbalanced "[" in the host
        raise InputError(f"not a valid URL: {url!r} ({exc})") from exc
    if parts.scheme.lower() not in WEB_SCHEMES:
        raise InputError(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise InputError(f"URL has no host: {url!r}")
    _port(parts, url)  # validates it
    return parts


def _canonical_host(parts: SplitResult) -> str:
    host = (parts.hostname or "").lower().rstrip(".")  # "example.com." is the fully-qualified same host
    stripped = True
    while stripped:
        stripped = False
        for prefix in VARIANT_HOST_PREFIXES:
            rest = host[len(prefix) :]
            if host.startswith(prefix) and "." in rest:
                host = rest
                stripped = True
    return host


def _port(parts: SplitResult, url: str) -> int | None:
    try:
        return parts.port
    except ValueError as exc:  # port out of range or not a number
        raise InputError(f"URL has an invalid port: {url!r}") from exc


def _normalize_escapes(text: str) -> str:
    """Decode escapes of unreserved characters and upper-case the others (RFC 3986 section 6.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = unquote(match.group(0))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _PERCENT_ESCAPE.sub(fix, text)


def _canonical_path(path: str) -> str:
    kept: list[str] = []
    for segment in _normalize_escapes(path).split("/"):
        if segment.lower() == "amp":  # "/amp/story", "/story/amp"
            continue
        if segment.lower() == "amp_articleshow":  # Times of India style AMP route
            segment = "articleshow"
        kept.append(segment)
    if kept and kept[-1].lower().endswith(".amp.html"):
        kept[-1] = kept[-1][: -len(".amp.html")] + ".html"
    elif kept and kept[-1].lower().endswith(".amp") and len(kept[-1]) > len(".amp"):
        kept[-1] = kept[-1][: -len(".amp")]
    canonical = "/".join(kept).rstrip("/")
    if not canonical.startswith("/"):
        canonical = "/" + canonical
    return canonical


def _is_dropped_param(name: str, value: str) -> bool:
    key = unquote(name).lower()
    if key in TRACKING_PARAMS or key.startswith(TRACKING_PARAM_PREFIXES):
        return True
    if key in AMP_FLAG_PARAMS:
        return True
    return key in AMP_VALUE_PARAMS and unquote(value).lower() == "amp"


def _canonical_query(query: str) -> str:
    kept: list[str] = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if _is_dropped_param(name, value):
            continue
        # Keep each pair as the site wrote it (only escapes normalised): re-encoding could change what a
        # server reads, e.g. "+" against "%20".
        kept.append(_normalize_escapes(pair))
    kept.sort(key=lambda p: (p.partition("=")[0], p))
    return "&".join(kept)
