"""The API in-process (httpx over ASGI): listing, status, metadata, video ranges, and every bad
input, against stored scenes and a scripted engine instead of real rendering."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from video_agent.adapters.storage import LocalStorage
from video_agent.models import SceneError, SceneVideo
from video_agent.serve import create_app
from video_agent.story import Story

CLIP = bytes(range(256)) * 40  # stands in for an MP4: the API serves bytes, it does not decode


def stored(out: Path, story_id: str = "cafe", scene: str = "5", tmp: Path | None = None) -> Path:
    clip = (tmp or out.parent) / f"clip_{story_id}_{scene}.mp4"
    clip.write_bytes(CLIP)
    LocalStorage(out).save_scene(story_id, scene, clip, {
        "duration": 4.0, "provider": "local", "quality": {"verdict": "pass", "metrics": {}},
        "reasoning": {"decisions": [{"field": "motion.type", "value": "push_in",
                                     "reason": "asked for"}]}})
    return clip


class ScriptedRunner:
    """A ``run_story`` stand-in: emits the engine's events, waits on a gate, stores nothing."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.calls: list[tuple[Story, Any]] = []

    async def __call__(self, story: Story, ctx: Any, *, max_concurrency: int, on_event: Any) -> Any:
        self.calls.append((story, ctx))
        keys = [str(k) for k in ctx.only_scenes] or list(story.scenes)
        on_event({"event": "planned", "pending": keys, "kept": []})
        for key in keys:
            on_event({"event": "progress", "scene": key, "stage": "generate_primary",
                      "progress": 0.5, "message": "frame 48/96"})
        await self.gate.wait()
        on_event({"event": "failed", "scene": keys[0], "error": SceneError(
            scene=keys[0], stage="analyze_context", field="image_path", message="no such file")})
        return None


@pytest.fixture
def out(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    stored(path)
    return path


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_lists_stories_and_scene_status(out: Path) -> None:
    async with client(create_app(out)) as http:
        listing = (await http.get("/api/stories")).json()
        assert listing["stories"] == [{"story_id": "cafe", "run": "no checkpoint",
                                       "running": False, "scenes": 1, "counts": {"done": 1},
                                       "url": "/api/stories/cafe"}]
        story = (await http.get("/api/stories/cafe")).json()
        five = story["scenes"]["5"]
        assert five["status"] == "done" and five["verdict"] == "pass" and five["version"] == 1
        assert five["video"] == "/api/stories/cafe/scenes/5/video"
        assert "path" not in five, "server paths are not served"
        detail = (await http.get("/api/stories/cafe/scenes/5")).json()
        assert detail["metadata"]["reasoning"]["decisions"][0]["value"] == "push_in"
        meta = await http.get("/api/stories/cafe/scenes/5/metadata")
        assert meta.headers["content-type"] == "application/json"
        assert SceneVideo.model_validate(meta.json()).version == 1


async def test_video_full_and_range_requests(out: Path) -> None:
    async with client(create_app(out)) as http:
        full = await http.get("/api/stories/cafe/scenes/5/video")
        assert full.status_code == 200 and full.content == CLIP
        assert full.headers["content-type"] == "video/mp4"
        assert full.headers["accept-ranges"] == "bytes"
        part = await http.get("/api/stories/cafe/scenes/5/video",
                              headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == CLIP[1000:2000]
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(CLIP)}"
        tail = await http.get("/api/stories/cafe/scenes/5/video", headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == CLIP[-10:]
        beyond = await http.get("/api/stories/cafe/scenes/5/video",
                                headers={"Range": f"bytes={len(CLIP) + 5}-"})
        assert beyond.status_code == 416


@pytest.mark.parametrize(("path", "needle"), [
    ("/api/stories/nope", "no story 'nope'"),
    ("/api/stories/temp", "no story 'temp'"),
    ("/api/stories/cafe/scenes/9", "has no scene 9"),
    ("/api/stories/cafe/scenes/05", "positive integers"),
    ("/api/stories/cafe/scenes/-1/video", "positive integers"),
    ("/api/stories/cafe/scenes/x/metadata", "positive integers"),
    ("/api/stories/cafe/scenes/9/video", "no stored video"),
    ("/api/stories/nope/events", "no story 'nope'"),
    ("/api/stories/..%2F..%2Fetc/scenes/5/video", "not found"),
    ("/api/stories/%2Fetc%2Fpasswd", "not found"),
    ("/api/stories/..", "not found"),
    ("/api/stories/a..b", "no story 'a..b'"),
    ("/static/..%2F..%2Fruns.py", "not found"),
    ("/api/nothing", "not found"),
])
async def test_unknown_or_tricky_paths_are_404_json(out: Path, path: str, needle: str) -> None:
    async with client(create_app(out)) as http:
        response = await http.get(path)
    assert response.status_code == 404, (path, response.text)
    assert needle in response.json()["error"]


async def test_static_files_stay_in_their_folder(out: Path) -> None:
    async with client(create_app(out)) as http:
        assert (await http.get("/static/app.js")).status_code == 200
        for trick in ("/static/../serve/runs.py", "/static/%2e%2e/runs.py"):
            response = await http.get(trick)
            assert response.status_code == 404 and b"RunManager" not in response.content


async def test_post_refuses_oversize_bodies(out: Path) -> None:
    body = json.dumps({"story_id": "big", "scenes": [{"scene_number": 1,
                                                      "scene_content": "x" * 5000}]})
    async with client(create_app(out, max_body_bytes=2000)) as http:
        response = await http.post("/api/stories", content=body)
        assert response.status_code == 413 and "2000 bytes" in response.json()["error"]

        async def chunks() -> Any:  # no content-length: counted while reading
            for _ in range(10):
                yield b" " * 500

        streamed = await http.post("/api/stories", content=chunks())
        assert streamed.status_code == 413


@pytest.mark.parametrize(("body", "status", "needle"), [
    (b"{not json", 400, "not valid JSON"),
    (b"[]", 400, "story: must be a JSON object"),
    (json.dumps({"story_id": "../x", "scenes": [{"scene_number": 1}]}).encode(), 400, "story_id"),
    (json.dumps({"story_id": "a", "scenes": []}).encode(), 400, "scenes: must be a non-empty"),
    (json.dumps({"story_id": "a", "scenes": [{"scene_number": 0}]}).encode(), 400,
     "scene_number"),
    (json.dumps({"story_id": "a", "scenes": [{"scene_number": 1, "image_path": "pic.jpg"}]}
                ).encode(), 400, "scenes[0].image_path: local paths need the server's "
                                 "--images-root"),
    (json.dumps({"story_id": "a", "scenes": [{"scene_number": 1, "image_path": "/etc/hosts"}]}
                ).encode(), 400, "scenes[0].image_path: local paths need"),
    (json.dumps({"story_id": "a", "scenes": [{"scene_number": 1,
                                              "image_url": "http://0x7f.1:8000/a.jpg"}]}
                ).encode(), 400, "scenes[0].image_url: host 0x7f.1 is a loopback address"),
    (json.dumps({"story_id": "a", "scenes": [{"scene_number": 1, "image_url":
                                              "http://[::ffff:a9fe:a9fe]/latest/meta-data"}]}
                ).encode(), 400, "is a link-local address (IPv4 169.254.169.254 inside IPv6)"),
    (json.dumps({"story_id": "a", "scenes": [{"scene_number": 1,
                                              "image_url": "ftp://host/x.jpg"}]}).encode(), 400,
     "scheme 'ftp'"),
])
async def test_post_refuses_bad_stories(out: Path, body: bytes, status: int, needle: str) -> None:
    runner = ScriptedRunner()
    async with client(create_app(out, runner=runner)) as http:
        response = await http.post("/api/stories", content=body)
    assert response.status_code == status and needle in response.json()["error"], response.text
    assert runner.calls == []


@pytest.mark.parametrize("image", ["../secret.jpg", "a/../../secret.jpg", "/etc/passwd",
                                   "file:///etc/passwd", "~/x.jpg"])
async def test_posted_images_stay_inside_the_images_root(tmp_path: Path, out: Path,
                                                         image: str) -> None:
    root = tmp_path / "images"
    root.mkdir()
    runner = ScriptedRunner()
    body = {"story_id": "a", "scenes": [{"scene_number": 1, "image_path": image}]}
    async with client(create_app(out, images_root=root, runner=runner)) as http:
        response = await http.post("/api/stories", json=body)
    assert response.status_code == 400 and "image_path" in response.json()["error"]
    assert runner.calls == []


async def test_post_starts_a_run_resolving_images_under_the_root(tmp_path: Path,
                                                                 out: Path) -> None:
    root = tmp_path / "images"
    (root / "sub").mkdir(parents=True)
    runner = ScriptedRunner()
    app = create_app(out, images_root=root, runner=runner, primary="local:draft", fallback="")
    body = {"story_id": "new", "scenes": [
        {"scene_number": 1, "scene_content": "x", "image_path": "sub/a.jpg"},
        {"scene_number": 2, "scene_content": "y", "image_url": "https://example.org/b.jpg"}]}
    async with client(app) as http:
        response = await http.post("/api/stories", json=body)
        assert response.status_code == 202, response.text
        assert response.json()["events"] == "/api/stories/new/events"
        await asyncio.sleep(0.05)
        status = (await http.get("/api/stories/new")).json()
        assert status["running"] and status["run"] == "running"
        assert status["scenes"]["1"] == {"status": "running", "stage": "generate_primary",
                                         "progress": 0.5, "message": "frame 48/96",
                                         "overall": 0.44,  # half the generation band, 8-80 %
                                         "scene_content": "x", "layer1_analysis": "",
                                         "still": None}  # the posted still does not exist
        again = await http.post("/api/stories", json=body)
        assert again.status_code == 409 and "already running" in again.json()["error"]
        runner.gate.set()
        await app.state.video_agent.runs.wait("new")
    story, ctx = runner.calls[0]
    assert story.scenes["1"].image_path == str(root / "sub" / "a.jpg")
    assert (ctx.primary, ctx.fallback, ctx.only_scenes) == ("local:draft", "", [])


async def test_rerun_needs_a_known_story_and_scene(out: Path) -> None:
    async with client(create_app(out, runner=ScriptedRunner())) as http:
        missing = await http.post("/api/stories/cafe/scenes/5/rerun")
        assert missing.status_code == 404 and "checkpoints" in missing.json()["error"]
        bad = await http.post("/api/stories/..%2Fx/scenes/5/rerun")
        assert bad.status_code == 404
        wrong_method = await http.get("/api/stories/cafe/scenes/5/rerun")
        assert wrong_method.status_code == 405 and "not allowed" in wrong_method.json()["error"]


async def test_metrics_carry_response_times_by_route_and_gpu_presence(out: Path) -> None:
    async with client(create_app(out)) as http:
        await http.get("/api/stories/cafe/scenes/5")
        await http.get("/api/stories/nope")
        text = (await http.get("/metrics")).text
    assert ('video_agent_http_request_seconds_count{method="GET",'
            'route="/api/stories/{story_id}/scenes/{scene}",status="200"}') in text
    assert 'route="/api/stories/{story_id}",status="404"' in text
    assert "/api/stories/nope" not in text, "raw paths never become labels"
    assert "video_agent_gpu_available" in text
    for family in ("video_agent_provider_call_seconds", "video_agent_scene_outcomes_total",
                   "video_agent_quality_metric", "video_agent_bytes_stored_total"):
        assert f"# TYPE {family.removesuffix('_total')}" in text


async def test_langgraph_http_app_loads_by_file_path_with_its_output_folder(
        out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    config = json.loads((Path(__file__).parents[2] / "langgraph.json").read_text())
    file, _, attr = config["http"]["app"].partition(":")
    monkeypatch.setenv("VIDEO_AGENT_OUT", str(out))
    spec = importlib.util.spec_from_file_location("langgraph_http_app",
                                                  Path(__file__).parents[2] / file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # A fresh server process imports the app module for the first time, reading VIDEO_AGENT_OUT.
    monkeypatch.delitem(sys.modules, "video_agent.serve.app", raising=False)
    spec.loader.exec_module(module)  # as the LangGraph server does: not put in sys.modules
    async with client(getattr(module, attr)) as http:
        listing = (await http.get("/api/stories")).json()
    assert [s["story_id"] for s in listing["stories"]] == ["cafe"]


async def test_a_running_story_can_be_cancelled(tmp_path: Path, out: Path) -> None:
    root = tmp_path / "images"
    root.mkdir()
    runner = ScriptedRunner()  # holds the run open until its gate is set
    app = create_app(out, images_root=root, runner=runner)
    body = {"story_id": "long", "scenes": [
        {"scene_number": 1, "scene_content": "x", "image_url": "https://example.org/a.jpg"}]}
    async with client(app) as http:
        assert (await http.post("/api/stories/long/cancel")).status_code == 404
        assert (await http.post("/api/stories", json=body)).status_code == 202
        await asyncio.sleep(0.05)
        cancelled = await http.post("/api/stories/long/cancel")
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
        status = (await http.get("/api/stories/long")).json()
        assert not status["running"]
        again = await http.post("/api/stories/long/cancel")
        assert again.status_code == 409 and "not running" in again.json()["error"]
    assert app.state.video_agent.runs.last("long").error == "cancelled"
