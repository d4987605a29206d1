"""Loopback receivers for the delivery tests: a webhook endpoint that succeeds, fails or hangs, and SMTP."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.notify.certs import LoopbackCA


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """``mode`` is "ok", "fail" (HTTP 500) or "hang" (answers after ``hang_s``); ``delay_s`` slows "ok"."""

    mode: str = "ok"
    hang_s: float = 5.0
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(dict(self.headers.items()), body))
                if receiver.mode == "hang":
                    time.sleep(receiver.hang_s)
                time.sleep(receiver.delay_s)
                status = 500 if receiver.mode == "fail" else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def ids(self) -> list[str]:
        return [r.headers.get("Webhook-Id", "") for r in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailSink:
    """A real SMTP server (aiosmtpd) on loopback; ``refuse`` answers 550 to every recipient.

    ``tls`` is "none", "starttls" (STARTTLS required before anything else) or "tls" (TLS from the first byte),
    with the certificate of ``ca``; ``logins`` (user: password) makes SMTP AUTH required.
    """

    def __init__(self, *, tls: str = "none", ca: LoopbackCA | None = None, logins: dict[str, str] | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.logged_in: list[str] = []
        self.refuse = False
        self.port = free_port()
        self.logins = logins
        options: dict[str, Any] = {}
        if tls != "none":
            assert ca is not None, "a TLS mail sink needs a certificate"
            if tls == "starttls":
                options.update(tls_context=ca.server_context(), require_starttls=True)
            else:
                # aiosmtpd counts only STARTTLS as encrypted for AUTH; this connection is TLS from the first byte.
                options.update(ssl_context=ca.server_context(), auth_require_tls=False)
        if logins is not None:
            options.update(authenticator=self._authenticate, auth_required=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        assert self.logins is not None
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.logins.get(user) == password:
                self.logged_in.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(cast(EmailMessage, message_from_bytes(content, policy=policy.default)))
        return "250 Message accepted"

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
