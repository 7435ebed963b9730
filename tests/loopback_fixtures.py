"""A TCP listener that counts the connections it accepts and hangs up (a fetch the SSRF guard
refuses must leave it at zero), and this machine's own host name, which the system resolver maps
to one of its own addresses."""

from __future__ import annotations

import ipaddress
import socket
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


def own_name() -> tuple[str, str]:
    """This machine's host name and the IPv4 address it resolves to (never a public one)."""
    name = socket.gethostname()
    address = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    assert not ipaddress.ip_address(address).is_global, f"{name} resolves to {address}"
    return name, str(address)


@contextmanager
def counting_listener(host: str = "127.0.0.1") -> Iterator[Counting]:
    server = Counting((host, 0), _HangUp)
    thread = threading.Thread(target=server.serve_forever, name="counting-listener", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
