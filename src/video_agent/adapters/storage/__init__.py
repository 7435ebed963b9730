"""Where finished clips and their metadata live: the output folder (the default) or an S3 bucket
(``s3://bucket/prefix``), both behind ``SceneStorage``."""

from __future__ import annotations

from pathlib import Path

from video_agent.adapters.storage.base import SceneStorage
from video_agent.adapters.storage.folder import FolderStorage
from video_agent.adapters.storage.local import LocalStorage, check_story_id


def open_storage(spec: str | None, out: Path, *,
                 public_base_url: str | None = None) -> SceneStorage:
    """The storage named by ``spec``: empty for the folder ``out``, ``s3://bucket/prefix`` for
    S3 (work files still go under ``out/temp``). ``ValueError`` names the setting otherwise."""
    if not spec:
        return FolderStorage(out, public_base_url=public_base_url)
    if spec.startswith("s3://"):
        try:
            from video_agent.adapters.storage.s3 import S3Storage
        except ImportError as exc:
            raise ValueError("storage: S3 needs the 's3' extra "
                             "(pip install 'video-agent[s3]')") from exc
        return S3Storage(spec, work_root=out, public_base_url=public_base_url)
    raise ValueError(f"storage: {spec!r} is not supported (leave it empty for the output "
                     "folder, or use s3://bucket/prefix)")


__all__ = ["FolderStorage", "LocalStorage", "SceneStorage", "check_story_id", "open_storage"]
