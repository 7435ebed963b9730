"""The example story end to end through the CLI, every output decoded and checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLE_STORY, run_cli
from videocheck import assert_spec_clip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("example")
    result = run_cli("run", str(EXAMPLE_STORY), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout


def test_every_scene_is_a_spec_clip_with_seed_metadata(example_run: tuple[Path, str]) -> None:
    out, stdout = example_run
    story = json.loads(EXAMPLE_STORY.read_text())
    for scene in story["scenes"]:
        scene_dir = out / story["story_id"] / f"scene_{scene['scene_number']}"
        record = json.loads((scene_dir / "metadata.json").read_text())
        meta = record["metadata"]
        checked = assert_spec_clip(scene_dir / "video.mp4", duration=meta["duration"])
        assert meta["resolution"] == "1024x576" and meta["fps"] == 24
        assert meta["scene_content"] == scene["scene_content"]
        for key in ("guidance_scale", "num_inference_steps", "motion_type", "motion_scale"):
            assert key in meta["generation_params"]
        assert meta["scene_elements"], "scene_elements comes from the analysis"
        assert meta["quality"]["verdict"] in ("pass", "repaired")
        checks = meta["quality"]["checks"]
        assert {"black", "colour", "fidelity", "frozen", "duration"} <= {
            c["property"] for c in checks}
        assert all(c["status"] in ("passed", "repaired") for c in checks), checks
        assert meta["reasoning"]["decisions"], "every plan carries its reasons"
        assert [a["outcome"] for a in meta["attempts"]][-1] == "ok"
        assert record["video_url"].startswith("file://")
        assert abs(checked["seconds"] - meta["duration"]) < 0.05
    assert "morning_cafe" in stdout


def test_cafe_scene_is_a_slow_push_in_of_six_seconds(example_run: tuple[Path, str]) -> None:
    out, _ = example_run
    meta = json.loads((out / "morning_cafe" / "scene_5" / "metadata.json").read_text())["metadata"]
    motion = meta["video_params"]["motion"]
    assert (motion["type"], motion["speed"], motion["duration"]) == ("push_in", "slow", 6.0)
    assert meta["duration"] == pytest.approx(6.0)


def test_narration_sets_the_dialogue_scene_length(example_run: tuple[Path, str]) -> None:
    out, _ = example_run
    meta = json.loads((out / "morning_cafe" / "scene_4" / "metadata.json").read_text())["metadata"]
    assert meta["duration"] >= 6.8, "the clip lasts at least as long as its narration"
    summary = json.loads((out / "morning_cafe" / "story.json").read_text())
    assert summary["planned_durations"]["4"] == meta["video_params"]["motion"]["duration"]
    assert {s["status"] for s in summary["scenes"].values()} == {"done"}


def test_second_run_keeps_videos_and_force_makes_a_new_version(
        example_run: tuple[Path, str]) -> None:
    out, _ = example_run
    journal = out / "morning_cafe" / "attempts.jsonl"
    before = journal.read_text().count("\n")
    again = run_cli("run", str(EXAMPLE_STORY), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert journal.read_text().count("\n") == before, "nothing is generated twice"
    forced = run_cli("run", str(EXAMPLE_STORY), "--out", str(out), "--scene", "3", "--force")
    assert forced.returncode == 0, forced.stderr
    lines = [json.loads(x) for x in journal.read_text().splitlines()]
    assert [x["scene"] for x in lines[before:]] == ["3"]
    scene = out / "morning_cafe" / "scene_3"
    assert sorted(p.name for p in (scene / "versions").iterdir()) == ["v0001", "v0002"]
    assert json.loads((scene / "metadata.json").read_text())["version"] == 2
    status = run_cli("status", "morning_cafe", "--out", str(out))
    assert status.returncode == 0 and "finished" in status.stdout, status.stdout
    assert status.stdout.count("done") == 4


def test_metadata_keeps_the_plan_and_what_the_provider_was_asked(
        example_run: tuple[Path, str]) -> None:
    out, _ = example_run
    meta = json.loads((out / "morning_cafe" / "scene_5" / "metadata.json").read_text())["metadata"]
    plan, asked = meta["video_params"]["generation"], meta["provider_params"]["generation"]
    assert plan["negative_prompt"], "the plan keeps the seed's negative prompt"
    assert (plan["guidance_scale"], plan["num_inference_steps"]) == (7.0, 35)
    assert asked["negative_prompt"] == "", "the embedded renderer takes no negative prompt"
    dropped = [c for c in meta["reasoning"]["conflicts"] if "negative" in c["field"]]
    assert dropped, "dropping it is a recorded conflict"
    assert meta["generation_params"] == {"guidance_scale": 7.0, "num_inference_steps": 35,
                                         "motion_type": "push_in", "motion_scale": 0.8}


def _shift(path: Path, at: float = 0.25) -> tuple[float, float]:
    """Picture shift (dx, dy) between the first frame and the frame ``at`` of the way in."""
    import av
    import cv2
    import numpy as np

    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="gray").astype(np.float32)
                  for f in container.decode(video=0)]
    (dx, dy), _ = cv2.phaseCorrelate(frames[0], frames[int(len(frames) * at)])
    return dx, dy


def test_videos_follow_their_plans(example_run: tuple[Path, str]) -> None:
    out, _ = example_run
    moves = {}
    for key in ("2", "3"):
        meta = json.loads((out / "morning_cafe" / f"scene_{key}" / "metadata.json")
                          .read_text())["metadata"]
        moves[key] = (meta["video_params"]["motion"]["type"],
                      meta["video_params"]["motion"]["direction"],
                      _shift(out / "morning_cafe" / f"scene_{key}" / "video.mp4"))
    kind, direction, (dx, dy) = moves["2"]
    assert (kind, direction) == ("pan", "left_to_right")
    assert dx < -5 and abs(dy) < abs(dx) / 4, "the camera moves right: the picture moves left"
    kind, direction, (dx, dy) = moves["3"]
    assert (kind, direction) == ("tilt", "up")
    assert dy > 5 and abs(dx) < abs(dy) / 4, "the camera tilts up: the picture moves down"
