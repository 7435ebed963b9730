"""Run the fake fal server: HTTPS on 127.0.0.1 with a throwaway CA, plus a CONNECT proxy.

fal-client sends queue calls to ``FAL_QUEUE_RUN_HOST`` but uploads to fixed hosts
(``rest.fal.ai``, ``v3.fal.media``). The proxy (for ``HTTPS_PROXY``) tunnels any host to this
server, whose certificate also names fal's hosts, so the unmodified client works end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import certifi
import trustme
import uvicorn

from video_agent_dev.fakefal.app import FakeFal, build_app

FAL_HOSTS = ("rest.fal.ai", "v3.fal.media", "fal.run", "queue.fal.run", "fal.media")
DUMMY_KEY = "fake-fal-key:not-a-secret"


class FakeFalServer:
    """The fake server in a background thread; ``with FakeFalServer() as server: ...``."""

    def __init__(self, *, port: int = 0, proxy_port: int | None = 0,
                 cert_dir: Path | None = None) -> None:
        self.fake = FakeFal()
        self._requested_port = port
        self._requested_proxy = proxy_port
        self._tmp = None if cert_dir else tempfile.TemporaryDirectory(prefix="fakefal-")
        self.cert_dir = Path(cert_dir) if cert_dir else Path(self._tmp.name)  # type: ignore[union-attr]
        self.port = 0
        self.proxy_port: int | None = None
        self.proxied: Counter[str] = Counter()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._make_certificates()

    # ------------------------------------------------------------------ certificates

    def _make_certificates(self) -> None:
        ca = trustme.CA(organization_name="video-agent fake fal")
        leaf = ca.issue_cert("127.0.0.1", "localhost", *FAL_HOSTS)
        self.cert_dir.mkdir(parents=True, exist_ok=True)
        self.ca_file = self.cert_dir / "fake-fal-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.bundle_file = self.cert_dir / "ca-bundle.pem"
        self.bundle_file.write_bytes(
            Path(certifi.where()).read_bytes() + b"\n" + ca.cert_pem.bytes())
        self._cert_file = self.cert_dir / "server.pem"
        self._key_file = self.cert_dir / "server.key"
        leaf.private_key_pem.write_to_path(str(self._key_file))
        chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
        self._cert_file.write_bytes(chain)

    # ------------------------------------------------------------------ lifecycle

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    def env(self, *, key: str = DUMMY_KEY, proxy: bool = True) -> dict[str, str]:
        """Environment that points the unmodified fal-client (and this package) here."""
        env = {"FAL_RUN_HOST": self.host, "FAL_QUEUE_RUN_HOST": self.host,
               "SSL_CERT_FILE": str(self.bundle_file), "FAL_KEY": key}
        if proxy and self.proxy_port:
            proxy_url = f"http://127.0.0.1:{self.proxy_port}"
            env.update(HTTPS_PROXY=proxy_url, https_proxy=proxy_url,
                       NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        return env

    def start(self) -> FakeFalServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(build_app(self.fake), ssl_certfile=str(self._cert_file),
                                ssl_keyfile=str(self._key_file), log_level="warning",
                                lifespan="off", access_log=False,
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="fake-fal",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(20) or self._error is not None:
            raise RuntimeError(f"fake fal server did not start: {self._error}")
        return self

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        proxy = None
        if self._requested_proxy is not None:
            proxy = await asyncio.start_server(self._tunnel, "127.0.0.1", self._requested_proxy)
            self.proxy_port = proxy.sockets[0].getsockname()[1]
        serve = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not serve.done():
            await asyncio.sleep(0.01)
        self._ready.set()
        try:
            await serve
        finally:
            self.fake.reset()
            if proxy is not None:
                proxy.close()
                with contextlib.suppress(Exception):
                    await proxy.wait_closed()

    def stop(self) -> None:
        # Clients of finished event loops leave idle keep-alive sockets; closing them at
        # shutdown is expected, not an error worth printing.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> FakeFalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, func: Callable[..., object], *args: object) -> object:
        """Run ``func(*args)`` on the server's loop (scenario changes from another thread)."""
        assert self._loop is not None
        done = threading.Event()
        box: list[object] = []

        def run() -> None:
            try:
                box.append(func(*args))
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(10)
        return box[0] if box else None

    # ------------------------------------------------------------------ proxy

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            if method.upper() != "CONNECT":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            self.proxied[target.rsplit(":", 1)[0]] += 1
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
