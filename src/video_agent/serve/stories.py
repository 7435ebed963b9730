"""Story lookups for the API: which stories exist, a stored story's scenes, safe image paths."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from video_agent.adapters.checkpoints import checkpoint_path, sqlite_checkpointer
from video_agent.adapters.storage.local import check_story_id
from video_agent.graph import build_story_graph
from video_agent.runner import thread_config
from video_agent.story import Story, StoryFileError, parse_story


async def checkpointed_story(out: Path, story_id: str) -> Story | None:
    """The story as its last run saw it (scenes and narration), from the checkpoint."""
    check_story_id(story_id)
    state_dir = Path(out) / ".state"
    if not await asyncio.to_thread(checkpoint_path(state_dir).is_file):
        return None
    async with sqlite_checkpointer(state_dir) as saver:
        snapshot = await build_story_graph(checkpointer=saver).aget_state(thread_config(story_id))
    values = snapshot.values or {}
    if not values.get("scenes"):
        return None
    return Story(story_id=story_id, scenes=dict(values["scenes"]),
                 narration=dict(values.get("narration") or {}))


def story_from_body(raw: Any, images_root: Path | None) -> Story:
    """A posted story, with every image reference checked.

    http(s) URLs pass. Local references (absolute paths, ``file://`` URLs, relative paths) must
    resolve inside ``images_root``; relative paths are resolved against it. Without an images
    root, absolute paths are accepted and relative ones refused.
    """
    if not isinstance(raw, dict):
        raise StoryFileError("story: must be a JSON object")
    scenes = raw.get("scenes")
    if isinstance(scenes, list):
        raw = {**raw, "scenes": [_checked_images(item, index, images_root)
                                 if isinstance(item, dict) else item
                                 for index, item in enumerate(scenes)]}
    return parse_story(raw)


def _checked_images(item: dict[str, Any], index: int,
                    images_root: Path | None) -> dict[str, Any]:
    item = dict(item)
    for name in ("image_path", "image_url"):
        value = item.get(name)
        if value is None or value == "":
            continue
        where = f"scenes[{index}].{name}"
        if not isinstance(value, str):
            raise StoryFileError(f"{where}: must be a string")
        parsed = urlparse(value)
        scheme = parsed.scheme.lower()
        if scheme in ("http", "https"):
            continue
        if scheme == "file":
            local = Path(unquote(parsed.path))
        elif len(scheme) > 1:
            raise StoryFileError(f"{where}: scheme {scheme!r} is not allowed "
                                 "(http, https, file or a path)")
        else:
            local = Path(value)
        item[name] = str(_inside(local, images_root, where))
    return item


def _inside(path: Path, images_root: Path | None, where: str) -> Path:
    if "\x00" in str(path):
        raise StoryFileError(f"{where}: contains a NUL byte")
    if path.expanduser() != path:
        raise StoryFileError(f"{where}: '~' paths are not allowed")
    if images_root is None:
        if not path.is_absolute():
            raise StoryFileError(f"{where}: relative paths need the server's images root; "
                                 "give an absolute path or an http(s) URL")
        return path.resolve()
    root = images_root.resolve()
    resolved = (root / path).resolve()  # an absolute ``path`` replaces root here
    if resolved != root and root not in resolved.parents:
        raise StoryFileError(f"{where}: must stay inside the images root {root}")
    return resolved
