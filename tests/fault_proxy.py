"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a moto server, for the fault tests.

The CLI is pointed at the proxy with AWS_ENDPOINT_URL. Each request's operation comes from its
X-Amz-Target header (JSON protocols) or the Action= of its form body (query protocols), and its region
from the SigV4 credential scope of its Authorization header. The first rule that matches both decides
what happens instead of forwarding: an error response, a reset connection, a delay longer than the
client's read timeout, a truncated (malformed) body, or a rewritten body. Nothing listens on any
address but 127.0.0.1, and the port is chosen by the OS.
"""

from __future__ import annotations

import http.client
import re
import socket
import struct
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import LISTEN_QUEUE

LOOPBACK = "127.0.0.1"
SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


def ec2_error(code: str, message: str) -> bytes:
    """An EC2 (query protocol) error body, as EC2 sends it."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors>"
            "<RequestID>0f4d3b8e-0000-4000-8000-000000000000</RequestID></Response>").encode()


def query_error(code: str, message: str) -> bytes:
    """An error body of the other query-protocol services (ELBv2, STS)."""
    return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>0f4d3b8e-0000-4000-8000-000000000001</RequestId></ErrorResponse>").encode()


@dataclass(frozen=True)
class Fault:
    """What to do instead of forwarding: `kind` is error, reset, delay, truncate or rewrite."""

    kind: str
    status: int = 200
    body: bytes = b""
    seconds: float = 0.0
    cut: int = 0  # for truncate: bytes dropped from the end (0: half the body)
    rewrite: Callable[[bytes], bytes] | None = None

    @classmethod
    def error(cls, status: int, body: bytes) -> Fault:
        return cls("error", status=status, body=body)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait, then forward (a slow API); longer than the read timeout, it is a read timeout."""
        return cls("delay", seconds=seconds)

    @classmethod
    def truncate(cls, cut: int = 0) -> Fault:
        """Forward, then answer HTTP 200 with the body cut short (by `cut` bytes, or half): XML that does not parse."""
        return cls("truncate", cut=cut)

    @classmethod
    def rewritten(cls, rewrite: Callable[[bytes], bytes]) -> Fault:
        return cls("rewrite", rewrite=rewrite)


@dataclass(frozen=True)
class Rule:
    """Matches requests by operation and region (None matches any)."""

    fault: Fault
    operation: str | None = None
    region: str | None = None

    def matches(self, operation: str, region: str) -> bool:
        return self.operation in (None, operation) and self.region in (None, region)


@dataclass
class Seen:
    operation: str
    region: str
    fault: str | None


@dataclass
class FaultProxy:
    url: str
    upstream: str
    rules: list[Rule]
    seen: list[Seen] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def faulted(self, operation: str | None = None) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.fault and operation in (None, s.operation)]

    def count(self, predicate: Callable[[Seen], bool]) -> int:
        with self.lock:
            return sum(1 for s in self.seen if predicate(s))


def request_identity(headers: Any, body: bytes) -> tuple[str, str]:
    """(operation, region) of a signed AWS request."""
    target = headers.get("X-Amz-Target") or ""
    if target:
        operation = target.rsplit(".", 1)[-1]
    else:
        form = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"))
        operation = (form.get("Action") or [""])[0]
    scope = SCOPE.search(headers.get("Authorization") or "")
    return operation, (scope.group(1) if scope else "")


@contextmanager
def fault_proxy(upstream: str, rules: list[Rule]) -> Iterator[FaultProxy]:
    """A proxy on 127.0.0.1 forwarding to `upstream` (an http://127.0.0.1:PORT URL) under `rules`."""
    parsed = urllib.parse.urlsplit(upstream)
    assert parsed.hostname == LOOPBACK, "the proxy only forwards to 127.0.0.1"
    state = FaultProxy(url="", upstream=upstream, rules=list(rules))

    open_connections: set[socket.socket] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with state.lock:
                open_connections.add(self.connection)

        def finish(self) -> None:
            with state.lock:
                open_connections.discard(self.connection)
            super().finish()

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            operation, region = request_identity(self.headers, body)
            rule = next((r for r in state.rules if r.matches(operation, region)), None)
            fault = rule.fault if rule else None
            with state.lock:
                state.seen.append(Seen(operation, region, fault.kind if fault else None))
            if fault is None:
                self.relay(*self.forward(body))
            elif fault.kind == "error":
                self.relay(fault.status, "text/xml", fault.body)
            elif fault.kind == "reset":
                self.reset()
            elif fault.kind == "delay":
                if state.stopping.wait(fault.seconds):
                    self.reset()
                    return
                self.relay(*self.forward(body))
            elif fault.kind == "truncate":
                _, content_type, answer = self.forward(body)
                self.relay(200, content_type, answer[: len(answer) - (fault.cut or len(answer) // 2)])
            elif fault.kind == "rewrite":
                status, content_type, answer = self.forward(body)
                assert fault.rewrite is not None
                self.relay(status, content_type, fault.rewrite(answer))
            else:
                raise AssertionError(f"unknown fault {fault.kind!r}")

        do_GET = do_POST = handle_any  # noqa: N815 - the http.server API

        def forward(self, body: bytes) -> tuple[int, str, bytes]:
            connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheader("Content-Type") or "text/xml", response.read()
            finally:
                connection.close()

        def relay(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def reset(self) -> None:
            """Drop the connection with a TCP RST and no response at all."""
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

        def log_message(self, *_: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # Each connection's thread is joined when the proxy stops (its connection shut down first, below): a thread
        # left serving a kept-alive connection of a client that is garbage but not yet collected outlived the
        # fault tests, and the worker-process tests, which fork only while no other thread runs, could not fork.
        daemon_threads = False
        block_on_close = True
        request_queue_size = LISTEN_QUEUE  # not socketserver's 5: see tests/servers.py

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a reset connection, or a client that gave up waiting: expected here

    server = Server((LOOPBACK, 0), Handler)
    state.url = f"http://{LOOPBACK}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        server.shutdown()
        with state.lock:
            for connection in open_connections:  # a thread waiting for the next request on it ends now
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # closed meanwhile
        server.server_close()  # joins every connection's thread (block_on_close)
        thread.join(timeout=10)
