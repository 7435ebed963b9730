"""The serving app on a real uvicorn server (a background thread on a free 127.0.0.1 port),
and stories with stored scenes for the API tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from video_agent.serve import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(out: Path, **options: Any) -> Iterator[str]:
    """``create_app(out, **options)`` served by uvicorn; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(out, **options), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def scene(n: int, image: str, text: str = "A slow push-in on the old lighthouse.") -> dict:
    """A short (4 s) scene for fast runs."""
    return {"scene_number": n, "scene_content": text, "image_path": image,
            "layer1_analysis": "Slow push-in, about 4 seconds."}


FAST = {"primary": "local:draft", "fallback": ""}
"""Provider settings that keep a served run to a few seconds per scene."""
