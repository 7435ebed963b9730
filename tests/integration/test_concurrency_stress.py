"""Concurrency under load: the OpenCV face search and whole scenes from many threads at once.

Each workload runs in a child process, so a segfault (what a shared classifier ends in) is
reported as a failed test rather than ending the test run.
"""

from __future__ import annotations

import asyncio
import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from concurrency_workloads import write_still_variants
from conftest import ROOT, run_cli, write_story
from loopback import loopback_server
from video_agent.adapters.images import ImageSource
from video_agent.adapters.render.focus import find_focus_points, is_face_name
from video_agent.adapters.render.pipeline import load_rgb
from videocheck import assert_spec_clip

WORKLOADS = Path(__file__).resolve().parents[1] / "concurrency_workloads.py"


def _outcome(proc: subprocess.CompletedProcess[str]) -> str:
    if proc.returncode < 0:
        return f"killed by {signal.Signals(-proc.returncode).name}\n{proc.stderr[-2000:]}"
    return f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


def test_face_search_from_eight_threads_matches_single_threaded() -> None:
    proc = subprocess.run(
        [sys.executable, str(WORKLOADS), "focus", "--threads", "8", "--rounds", "10"],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, _outcome(proc)
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["errors"] == [], report["errors"][:5]
    assert report["mismatches"] == [], report["mismatches"][:5]
    assert report["calls"] == 80
    assert len(report["sizes"]) == report["stills"] == 12, "stills of different sizes"
    assert report["stills_with_faces"] >= 3, "the searches must find faces to compare"


def _face_story(folder: Path, stills: list[Path]) -> Path:
    scenes = [{
        "scene_number": n,
        "scene_content": "A young barista with long pink hair looks up from the counter; "
                         "the morning light catches her face.",
        "image_path": str(path),
        "image_prompt": "young barista, long pink hair, cafe counter, morning light",
        "layer1_analysis": "Video Generation Guidelines:\n- Slow push-in on her face\n"
                           "- Short shot of about 4 seconds",
    } for n, path in enumerate(stills, start=1)]
    return write_story(folder / "story.json", "crowd", scenes)


@pytest.mark.slow
def test_scenes_render_and_pass_the_gate_at_concurrency_four_and_eight(tmp_path: Path) -> None:
    """Eight face scenes through the story graph with the embedded renderer, at concurrency 4,
    then all regenerated at concurrency 8: every clip stored, decodable and passing the gate,
    with the focus points a single-threaded search finds."""
    variants = write_still_variants(tmp_path / "stills")
    stills = variants[::3] + variants[1::3]  # every example still and its shrunk copy
    story = _face_story(tmp_path, stills)
    out = tmp_path / "out"
    expected: dict[int, list[dict[str, object]]] = {}
    for version, (concurrency, extra) in enumerate([("4", []), ("8", ["--force"])], start=1):
        proc = run_cli("run", str(story), "--out", str(out), "--primary", "local:draft",
                       "--fallback", "", "--max-concurrency", concurrency, *extra, timeout=1200)
        assert proc.returncode == 0, _outcome(proc)
        for n, path in enumerate(stills, start=1):
            scene_dir = out / "crowd" / f"scene_{n}"
            record = json.loads((scene_dir / "metadata.json").read_text())
            meta = record["metadata"]
            assert record["version"] == version, (n, record["version"])
            assert meta["quality"]["verdict"] == "pass", (n, meta["quality"])
            attempts = meta["attempts"]
            assert [(a["provider"], a["outcome"]) for a in attempts] == [("local", "ok")], \
                (n, attempts)
            assert_spec_clip(scene_dir / "video.mp4", duration=meta["duration"])
            names = meta["video_params"]["motion"]["focus_points"]
            assert any(is_face_name(name) for name in names), (n, names)
            if n not in expected:  # the same search, alone in this process
                expected[n] = [p.as_dict() for p in find_focus_points(load_rgb(path), names)]
            assert meta["provider_details"]["focus"] == expected[n], n


async def test_concurrent_fetches_of_different_urls_all_reach_the_url_index(
        tmp_path: Path) -> None:
    """Every fetched still is cached and indexed from a worker thread; fetches that finish
    together must not drop each other's entries from ``urls.json``."""
    stills = {f"{i}.png": _png(i) for i in range(12)}

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=stills[request.match_info["name"]], content_type="image/png")

    async with loopback_server(handle) as base:
        urls = [f"{base}/{name}" for name in stills]
        images = await asyncio.gather(*(
            ImageSource(tmp_path / "cache", allow_private_urls=True).resolve(u) for u in urls))
    index = json.loads((tmp_path / "cache" / "urls.json").read_text())
    keys = [f"private:{u}" for u in urls]  # fetched with loopback allowed: remembered apart
    assert sorted(index) == sorted(keys)
    assert {index[k]["sha256"] for k in keys} == {i.sha256 for i in images}
    assert len({i.sha256 for i in images}) == len(stills)


def _png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (seed * 20, 90, 200 - seed * 10)).save(buffer, "PNG")
    return buffer.getvalue()
