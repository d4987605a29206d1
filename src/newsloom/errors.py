"""One exception hierarchy: every failure a user can hit has a type and a readable message.

Driver and library errors are wrapped at the edge (fetch, parse, storage) so that callers only ever
catch ``NewsloomError`` subclasses, and the CLI can turn any of them into a message and an exit code.
"""

from __future__ import annotations


class NewsloomError(Exception):
    """Root of every error newsloom raises on purpose."""

    #: process exit code the CLI uses for this kind of failure
    exit_code: int = 1


class ConfigError(NewsloomError):
    """A setting or settings file is invalid."""

    exit_code = 2


class MissingExtraError(ConfigError):
    """A command needs an optional part (``pip install 'newsloom[EXTRA]'``) that is not installed."""


class InputError(NewsloomError):
    """A file, URL or argument given by the user cannot be used."""

    exit_code = 2


class NotFoundError(NewsloomError):
    """A source, article or story id that does not exist."""

    exit_code = 3


class FetchError(NewsloomError):
    """Fetching a URL failed. ``reason`` is short and readable; it is stored in the source's fetch state."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class BlockedAddressError(FetchError):
    """The URL points at a private, loopback, link-local or otherwise internal address, or a non-HTTP scheme."""


class TooLargeError(FetchError):
    """The body (or its decompressed form) exceeds the configured maximum size."""


class TooManyRedirectsError(FetchError):
    """The redirect chain is longer than the configured limit, or loops."""


class FetchTimeoutError(FetchError):
    """Connecting or reading took longer than allowed."""


class HTTPStatusError(FetchError):
    """The server answered with an error status (4xx/5xx)."""


class RobotsDisallowedError(FetchError):
    """robots.txt forbids fetching this article page."""


class ParseError(NewsloomError):
    """Bytes that should be a feed, OPML file or article could not be parsed."""


class FeedParseError(ParseError):
    """A feed is malformed beyond recovery or is not a feed at all."""


class OpmlError(ParseError):
    """An OPML document is malformed or unsafe (entities are never expanded)."""


class ExtractionError(ParseError):
    """No article could be extracted from a page."""


class StorageError(NewsloomError):
    """The database failed; wraps the driver's exception."""


class QueueError(NewsloomError):
    """The task queue is unreachable or misconfigured."""


class AuthError(NewsloomError):
    """Sign-in failed, or a page needs a signed-in reader."""

    exit_code = 4


class AccessDeniedError(NewsloomError):
    """The signed-in reader may not do this (an admin-only action)."""

    exit_code = 4


class RateLimitedError(NewsloomError):
    """Too many failed sign-ins; ``retry_after_s`` says when to try again."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DeliveryError(NewsloomError):
    """Sending a notification or digest failed (SMTP refused or timed out, a webhook answered an error)."""

    exit_code = 4
