"""Story files: what loads, and the error each bad one gets."""

import json
from pathlib import Path

import pytest

from video_agent.models import SceneContext
from video_agent.story import StoryFileError, load_story, parse_story

EXAMPLE = Path(__file__).parents[2] / "examples" / "stories" / "morning_cafe.json"


def test_example_story_loads_with_absolute_images() -> None:
    story = load_story(EXAMPLE)
    assert story.story_id == "morning_cafe"
    assert sorted(story.scenes) == ["2", "3", "4", "5"]
    for scene in story.scenes.values():
        assert isinstance(scene, SceneContext)
        assert Path(scene.image_ref).is_absolute() and Path(scene.image_ref).is_file()
    assert story.narration["4"].duration == pytest.approx(6.8)


@pytest.mark.parametrize(("raw", "needle"), [
    ([], "story: must be a JSON object"),
    ({"story_id": "../x", "scenes": [{}]}, "story_id"),
    ({"story_id": "s"}, "scenes: must be a non-empty list"),
    ({"story_id": "s", "scenes": ["x"]}, "scenes[0]: must be an object"),
    ({"story_id": "s", "scenes": [{"scene_number": 0}]}, "scenes[0].scene_number"),
    ({"story_id": "s", "scenes": [{"scene_number": True}]}, "scenes[0].scene_number"),
    ({"story_id": "s", "scenes": [{"scene_number": 1}, {"scene_number": 1}]}, "appears twice"),
    ({"story_id": "s", "scenes": [{"scene_number": 1}], "narration": {"1": {"duration": -1}}},
     "narration['1']"),
])
def test_bad_story_files_name_the_field(raw: object, needle: str) -> None:
    with pytest.raises(StoryFileError, match=None) as info:
        parse_story(raw)
    assert needle in str(info.value)


def test_invalid_scene_is_kept_for_a_per_scene_error(tmp_path: Path) -> None:
    story = parse_story({"story_id": "s", "scenes": [
        {"scene_number": 1, "scene_content": "ok", "image_path": "a.png"},
        {"scene_number": 2, "scene_content": "  ", "image_path": "b.png"}]}, base_dir=tmp_path)
    assert isinstance(story.scenes["1"], SceneContext)
    assert story.scenes["1"].image_path == str(tmp_path / "a.png")
    assert isinstance(story.scenes["2"], dict)


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(StoryFileError, match="cannot read"):
        load_story(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(StoryFileError, match="not valid JSON"):
        load_story(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"story_id": "s", "scenes": [
        {"scene_number": 3, "scene_content": "c", "image_url": "https://example.org/a.jpg"}]}))
    assert load_story(good).scenes["3"].image_url == "https://example.org/a.jpg"
