"""Which outlet an article counts for: one rule shared by the story engine's counts and the reasons shown.

A story's ``outlet_count`` (what the API returns) and its "why it's here" line must count the same outlets,
so both take an article's outlet from here: the publisher the page names, else the source that delivered it,
else the web host it came from. A local file with none of these belongs to no known outlet and counts for
none: two such files are two articles, not two outlets.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit


def host_of(url: str | None) -> str | None:
    """The web host of ``url`` without ``www.``; None for file paths and unparsable addresses."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


def outlet_key(publisher: str | None, source_ids: Sequence[int], url: str | None) -> str | None:
    """The identity an article's outlet is counted by, or None when no outlet is known."""
    if publisher and publisher.strip():
        return publisher.strip()
    if source_ids:
        return f"source:{source_ids[0]}"
    host = host_of(url)
    return f"host:{host}" if host else None
