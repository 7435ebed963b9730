"""The source still of a scene before any clip is stored: shown for a queued or running scene of
a started story, and only an image file the story's scene names inside the images roots or the
output folder."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from test_serve_api import ScriptedRunner, client

from conftest import still
from video_agent.context import VideoAgentContext
from video_agent.serve import create_app
from video_agent.story import Story


def story_scene(n: int, image: str) -> dict[str, Any]:
    return {"scene_number": n, "scene_content": f"Scene {n}: the harbour at dawn.",
            "image_path": image, "layer1_analysis": "Slow push-in."}


async def test_posted_story_shows_each_scene_still_and_text_before_any_clip(
        tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    jpeg = still(images / "harbour.jpg", size=(320, 180)).read_bytes()
    runner = ScriptedRunner()
    app = create_app(tmp_path / "out", images_root=images, runner=runner)
    async with client(app) as http:
        posted = await http.post("/api/stories", json={"story_id": "dawn", "scenes": [
            story_scene(1, "harbour.jpg"), story_scene(2, "harbour.jpg")]})
        assert posted.status_code == 202, posted.text
        await asyncio.sleep(0)  # the run starts and reports its scenes
        status = (await http.get("/api/stories/dawn")).json()
        for key in ("1", "2"):
            scene = status["scenes"][key]
            assert scene["status"] in ("queued", "running")
            assert scene["still"] == f"/api/stories/dawn/scenes/{key}/still"
            assert scene["scene_content"] == f"Scene {key}: the harbour at dawn."
            assert "image_path" not in str(scene), "server paths stay on the server"
        detail = (await http.get("/api/stories/dawn/scenes/2")).json()
        assert detail["still"] == "/api/stories/dawn/scenes/2/still"
        served = await http.get("/api/stories/dawn/scenes/1/still")
        assert served.status_code == 200 and served.content == jpeg
        assert served.headers["content-type"] == "image/jpeg"
        assert (await http.get("/api/stories/dawn/scenes/3/still")).status_code == 404
        runner.gate.set()
        await app.state.video_agent.runs.wait("dawn")


async def test_only_image_files_inside_the_roots_are_served(tmp_path: Path) -> None:
    images, outside = tmp_path / "images", tmp_path / "outside"
    images.mkdir()
    outside.mkdir()
    still(outside / "secret.jpg", size=(64, 36))
    (images / "notes.jpg").write_text("not an image, whatever its name")
    (images / "link.jpg").symlink_to(outside / "secret.jpg")
    still(images / "ok.jpg", size=(64, 36))
    runner = ScriptedRunner()
    app = create_app(tmp_path / "out", images_root=images, runner=runner)
    # A story run by other means (the CLI, a checkpoint) may name any path: only what lies in
    # the roots and is an image is shown.
    refs = {"1": str(outside / "secret.jpg"), "2": str(images / "notes.jpg"),
            "3": str(images / "link.jpg"), "4": str(images / ".." / "outside" / "secret.jpg"),
            "5": "file://" + str(outside / "secret.jpg"), "6": str(images / "ok.jpg"),
            "7": "http://[unclosed"}
    story = Story(story_id="fenced", scenes={
        key: story_scene(int(key), ref) for key, ref in refs.items()})
    async with client(app) as http:
        app.state.video_agent.runs.start(story, VideoAgentContext(output_dir=str(tmp_path)))
        await asyncio.sleep(0)
        scenes = (await http.get("/api/stories/fenced")).json()["scenes"]
        assert {k: bool(s["still"]) for k, s in scenes.items()} == {
            "1": False, "2": False, "3": False, "4": False, "5": False, "6": True, "7": False}
        for key in refs:
            response = await http.get(f"/api/stories/fenced/scenes/{key}/still")
            assert response.status_code == (200 if key == "6" else 404), key
        runner.gate.set()
        await app.state.video_agent.runs.wait("fenced")
