"""``examples/story_graph.py``: manager -> speech agent -> video agent per scene -> assemble."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE_STORY, ROOT
from video_agent.context import VideoAgentContext

pytestmark = pytest.mark.slow


def load_example():
    spec = importlib.util.spec_from_file_location("story_graph_example",
                                                  ROOT / "examples" / "story_graph.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type hints of its state are resolved through it
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


async def test_parent_graph_shares_state_with_manager_and_speech(tmp_path: Path) -> None:
    raw = json.loads(EXAMPLE_STORY.read_text())
    raw["scenes"] = [s for s in raw["scenes"] if s["scene_number"] in (2, 5)]
    raw["narration"] = {}
    raw["scenes"].append({"scene_number": 9, "scene_content": "A scene whose still is lost.",
                          "image_path": "images/lost.jpg"})
    story = tmp_path / "story.json"
    for s in raw["scenes"]:
        s["image_path"] = str((EXAMPLE_STORY.parent / s["image_path"]).resolve())
    story.write_text(json.dumps(raw))

    example = load_example()
    graph = example.build_story_to_video_graph()
    final = await graph.ainvoke({"story_file": str(story)}, {"max_concurrency": 2},
                                context=VideoAgentContext(
                                    output_dir=str(tmp_path / "out"),
                                    image_roots=[str(EXAMPLE_STORY.parent / "images")]))
    assert set(final["narration"]) == {"2", "5", "9"}, "the speech agent timed every scene"
    assert sorted(final["videos"]) == ["2", "5"]
    assert final["errors"]["9"].field == "image_path"
    assert "no such file" in final["errors"]["9"].message
    for key in ("2", "5"):
        narration = final["narration"][key].duration
        assert final["planned_durations"][key] >= min(narration, 10.0)
        assert final["videos"][key].metadata["duration"] == pytest.approx(
            final["planned_durations"][key], abs=0.05)
    timeline = final["timeline"]
    assert [e["scene"] for e in timeline["scenes"]] == ["2", "5", "9"]
    assert "missing" in timeline["scenes"][2]
    assert timeline["total_s"] == pytest.approx(
        sum(final["videos"][k].metadata["duration"] for k in ("2", "5")), abs=0.01)
