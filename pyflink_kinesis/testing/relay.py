"""The loopback HTTP relay the test proxies share: serving on 127.0.0.1, forwarding a call to the emulator,
answering, refusing with a service error, dropping a connection, and stopping after a lifetime.

:class:`LoopbackProxy` is the server (start, stop, endpoint, context manager); :class:`RelayHandler` the
handler a proxy subclasses: its ``do_POST`` decides what to do with a call and uses :meth:`RelayHandler.forward`,
:meth:`RelayHandler.respond`, :meth:`RelayHandler.error` and :meth:`RelayHandler.drop`.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

KINESIS_TARGET = "Kinesis_20131202."
JSON_HEADERS = [("Content-Type", "application/x-amz-json-1.1")]
_HOP_HEADERS = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "proxy-connection"}
Answer = Tuple[int, List[Tuple[str, str]], bytes]


class LoopbackProxy:
    """A threaded HTTP server on 127.0.0.1 in front of ``upstream_port`` that stops by itself after ``max_lifetime``.

    Subclasses set :attr:`handler` (a :class:`RelayHandler` subclass) and :attr:`thread_name`.
    """

    handler: type = None  # type: ignore[assignment]
    thread_name = "loopback-proxy"
    #: What a Flink connector client of the proxy sets: HTTP/1.1, the only protocol the proxy reads (the
    #: connector's asynchronous client speaks HTTP/2 with prior knowledge on ``http://`` by default).
    CLIENT_PROPERTIES = {"aws.http.protocol.version": "HTTP1_1"}

    def __init__(self, upstream_port: int, max_lifetime: float = 300.0) -> None:
        self.upstream_port = upstream_port
        self.max_lifetime = max_lifetime
        self.forwarding = 0  # calls being forwarded to the emulator now
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self._timer: Optional[threading.Timer] = None
        self._stopped = False

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        assert self._server is not None, "the proxy is not started"
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        """The URL to point clients at."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Any:
        """Listen on a free loopback port; returns the proxy."""
        handler = type("Handler", (self.handler,), {"owner": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=self.thread_name,
                         daemon=True).start()
        self._timer = threading.Timer(self.max_lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent; the lifetime timer calls it too)."""
        with self._lock:
            server = self._server
            if self._stopped or server is None:
                return
            self._stopped = True
        if self._timer is not None and threading.current_thread() is not self._timer:
            self._timer.cancel()
        server.shutdown()
        server.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RelayHandler(BaseHTTPRequestHandler):
    """Forwards calls to the owner's upstream; subclasses override :meth:`do_POST`."""

    owner: LoopbackProxy
    protocol_version = "HTTP/1.1"
    timeout = 15  # idle keep-alive connections end, so no handler thread lives forever

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.relay(b"")

    def do_POST(self) -> None:
        self.relay(self.body())

    def body(self) -> bytes:
        """The request's body."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    @property
    def operation(self) -> str:
        """The Kinesis operation of the call, e.g. ``"PutRecords"``."""
        return (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]

    def relay(self, body: bytes) -> None:
        """Forward the call and answer with what the emulator answered."""
        self.respond(*self.forward(body))

    def forward(self, body: bytes, operation: Optional[str] = None) -> Answer:
        """Send ``body`` to the emulator with this call's headers (as ``operation`` if given): status, headers, body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.owner.upstream_port, timeout=60)
        with self.owner._lock:
            self.owner.forwarding += 1
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            if operation is not None:
                headers = {k: v for k, v in headers.items() if k.lower() != "x-amz-target"}
                headers["X-Amz-Target"] = KINESIS_TARGET + operation
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body if self.command != "GET" else None, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS]
            return response.status, kept, answer
        finally:
            conn.close()
            with self.owner._lock:
                self.owner.forwarding -= 1

    def call(self, operation: str, request: Dict[str, Any]) -> Dict[str, Any]:
        """Make a call of the proxy's own to the emulator (e.g. ListShards), with this call's credentials."""
        status, _, answer = self.forward(json.dumps(request).encode(), operation)
        if status != 200:
            raise RuntimeError(f"{operation} {request} answered {status}: {answer[:200]!r}")
        result: Dict[str, Any] = json.loads(answer)
        return result

    def respond(self, status: int, headers: List[Tuple[str, str]], body: bytes) -> None:
        """Answer the client."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def respond_json(self, answer: Dict[str, Any]) -> None:
        """Answer 200 with a JSON body."""
        self.respond(200, JSON_HEADERS, json.dumps(answer).encode())

    def error(self, status: int, code: str, message: str) -> None:
        """Answer with a service error (``__type`` ``code``)."""
        self.respond(status, JSON_HEADERS, json.dumps({"__type": code, "message": message}).encode())

    def drop(self) -> None:
        """Close the connection without an answer."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


__all__ = ["Answer", "JSON_HEADERS", "LoopbackProxy", "RelayHandler"]
