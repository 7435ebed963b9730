"""``video-agent assess``: the same gate from the command line, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from defect_clips import BY_NAME, source_image
from typer.testing import CliRunner

import video_agent.cli.assess  # noqa: F401  (registers the command)
from video_agent.cli.app import app


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    for name in ("good_pan", "other_image", "audio_track"):
        BY_NAME[name].make(folder / f"{name}.mp4")
    source_image(folder)
    return folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["assess", *args])
    return result.exit_code, result.output


def test_json_report_and_exit_code_for_each_verdict(clips: Path) -> None:
    image = str(clips / "source.png")
    code, out = run(str(clips / "good_pan.mp4"), "--image", image, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["verdict"] == "pass" and report["probe"]["fps"] == 24
    assert report["metrics"]["ssim_first"] > 0.8

    code, out = run(str(clips / "other_image.mp4"), "--image", image, "--json")
    assert code == 1
    assert any("SSIM" in r for r in json.loads(out)["reasons"])

    code, out = run(str(clips / "audio_track.mp4"), "--json", "--work-dir", str(clips / "w"))
    report = json.loads(out)
    assert code == 0 and report["verdict"] == "repaired"
    assert report["repairs"] == ["audio: dropped 1 audio stream"]
    assert report["original_probe"]["audio_streams"] == 1
    assert "ssim_first" not in report["metrics"], "no image, no fidelity check"


def test_table_output_and_unreadable_file(clips: Path, tmp_path: Path) -> None:
    code, out = run(str(clips / "good_pan.mp4"))
    assert code == 0 and "PASS" in out and "jitter_px" in out
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    code, out = run(str(junk))
    assert code == 1 and "FAIL" in out
