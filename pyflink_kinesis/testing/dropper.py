"""A loopback TCP relay whose open connections a test can drop at once, for the protocols the HTTP/1.1
:class:`~pyflink_kinesis.testing.faultproxy.FaultProxy` cannot read (TLS, HTTP/2: enhanced fan-out subscriptions).

It relays bytes, unread, between a loopback port and the emulator's TLS port: :meth:`ConnectionDropper.drop_all`
closes every open connection at once, mid-stream; :meth:`ConnectionDropper.down` refuses new connections (closes
them at once) until :meth:`ConnectionDropper.up`. The relay stops itself after ``max_lifetime`` seconds.
"""

from __future__ import annotations

import socket
import threading
from typing import List


class ConnectionDropper:
    """A loopback TCP relay to ``127.0.0.1:upstream_port`` whose open connections a test can drop at once.

    Args:
        upstream_port: The port to relay to (the emulator's TLS port: the bytes are relayed unread).
        max_lifetime: Seconds after which the relay stops by itself.
    """

    def __init__(self, upstream_port: int, max_lifetime: float = 600.0) -> None:
        self.upstream_port = upstream_port
        self.connections = 0  # connections relayed so far
        self.refused = 0  # connections closed at once while down
        self._down = False
        self._open: List[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._timer = threading.Timer(max_lifetime, self.stop)
        self._timer.daemon = True

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def start(self) -> "ConnectionDropper":
        threading.Thread(target=self._accept, name="connection-dropper", daemon=True).start()
        self._timer.start()
        return self

    def drop_all(self) -> int:
        """Close every open connection (both sides) now; returns how many client connections were open."""
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            _close(sock)
        return len(sockets) // 2

    def down(self) -> None:
        """From now on, close every new connection at once (until :meth:`up`)."""
        self._down = True

    def up(self) -> None:
        """Relay new connections again."""
        self._down = False

    def stop(self) -> None:
        self._timer.cancel()
        _close(self._listener)
        self.drop_all()

    def __enter__(self) -> "ConnectionDropper":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # stopped
            if self._down:
                self.refused += 1
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self.connections += 1
                self._open += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes until either side closes; then close both."""
    try:
        while True:
            chunk = source.recv(65536)
            if not chunk:
                break
            target.sendall(chunk)
    except OSError:
        pass
    _close(source)
    _close(target)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
