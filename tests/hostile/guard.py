"""The property every fuzz test checks: a parser returns, or raises a ``NewsloomError``, in bounded time.

``call_bounded`` runs one input under a SIGALRM timer (a hung parser never returns, so hypothesis'
``deadline``, which is measured after the call, cannot catch it) and turns any other exception into a test
failure that names the input's parser. ``KNOWN_BUGS`` lists reported, not yet fixed bugs: the fuzz tests
tolerate them (each has a strict-xfail reproducer in ``test_regressions.py``, which turns red the day it is
fixed, so the entry here is removed with the marker there).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from newsloom.errors import NewsloomError

T = TypeVar("T")

#: Wall-clock bound on one parser call in the CI fuzz tests. Generated inputs are small (< 64 KiB); the
#: slowest parser (extract_html on a 60 KB page) takes ~0.3 s on one busy shared core, so 10 s only trips on
#: a real hang or a super-linear blow-up, never on machine noise.
PER_INPUT_BOUND_S = 10.0


class InputTookTooLong(AssertionError):
    """One parser call ran past its time bound (a hang or a super-linear blow-up)."""


@contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Raise ``InputTookTooLong`` in the main thread once ``seconds`` have passed (no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise InputTookTooLong(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class KnownBug:
    """A reported bug: ``parser`` raising ``exc_type`` whose message contains ``message``."""

    parser: str
    exc_type: type[BaseException]
    message: str
    reproducer: str  # the strict-xfail test in tests/hostile/test_regressions.py

    def matches(self, parser: str, exc: BaseException) -> bool:
        return parser == self.parser and isinstance(exc, self.exc_type) and self.message in str(exc)


# Empty: every bug reported so far is fixed (docs/reliability.md, "Open bugs"). A new one is added as
# KnownBug("parse_opml", ValueError, "message part", "tests/hostile/test_regressions.py::test_name").
KNOWN_BUGS: tuple[KnownBug, ...] = ()


class UnexpectedError(AssertionError):
    """A parser raised something other than a NewsloomError subclass."""


def is_known_bug(parser: str, exc: BaseException) -> bool:
    """True when ``exc`` from ``parser`` (or from any function in ``ALIASES[parser]``) is a reported bug."""
    names = ALIASES.get(parser, (parser,))
    return any(bug.matches(name, exc) for bug in KNOWN_BUGS for name in names)


#: bench/fuzz.py targets that run several functions per input
ALIASES: dict[str, tuple[str, ...]] = {
    "compare": ("compare_articles", "comparison_to_dict", "render_comparison_text"),
    "cluster": ("read_jsonl", "cluster_records"),
    "extract_text": ("extract_text", "parse_plain_text"),
}


def call_bounded(parser: str, fn: Callable[[], T], *, seconds: float = PER_INPUT_BOUND_S) -> T | NewsloomError | None:
    """``fn()``'s result, or the NewsloomError it raised; fails on any other exception or on a hang.

    Returns None when the call hit a known, reported bug (see ``KNOWN_BUGS``).
    """
    try:
        with time_bound(seconds):
            return fn()
    except NewsloomError as exc:
        return exc
    except InputTookTooLong:
        raise
    except Exception as exc:
        if is_known_bug(parser, exc):
            return None
        raise UnexpectedError(f"{parser} raised {type(exc).__name__}: {str(exc)[:300]}") from exc
