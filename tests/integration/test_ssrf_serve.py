"""``POST /api/stories`` on a real uvicorn server cannot make the server fetch from this machine
or read files outside its images roots; only ``serve --allow-private-urls`` lets runs reach
private addresses, and nothing in a posted story can turn that on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_serve_http import SERVE_CLI, read_events

from loopback_fixtures import Counting, counting_listener, own_name
from serve_fixtures import FAST, free_port, serving

NAME, ADDRESS = own_name()


@pytest.fixture
def listener() -> Iterator[Counting]:
    with counting_listener(ADDRESS) as server:
        yield server


def posted(port: int, story_id: str = "probe") -> dict[str, Any]:
    """A story whose still is on this machine's own host name."""
    return {"story_id": story_id,
            "scenes": [{"scene_number": 1, "scene_content": "A quiet harbour at dawn.",
                        "image_url": f"http://{NAME}:{port}/still.jpg"}]}


SETTINGS_IN_A_BODY = {"allow_private_urls": True,
                      "context": {"allow_private_urls": True, "image_roots": ["/"]}}
"""Settings a body might try to carry: unknown story keys, refused whole."""


def failure(http: httpx.Client, story_id: str) -> dict[str, Any]:
    events = read_events(http, f"/api/stories/{story_id}/events")
    return next(e for e in events if e["event"] == "failed")["error"]


def test_a_posted_story_cannot_reach_loopback(tmp_path: Path, listener: Counting) -> None:
    with serving(tmp_path / "out", **FAST) as base, httpx.Client(base_url=base) as http:
        for key, value in SETTINGS_IN_A_BODY.items():
            carried = http.post("/api/stories", json={**posted(listener.port), key: value})
            assert carried.status_code == 400 and carried.json()["field"] == key, carried.text
        started = http.post("/api/stories", json=posted(listener.port))
        assert started.status_code == 202, started.text
        error = failure(http, "probe")
        assert error["field"] == "image_url"
        assert f"host {NAME} resolves to {ADDRESS}, which is a" in error["message"]
        assert "(private addresses are refused" in error["message"]
        for field, value, reason in (
                ("image_url", f"http://127.0.0.1:{listener.port}/a.jpg", "a loopback address"),
                ("image_url", f"http://localhost:{listener.port}/a.jpg", "a loopback name"),
                ("image_url", f"http://2130706433:{listener.port}/a.jpg", "a loopback address"),
                ("image_url", "http://[::ffff:169.254.169.254]/latest", "a link-local address"),
                ("image_path", "/etc/passwd", "local paths need the server's --images-root"),
                ("image_url", "file:///etc/passwd", "local paths need")):
            body = {"story_id": "direct", "scenes": [
                {"scene_number": 1, "scene_content": "x", field: value}]}
            refused = http.post("/api/stories", json=body)
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"].startswith(f"scenes[0].{field}: ")
            assert reason in refused.json()["error"]
    assert listener.connections == 0
    assert not list((tmp_path / "out" / ".state" / "images").glob("*"))


def test_only_the_serve_flag_lets_runs_reach_private_addresses(tmp_path: Path,
                                                               listener: Counting) -> None:
    with serving(tmp_path / "out", allow_private_urls=True, **FAST) as base, \
            httpx.Client(base_url=base) as http:
        assert http.post("/api/stories", json=posted(listener.port)).status_code == 202
        assert "unreachable" in failure(http, "probe")["message"], "fetched: the listener " \
                                                                   "hangs up"
    assert listener.connections >= 1


def test_serve_command_takes_the_flag(tmp_path: Path, listener: Counting) -> None:
    port = free_port()
    args = [sys.executable, "-c", SERVE_CLI, "serve", "--out", str(tmp_path / "out"),
            "--port", str(port), "--primary", "local:draft", "--fallback", ""]
    for flag, story_id in (([], "plain"), (["--allow-private-urls"], "opted")):
        env = {**os.environ, "VIDEO_AGENT_ALLOW_PRIVATE_URLS": "1"}  # serve does not read it
        child = subprocess.Popen(args + flag, stderr=subprocess.DEVNULL, env=env)
        try:
            deadline = time.monotonic() + 30
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                while True:
                    try:
                        http.get("/api/stories")
                        break
                    except httpx.TransportError:
                        assert child.poll() is None and time.monotonic() < deadline
                        time.sleep(0.2)
                assert http.post("/api/stories",
                                 json=posted(listener.port, story_id)).status_code == 202
                message = failure(http, story_id)["message"]
            if flag:
                assert "unreachable" in message and listener.connections >= 1
            else:
                assert "loopback address" in message and listener.connections == 0
        finally:
            child.terminate()
            child.wait(timeout=20)
