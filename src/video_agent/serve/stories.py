"""Story lookups for the API: which stories exist, a stored story's scenes, safe image paths."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from yarl import URL

from video_agent.adapters.checkpoints import (
    check_checkpoints,
    checkpoint_path,
    open_checkpointer,
)
from video_agent.adapters.netguard import check_literal
from video_agent.adapters.storage.local import check_story_id
from video_agent.graph import build_story_graph
from video_agent.inputs import InputError, check_plain
from video_agent.runner import thread_config
from video_agent.story import Story, StoryFileError, parse_story


async def checkpointed_story(out: Path, story_id: str,
                             checkpoints: str | None = None) -> Story | None:
    """The story as its last run saw it (scenes and narration), from the checkpoint store
    (``checkpoints``: SQLite under ``out/.state`` when empty, or a postgresql:// URL)."""
    check_story_id(story_id)
    state_dir = Path(out) / ".state"
    if not check_checkpoints(checkpoints) and not await asyncio.to_thread(
            checkpoint_path(state_dir).is_file):
        return None
    async with open_checkpointer(checkpoints, state_dir) as saver:
        snapshot = await build_story_graph(checkpointer=saver).aget_state(thread_config(story_id))
    values = snapshot.values or {}
    if not values.get("scenes"):
        return None
    return Story(story_id=story_id, scenes=dict(values["scenes"]),
                 narration=dict(values.get("narration") or {}))


def story_from_body(raw: Any, images_roots: Sequence[Path], *,
                    allow_private_urls: bool = False) -> Story:
    """A posted story, with every image reference checked.

    http(s) URLs must pass the SSRF guard's offline checks (a host spelled as a private address
    is refused here; names are resolved and checked when the still is fetched). Local
    references (absolute paths, ``file://`` URLs, relative paths) must resolve inside one of
    ``images_roots``; relative paths are joined to the first. Without images roots, local
    references are refused.
    """
    if not isinstance(raw, dict):
        raise StoryFileError("story: must be a JSON object", "story")
    scenes = raw.get("scenes")
    if isinstance(scenes, list):
        raw = {**raw, "scenes": [_checked_images(item, index, images_roots, allow_private_urls)
                                 if isinstance(item, dict) else item
                                 for index, item in enumerate(scenes)]}
    return parse_story(raw)


def _checked_images(item: dict[str, Any], index: int, images_roots: Sequence[Path],
                    allow_private_urls: bool) -> dict[str, Any]:
    item = dict(item)
    for name in ("image_path", "image_url"):
        value = item.get(name)
        if value is None or value == "":
            continue
        where = f"scenes[{index}].{name}"
        if not isinstance(value, str):
            raise StoryFileError(f"{where}: must be a string", where)
        try:
            parsed = urlparse(check_plain(value, where))
        except InputError as exc:
            raise StoryFileError(str(exc), where) from None
        except ValueError as exc:
            raise StoryFileError(f"{where}: not a usable URL or path ({exc})", where) from None
        scheme = parsed.scheme.lower()
        if scheme in ("http", "https"):
            try:
                check_literal(URL(value), allow_private=allow_private_urls)
            except ValueError as exc:
                raise StoryFileError(f"{where}: {exc}", where) from None
            continue
        if scheme == "file":
            if parsed.netloc not in ("", "localhost"):
                raise StoryFileError(f"{where}: file:// URLs may only name local files", where)
            local = Path(unquote(parsed.path))
        elif len(scheme) > 1:
            raise StoryFileError(f"{where}: scheme {scheme[:20]!r} is not allowed "
                                 "(http, https, file or a path)", where)
        else:
            local = Path(value)
        item[name] = str(_inside(local, images_roots, where))
    return item


def _inside(path: Path, images_roots: Sequence[Path], where: str) -> Path:
    try:
        check_plain(str(path), where)  # a file:// URL's path is decoded: check it again
    except InputError as exc:
        raise StoryFileError(str(exc), where) from None
    if str(path).startswith("~"):
        raise StoryFileError(f"{where}: '~' paths are not allowed", where)
    if not images_roots:
        raise StoryFileError(f"{where}: local paths need the server's --images-root; "
                             "give an http(s) URL", where)
    try:
        roots = [root.resolve() for root in images_roots]
        resolved = (roots[0] / path).resolve()  # an absolute ``path`` replaces the root here
    except OSError as exc:
        raise StoryFileError(f"{where}: not a usable path ({exc.strerror or exc})", where
                             ) from None
    if not any(resolved.is_relative_to(root) for root in roots):
        raise StoryFileError(f"{where}: resolves outside the images roots "
                             f"({', '.join(map(str, roots))})", where)
    return resolved
