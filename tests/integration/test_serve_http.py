"""The app on a real uvicorn server: a posted story runs with its events streamed over SSE, the
stored clip is fetched whole and by ranges and decodes to spec, a failed scene is rerun, and
/metrics counts the outcomes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import still
from serve_fixtures import FAST, free_port, scene, serving
from videocheck import assert_spec_clip

pytestmark = pytest.mark.slow
# the serve command registered the way the CLI package registers its commands
SERVE_CLI = ("import sys; from video_agent.cli.app import app; import video_agent.cli.serve; "
             "sys.argv[0] = 'video-agent'; app()")


def read_events(client: httpx.Client, url: str, until: str = "finished") -> list[dict]:
    """Server-sent events of ``url`` until an event of kind ``until``."""
    events: list[dict] = []
    with client.stream("GET", url, timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind not in (None, "ping"):
                event = json.loads(line.split(":", 1)[1])
                assert event["event"] == kind
                events.append(event)
                if kind == until:
                    return events
    raise AssertionError(f"stream ended before {until!r}: {events}")


def test_posted_story_streams_events_serves_ranges_and_reruns(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    still(images / "harbour.jpg")
    story = {"story_id": "harbour", "scenes": [scene(1, "harbour.jpg"), scene(2, "later.jpg")]}
    with serving(tmp_path / "out", images_root=images, **FAST) as base, \
            httpx.Client(base_url=base, timeout=30) as http:
        started = http.post("/api/stories", json=story)
        assert started.status_code == 202, started.text
        events = read_events(http, "/api/stories/harbour/events")
        kinds = [e["event"] for e in events]
        assert kinds[0] == "snapshot" and kinds[-1] == "finished"
        progress = [e for e in events if e["event"] == "progress" and e["scene"] == "1"]
        stages = [e["stage"] for e in progress]
        assert "generate_primary" in stages and "assess_quality" in stages, stages
        assert all(0.0 <= e["progress"] <= 1.0 for e in progress)
        failed = next(e for e in events if e["event"] == "failed")
        assert failed["scene"] == "2" and failed["error"]["field"] == "image_path"
        assert events[-1]["videos"] == ["1"] and events[-1]["failed"] == ["2"]

        status = http.get("/api/stories/harbour").json()
        assert status["run"] == "finished" and not status["running"]
        assert status["scenes"]["1"]["status"] == "done"
        assert status["scenes"]["2"]["status"] == "failed"
        assert "no such file" in status["scenes"]["2"]["detail"]

        whole = http.get("/api/stories/harbour/scenes/1/video")
        clip = tmp_path / "fetched.mp4"
        clip.write_bytes(whole.content)
        assert_spec_clip(clip, duration=4.0)
        size = len(whole.content)
        pieces, step = [], 300_000
        for start in range(0, size, step):
            part = http.get("/api/stories/harbour/scenes/1/video",
                            headers={"Range": f"bytes={start}-{start + step - 1}"})
            assert part.status_code == 206
            assert part.headers["content-range"] == (
                f"bytes {start}-{min(start + step, size) - 1}/{size}")
            pieces.append(part.content)
        assert b"".join(pieces) == whole.content

        busy_check = http.post("/api/stories/harbour/scenes/9/rerun")
        assert busy_check.status_code == 404 and "no scene 9" in busy_check.json()["error"]
        shutil.copy(images / "harbour.jpg", images / "later.jpg")
        rerun = http.post("/api/stories/harbour/scenes/2/rerun")
        assert rerun.status_code == 202 and rerun.json()["scenes"] == ["2"]
        again = http.post("/api/stories/harbour/scenes/2/rerun")
        assert again.status_code in (202, 409)  # 409 while the first rerun still runs
        events = read_events(http, "/api/stories/harbour/events")
        assert events[-1]["failed"] == [] and events[-1]["videos"] == ["1", "2"]
        scene2 = http.get("/api/stories/harbour/scenes/2").json()
        assert scene2["status"] == "done" and scene2["metadata"]["scene_number"] == 2
        assert http.get("/api/stories/harbour/scenes/1").json()["version"] == 1, \
            "the rerun of scene 2 leaves scene 1 alone"
        clip.write_bytes(http.get("/api/stories/harbour/scenes/2/video").content)
        assert_spec_clip(clip, duration=4.0)

        metrics = http.get("/metrics").text
        assert 'video_agent_scene_outcomes_total{outcome="success"}' in metrics
        assert 'route="/api/stories/{story_id}/events",status="200"' in metrics
        assert "video_agent_bytes_stored_total" in metrics


def test_serve_command_answers_on_its_port(tmp_path: Path) -> None:
    port = free_port()
    child = subprocess.Popen([sys.executable, "-c", SERVE_CLI, "serve", "--out", str(tmp_path),
                              "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert child.poll() is None and time.monotonic() < deadline, "serve died"
                time.sleep(0.2)
        assert page.status_code == 200 and "<title>Video Agent preview</title>" in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/api/stories").json() == {"stories": []}
    finally:
        child.terminate()
        child.wait(timeout=20)


def test_serve_command_refuses_a_bad_provider(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", SERVE_CLI, "serve", "--out", str(tmp_path),
                             "--primary", "nonsense"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "--primary" in result.stderr


def test_hostile_bodies_get_json_4xx_over_real_http(tmp_path: Path) -> None:
    good = json.dumps({"story_id": "s", "scenes": [
        {"scene_number": 1, "scene_content": "A slow push-in on the old lighthouse.",
         "image_url": "https://example.org/a.jpg"}]}).encode()
    json_type = {"content-type": "application/json"}

    def chunked() -> object:  # no content-length: the size is counted while reading
        yield b'{"story_id": "s", "title": "'
        for _ in range(20):
            yield b"x" * 1000
        yield b'"}'

    cases = [
        (b"[" * 5_000 + b"]" * 5_000, json_type, 400, "body", "nested deeper than 64"),
        (good.replace(b"lighthouse", b"lighth\xc3use"), json_type, 400, "body", "UTF-8"),
        (good, {"content-type": "text/plain"}, 415, "content-type", "application/json"),
        (good.replace(b'"s"', b'"s\\n"', 1), json_type, 400, "story_id", "control character"),
        (good.replace(b"scene_content", b"scene_contnet"), json_type, 400,
         "scenes[0].scene_contnet", "did you mean scene_content?"),
        (chunked(), json_type, 413, "body", "larger than 16384 bytes"),
    ]
    with serving(tmp_path / "out", max_body_bytes=16_384, **FAST) as base, \
            httpx.Client(base_url=base, timeout=30) as http:
        for body, headers, status, field, needle in cases:
            response = http.post("/api/stories", content=body, headers=headers)
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/json"
            assert response.json()["field"] == field and needle in response.json()["error"]
        assert http.get("/api/stories").json() == {"stories": []}, "nothing was started"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
