"""Typed settings: defaults, then an optional TOML file, then ``NEWSLOOM_*`` environment variables.

Each setting has one name. In TOML it is the field name (``max_body_bytes = 5000000``); in the
environment it is ``NEWSLOOM_`` plus the upper-cased name (``NEWSLOOM_MAX_BODY_BYTES``). The TOML file is
``$NEWSLOOM_CONFIG`` if set, else ``newsloom.toml`` in the data directory if it exists.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from newsloom.errors import ConfigError
from newsloom.priority import DEFAULT_INGEST_NICE

ENV_PREFIX = "NEWSLOOM_"


def _default_data_dir() -> str:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return str(base / "newsloom")


@dataclass(frozen=True)
class Settings:
    data_dir: str = field(default_factory=_default_data_dir, metadata={"help": "Where the SQLite database and caches live."})
    database_url: str = field(default="", metadata={"help": "SQLAlchemy URL; empty means sqlite:///<data_dir>/newsloom.db. postgresql://... works too."})
    allow_private_networks: bool = field(default=False, metadata={"help": "Allow fetching private, loopback and link-local addresses (tests only)."})
    user_agent: str = field(default="newsloom/0.1 (+https://github.com/newsloom/newsloom; self-hosted news aggregator)", metadata={"help": "User-Agent sent with every request."})
    connect_timeout_s: float = field(default=10.0, metadata={"help": "Seconds to wait for a TCP/TLS connection."})
    read_timeout_s: float = field(default=20.0, metadata={"help": "Seconds to wait between bytes of a response."})
    total_timeout_s: float = field(default=60.0, metadata={"help": "Upper bound on one whole fetch, redirects included."})
    max_body_bytes: int = field(default=10_000_000, metadata={"help": "Largest body accepted, after decompression."})
    max_redirects: int = field(default=5, metadata={"help": "Longest redirect chain followed."})
    per_host_concurrency: int = field(default=2, metadata={"help": "Simultaneous requests to one host."})
    per_host_delay_s: float = field(default=1.0, metadata={"help": "Minimum seconds between two requests to one host."})
    max_concurrency: int = field(default=16, metadata={"help": "Simultaneous requests overall."})
    min_poll_interval_s: int = field(default=15 * 60, metadata={"help": "Shortest adaptive poll interval of a feed."})
    max_poll_interval_s: int = field(default=24 * 3600, metadata={"help": "Longest adaptive poll interval of a feed."})
    default_poll_interval_s: int = field(default=3600, metadata={"help": "Poll interval of a new feed."})
    max_backoff_s: int = field(default=7 * 24 * 3600, metadata={"help": "Longest wait after repeated failures."})
    parse_processes: int = field(
        default=0,
        metadata={"help": "Processes that parse feeds and extract pages while polling: 0 one per core for large polls, 1 none (in the polling process)."},
    )
    fetch_article_pages: bool = field(default=True, metadata={"help": "Fetch the page of feed items that carry only a summary."})
    respect_robots: bool = field(default=True, metadata={"help": "Honour robots.txt for article pages."})
    queue_url: str = field(default="", metadata={"help": "Task-queue broker URL (redis://...); empty runs everything in-process."})
    queue_max_length: int = field(default=10_000, metadata={"help": "Queue mode: waiting tasks per queue before producers wait, then refuse."})
    queue_full_wait_s: float = field(default=60.0, metadata={"help": "Queue mode: how long a producer waits for room in a full queue."})
    queue_visibility_timeout_s: float = field(default=900.0, metadata={"help": "Queue mode: an unacknowledged task is redelivered after this long."})
    queue_restore_interval_s: float = field(default=90.0, metadata={"help": "Queue mode: how often workers look for tasks to redeliver."})
    queue_lease_s: float = field(default=30.0, metadata={"help": "Queue mode: a standby story assigner takes over at most this long after the holder died."})
    queue_scheduler_tick_s: float = field(default=30.0, metadata={"help": "Queue mode: how often the scheduler looks for due sources."})
    queue_sweep_interval_s: float = field(default=600.0, metadata={"help": "Queue mode: how often articles stored without a story are re-queued."})
    queue_prefix: str = field(default="newsloom", metadata={"help": "Queue mode: prefix of every Redis key and queue name."})
    queue_redis_url: str = field(default="", metadata={"help": "Queue mode: Redis for leases and limiter state; empty: the broker (must then be Redis)."})
    host: str = field(default="127.0.0.1", metadata={"help": "Address the web server binds."})
    port: int = field(default=8000, metadata={"help": "Port the web server binds."})
    web_workers: int = field(default=0, metadata={"help": "Web server processes (newsloom serve --workers): 0 one per core, at most 8; 1 a single process."})
    web_threads: int = field(default=8, metadata={"help": "Threads per web process for the pages that read the database (a held page needs none)."})
    ingest_nice: int = field(default=DEFAULT_INGEST_NICE, metadata={"help": "Nice steps (0-19) by which ingestion and polling lower their CPU priority, so that the web server's requests win the CPU; 0 leaves them as started."})
    secret_key: str = field(default="", metadata={"help": "Key for session cookies; generated into the data dir when empty."})
    open_signup: bool = field(default=True, metadata={"help": "Anyone may sign up (false: invite only)."})
    story_window_days: float = field(default=7.0, metadata={"help": "Days a story stays open for new articles."})
    story_pages_at_ingest: bool = field(
        default=True,
        metadata={"help": "Build a story's page (comparison, timeline, related) when it changes; false: on its next view."},
    )
    public_url: str = field(default="", metadata={"help": "The server's public base URL (https://news.example.org); empty: unknown, so no WebSub subscriptions and e-mails carry no links."})
    websub_lease_s: int = field(default=10 * 24 * 3600, metadata={"help": "WebSub lease asked of hubs (they may grant another); renewed before it ends."})
    websub_safety_poll_s: int = field(default=24 * 3600, metadata={"help": "Poll interval of a feed whose hub pushes its items (a safety poll)."})
    smtp_host: str = field(default="", metadata={"help": "SMTP server for e-mail notifications and digests; empty: no e-mail is sent."})
    smtp_port: int = field(default=587, metadata={"help": "SMTP port (587 for starttls, 465 for tls, 25 for none)."})
    smtp_user: str = field(default="", metadata={"help": "SMTP login; empty: no authentication."})
    smtp_password: str = field(default="", metadata={"help": "SMTP password."})
    smtp_tls: str = field(default="starttls", metadata={"help": "SMTP encryption: none, starttls or tls."})
    smtp_ca_file: str = field(default="", metadata={"help": "PEM file of the CA certificates trusted for the SMTP server's certificate (a private CA); empty: the system's."})
    smtp_timeout_s: float = field(default=20.0, metadata={"help": "Seconds to wait for the SMTP server."})
    mail_from: str = field(default="", metadata={"help": "From address of notification e-mails and digests."})
    webhook_timeout_s: float = field(default=10.0, metadata={"help": "Seconds a webhook receiver has to answer."})
    notify_interval_s: float = field(default=15.0, metadata={"help": "How often the in-process notifier delivers pending notifications."})
    notify_lease_s: float = field(default=120.0, metadata={"help": "A delivery a worker died holding is retried after this long."})

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir) / 'newsloom.db'}"


def _coerce(name: str, raw: Any, target: type[Any] | str) -> Any:
    kind = target if isinstance(target, str) else target.__name__
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if kind == "int":
            if isinstance(raw, bool):
                raise ValueError("booleans are not numbers")
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}: {exc}") from exc


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from defaults, the TOML file, the environment and explicit overrides, in that order."""
    env = os.environ if env is None else env
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}

    data_dir = env.get(ENV_PREFIX + "DATA_DIR") or overrides.get("data_dir") or _default_data_dir()
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if not path and (Path(data_dir) / "newsloom.toml").is_file():
        path = Path(data_dir) / "newsloom.toml"
    if path:
        try:
            with open(path, "rb") as fh:
                loaded = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
        for key, raw in loaded.items():
            if key not in known:
                raise ConfigError(f"settings file {path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, known[key].type)

    for key, f in known.items():
        raw_env = env.get(ENV_PREFIX + key.upper())
        if raw_env is not None:
            values[key] = _coerce(key, raw_env, f.type)

    for key, raw in overrides.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}")
        if raw is not None:
            values[key] = _coerce(key, raw, known[key].type)

    return dataclasses.replace(Settings(), **values)


def describe_settings() -> list[tuple[str, str, str]]:
    """(name, default, help) for every setting, for ``newsloom config --help``-style listings."""
    out = []
    defaults = Settings()
    for f in fields(Settings):
        out.append((f.name, repr(getattr(defaults, f.name)), str(f.metadata.get("help", ""))))
    return out
