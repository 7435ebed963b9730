"""Point an already imported fal-client at a running fake server (in-process tests).

fal-client reads its hosts at import; in a process that imported it earlier, the module globals
``QUEUE_URL_FORMAT``, ``REST_URL`` and ``CDN_URL`` are read at call time, so patching them (and
``SSL_CERT_FILE``, read when a client makes its first request) is enough. A fresh process needs
only the environment from ``FakeFalServer.env()``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import fal_client.client as fal_http

from video_agent_dev.fakefal.server import DUMMY_KEY, FakeFalServer


@contextlib.contextmanager
def fal_client_pointed_at(server: FakeFalServer, *, key: str = DUMMY_KEY,
                          max_attempts: int = 3, fal_home: str | None = None) -> Iterator[None]:
    """Within the block, fal-client talks to ``server`` and retries at most ``max_attempts``."""
    saved_globals = {name: getattr(fal_http, name)
                     for name in ("QUEUE_URL_FORMAT", "REST_URL", "CDN_URL", "MAX_ATTEMPTS")}
    env = {"SSL_CERT_FILE": str(server.bundle_file), "FAL_KEY": key,
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    if fal_home is not None:
        env["FAL_HOME_DIR"] = fal_home
    saved_env = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    fal_http.QUEUE_URL_FORMAT = f"{server.url}/"
    fal_http.REST_URL = server.url
    fal_http.CDN_URL = server.url
    fal_http.MAX_ATTEMPTS = max_attempts
    try:
        yield
    finally:
        for name, value in saved_globals.items():
            setattr(fal_http, name, value)
        for name, old in saved_env.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
