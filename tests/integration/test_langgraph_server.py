"""The project inside a real ``langgraph dev`` server: both graphs, a scene run through the
server's API (whose blocking-call detector fails any blocking I/O on the event loop), and the
project's HTTP app mounted beside the server's routes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import EXAMPLE_IMAGES, ROOT
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.fakefal import FakeFalServer
from videocheck import assert_spec_clip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fake_fal() -> Iterator[FakeFalServer]:
    with FakeFalServer() as fake:
        yield fake


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           fake_fal: FakeFalServer) -> Iterator[tuple[str, Path]]:
    langgraph = Path(sys.executable).with_name("langgraph")
    if not langgraph.exists():
        pytest.skip("langgraph-cli[inmem] is not installed (it is a test dependency)")
    work = tmp_path_factory.mktemp("langgraph")
    out = work / "generated"
    port = free_port()
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed below
    child = subprocess.Popen(
        [str(langgraph), "dev", "--config", str(ROOT / "langgraph.json"), "--no-browser",
         "--no-reload", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **fake_fal.env(), "FAL_HOME_DIR": str(work / "fal_home"),
             "VIDEO_AGENT_OUT": str(out), "LANGSMITH_TRACING": "false"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert child.poll() is None, (work / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("langgraph dev did not start:\n" + (work / "server.log").read_text())
        yield base, out
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(ROOT / ".langgraph_api", ignore_errors=True)  # the dev server's own state


def assistant(base: str, graph: str) -> str:
    found = httpx.post(f"{base}/assistants/search", json={"graph_id": graph}, timeout=10).json()
    assert found, f"graph {graph!r} is not served"
    return found[0]["assistant_id"]


def test_both_graphs_are_served_with_the_six_nodes(server: tuple[str, Path]) -> None:
    base, _ = server
    drawn = httpx.get(f"{base}/assistants/{assistant(base, 'video_agent')}/graph",
                      params={"xray": "true"}, timeout=10).json()
    nodes = {n["id"] for n in drawn["nodes"]}
    assert {"analyze_context", "reason_motion", "generate_primary", "assess_quality",
            "generate_fallback", "store"} <= nodes
    assert sum(1 for e in drawn["edges"] if e.get("conditional")) >= 12
    assert assistant(base, "story")


def test_a_scene_runs_through_the_server_api(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    scene = {"scene_number": 5, "scene_content": "A slow push-in on the portrait.",
             "image_path": str(EXAMPLE_IMAGES / "portrait.jpg"),
             "layer1_analysis": "Slow push-in, about 4 seconds."}
    result = httpx.post(f"{base}/runs/wait", timeout=300, json={
        "assistant_id": assistant(base, "video_agent"),
        "input": {"story_id": "studio", "scene": scene},
        "context": {"output_dir": str(tmp_path), "image_roots": [str(EXAMPLE_IMAGES)]}}).json()
    assert result.get("errors", {}).get("5") is None, result.get("errors")
    video = result["videos"]["5"]
    assert video["metadata"]["provider"] == "local"
    assert_spec_clip(Path(video["path"]), duration=video["metadata"]["duration"])


def test_a_bad_scene_comes_back_as_a_recorded_error(server: tuple[str, Path],
                                                    tmp_path: Path) -> None:
    base, _ = server
    result = httpx.post(f"{base}/runs/wait", timeout=120, json={
        "assistant_id": assistant(base, "video_agent"),
        "input": {"story_id": "studio", "scene": {"scene_number": 2, "scene_content": "x",
                                                  "image_url": "ftp://example.org/a.jpg"}},
        "context": {"output_dir": str(tmp_path)}}).json()
    error = result["errors"]["2"]
    assert error["field"] == "image_url" and "unsupported scheme" in error["message"]


def test_the_http_app_answers_inside_the_server(server: tuple[str, Path]) -> None:
    base, _ = server
    listing = httpx.get(f"{base}/api/stories", timeout=10)
    assert listing.status_code == 200 and "stories" in listing.json()
    page = httpx.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and "Video Agent" in page.text
    missing = httpx.get(f"{base}/api/stories/nope", timeout=10)
    assert missing.status_code == 404 and "error" in missing.json()
    assert "video_agent_" in httpx.get(f"{base}/metrics", timeout=10).text


def test_a_scene_on_a_fal_model_runs_inside_the_server(server: tuple[str, Path],
                                                      fake_fal: FakeFalServer,
                                                      tmp_path: Path) -> None:
    """The fal adapter under the server's blocking-call detector, against the fake fal server."""
    base, _ = server
    scene = {"scene_number": 3, "scene_content": "A slow pan across the mountains.",
             "image_path": str(EXAMPLE_IMAGES / "mountain_panorama.jpg"),
             "layer1_analysis": "Slow pan left to right."}
    result = httpx.post(f"{base}/runs/wait", timeout=300, json={
        "assistant_id": assistant(base, "video_agent"),
        "input": {"story_id": "studio_fal", "scene": scene},
        "context": {"output_dir": str(tmp_path), "primary": f"fal:{DEFAULT_PRIMARY}",
                    "fallback": "", "image_roots": [str(EXAMPLE_IMAGES)]}}).json()
    assert result.get("errors", {}).get("3") is None, result.get("errors")
    video = result["videos"]["3"]
    assert (video["metadata"]["provider"], video["metadata"]["model"]) == ("fal", DEFAULT_PRIMARY)
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}
    assert_spec_clip(Path(video["path"]), duration=video["metadata"]["duration"])
