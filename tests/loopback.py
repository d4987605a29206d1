"""A real HTTP server on 127.0.0.1 for tests: routes map a path to a canned response or a raw handler.

Tests talk to it over real sockets (never the internet), the way reader and miniflux test their fetchers.
A raw handler gets the ``BaseHTTPRequestHandler`` and may write anything, slowly, forever or malformed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RawHandler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: dict[str, Response | RawHandler] = {}
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                server.requests.append(Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path) or server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self._send(Response(b"not found", 404, {"Content-Type": "text/plain"}))
                elif callable(route):
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        route(self)
                else:
                    self._send(route)

            do_HEAD = do_GET

            def _send(self, resp: Response) -> None:
                try:
                    self.send_response(resp.status)
                    headers = {k.lower(): v for k, v in resp.headers.items()}
                    for k, v in resp.headers.items():
                        self.send_header(k, v)
                    if "content-length" not in headers:
                        self.send_header("Content-Length", str(len(resp.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(resp.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes | str = b"", status: int = 200, headers: dict[str, str] | None = None) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Response(data, status, dict(headers or {}))
        return self.url(path)

    def add_raw(self, path: str, handler: RawHandler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
