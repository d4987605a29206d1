"""Reading HTTP response headers: Retry-After and Content-Type, tolerant of what real servers send."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["FEED_ACCEPT", "MAX_RETRY_AFTER_S", "PAGE_ACCEPT", "parse_content_type", "parse_retry_after"]

# What polling asks for: feeds first, then generic XML/JSON (many servers label feeds loosely), then anything.
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
# What fetching an article page asks for.
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"

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
