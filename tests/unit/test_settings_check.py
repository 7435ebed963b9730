"""A malformed setting (size, storage, state database, key variable) fails the run before any
scene starts: in preflight, and in the story graph's first node for runs that skip preflight
(the graph server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from video_agent.context import VideoAgentContext
from video_agent.graph import build_story_graph
from video_agent.preflight import PreflightError, check_settings, preflight


@pytest.mark.parametrize(("setting", "value", "needle"), [
    ("resolution", "640x360", "resolution: "),
    ("resolution", "big", "resolution: 'big' is not WIDTHxHEIGHT"),
    ("storage", "ftp://nowhere", "storage: "),
    ("state_db", "mysql://db/video", "state_db: 'mysql' is not supported"),
    ("fal_key_env", "NOT A NAME", "fal_key_env: 'NOT A NAME' is not an environment variable"),
])
def test_each_malformed_setting_is_refused_naming_it(
        tmp_path: Path, setting: str, value: str, needle: str) -> None:
    ctx = VideoAgentContext(output_dir=str(tmp_path), **{setting: value})
    with pytest.raises(PreflightError, match=f"^{needle}"):
        check_settings(ctx)
    with pytest.raises(PreflightError, match=f"^{needle}"):
        preflight(ctx)


def test_good_settings_pass(tmp_path: Path) -> None:
    check_settings(VideoAgentContext(output_dir=str(tmp_path), resolution="1280x720"))


async def test_the_story_graph_stops_before_any_scene(tmp_path: Path) -> None:
    ctx = VideoAgentContext(output_dir=str(tmp_path / "out"), state_db="mysql://db/video")
    scene = {"scene_number": 1, "scene_content": "x", "image_path": str(tmp_path / "a.jpg")}
    with pytest.raises(PreflightError, match=r"^state_db: "):
        await build_story_graph().ainvoke({"story_id": "s", "scenes": {"1": scene}},
                                          context=ctx)
    assert not (tmp_path / "out" / "s").exists(), "no scene ran"
