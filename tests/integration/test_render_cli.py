"""``video-agent render`` as a user runs it (the command module registers itself on the app)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
from typer.testing import CliRunner

from video_agent.cli import render as _render  # noqa: F401 - registers the command
from video_agent.cli.app import app


def still(path: Path) -> Path:
    rng = np.random.default_rng(2)
    img = cv2.resize(rng.integers(0, 255, (90, 160, 3), dtype=np.uint8), (1280, 720),
                     interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), img)
    return path


def test_render_writes_the_clip_and_reports_it(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    result = CliRunner().invoke(app, [
        "render", str(still(tmp_path / "s.png")), "--motion", "pan", "--direction",
        "right_to_left", "--speed", "medium", "--duration", "4", "--focus", "lamp",
        "--motion-scale", "0.5", "--easing", "linear", "--preset", "draft", "--out", str(out),
        "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["path"] == str(out) and report["frames"] == 96
    traj = report["settings"]["trajectory"]
    assert (traj["motion"], traj["direction"], traj["easing"], traj["motion_scale"]) == (
        "pan", "right_to_left", "linear", 0.5)
    assert traj["travel_px"][0] < 0
    assert report["focus"][0]["name"] == "lamp"
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 96


def test_bad_options_name_the_option(tmp_path: Path) -> None:
    image = str(still(tmp_path / "s.png"))
    runner = CliRunner()
    for args, hint in ((["--motion", "zoom"], "--motion"), (["--duration", "12"], "--duration"),
                       (["--size", "big"], "--size"), (["--size", "1000x576"], "size")):
        result = runner.invoke(app, ["render", image, "--out", str(tmp_path / "x.mp4"), *args])
        assert result.exit_code == 2, (args, result.output)
        assert hint in result.output, (args, result.output)
    missing = runner.invoke(app, ["render", str(tmp_path / "nope.png")])
    assert missing.exit_code == 2 and "image:" in missing.output
