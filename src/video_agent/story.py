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

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import ValidationError

from video_agent.adapters.storage.local import check_story_id
from video_agent.models import NarrationTiming, SceneContext


class StoryFileError(ValueError):
    """A story file that cannot be run at all; the message names the field."""


@dataclass
class Story:
    story_id: str
    scenes: dict[str, SceneContext | dict[str, Any]]
    narration: dict[str, NarrationTiming] = field(default_factory=dict)
    path: Path | None = None

    def as_state(self) -> dict[str, Any]:
        return {"story_id": self.story_id, "scenes": dict(self.scenes),
                "narration": dict(self.narration)}


def load_story(path: str | Path) -> Story:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoryFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise StoryFileError(f"{path}: not valid JSON ({exc})") from exc
    return parse_story(raw, base_dir=path.resolve().parent, path=path)


def parse_story(raw: Any, *, base_dir: Path | None = None, path: Path | None = None) -> Story:
    if not isinstance(raw, dict):
        raise StoryFileError("story: must be a JSON object")
    try:
        story_id = check_story_id(str(raw.get("story_id") or ""))
    except ValueError as exc:
        raise StoryFileError(str(exc)) from exc
    scenes_raw = raw.get("scenes")
    if not isinstance(scenes_raw, list) or not scenes_raw:
        raise StoryFileError("scenes: must be a non-empty list of scene objects")
    scenes: dict[str, SceneContext | dict[str, Any]] = {}
    for index, item in enumerate(scenes_raw):
        where = f"scenes[{index}]"
        if not isinstance(item, dict):
            raise StoryFileError(f"{where}: must be an object")
        number = item.get("scene_number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise StoryFileError(f"{where}.scene_number: must be a positive integer")
        if str(number) in scenes:
            raise StoryFileError(f"{where}.scene_number: {number} appears twice")
        item = _absolute_image(dict(item), base_dir)
        try:
            scenes[str(number)] = SceneContext.model_validate(item)
        except ValidationError:
            scenes[str(number)] = item  # the Video Agent records why, for this scene only
    narration: dict[str, NarrationTiming] = {}
    for key, value in (raw.get("narration") or {}).items():
        try:
            narration[str(int(key))] = NarrationTiming.model_validate(value)
        except (ValueError, ValidationError) as exc:
            raise StoryFileError(f"narration[{key!r}]: {exc}") from exc
    return Story(story_id=story_id, scenes=scenes, narration=narration, path=path)


def _absolute_image(item: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    if base_dir is None:
        return item
    for name in ("image_path", "image_url"):
        value = item.get(name)
        # only plain paths: no URL scheme (a one-letter "scheme" is a Windows drive)
        if isinstance(value, str) and value and len(urlparse(value).scheme) <= 1:
            candidate = Path(value).expanduser()
            if not candidate.is_absolute():  # joined, not resolved: the image source
                item[name] = str(base_dir / candidate)  # resolves it and checks where it lands
    return item
