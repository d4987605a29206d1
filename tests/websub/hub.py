"""A small WebSub hub on 127.0.0.1 that behaves, towards subscribers, as the W3C WebSub Recommendation says.

* §5.1 subscription requests: ``POST /`` with a form body (``hub.mode``, ``hub.topic``, ``hub.callback``,
  optional ``hub.secret`` under 200 bytes and ``hub.lease_seconds``); 400 for a malformed one, else 202 Accepted
  and the work goes on asynchronously;
* §5.3 verification of intent: a ``GET`` to the callback with ``hub.mode``, ``hub.topic``, ``hub.challenge``
  and (subscribe) ``hub.lease_seconds``; the subscription holds only when the callback answers 2xx with the
  challenge as its body. §5.2: a hub that refuses sends ``hub.mode=denied`` with ``hub.reason`` instead;
* §7/§8 content distribution: ``publish`` POSTs the topic's new content to each verified subscriber whose lease
  has not ended, with ``Link: <hub>; rel="hub", <topic>; rel="self"`` and, when a secret was given,
  ``X-Hub-Signature: <method>=<HMAC of the body>``. A 410 answer ends the subscription.

Knobs make it a failing hub for tests: ``refuse_status`` answers subscription requests with an error,
``deny`` denies them, ``verify=False`` never verifies, ``lease_seconds`` caps the lease granted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

MAX_SECRET_BYTES = 200  # §5.1: hub.secret MUST be less than 200 bytes
DEFAULT_LEASE_S = 864_000


@dataclass
class HubSubscription:
    callback: str
    topic: str
    secret: str | None
    lease_seconds: int
    expires_at: float  # time.time()


@dataclass
class Verification:
    callback: str
    mode: str
    status: int | None
    confirmed: bool


@dataclass
class Hub:
    lease_seconds: int = DEFAULT_LEASE_S
    signature_method: str = "sha256"
    refuse_status: int | None = None
    deny: bool = False
    verify: bool = True
    requests: list[dict[str, str]] = field(default_factory=list)
    verifications: list[Verification] = field(default_factory=list)
    subscriptions: dict[tuple[str, str], HubSubscription] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hub = self
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True))
                status, body = hub._subscription_request(form)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        # Deliveries come from many threads at once (bench/websub.py): room for a connection each.
        self._client = httpx.Client(timeout=30.0, trust_env=False, limits=httpx.Limits(max_connections=512))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def start(self) -> Hub:
        self._thread.start()
        return self

    def stop(self) -> None:
        for worker in self._workers:
            worker.join(timeout=10)
        self.httpd.shutdown()
        self.httpd.server_close()
        self._client.close()

    # -- subscriber-facing protocol ----------------------------------------------------------------------------

    def _subscription_request(self, form: dict[str, str]) -> tuple[int, bytes]:
        with self._lock:
            self.requests.append(form)
        mode, topic, callback = form.get("hub.mode"), form.get("hub.topic", ""), form.get("hub.callback", "")
        secret = form.get("hub.secret") or None
        if mode not in ("subscribe", "unsubscribe") or not topic or not callback.startswith(("http://", "https://")):
            return 400, b"hub.mode, hub.topic and an http(s) hub.callback are required"
        if secret is not None and len(secret.encode()) >= MAX_SECRET_BYTES:
            return 400, b"hub.secret must be less than 200 bytes"
        if self.refuse_status is not None:
            return self.refuse_status, b"refused"
        requested = form.get("hub.lease_seconds", "")
        lease = min(int(requested), self.lease_seconds) if requested.isdigit() and int(requested) > 0 else self.lease_seconds
        worker = threading.Thread(target=self._verify, args=(mode, topic, callback, secret, lease), daemon=True)
        self._workers.append(worker)
        worker.start()
        return 202, b"accepted"

    def _verify(self, mode: str, topic: str, callback: str, secret: str | None, lease: int) -> None:
        if not self.verify:
            return
        if self.deny:
            params = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": "this hub denies everyone"}
            try:
                response = self._client.get(_with_query(callback, params))
                self._record(Verification(callback, "denied", response.status_code, False))
            except httpx.HTTPError:
                self._record(Verification(callback, "denied", None, False))
            return
        challenge = secrets.token_urlsafe(24)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        try:
            response = self._client.get(_with_query(callback, params))
        except httpx.HTTPError:
            self._record(Verification(callback, mode, None, False))
            return
        confirmed = 200 <= response.status_code < 300 and response.text == challenge
        # One lock section for both: a test that saw the verification may publish at once and must find the
        # subscription (before, it could publish in between and reach no one).
        with self._lock:
            self.verifications.append(Verification(callback, mode, response.status_code, confirmed))
            if not confirmed:
                return
            if mode == "subscribe":
                self.subscriptions[(callback, topic)] = HubSubscription(callback, topic, secret, lease, time.time() + lease)
            else:
                self.subscriptions.pop((callback, topic), None)

    def _record(self, verification: Verification) -> None:
        with self._lock:
            self.verifications.append(verification)

    # -- publishing -----------------------------------------------------------------------------------------------

    def publish(self, topic: str, body: bytes, content_type: str = "application/atom+xml") -> list[int]:
        """Deliver ``body`` to every live subscriber of ``topic``; their HTTP statuses."""
        with self._lock:
            targets = [s for s in self.subscriptions.values() if s.topic == topic and s.expires_at > time.time()]
        statuses = []
        for sub in targets:
            headers = {"Content-Type": content_type, "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"'}
            if sub.secret is not None:
                digest = hmac.new(sub.secret.encode(), body, getattr(hashlib, self.signature_method)).hexdigest()
                headers["X-Hub-Signature"] = f"{self.signature_method}={digest}"
            response = self._client.post(sub.callback, content=body, headers=headers)
            statuses.append(response.status_code)
            if response.status_code == 410:
                with self._lock:
                    self.subscriptions.pop((sub.callback, sub.topic), None)
        return statuses

    def wait_verified(self, count: int = 1, timeout: float = 10.0) -> list[Verification]:
        """Block until ``count`` verifications were attempted (confirmed or not); all of them so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.verifications) >= count:
                    return list(self.verifications)
            time.sleep(0.02)
        raise AssertionError(f"the hub made {len(self.verifications)} verification(s), expected {count}")

    def subscription(self, topic: str) -> HubSubscription | None:
        with self._lock:
            return next((s for s in self.subscriptions.values() if s.topic == topic), None)


def _with_query(url: str, params: dict[str, str]) -> str:
    joiner = "&" if urlsplit(url).query else "?"
    return url + joiner + urlencode(params)
