"""A TCP listener on 127.0.0.1 that counts the connections it accepts and hangs up: a fetch the
SSRF guard refuses must leave it at zero."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Counting(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    connections = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _HangUp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        assert isinstance(self.server, Counting)
        self.server.connections += 1


@contextmanager
def counting_listener() -> Iterator[Counting]:
    server = Counting(("127.0.0.1", 0), _HangUp)
    thread = threading.Thread(target=server.serve_forever, name="counting-listener", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
