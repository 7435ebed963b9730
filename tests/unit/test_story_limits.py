"""Hostile story files: every bad one is a ``StoryFileError`` naming the field, never a crash,
and whatever loads fits in a checkpoint."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from video_agent.adapters.storage.local import check_story_id
from video_agent.inputs import MAX_JSON_DEPTH, MAX_STORY_BYTES, json_depth
from video_agent.models import SceneContext
from video_agent.story import Story, StoryFileError, load_story, parse_story

GOOD: dict[str, Any] = {
    "story_id": "cafe", "title": "A morning",
    "scenes": [{"scene_number": 1, "scene_content": "A barista smiles.", "image_path": "a.jpg",
                "image_prompt": "barista", "layer1_analysis": "Slow push-in."},
               {"scene_number": 2, "scene_content": "Steam rises.",
                "image_url": "https://example.org/b.jpg"}],
    "narration": {"1": {"duration": 5.4, "text": "Morning."}},
}


def story(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(GOOD)
    raw.update(changes)
    return raw


def with_scene(index: int = 0, **changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(GOOD)
    raw["scenes"][index].update(changes)
    return raw


def error_of(raw: Any, **kwargs: Any) -> StoryFileError:
    with pytest.raises(StoryFileError) as info:
        parse_story(raw, **kwargs)
    return info.value


@pytest.mark.parametrize(("raw", "message"), [
    (with_scene(1, scene_numbr=2), "unknown key scenes[1].scene_numbr; did you mean scene_number?"),
    (story(narattion={}), "unknown key narattion; did you mean narration?"),
    (story(narration={"1": {"duraton": 5}}),
     "unknown key narration['1'].duraton; did you mean duration?"),
    (story(colour="red"), "unknown key colour; known keys: story_id, title, scenes, narration"),
])
def test_unknown_keys_are_named_with_the_nearest_known_one(raw: Any, message: str) -> None:
    assert str(error_of(raw)) == message


@pytest.mark.parametrize(("raw", "field", "needle"), [
    (story(story_id="abc\n"), "story_id", "control character"),
    (story(story_id="a\x00b"), "story_id", "NUL byte"),
    (story(story_id=7), "story_id", "non-empty string"),
    (story(story_id="x" * 129), "story_id", "1-128 letters"),
    (story(title=["x"]), "title", "must be a string"),
    (with_scene(0, scene_number=10**30), "scenes[0].scene_number", "from 1 to 1000000000"),
    (with_scene(0, scene_number=10**9 + 1), "scenes[0].scene_number", "from 1 to"),
    (with_scene(0, scene_number=2.0), "scenes[0].scene_number", "integer"),
    (with_scene(0, image_prompt=10**30), "scenes[0].image_prompt", "more than 64 bits"),
    (with_scene(0, image_prompt=math.nan), "scenes[0].image_prompt", "not a finite number"),
    (with_scene(0, scene_content="\ud800"), "scenes[0].scene_content", "unpaired surrogate"),
    (story(narration=[1]), "narration", "keyed by scene number"),
    (story(narration={"x": {"duration": 1}}), "narration['x']", "scene numbers"),
    (story(narration={"1": 5}), "narration['1']", "must be an object"),
    (story(narration={"1": {"duration": 1.7e308}}), "narration['1'].duration", "3600"),
    (story(narration={"1": {"duration": math.nan}}), "narration['1'].duration", "finite"),
    (story(narration={"1": {"duration": math.inf}}), "narration['1'].duration", "finite"),
    (story(narration={"1": {"duration": 0}}), "narration['1'].duration", "greater than 0"),
    (story(narration={"1": {"duration": True}}), "narration['1'].duration", "valid number"),
    (story(narration={"1": {"duration": 5, "text": "a" * 100_001}}), "narration['1'].text",
     "at most 100000 characters"),
    (story(narration={"1": {"duration": 5}, "01": {"duration": 6}}), "narration['01']",
     "appears twice"),
])
def test_bad_values_name_their_field(raw: Any, field: str, needle: str) -> None:
    error = error_of(raw)
    assert error.field == field and str(error).startswith(f"{field}: ")
    assert needle in str(error), str(error)
    assert "\n" not in str(error)


def test_narration_of_an_hour_is_the_longest_accepted() -> None:
    assert parse_story(story(narration={"1": {"duration": 3600}})).narration["1"].duration == 3600
    assert "3600" in str(error_of(story(narration={"1": {"duration": 3600.01}})))


def test_scene_count_is_capped_before_anything_runs() -> None:
    scenes = [{"scene_number": n, "scene_content": "x", "image_path": "a.jpg"}
              for n in range(1, 12)]
    assert len(parse_story(story(scenes=scenes), max_scenes=11).scenes) == 11
    error = error_of(story(scenes=scenes), max_scenes=10)
    assert str(error) == "scenes: 11 scenes, more than the limit of 10 per story (--max-scenes)"
    huge = [{"scene_number": n} for n in range(1, 10_001)]
    assert "more than the limit of 500" in str(error_of(story(scenes=huge)))


def test_bad_paths_fail_their_scene_only_with_the_field_named(tmp_path: Path) -> None:
    for value, reason in (("a\x00b.jpg", "contains a NUL byte"),
                          ("a\nb.jpg", "control character"),
                          ("~no_such_user_here/x.jpg", None), ("http://[::1/x.jpg", None)):
        loaded = parse_story(with_scene(0, image_path=value), base_dir=tmp_path)
        scene = loaded.scenes["1"]
        if reason is None:
            continue  # kept as given; the image source says why when the scene runs
        assert isinstance(scene, dict) and scene["image_path"] == value
        with pytest.raises(ValueError, match=reason):
            SceneContext.model_validate(scene)


def test_story_ids_are_matched_whole() -> None:
    for bad in ("abc\n", "abc\r\n", "a/b", "..", "temp", "", "a" * 129):
        with pytest.raises(ValueError, match="story_id"):
            check_story_id(bad)
    assert check_story_id("cafe_2.morning-1") == "cafe_2.morning-1"


# --------------------------------------------------------------------------- files


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "story.json"
    path.write_bytes(data)
    return path


def load_error(path: Path) -> str:
    with pytest.raises(StoryFileError) as info:
        load_story(path)
    return str(info.value)


def test_file_size_depth_and_encoding_limits(tmp_path: Path) -> None:
    good = json.dumps(GOOD).encode()
    assert load_story(write(tmp_path, b"\xef\xbb\xbf" + good)).story_id == "cafe"
    assert "encoded as UTF-16" in load_error(write(tmp_path, json.dumps(GOOD).encode("utf-16")))
    bad_utf8 = good.replace(b"barista", b"bar\xffista", 1)
    offset = bad_utf8.index(b"\xff")
    assert load_error(write(tmp_path, bad_utf8)).endswith(
        f"not valid UTF-8 (byte 0xff at offset {offset})")
    big = good[:-1] + b', "pad": "' + b" " * MAX_STORY_BYTES + b'"}'
    assert "larger than 8388608 bytes" in load_error(write(tmp_path, big))
    deep = b"[" * 200_000 + b"]" * 200_000
    assert "nested deeper than 64 levels" in load_error(write(tmp_path, deep))
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e400"):
        text = good.replace(b"5.4", literal)
        assert "not valid JSON" in load_error(write(tmp_path, text)), literal
    assert "cannot read" in load_error(tmp_path)


def test_a_stream_is_read_no_further_than_the_cap() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(StoryFileError, match="larger than"):
        load_story("/dev/zero")


def test_depth_cap_is_exact_and_ignores_brackets_in_strings(tmp_path: Path) -> None:
    nested = lambda n: "[" * n + "]" * n  # noqa: E731
    assert json_depth('{"a": "[[[[", "b": ["]]]", {"c": "\\"[["}]}') == 3
    at_cap = json.dumps(GOOD)[:-1] + f', "title": {nested(MAX_JSON_DEPTH - 1)}}}'
    assert "title: must be a string" in load_error(write(tmp_path, at_cap.encode()))
    over = json.dumps(GOOD)[:-1] + f', "title": {nested(MAX_JSON_DEPTH)}}}'
    assert "nested deeper than 64" in load_error(write(tmp_path, over.encode()))


# --------------------------------------------------------------------------- properties

SERDE = JsonPlusSerializer()
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(), st.text(max_size=12),
    st.sampled_from(["", " ", "\x00", "a\nb", "\ud800", "../x", "~x", "http://[::1", "1e308",
                     "scene_number", "5"]))
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)
FIELDS = ["story_id", "title", "scenes", "narration", "scene_number", "scene_content",
          "image_path", "image_url", "image_prompt", "layer1_analysis", "duration", "text",
          "scene_numbr", "1", "2"]


def assert_story_or_error(build: Any) -> None:
    try:
        loaded = build()
    except StoryFileError as exc:
        assert str(exc) and "\n" not in str(exc), "one line"
        return
    assert isinstance(loaded, Story)
    SERDE.dumps_typed(loaded.as_state())  # everything kept fits in a checkpoint


@st.composite
def mutated_story(draw: st.DrawFn) -> Any:
    raw: Any = copy.deepcopy(GOOD)
    for _ in range(draw(st.integers(1, 4))):
        containers = [raw]
        stack = [raw]
        while stack:
            item = stack.pop()
            children = (list(item.values()) if isinstance(item, dict)
                        else item if isinstance(item, list) else [])
            for child in children:
                if isinstance(child, dict | list):
                    containers.append(child)
                    stack.append(child)
        target = draw(st.sampled_from(containers))
        value = draw(json_values)
        if isinstance(target, dict):
            key = draw(st.sampled_from(list(target) + FIELDS))
            if draw(st.booleans()) and key in target:
                del target[key]
            else:
                target[key] = value
        elif target:
            target[draw(st.integers(0, len(target) - 1))] = value
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=json_values)
def test_any_json_value_is_a_story_or_a_story_file_error(raw: Any) -> None:
    assert_story_or_error(lambda: parse_story(raw))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated_story())
def test_any_mutation_of_a_good_story_is_a_story_or_a_story_file_error(raw: Any) -> None:
    assert_story_or_error(lambda: parse_story(raw, base_dir=Path("/tmp")))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(raw=mutated_story(), cut=st.integers(0, 400), junk=st.binary(max_size=6))
def test_any_file_bytes_are_a_story_or_a_story_file_error(tmp_path: Path, raw: Any, cut: int,
                                                          junk: bytes) -> None:
    text = json.dumps(raw, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    data = text[:cut] + junk + text[cut:] if cut % 3 else text
    path = tmp_path / "s.json"
    path.write_bytes(data)
    assert_story_or_error(lambda: load_story(path))
