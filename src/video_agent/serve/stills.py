"""A scene's source still for the panel before any clip is stored: the still the story's scene
names, served only when it is an image file inside the server's images roots or output folder
(a still fetched from a URL is served from the copy the run cached there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from video_agent.adapters.images import FolderStillCache

SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
              (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


def source_fields(scene: Any) -> dict[str, Any]:
    """A scene of a story (a ``SceneContext`` or its dict) as a plain dict."""
    if hasattr(scene, "model_dump"):
        return dict(scene.model_dump())
    return dict(scene) if isinstance(scene, Mapping) else {}


def image_type(path: Path) -> str | None:
    """The still's media type from its first bytes (JPEG, PNG, WebP, GIF), None otherwise."""
    with path.open("rb") as file:
        head = file.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def source_still(source: Mapping[str, Any] | None, roots: Sequence[Path],
                 out: Path) -> tuple[Path, str] | None:
    """The scene's still and its media type, if the scene names one that is an image file inside
    ``roots`` or ``out`` (symlinks and ``..`` resolved first); None otherwise. Blocking: call it
    in a worker thread."""
    if not source:
        return None
    raw = source.get("image_path") or source.get("image_url")
    if not isinstance(raw, str) or not raw or "\x00" in raw:
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:  # e.g. "http://[x": the scene's own error names it; no still to show
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        cached = FolderStillCache(out / ".state" / "images")._cached_url(raw)
        raw = cached.path if cached is not None else ""
    elif scheme == "file":
        raw = unquote(parts.path) if parts.netloc in ("", "localhost") else ""
    elif len(scheme) > 1:
        return None
    if not raw:
        return None
    try:
        path = Path(raw).resolve(strict=True)
        allowed = [Path(root).resolve() for root in (*roots, out)]
        if not any(path.is_relative_to(root) for root in allowed) or not path.is_file():
            return None
        kind = image_type(path)
    except (OSError, ValueError):
        return None
    return (path, kind) if kind else None
