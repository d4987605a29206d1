"""Account primitives: argon2 password hashes, random tokens and their hashes, HMAC-signed feed URLs, and
the login rate limiter. No storage and no clock reads here: callers pass ``now``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from newsloom.errors import InputError

# argon2-cffi's defaults follow RFC 9106's second recommended option (t=3, m=64 MiB, p=4): about 50 ms a hash
# on one core here, slow enough against offline guessing and fast enough for a sign-in.
_hasher = PasswordHasher()

# NIST SP 800-63B asks for at least 8 characters and no composition rules; the upper bound keeps a hostile
# megabyte-long password from costing more than a normal one.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")

# 32 random bytes (256 bits) per session / API token / invite: unguessable whatever the request rate.
TOKEN_BYTES = 32
API_TOKEN_PREFIX = "nl_"
SESSION_LIFETIME = timedelta(days=30)
INVITE_LIFETIME = timedelta(days=14)

# Five wrong passwords per quarter hour per account or per client address, then a wait: enough for typos,
# far too few for guessing (OWASP's authentication cheat sheet suggests a handful of tries per window).
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong password or a malformed hash."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# A valid hash to verify against when the username is unknown, so a sign-in takes as long either way and
# timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def burn_verification(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(f"the password may have at most {MAX_PASSWORD_LENGTH} characters")


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise InputError("a username has 2 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What storage keeps of a token: its SHA-256 (tokens are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def feed_key(secret: str, user_id: int, nonce: int) -> str:
    """The secret part of a reader's For-you feed URL: ``<user id>-<hmac>``; bumping the nonce revokes it."""
    return f"{user_id}-{sign(secret, f'feed:{user_id}:{nonce}')[:40]}"


def parse_feed_key(key: str) -> tuple[int, str] | None:
    user, _, mac = key.partition("-")
    if not user.isdigit() or not mac:
        return None
    return int(user), mac


def feed_key_matches(secret: str, key: str, user_id: int, nonce: int) -> bool:
    return hmac.compare_digest(feed_key(secret, user_id, nonce), key)


@dataclass
class LoginLimiter:
    """Counts failed sign-ins per key (username, client address) in a sliding window. Thread-safe.

    In memory, per process: a restart forgets the counts, which is acceptable for a self-hosted reader (a
    distributed deployment would keep them in Redis).
    """

    max_failures: int = LOGIN_MAX_FAILURES
    window: timedelta = LOGIN_WINDOW
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked_for(self, keys: list[str], now: datetime) -> timedelta | None:
        """How long until one more try is allowed for every key, or None when none is blocked."""
        with self._lock:
            waits = []
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    waits.append(times[0] + self.window - now)
            return max(waits) if waits else None

    def failed(self, keys: list[str], now: datetime) -> None:
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
