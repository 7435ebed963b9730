"""The project inside a real ``langgraph dev`` server, driven through ``langgraph_sdk``.

The server's blocking-call detector is on (``langgraph dev``'s default; ``--allow-blocking`` and
``LANGGRAPH_ALLOW_BLOCKING`` are kept out), and the output folder it serves already holds a story
run twice (stories, checkpoints, versions) before it starts. The fal key lives only in the
server's environment, under the name the run context gives (``fal_key_env``); the last test
stops the server and scans everything it stored for the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

from conftest import EXAMPLE_IMAGES, ROOT, still, write_story
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.context import VideoAgentContext
from video_agent.graph import build_video_agent_graph
from video_agent.runner import run_story
from video_agent.story import load_story
from video_agent_dev.fakefal import FakeFalServer
from videocheck import assert_spec_clip

pytestmark = pytest.mark.slow

KEY_ENV = "STUDIO_FAL_KEY"
SEEDED = "seeded"


@dataclass
class Server:
    base: str
    out: Path
    work: Path
    log: Path
    key: str
    child: subprocess.Popen[bytes]

    @property
    def client(self) -> SyncLangGraphClient:
        return get_sync_client(url=self.base, timeout=300)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, so the dev server flushes its state to ``.langgraph_api``."""
        if self.child.poll() is None:
            os.killpg(self.child.pid, signal.SIGTERM)
            try:
                self.child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.child.pid, signal.SIGKILL)
                self.child.wait()


@pytest.fixture(scope="module")
def fake_fal() -> Iterator[FakeFalServer]:
    with FakeFalServer() as fake:
        yield fake


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(out: Path, work: Path) -> None:
    """A one-scene story run twice (the second forced): checkpoints and two versions."""
    story = load_story(write_story(work / "seeded.json", SEEDED, [
        {"scene_number": 1, "scene_content": "A slow push-in on the harbour at dawn.",
         "image_path": str(still(work / "harbour.jpg")),
         "layer1_analysis": "Slow push-in, 4 seconds."}]))
    for force in ([], ["1"]):
        ctx = VideoAgentContext(output_dir=str(out), primary="local:draft", fallback="",
                                force_scenes=force)
        assert not asyncio.run(run_story(story, ctx)).failed


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fake_fal: FakeFalServer) -> Iterator[Server]:
    langgraph = Path(sys.executable).with_name("langgraph")
    if not langgraph.exists():
        pytest.skip("langgraph-cli[inmem] is not installed (it is a test dependency)")
    work = tmp_path_factory.mktemp("langgraph")
    out = work / "generated"
    seed(out, work)
    key = f"fal-{secrets.token_hex(16)}"
    env = {name: value for name, value in os.environ.items()
           if name not in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "LANGGRAPH_ALLOW_BLOCKING")}
    fal_env = fake_fal.env(key=key)
    fal_env[KEY_ENV] = fal_env.pop("FAL_KEY")
    env.update(fal_env, FAL_HOME_DIR=str(work / "fal_home"), VIDEO_AGENT_OUT=str(out),
               VIDEO_AGENT_IMAGES_ROOTS=str(work), LANGSMITH_TRACING="false",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests"),
                                           env.get("PYTHONPATH", "")]))
    config = work / "langgraph.json"  # the project's, with absolute paths: cwd is the work
    config.write_text((ROOT / "langgraph.json").read_text()  # folder, so the server's own state
                      .replace('"./', f'"{ROOT}/').replace('"."', f'"{ROOT}"'))  # lands there
    port = free_port()
    log = work / "server.log"
    with open(log, "wb") as sink:
        child = subprocess.Popen(
            [str(langgraph), "dev", "--config", str(config), "--no-browser",
             "--no-reload", "--host", "127.0.0.1", "--port", str(port)],
            cwd=work, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    running = Server(base=f"http://127.0.0.1:{port}", out=out, work=work, log=log, key=key,
                     child=child)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert child.poll() is None, running.log_text()[-3000:]
            try:
                if httpx.get(f"{running.base}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("langgraph dev did not start:\n" + running.log_text())
        yield running
    finally:
        running.stop()


def assistant(server: Server, graph: str) -> str:
    found = server.client.assistants.search(graph_id=graph)
    assert found, f"graph {graph!r} is not served"
    return found[0]["assistant_id"]


def no_server_complaints(server: Server) -> None:
    """No blocking call, serde or schema warning in the server's log."""
    text = server.log_text()
    for needle in ("BlockingError", "Blocking call", "unregistered type",
                   "Blocked deserialization", "typing_extensions.TypedDict"):
        assert needle not in text, f"server log: {needle!r}\n{text[-4000:]}"


def test_both_graphs_are_served_with_labelled_branches(server: Server) -> None:
    drawn = server.client.assistants.get_graph(assistant(server, "video_agent"), xray=True)
    nodes = {n["id"] for n in drawn["nodes"]}
    assert {"analyze_context", "reason_motion", "generate_primary", "assess_quality",
            "generate_fallback", "store"} <= nodes
    conditional = {(e["source"], e["target"], e.get("data")) for e in drawn["edges"]
                   if e.get("conditional")}
    local = build_video_agent_graph().get_graph(xray=True)
    expected = {(e.source, e.target, e.data) for e in local.edges if e.conditional}
    assert conditional == expected and all(label for *_, label in conditional), conditional
    assert assistant(server, "story")


def test_input_output_and_context_schemas_are_published(server: Server) -> None:
    expected = {"video_agent": ({"story_id", "scene", "narration"},
                                {"videos", "errors", "planned_durations"}),
                "story": ({"story_id", "scenes", "narration", "videos", "errors",
                           "planned_durations"},) * 2}
    for graph, (inputs, outputs) in expected.items():
        schemas = server.client.assistants.get_schemas(assistant(server, graph))
        assert set(schemas["input_schema"]["properties"]) == inputs, graph
        assert set(schemas["output_schema"]["properties"]) == outputs, graph
        context = set(schemas["context_schema"]["properties"])
        assert "fal_key_env" in context and "fal_key" not in context
    no_server_complaints(server)


def test_a_scene_runs_through_the_server_api(server: Server, tmp_path: Path) -> None:
    scene = {"scene_number": 5, "scene_content": "A slow push-in on the portrait.",
             "image_path": str(EXAMPLE_IMAGES / "portrait.jpg"),
             "layer1_analysis": "Slow push-in, about 4 seconds."}
    result = server.client.runs.wait(None, assistant(server, "video_agent"),
                                      input={"story_id": "studio", "scene": scene},
                                      context={"image_roots": [str(EXAMPLE_IMAGES), str(tmp_path)],
                 "output_dir": str(tmp_path)})
    assert isinstance(result, dict) and result.get("errors", {}).get("5") is None, result
    video = result["videos"]["5"]
    assert video["metadata"]["provider"] == "local"
    assert_spec_clip(Path(video["path"]), duration=video["metadata"]["duration"])


def test_a_bad_scene_comes_back_as_a_recorded_error(server: Server, tmp_path: Path) -> None:
    result = server.client.runs.wait(
        None, assistant(server, "video_agent"),
        input={"story_id": "studio", "scene": {"scene_number": 2, "scene_content": "x",
                                               "image_url": "ftp://example.org/a.jpg"}},
        context={"image_roots": [str(EXAMPLE_IMAGES), str(tmp_path)],
                 "output_dir": str(tmp_path)})
    assert isinstance(result, dict)
    error = result["errors"]["2"]
    assert error["field"] == "image_url" and "unsupported scheme" in error["message"]


def test_malformed_input_is_an_input_error_inside_the_server(server: Server,
                                                             tmp_path: Path) -> None:
    """As a server client sends them: a malformed narration is the scene's input error naming
    the field; a story with a bad id fails whole with a message naming it."""
    scene = {"scene_number": 4, "scene_content": "A slow push-in on the portrait.",
             "image_path": str(EXAMPLE_IMAGES / "portrait.jpg")}
    result = server.client.runs.wait(
        None, assistant(server, "video_agent"),
        input={"story_id": "studio", "scene": scene, "narration": {}},
        context={"output_dir": str(tmp_path)})
    assert isinstance(result, dict)
    error = result["errors"]["4"]
    assert (error["stage"], error["field"]) == ("analyze_context", "narration.duration"), error
    assert not error["message"].startswith("internal error")
    failed = server.client.runs.wait(
        None, assistant(server, "story"), input={"story_id": "bad\n", "scenes": {"4": scene}},
        context={"output_dir": str(tmp_path)}, raise_error=False)
    assert "story_id: contains a control character" in str(failed), failed
    assert not any(tmp_path.iterdir()), "nothing written for a refused story"


def test_the_http_app_answers_on_a_populated_folder(server: Server) -> None:
    """Story list, page, status, scene, metadata, clip and a rerun, all reading the SQLite
    checkpoints and storage the seeding run left, under the blocking-call detector."""
    base, story = server.base, f"{server.base}/api/stories/{SEEDED}"
    listing = httpx.get(f"{base}/api/stories", timeout=30)
    assert listing.status_code == 200, listing.text
    assert [s["story_id"] for s in listing.json()["stories"]] == [SEEDED]
    page = httpx.get(f"{base}/", timeout=30)
    assert page.status_code == 200 and "Video Agent" in page.text
    status = httpx.get(story, timeout=30)
    assert status.status_code == 200, status.text
    assert status.json()["run"] == "finished"
    assert status.json()["scenes"]["1"]["version"] == 2
    assert httpx.get(f"{story}/scenes/1", timeout=30).json()["metadata"]["version"] == 2
    assert httpx.get(f"{story}/scenes/1/metadata", timeout=30).status_code == 200
    clip = httpx.get(f"{story}/scenes/1/video", headers={"range": "bytes=0-1023"}, timeout=30)
    assert clip.status_code == 206 and len(clip.content) == 1024
    assert httpx.get(f"{base}/api/stories/nope", timeout=30).status_code == 404
    assert "video_agent_" in httpx.get(f"{base}/metrics", timeout=30).text

    rerun = httpx.post(f"{story}/scenes/1/rerun", timeout=30)
    assert rerun.status_code == 202, rerun.text
    deadline = time.monotonic() + 240
    while (info := httpx.get(story, timeout=30).json())["running"]:
        assert time.monotonic() < deadline, info
        time.sleep(0.5)
    assert "run_error" not in info, info
    assert info["scenes"]["1"]["status"] == "done" and info["scenes"]["1"]["version"] == 3
    no_server_complaints(server)


def progress_by_scene(parts: list[Any]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for part in parts:
        if part.event.split("|")[0] == "custom" and isinstance(part.data, dict) \
                and part.data.get("event") == "progress":
            found.setdefault(str(part.data["scene"]), []).append(part.data["progress"])
    return found


def test_story_progress_streams_per_scene_with_subgraphs(server: Server, tmp_path: Path) -> None:
    """The README's recipe: custom events of every scene reach an SDK client."""
    scenes = {str(n): {"scene_number": n, "scene_content": f"Scene {n}: a slow pan.",
                       "image_path": str(still(tmp_path / f"{n}.jpg", seed=n)),
                       "layer1_analysis": "Slow pan, 4 seconds."} for n in (1, 2)}
    parts = list(server.client.runs.stream(
        None, assistant(server, "story"),
        input={"story_id": "streamed", "scenes": scenes},
        context={"image_roots": [str(EXAMPLE_IMAGES), str(tmp_path)],
                 "output_dir": str(tmp_path / "out"), "primary": "local:draft",
                 "fallback": ""},
        stream_mode=["custom", "updates"], stream_subgraphs=True))
    progress = progress_by_scene(parts)
    assert set(progress) == {"1", "2"}, [p.event for p in parts]
    for values in progress.values():
        assert len(values) >= 2 and max(values) == pytest.approx(1.0)
    updates = [p for p in parts if p.event == "updates"]
    assert any("summarize_story" in p.data for p in updates)

    without = list(server.client.runs.stream(
        None, assistant(server, "story"),
        input={"story_id": "unstreamed", "scenes": {"1": scenes["1"]}},
        context={"image_roots": [str(EXAMPLE_IMAGES), str(tmp_path)],
                 "output_dir": str(tmp_path / "out2"), "primary": "local:draft",
                 "fallback": ""},
        stream_mode=["custom", "updates"]))
    assert progress_by_scene(without) == {}, "documented: subgraph events need the flag"
    assert any(p.event == "updates" and "summarize_story" in p.data for p in without)


def run_fal_scene(server: Server, thread_id: str, story_id: str, tmp_path: Path) -> Any:
    """One fal scene on a thread, the key read from the variable the context names."""
    scene = {"scene_number": 3, "scene_content": "A slow pan across the mountains.",
             "image_path": str(EXAMPLE_IMAGES / "mountain_panorama.jpg"),
             "layer1_analysis": "Slow pan left to right."}
    return server.client.runs.wait(
        thread_id, assistant(server, "video_agent"),
        input={"story_id": story_id, "scene": scene},
        context={"image_roots": [str(EXAMPLE_IMAGES), str(tmp_path)],
                 "output_dir": str(server.out), "primary": f"fal:{DEFAULT_PRIMARY}",
                 "fallback": "", "fal_key_env": KEY_ENV})


def test_a_fal_scene_on_a_thread_keeps_the_key_in_the_environment(
        server: Server, fake_fal: FakeFalServer, tmp_path: Path) -> None:
    """The fal adapter in the server, key read from the variable the context names."""
    client = server.client
    thread = client.threads.create()
    submits = fake_fal.fake.submits.get(DEFAULT_PRIMARY, 0)
    result = run_fal_scene(server, thread["thread_id"], "studio_fal", tmp_path)
    assert isinstance(result, dict) and result.get("errors", {}).get("3") is None, result
    video = result["videos"]["3"]
    assert (video["metadata"]["provider"], video["metadata"]["model"]) == ("fal", DEFAULT_PRIMARY)
    assert fake_fal.fake.submits.get(DEFAULT_PRIMARY, 0) == submits + 1
    assert hashlib.sha256(server.key.encode()).hexdigest() in fake_fal.fake.auth_keys
    assert_spec_clip(Path(video["path"]), duration=video["metadata"]["duration"])
    # a second run on the thread revives its checkpoint (SceneVideo and the other models)
    again = client.runs.wait(
        thread["thread_id"], assistant(server, "video_agent"),
        input={"story_id": "studio_fal", "scene": {"scene_number": 3, "scene_content": "x",
                                                   "image_url": "ftp://x/a.jpg"}},
        context={"image_roots": [str(EXAMPLE_IMAGES), str(tmp_path)],
                 "output_dir": str(server.out), "fal_key_env": KEY_ENV})
    assert isinstance(again, dict) and again["errors"]["3"]["field"] == "image_url", again
    assert again["videos"]["3"]["path"] == video["path"]
    history = client.threads.get_history(thread["thread_id"], limit=100)
    assert len(history) >= 5
    no_server_complaints(server)


def test_the_blocking_call_detector_is_on(server: Server, tmp_path: Path) -> None:
    """A provider that sleeps on the event loop is stopped by the server (so the other tests'
    silence about blocking calls means something). It runs after them, as the log then holds
    a blocking call."""
    no_server_complaints(server)
    result = server.client.runs.wait(
        None, assistant(server, "video_agent"),
        input={"story_id": "studio", "scene": {
            "scene_number": 4, "scene_content": "A slow push-in.",
            "image_path": str(EXAMPLE_IMAGES / "portrait.jpg")}},
        context={"image_roots": [str(EXAMPLE_IMAGES), str(tmp_path)],
                 "output_dir": str(tmp_path), "primary": "py:providers_for_tests:blocking",
                 "fallback": ""})
    assert isinstance(result, dict)
    assert "Blocking call to time.sleep" in result["errors"]["4"]["message"], result["errors"]


def test_nothing_the_server_stored_holds_the_key(server: Server, tmp_path: Path) -> None:
    """Runs, threads and their history through the SDK, then (server stopped, its state flushed)
    every file under its ``.langgraph_api``, the output folder and the server log. It runs its
    own fal scene first, so it holds alone too; it stops the server, so it is the module's last
    test."""
    client = server.client
    key = server.key.encode()
    own = run_fal_scene(server, client.threads.create()["thread_id"], "key_check", tmp_path)
    assert isinstance(own, dict) and own.get("errors", {}).get("3") is None, own
    seen = 0
    for thread in client.threads.search(limit=100):
        tid = thread["thread_id"]
        for blob in (thread, client.threads.get(tid), client.threads.get_state(tid),
                     client.threads.get_history(tid, limit=100), client.runs.list(tid)):
            assert key not in repr(blob).encode(), f"the key is in thread {tid}: {blob}"
            seen += 1
    assert seen >= 5, "the fal scene's thread was searched"
    server.stop()
    stored = [p for p in (server.work / ".langgraph_api").rglob("*") if p.is_file()]
    assert any(p.name.startswith(".langgraph_checkpoint") for p in stored), stored
    assert any(b"key_check" in p.read_bytes() for p in stored), "the fal run's state is there"
    stored += [p for p in server.out.rglob("*") if p.is_file()] + [server.log]
    hits = [str(p) for p in stored if key in p.read_bytes()]
    assert hits == [], f"the key was stored in {hits}"
    shutil.rmtree(server.work / ".langgraph_api", ignore_errors=True)
