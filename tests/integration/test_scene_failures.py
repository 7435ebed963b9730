"""Failures stay inside their scene: good scenes finish, bad ones get clear errors, and
non-critical provider failures reach the fallback provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli, still, write_story
from video_agent.adapters.storage import tempdirs
from video_agent.context import VideoAgentContext
from video_agent.runner import run_story
from video_agent.story import load_story
from videocheck import assert_spec_clip

pytestmark = pytest.mark.slow


def scene(n: int, image: str, text: str = "A slow push-in on the old lighthouse.") -> dict:
    return {"scene_number": n, "scene_content": text, "image_path": image,
            "layer1_analysis": "Slow push-in, about 4 seconds."}


async def test_mixed_story_finishes_good_scenes(tmp_path: Path) -> None:
    good = still(tmp_path / "good.jpg")
    (tmp_path / "text.jpg").write_text("this is not an image")
    tiny = still(tmp_path / "tiny.jpg", size=(200, 100))
    story_file = write_story(tmp_path / "story.json", "mixed", [
        scene(1, str(good)),
        scene(2, str(tmp_path / "missing.jpg")),
        scene(3, str(tmp_path / "text.jpg")),
        scene(4, str(good), text="   "),
        scene(5, str(tiny)),
        scene(6, str(good)),
    ])
    out = tmp_path / "out"
    run = await run_story(load_story(story_file), VideoAgentContext(output_dir=str(out)),
                          max_concurrency=3)
    assert sorted(run.videos) == ["1", "6"]
    assert run.failed == ["2", "3", "4", "5"]
    expected = {"2": ("image_path", "no such file"), "3": ("image_path", "not a readable image"),
                "4": ("scene_content", "must not be empty"), "5": ("image_path", "too small")}
    for key, (field, reason) in expected.items():
        error = run.errors[key]
        assert error.stage == "analyze_context" and error.critical
        assert error.field == field and reason in error.message, error
        assert not (out / "mixed" / f"scene_{key}").exists(), "nothing written for a bad scene"
    for key in ("1", "6"):
        assert_spec_clip(out / "mixed" / f"scene_{key}" / "video.mp4")
    summary = json.loads((out / "mixed" / "story.json").read_text())
    assert summary["scenes"]["3"]["status"] == "failed"
    area = tempdirs.owned_area(out / "temp")  # this process's, alive until it exits
    assert not any(area.path.iterdir())
    assert {p.name for p in (out / "temp").iterdir()} == {area.path.name, area.marker.name}


async def test_unavailable_primary_falls_back_to_the_embedded_renderer(tmp_path: Path) -> None:
    story_file = write_story(tmp_path / "story.json", "fallback",
                             [scene(1, str(still(tmp_path / "a.jpg")))])
    ctx = VideoAgentContext(output_dir=str(tmp_path / "out"),
                            primary="py:providers_for_tests:unavailable")
    run = await run_story(load_story(story_file), ctx)
    meta = run.videos["1"].metadata
    assert meta["slot"] == "fallback" and meta["provider"] == "local"
    assert [(a["slot"], a["outcome"], a["error_kind"]) for a in meta["attempts"]] == [
        ("primary", "error", "server_error"), ("fallback", "ok", None)]
    assert "503" in meta["attempts"][0]["error"]


async def test_broken_primary_clip_fails_quality_then_falls_back(tmp_path: Path) -> None:
    story_file = write_story(tmp_path / "story.json", "broken",
                             [scene(1, str(still(tmp_path / "a.jpg")))])
    ctx = VideoAgentContext(output_dir=str(tmp_path / "out"),
                            primary="py:providers_for_tests:broken_clip")
    run = await run_story(load_story(story_file), ctx)
    meta = run.videos["1"].metadata
    assert [a["outcome"] for a in meta["attempts"]] == ["ok", "quality_fail", "ok"]
    assert meta["slot"] == "fallback"


@pytest.mark.parametrize(("primary", "fallback", "stage", "needle"), [
    ("py:providers_for_tests:out_of_gpu", "local:draft", "generate_primary", "out of GPU"),
    ("py:providers_for_tests:unavailable", "py:providers_for_tests:unavailable",
     "generate_fallback", "every provider failed"),
    ("py:providers_for_tests:unavailable", "", "generate_fallback", "no fallback provider"),
    ("py:providers_for_tests:broken_clip", "py:providers_for_tests:broken_clip",
     "assess_quality", "every provider failed the quality check"),
    ("py:providers_for_tests:crashing", "local:draft", "generate_primary", "internal error"),
    ("nonsense", "local:draft", "generate_primary", "unknown kind"),
])
async def test_critical_failures_end_the_scene_with_a_reason(
        tmp_path: Path, primary: str, fallback: str, stage: str, needle: str) -> None:
    image = str(still(tmp_path / "a.jpg"))
    story_file = write_story(tmp_path / "story.json", "critical", [scene(1, image)])
    ctx = VideoAgentContext(output_dir=str(tmp_path / "out"), primary=primary, fallback=fallback)
    run = await run_story(load_story(story_file), ctx)
    assert run.failed == ["1"] and not run.videos
    error = run.errors["1"]
    assert error.stage == stage and needle in error.message, error
    assert not (tmp_path / "out" / "critical" / "scene_1" / "video.mp4").exists()


def test_cli_exit_code_reports_failed_scenes(tmp_path: Path) -> None:
    story_file = write_story(tmp_path / "story.json", "exitcode", [
        scene(1, str(still(tmp_path / "a.jpg"))), scene(2, str(tmp_path / "nope.jpg"))])
    result = run_cli("run", str(story_file), "--out", str(tmp_path / "out"), "--primary",
                     "local:draft")
    assert result.returncode == 1
    assert "no such file" in result.stdout
    bad = run_cli("run", str(tmp_path / "absent.json"))
    assert bad.returncode == 2 and "cannot read" in bad.stderr
    wrong = run_cli("run", str(story_file), "--primary", "fal")
    assert wrong.returncode == 2 and "--primary" in wrong.stderr
    small = run_cli("run", str(story_file), "--resolution", "640x360")
    assert small.returncode == 2 and "--resolution" in small.stderr
    unknown = run_cli("status", "nope", "--out", str(tmp_path / "out"))
    assert unknown.returncode == 1 and "no story 'nope'" in unknown.stderr
    assert "exitcode" in unknown.stderr, "the error lists the stories there are"
