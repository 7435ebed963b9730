"""What the control panel reads: quality checks with units and thresholds, the camera path over
the still, per-frame series, run options on a posted story, and stored versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from video_agent.adapters.storage import LocalStorage
from video_agent.quality.assess import frame_series
from video_agent.serve import create_app
from video_agent.serve.panel import camera_path, quality_checks


def test_checks_from_metrics_and_probe_with_units_thresholds_and_repairs() -> None:
    quality = {"metrics": {"jitter_px": 0.5, "ssim_first": 0.9, "cuts": 0.0},
               "probe": {"width": 1024, "height": 576, "fps": 24.0, "duration": 6.0,
                         "bitrate": 3_500_000, "codec": "h264", "audio_streams": 0},
               "original_probe": {"width": 1280, "height": 720, "fps": 30.0, "duration": 6.0,
                                  "bitrate": 3_500_000, "codec": "h264", "audio_streams": 1}}
    checks = {c["metric"]: c for c in quality_checks(quality)}
    assert checks["jitter_px"] == {"property": "smooth motion", "metric": "jitter_px",
                                   "value": 0.5, "unit": "px", "threshold": "<= 0.35 px",
                                   "outcome": "fail"}
    assert checks["ssim_first"]["outcome"] == "pass" and checks["ssim_first"]["threshold"] == (
        ">= 0.5 SSIM")
    assert checks["cuts"]["outcome"] == "pass"
    assert [checks[m]["outcome"] for m in ("resolution", "fps", "audio_streams", "bitrate")] == [
        "repair", "repair", "repair", "pass"]
    assert checks["bitrate"]["value"] == 3.5 and checks["bitrate"]["unit"] == "Mbps"


def test_a_report_with_its_own_checks_is_shown_as_it_is() -> None:
    own = [{"property": "p", "metric": "m", "value": 1, "unit": "u", "threshold": "< 2",
            "outcome": "repair"}]
    assert quality_checks({"checks": own, "metrics": {"jitter_px": 9.0}}) == own


def test_camera_path_of_a_push_in_narrows_and_stays_on_the_still() -> None:
    meta = {"resolution": "1024x576", "image": {"width": 2048, "height": 768},
            "video_params": {"motion": {"type": "push_in", "speed": "slow", "duration": 6.0},
                             "generation": {"motion_scale": 0.8}},
            "provider_details": {"focus": [{"name": "face", "x": 0.7, "y": 0.4}]}}
    path = camera_path(meta)
    assert path is not None and len(path["path"]) == 9
    start, end = path["start"], path["end"]
    assert end["w"] < start["w"] and end["h"] < start["h"]
    for rect in path["path"]:
        assert rect["x"] >= -1e-3 and rect["y"] >= -1e-3
        assert rect["x"] + rect["w"] <= 1 + 1e-3 and rect["y"] + rect["h"] <= 1 + 1e-3
        assert rect["w"] / rect["h"] == pytest.approx(16 / 9 * 768 / 2048, rel=0.01)
    assert end["x"] + end["w"] / 2 > start["x"] + start["w"] / 2, "it moves toward the face"
    assert camera_path({"video_params": {}}) is None


def test_frame_series_keep_a_one_frame_glitch_when_downsampled() -> None:
    gray = np.full((480, 36, 64), 100, np.uint8)
    gray[301] = 250  # one bright frame
    series = frame_series(gray)
    assert len(series["motion"]) == len(series["brightness"]) == 120
    peak = int(np.argmax(series["motion"]))
    assert series["motion"][peak] == pytest.approx(150.0) and peak == 301 // 4
    assert max(series["brightness"]) > 100 and min(series["brightness"]) == 100
    assert frame_series(np.zeros((0, 36, 64), np.uint8)) == {}


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def story_body() -> bytes:
    return json.dumps({"story_id": "opts", "scenes": [
        {"scene_number": 1, "scene_content": "A pan.",
         "image_url": "https://example.org/a.jpg"}]}).encode()


@pytest.mark.parametrize(("query", "field", "needle"), [
    ("budget=-1", "budget", "0 or more"),
    ("budget=nan", "budget", "0 or more"),
    ("budget=lots", "budget", "not a number"),
    ("resolution=100x100", "resolution", "resolution"),
    ("primary=teleport:x", "primary", "unknown kind"),
    ("fallback=fal:no-such/model", "fallback", "no-such/model"),
])
async def test_run_options_are_checked_before_anything_starts(
        tmp_path: Path, query: str, field: str, needle: str) -> None:
    app = create_app(tmp_path / "out")
    async with client(app) as http:
        response = await http.post(f"/api/stories?{query}", content=story_body(),
                                   headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field and needle in response.json()["error"]
    assert app.state.video_agent.runs.last("opts") is None


async def test_versions_are_listed_served_and_made_current(tmp_path: Path) -> None:
    out = tmp_path / "out"
    storage = LocalStorage(out)
    for n in (1, 2):
        clip = tmp_path / f"v{n}.mp4"
        clip.write_bytes(bytes([n]) * 1000)
        storage.save_scene("vs", "3", clip, {"provider": "local", "model": f"m{n}",
                                             "cost_usd": 0.5 * n,
                                             "quality": {"verdict": "pass"}})
    async with client(create_app(out)) as http:
        scene = (await http.get("/api/stories/vs/scenes/3")).json()
        assert [(v["version"], v["current"], v["model"]) for v in scene["versions"]] == [
            (1, False, "m1"), (2, True, "m2")]
        first = await http.get(scene["versions"][0]["video"])
        assert first.status_code == 200 and first.content == bytes([1]) * 1000
        made = await http.post("/api/stories/vs/scenes/3/versions/1/current")
        assert made.status_code == 200 and made.json()["version"] == 1
        assert (await http.get("/api/stories/vs/scenes/3/video")).content == bytes([1]) * 1000
        assert (await http.get("/api/stories/vs")).json()["totals"]["cost_usd"] == 0.5
        missing = await http.post("/api/stories/vs/scenes/3/versions/9/current")
        assert missing.status_code == 404 and "no version 9" in missing.json()["error"]
        assert (await http.get("/api/stories/vs/scenes/3/versions/0/video")).status_code == 404
        assert (await http.get("/api/stories/vs/scenes/3/still")).status_code == 404


def test_gate_checks_become_rows_with_direction_and_outcome() -> None:
    gate = [{"name": "jitter_px", "property": "jitter", "value": 0.12, "unit": "px",
             "threshold": 0.35, "status": "passed", "action": "", "reason": ""},
            {"name": "ssim_first", "property": "fidelity", "value": 0.4, "unit": "SSIM",
             "threshold": 0.5, "status": "failed", "action": "rejected",
             "reason": "fidelity: first frame unlike the still"},
            {"name": "face_coverage", "property": "composition", "value": 0.6, "unit": "",
             "threshold": 0.85, "status": "flagged", "action": "", "reason": "composition: cut"}]
    rows = {r["metric"]: r for r in quality_checks({"checks": gate})}
    assert rows["jitter_px"]["threshold"] == "<= 0.35 px" and rows["jitter_px"]["outcome"] == "pass"
    assert rows["jitter_px"]["unit"] == "px" and rows["jitter_px"]["property"].startswith("jitter")
    assert rows["ssim_first"]["threshold"] == ">= 0.5 SSIM"
    assert rows["ssim_first"]["outcome"] == "fail"
    assert rows["face_coverage"]["outcome"] == "flag"
    assert rows["ssim_first"]["reason"].startswith("fidelity:")


def test_the_gates_own_spec_checks_show_their_real_condition() -> None:
    """Ranges, equalities and floors read as such, not as a bare '<= threshold'."""
    from video_agent.models import ProbeInfo
    from video_agent.quality import QualitySettings
    from video_agent.quality.checks import spec_checks

    probe = ProbeInfo(width=1024, height=576, fps=24.0, duration=4.0, bitrate=3_476_500,
                      codec="h264", pix_fmt="yuv420p", audio_streams=0, moov_front=True)
    gate = [c.model_dump() for c in spec_checks(probe, QualitySettings(), (1024, 576))]
    rows = {r["metric"]: r for r in quality_checks({"checks": gate,
                                                    "probe": probe.model_dump()})}
    assert (rows["size"]["value"], rows["size"]["unit"]) == ("1024x576", "")
    assert rows["codec"]["value"] == "h264/yuv420p"
    assert rows["moov_front"]["value"] == "moov first"
    assert rows["bitrate"]["threshold"] == "2-5 Mbps" and rows["bitrate"]["outcome"] == "pass"
    assert rows["duration"]["threshold"] == "4-10 s"
    assert rows["fps"]["threshold"] == "= 24 fps"
    assert rows["size"]["threshold"] == "= 1024x576"
    assert rows["audio_streams"]["threshold"] == "no audio stream"


def test_an_old_report_without_checks_shows_its_channel_flicker_against_the_limit() -> None:
    from video_agent.serve.panel import quality_checks

    rows = quality_checks({"metrics": {"flicker_channel": 4.8, "jitter_px": 0.02}})
    [row] = [r for r in rows if r["metric"] == "flicker_channel"]
    assert (row["outcome"], row["threshold"]) == ("fail", "<= 2 % of level")
