"""``video-agent explain`` on real story files: analysis, plan and trace for each scene."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import video_agent.cli.explain  # noqa: F401  (registers the command)
from video_agent.cli.app import app

EXAMPLE = Path(__file__).parents[2] / "examples" / "stories" / "morning_cafe.json"
runner = CliRunner()


def explain(*args: str):
    return runner.invoke(app, ["explain", *args], catch_exceptions=False,
                         env={"COLUMNS": "160"})


def test_example_story_scene_5_is_the_seed_plan_in_json() -> None:
    result = explain(str(EXAMPLE), "--scene", "5", "--json")
    assert result.exit_code == 0, result.output
    [scene] = json.loads(result.output)
    assert scene["scene"] == "5"
    motion = scene["video_params"]["motion"]
    generation = scene["video_params"]["generation"]
    assert (motion["type"], motion["speed"], motion["duration"]) == ("push_in", "slow", 6.0)
    assert motion["focus_points"] == ["face", "hair", "menu_book"]
    assert (generation["guidance_scale"], generation["num_inference_steps"],
            generation["motion_scale"]) == (7.0, 35, 0.8)
    assert scene["reasoning_steps"]["motion_analysis"]["scene_type"] == "character_focused"
    assert any(d["field"] == "motion.type" and d["source"] == "layer1"
               for d in scene["trace"]["decisions"])


def test_every_example_scene_is_explained_in_tables() -> None:
    result = explain(str(EXAMPLE))
    assert result.exit_code == 0, result.output
    for key in ("scene 2", "scene 3", "scene 4", "scene 5"):
        assert key in result.output
    assert "reasoning trace" in result.output and "camera cues" in result.output
    assert "speech_timing" in result.output  # scene 4 carries narration timing


def test_explain_with_the_local_provider_prints_its_prompt(tmp_path: Path) -> None:
    result = explain(str(EXAMPLE), "-s", "2", "--provider", "local", "--json")
    assert result.exit_code == 0, result.output
    [scene] = json.loads(result.output)
    assert "valley" in scene["fitted"]["prompt"].lower()
    assert scene["fitted"]["video_params"]["motion"]["type"] == "pan"


def test_long_narration_and_a_bad_scene(tmp_path: Path) -> None:
    story = {
        "story_id": "mixed",
        "scenes": [
            {"scene_number": 1, "scene_content": "A lighthouse on a cliff above the sea.",
             "image_url": "https://example.com/lighthouse.jpg",
             "layer1_analysis": "Crane up, hold for 14 seconds"},
            {"scene_number": 2, "scene_content": "   ", "image_url": "https://example.com/x.jpg"},
        ],
        "narration": {"1": {"duration": 12.5}},
    }
    path = tmp_path / "story.json"
    path.write_text(json.dumps(story))
    result = explain(str(path), "--json")
    assert result.exit_code == 1
    first, second = json.loads(result.output)
    assert first["video_params"]["motion"]["duration"] == 10.0
    assert first["trace"]["flags"] == ["narration_longer_than_clip"]
    assert {c["source"] for c in first["trace"]["conflicts"]} == {"layer1", "speech_timing"}
    assert second["scene"] == "2" and "scene_content" in second["error"]


def test_unknown_scene_and_bad_provider_exit_2() -> None:
    assert explain(str(EXAMPLE), "--scene", "9").exit_code == 2
    assert explain(str(EXAMPLE), "--provider", "nowhere").exit_code == 2
