"""Story files: the JSON a user (or a Layer 1 manager) writes to run the Video Agent offline.

::

    {"story_id": "cafe_morning",
     "scenes": [{"scene_number": 5, "scene_content": "...", "image_path": "images/cafe.jpg",
                 "image_prompt": "...", "layer1_analysis": "..."}],
     "narration": {"5": {"duration": 5.4, "text": "..."}}}

Relative image paths are joined to the story file's folder (the image source resolves them and
refuses any that land outside the allowed image folders). A scene whose own fields are
invalid is kept as given, so the run records a clear error for that scene and finishes the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import ValidationError

from video_agent.adapters.storage.local import check_story_id
from video_agent.inputs import (
    DEFAULT_MAX_SCENES,
    MAX_SCENE_NUMBER,
    MAX_STORY_BYTES,
    InputError,
    check_json_value,
    check_keys,
    check_plain,
    first_error,
    read_json,
)
from video_agent.models import NarrationTiming, SceneContext

STORY_KEYS = ("story_id", "title", "scenes", "narration")
SCENE_KEYS = tuple(SceneContext.model_fields)
NARRATION_KEYS = tuple(NarrationTiming.model_fields)


class StoryFileError(ValueError):
    """A story (file, posted body or graph input) that cannot be run at all; the message names
    the field, and so does ``field`` when one is to blame."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _story_error(exc: InputError) -> StoryFileError:
    return StoryFileError(str(exc), exc.field)


@dataclass
class Story:
    story_id: str
    scenes: dict[str, SceneContext | dict[str, Any]]
    narration: dict[str, NarrationTiming] = field(default_factory=dict)
    path: Path | None = None

    def as_state(self) -> dict[str, Any]:
        return {"story_id": self.story_id, "scenes": dict(self.scenes),
                "narration": dict(self.narration)}


def load_story(path: str | Path, *, max_scenes: int = DEFAULT_MAX_SCENES) -> Story:
    """Read and check a story file: at most 8 MiB of UTF-8 JSON, nested at most 64 deep."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_STORY_BYTES + 1)
    except OSError as exc:
        raise StoryFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        raw = read_json(data, field=str(path))
    except InputError as exc:
        raise StoryFileError(str(exc)) from None  # the whole file is to blame
    return parse_story(raw, base_dir=path.resolve().parent, path=path, max_scenes=max_scenes)


def parse_story(raw: Any, *, base_dir: Path | None = None, path: Path | None = None,
                max_scenes: int = DEFAULT_MAX_SCENES) -> Story:
    """A story from parsed JSON; :class:`StoryFileError` naming the field if it cannot run.

    A scene whose own fields are invalid is kept as given (its error is recorded when the scene
    runs); anything that would stop the whole run, or could not be stored in a checkpoint, is
    refused here.
    """
    try:
        return _parse(raw, base_dir, path, max_scenes)
    except InputError as exc:
        raise _story_error(exc) from None


def _parse(raw: Any, base_dir: Path | None, path: Path | None, max_scenes: int) -> Story:
    if not isinstance(raw, dict):
        raise InputError("story", "must be a JSON object")
    check_keys(raw, STORY_KEYS, "")
    story_id = _story_id(raw.get("story_id"))
    if "title" in raw and not isinstance(raw["title"], str):
        raise InputError("title", "must be a string")
    scenes_raw = raw.get("scenes")
    if not isinstance(scenes_raw, list) or not scenes_raw:
        raise InputError("scenes", "must be a non-empty list of scene objects")
    if len(scenes_raw) > max_scenes:
        raise InputError("scenes", f"{len(scenes_raw)} scenes, more than the limit of "
                                   f"{max_scenes} per story (--max-scenes)")
    scenes: dict[str, SceneContext | dict[str, Any]] = {}
    for index, item in enumerate(scenes_raw):
        where = f"scenes[{index}]"
        if not isinstance(item, dict):
            raise InputError(where, "must be an object")
        check_keys(item, SCENE_KEYS, where)
        number = _scene_number(item.get("scene_number"), where)
        if str(number) in scenes:
            raise InputError(f"{where}.scene_number", f"{number} appears twice")
        item = _absolute_image(dict(item), base_dir)
        try:
            scenes[str(number)] = SceneContext.model_validate(item)
        except ValidationError:
            scenes[str(number)] = item  # the Video Agent records why, for this scene only
    narration = _narration(raw.get("narration"))
    check_json_value(raw, "")  # what a kept invalid scene holds must fit in a checkpoint
    return Story(story_id=story_id, scenes=scenes, narration=narration, path=path)


def check_story_state(state: Mapping[str, Any], *, max_scenes: int = DEFAULT_MAX_SCENES) -> None:
    """The story graph's input as a client of the graph server sends it: :class:`StoryFileError`
    naming the field for whatever stops the whole story. A scene's own bad fields are left for
    that scene's error."""
    try:
        _check_state(state, max_scenes)
    except InputError as exc:
        raise _story_error(exc) from None


def _check_state(state: Mapping[str, Any], max_scenes: int) -> None:
    _story_id(state.get("story_id"))
    scenes = state.get("scenes") or {}
    if not isinstance(scenes, Mapping):
        raise InputError("scenes", "must be an object keyed by scene number")
    if len(scenes) > max_scenes:
        raise InputError("scenes", f"{len(scenes)} scenes, more than the limit of "
                                   f"{max_scenes} per story (max_scenes)")
    for key, scene in scenes.items():
        where = f"scenes[{ascii(key)[:60]}]"
        _scene_key(key, where)
        if isinstance(scene, SceneContext):
            number = scene.scene_number
        elif isinstance(scene, Mapping):
            number = _scene_number(scene.get("scene_number"), where)
        else:
            raise InputError(where, "must be an object with the scene's fields")
        if str(number) != key:
            raise InputError(f"{where}.scene_number", f"{number} is not the scene's key")
    narration = state.get("narration") or {}
    if not isinstance(narration, Mapping):
        raise InputError("narration", "must be an object keyed by scene number")
    for key in narration:
        _scene_key(key, f"narration[{ascii(key)[:60]}]")


def _story_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InputError("story_id", "must be a non-empty string")
    check_plain(value, "story_id")
    try:
        return check_story_id(value)
    except ValueError as exc:
        raise InputError("story_id", str(exc).removeprefix("story_id: ")) from None


def _scene_number(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not (
            1 <= value <= MAX_SCENE_NUMBER):
        raise InputError(f"{where}.scene_number",
                         f"must be an integer from 1 to {MAX_SCENE_NUMBER}")
    return value


def _scene_key(key: Any, where: str) -> None:
    if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 12
            and str(int(key)) == key and 1 <= int(key) <= MAX_SCENE_NUMBER):
        raise InputError(where, f"keys are scene numbers from 1 to {MAX_SCENE_NUMBER}")


def _narration(raw: Any) -> dict[str, NarrationTiming]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError("narration", "must be an object keyed by scene number")
    narration: dict[str, NarrationTiming] = {}
    for key, value in raw.items():
        where = f"narration[{ascii(key)[:60]}]"
        if not (key.isascii() and key.isdigit() and len(key) < 12
                and 1 <= int(key) <= MAX_SCENE_NUMBER):
            raise InputError(where, f"keys are scene numbers from 1 to {MAX_SCENE_NUMBER}")
        if not isinstance(value, dict):
            raise InputError(where, "must be an object with duration and text")
        check_keys(value, NARRATION_KEYS, where)
        if str(int(key)) in narration:
            raise InputError(where, f"scene {int(key)} appears twice")
        try:
            narration[str(int(key))] = NarrationTiming.model_validate(value)
        except ValidationError as exc:
            raise first_error(exc, where) from None
    return narration


def _absolute_image(item: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    if base_dir is None:
        return item
    for name in ("image_path", "image_url"):
        value = item.get(name)
        if not isinstance(value, str) or not value:
            continue
        try:
            check_plain(value, name)
            # only plain paths: no URL scheme (a one-letter "scheme" is a Windows drive)
            if len(urlparse(value).scheme) <= 1:
                candidate = Path(value).expanduser()
                if not candidate.is_absolute():  # joined, not resolved: the image source
                    item[name] = str(base_dir / candidate)  # resolves it, checks where it lands
        except (ValueError, RuntimeError):
            continue  # left as given: the scene's own error names the field
    return item
